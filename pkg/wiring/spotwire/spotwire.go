// Package spotwire is the composition root of the Spot Thought functions: it builds the
// clients, the Spot store adapter, the screening service and the Spot handlers, and hands one
// route's handler to the Lambda runtime. It links no Snap package.
package spotwire

import "github.com/participant-roster/roster/pkg/dev/app"

// Main is the whole of a Spot function's main.
func Main(logicalID string) { app.Main(logicalID) }
