// Command snap-get-survey is the SnapGetSurveyFunction Lambda: it only wires; see pkg/wiring/snapwire.
package main

import "github.com/participant-roster/roster/pkg/wiring/snapwire"

func main() { snapwire.Main("SnapGetSurveyFunction") }
