// Command roster-sync is the command-line client for CRM syncs: it imports a CSV roster into a
// Spot screener as an import job (with an Idempotency-Key, a live progress bar, the failed rows
// written beside the input, and Ctrl-C offering to cancel), and lists, reads and cancels jobs.
// It talks to the API over HTTP only. Install it with
//
//	go install github.com/participant-roster/roster/cmd/roster-sync@latest
//
// and run `roster-sync -h`.
package main

import (
	"context"
	"os"

	"github.com/participant-roster/roster/cmd/roster-sync/internal/cli"
)

func main() {
	os.Exit(cli.Run(context.Background(), os.Args[1:], cli.OS()))
}
