// Command list-screeners is the ListScreenersFunction Lambda: it only wires; see pkg/wiring/spotwire.
package main

import "github.com/participant-roster/roster/pkg/wiring/spotwire"

func main() { spotwire.Main("ListScreenersFunction") }
