// Package snapwire is the composition root of the Snap XMP Online functions: it builds the
// clients, the Snap store adapter, the survey service and the Snap handlers, and hands one
// route's handler to the Lambda runtime. It links no Spot package.
package snapwire

import "github.com/participant-roster/roster/pkg/dev/app"

// Main is the whole of a Snap function's main.
func Main(logicalID string) { app.Main(logicalID) }
