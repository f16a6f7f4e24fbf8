// Command snap-update-participant-subject is the SnapUpdateParticipantSubjectFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapUpdateParticipantSubjectFunction") }
