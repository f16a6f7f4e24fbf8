// Command list-screener-sessions is the ListScreenerSessionsFunction Lambda: it only wires; see pkg/wiring/spotwire.
package main

import "github.com/participant-roster/roster/pkg/wiring/spotwire"

func main() { spotwire.Main("ListScreenerSessionsFunction") }
