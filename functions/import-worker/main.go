// Command import-worker is the ImportWorkerFunction Lambda: it only wires; see pkg/wiring/workerwire.
package main

import "github.com/participant-roster/roster/pkg/wiring/workerwire"

func main() { workerwire.Main("ImportWorkerFunction") }
