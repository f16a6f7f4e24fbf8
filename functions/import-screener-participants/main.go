// Command import-screener-participants is the ImportScreenerParticipantsFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("ImportScreenerParticipantsFunction") }
