// Command snap-import-participants is the SnapImportParticipantsFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapImportParticipantsFunction") }
