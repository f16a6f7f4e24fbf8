// Command snap-add-participant is the SnapAddParticipantFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapAddParticipantFunction") }
