// Command list-screener-participants is the ListScreenerParticipantsFunction Lambda: it only wires; see pkg/wiring/spotwire.
package main

import "github.com/participant-roster/roster/pkg/wiring/spotwire"

func main() { spotwire.Main("ListScreenerParticipantsFunction") }
