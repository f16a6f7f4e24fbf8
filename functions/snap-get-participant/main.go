// Command snap-get-participant is the SnapGetParticipantFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapGetParticipantFunction") }
