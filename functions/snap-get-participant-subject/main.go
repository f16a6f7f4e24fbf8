// Command snap-get-participant-subject is the SnapGetParticipantSubjectFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapGetParticipantSubjectFunction") }
