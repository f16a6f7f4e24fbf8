// Package app is the whole service wired in one process, for what runs it all together: the
// local API server, `make invoke`'s in-process answers, the tests and the benchmark. It is
// built from the functions' own composition roots (pkg/wiring: spotwire, snapwire,
// workerwire, schedwire) over one table, so it runs the code the functions run; no function
// links it.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/jobs/jobstore"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/lambdahttp"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
	"github.com/participant-roster/roster/pkg/snap/snapstore"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
	"github.com/participant-roster/roster/pkg/wiring"
	"github.com/participant-roster/roster/pkg/wiring/defaultwire"
	"github.com/participant-roster/roster/pkg/wiring/schedwire"
	"github.com/participant-roster/roster/pkg/wiring/snapwire"
	"github.com/participant-roster/roster/pkg/wiring/spotwire"
	"github.com/participant-roster/roster/pkg/wiring/workerwire"
)

// DefaultAuthCacheTTL is the functions' (wiring.DefaultAuthCacheTTL).
const DefaultAuthCacheTTL = wiring.DefaultAuthCacheTTL

// App is the wired service: both families and the import worker over one table.
type App struct {
	Table     *ddb.Table
	Store     *spotstore.Store // the Spot records
	SnapStore *snapstore.Store // the Snap records
	Jobs      *jobstore.Store  // every family's jobs, with their holds
	Service   *screening.Service
	Admin     *screening.Admin
	Spot      *spotapi.API
	Snap      *snapapi.API
	Log       *slog.Logger
	// ImportWriteBudget is what one import worker may write to one partition key, in write
	// units per second (ddb.DefaultPartitionWriteBudget; template.yaml has the arithmetic).
	ImportWriteBudget float64

	spot *spotwire.Spot
	snap *snapwire.Snap
}

// NewDynamoDBClient is the functions' metered client (ddb.NewClient).
func NewDynamoDBClient(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	return ddb.NewClient(ctx, endpoint)
}

// New wires the service over a client and table, each Snap user held to the vendor's limits
// (ratelimit.VendorLimits, as a function whose environment sets none; SetSnapLimits changes
// them).
func New(client *dynamodb.Client, table string, authCacheTTL time.Duration, log *slog.Logger) *App {
	t := ddb.New(client, table)
	spot := spotwire.New(t, authCacheTTL, log)
	snap := snapwire.New(t, authCacheTTL, ratelimit.VendorLimits, log)
	return &App{
		Table: t, Store: spot.Store, SnapStore: snap.Store, Jobs: snap.Jobs, Service: spot.Service, Admin: spot.Admin,
		Spot: spot.API, Snap: snap.API, Log: log, ImportWriteBudget: ddb.DefaultPartitionWriteBudget,
		spot: spot, snap: snap,
	}
}

// SetSnapLimits holds each Snap user to other limits than the vendor's (local runs, tests that
// make many calls a second, the benchmark).
func (a *App) SetSnapLimits(l ratelimit.Limits) { a.Snap.Limiter.Limits = l }

// EnableImports sends large Spot imports (and those asking Prefer: respond-async) and every
// Snap bulk import to a queue as jobs.
func (a *App) EnableImports(client jobqueue.Sender, queueURL string) {
	q := &jobqueue.SQS{Client: client, QueueURL: queueURL}
	a.spot.EnableImports(q)
	a.snap.EnableImports(q)
}

// ImportWorker is the import worker's Lambda handler over the app's table, as deployed (its
// writes paced to ImportWriteBudget per partition key); maxReceiveCount is the queue's
// redrive maxReceiveCount (0: jobs.DefaultMaxReceiveCount).
func (a *App) ImportWorker(maxReceiveCount int) jobqueue.Handler {
	return jobqueue.HandlerFor(workerwire.Paced(a.Table, a.ImportWriteBudget, maxReceiveCount, a.Log))
}

// PolledImportWorker is the worker for a poller that runs concurrency batches at once (local
// runs, tests, the benchmark): the one worker stands for that many Lambda instances, so its
// budget per partition key is theirs together.
func (a *App) PolledImportWorker(maxReceiveCount, concurrency int) *jobs.Worker {
	return workerwire.Paced(a.Table, a.ImportWriteBudget*float64(max(concurrency, 1)), maxReceiveCount, a.Log)
}

// WorkerOver is the import worker, unpaced, over a table (tests give it a faulty client's).
func WorkerOver(t *ddb.Table, maxReceiveCount int, log *slog.Logger) *jobs.Worker {
	return workerwire.New(t, maxReceiveCount, log)
}

// LambdaHandler is one route's Lambda handler, by its function's logical id: the family's
// composition root's own (the $default route's: defaultwire's).
func (a *App) LambdaHandler(logicalID string) (lambdahttp.Handler, error) {
	if _, ok := spotapi.Routes.Lookup(logicalID); ok {
		return a.spot.LambdaHandler(logicalID)
	}
	if _, ok := snapapi.Routes.Lookup(logicalID); ok {
		return a.snap.LambdaHandler(logicalID)
	}
	if logicalID == routes.Default.LogicalID {
		return defaultwire.LambdaHandler(a.Log), nil
	}
	return nil, fmt.Errorf("no route for function %q", logicalID)
}

// WorkerHandler is a worker function's SQS handler, by its logical id, with the settings its
// environment gives (workerwire.SettingsFromEnv).
func (a *App) WorkerHandler(logicalID string) (jobqueue.Handler, error) {
	s, err := workerwire.SettingsFromEnv()
	if err != nil {
		return nil, err
	}
	return workerwire.Handler(logicalID, a.Table, s, a.Log)
}

// Sweeper is the import sweeper over the app's table (schedwire.Sweeper); staleAfter 0 is
// jobs.DefaultStaleAfter.
func (a *App) Sweeper(staleAfter time.Duration) *jobs.Sweeper {
	return schedwire.Sweeper(a.Table, staleAfter, a.Log)
}

// ScheduledHandler is a scheduled function's handler, by its logical id, with the settings its
// environment gives (schedwire.StaleAfterFromEnv).
func (a *App) ScheduledHandler(logicalID string) (schedwire.Handler, error) {
	staleAfter, err := schedwire.StaleAfterFromEnv()
	if err != nil {
		return nil, err
	}
	return schedwire.HandlerFor(logicalID, a.Table, staleAfter, a.Log)
}
