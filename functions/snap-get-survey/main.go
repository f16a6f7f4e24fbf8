// Command snap-get-survey is the SnapGetSurveyFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapGetSurveyFunction") }
