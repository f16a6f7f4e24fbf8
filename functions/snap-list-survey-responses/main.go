// Command snap-list-survey-responses is the SnapListSurveyResponsesFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapListSurveyResponsesFunction") }
