// Command snap-delete-participant-subject is the SnapDeleteParticipantSubjectFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapDeleteParticipantSubjectFunction") }
