// Command snap-get-survey-variable is the SnapGetSurveyVariableFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapGetSurveyVariableFunction") }
