// Command delete-screener-participant is the DeleteScreenerParticipantFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("DeleteScreenerParticipantFunction") }
