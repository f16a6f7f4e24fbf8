// Command snap-list-survey-variables is the SnapListSurveyVariablesFunction Lambda: it only wires; see pkg/wiring/snapwire.
package main

import "github.com/participant-roster/roster/pkg/wiring/snapwire"

func main() { snapwire.Main("SnapListSurveyVariablesFunction") }
