// Command get-screener-session is the GetScreenerSessionFunction Lambda: it only wires; see pkg/wiring/spotwire.
package main

import "github.com/participant-roster/roster/pkg/wiring/spotwire"

func main() { spotwire.Main("GetScreenerSessionFunction") }
