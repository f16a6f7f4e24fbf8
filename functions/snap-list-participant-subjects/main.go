// Command snap-list-participant-subjects is the SnapListParticipantSubjectsFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapListParticipantSubjectsFunction") }
