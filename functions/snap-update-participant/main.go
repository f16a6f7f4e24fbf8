// Command snap-update-participant is the SnapUpdateParticipantFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapUpdateParticipantFunction") }
