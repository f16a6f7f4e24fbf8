// Command snap-list-participants is the SnapListParticipantsFunction Lambda: it only wires; see pkg/wiring/snapwire.
package main

import "github.com/participant-roster/roster/pkg/wiring/snapwire"

func main() { snapwire.Main("SnapListParticipantsFunction") }
