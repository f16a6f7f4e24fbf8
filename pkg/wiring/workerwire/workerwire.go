// Package workerwire is the composition root of the import worker: the jobs engine with every
// family plugged in, over the jobs, Spot and Snap store adapters.
package workerwire

import "github.com/participant-roster/roster/pkg/dev/app"

// Main is the whole of a worker function's main.
func Main(logicalID string) { app.MainWorker(logicalID) }
