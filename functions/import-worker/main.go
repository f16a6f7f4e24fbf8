// Command import-worker is the ImportWorkerFunction Lambda (SQS event source, partial batch
// responses): it only wires; see pkg/app and pkg/imports.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.MainWorker("ImportWorkerFunction") }
