// Command snap-add-participant-subject is the SnapAddParticipantSubjectFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapAddParticipantSubjectFunction") }
