// Package spotwire is the composition root of the Spot Thought functions: the Spot store
// adapter, the screening service and the Spot handlers over one table, and one route's handler
// handed to the Lambda runtime. It links no Snap package, and no SQS client but through the
// queue source of a function that sends imports.
package spotwire

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobstore"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/platform/lambdahttp"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
	"github.com/participant-roster/roster/pkg/wiring"
)

// Spot is the Spot family wired over one table.
type Spot struct {
	Store   *spotstore.Store
	Jobs    *jobstore.Store // Spot jobs hold no target
	Service *screening.Service
	Admin   *screening.Admin
	API     *spotapi.API
	Log     *slog.Logger
}

// New wires the Spot family over a table.
func New(t *ddb.Table, authCacheTTL time.Duration, log *slog.Logger) *Spot {
	st := spotstore.New(t)
	js := jobstore.New(t)
	svc := screening.NewService(st)
	return &Spot{
		Store: st, Jobs: js, Service: svc, Admin: &screening.Admin{Store: st, Now: time.Now, NewID: ids.New}, Log: log,
		API: &spotapi.API{Service: svc, Verifier: auth.NewVerifier(st, authCacheTTL), Log: log, Jobs: js,
			Idempotency: wiring.IdempotencyGuard(t, log)},
	}
}

// EnableImports makes large imports (and those asking Prefer: respond-async) jobs whose
// chunks go to q.
func (s *Spot) EnableImports(q jobs.Queue) {
	s.API.Imports = &jobs.Submitter{Store: s.Jobs, Queue: q}
}

// LambdaHandler is the Lambda handler of one Spot route, by its function's logical id.
func (s *Spot) LambdaHandler(logicalID string) (lambdahttp.Handler, error) {
	d, ok := spotapi.Routes.Lookup(logicalID)
	if !ok {
		return nil, fmt.Errorf("no Spot route for function %q", logicalID)
	}
	return lambdahttp.New(d.Route, d.Handler(s.API), spotapi.WriteRouteError, s.Log), nil
}

// Main is the whole of a Spot function's main (wiring.Main).
func Main(logicalID string, queue ...wiring.QueueSource) {
	wiring.Main(logicalID, func(t *ddb.Table, cfg wiring.Config, log *slog.Logger) wiring.Family {
		return New(t, cfg.AuthCacheTTL, log)
	}, queue)
}
