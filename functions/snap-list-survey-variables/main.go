// Command snap-list-survey-variables is the SnapListSurveyVariablesFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapListSurveyVariablesFunction") }
