// Command snap-get-participant-import is the SnapGetParticipantImportFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapGetParticipantImportFunction") }
