// Command snap-list-participants is the SnapListParticipantsFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapListParticipantsFunction") }
