// Command get-screener-participant-import is the GetScreenerParticipantImportFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("GetScreenerParticipantImportFunction") }
