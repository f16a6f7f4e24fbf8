// Package app wires the service together: one DynamoDB client, the store, the services and the
// HTTP handlers, and turns a route's handler into the Lambda handler API Gateway calls.
// functions/<name>/main.go, the local API server, `make invoke`, the tests and the benchmark
// all build their handlers here, so they run the same code.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
	"github.com/participant-roster/roster/pkg/snap/snapjobs"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
	"github.com/participant-roster/roster/pkg/store"
)

// DefaultAuthCacheTTL is how long a warm function trusts a verified key without re-reading it;
// it bounds how long a revoked key keeps working.
const DefaultAuthCacheTTL = 60 * time.Second

// Config is what a function reads from its environment once.
type Config struct {
	Table        string
	AuthCacheTTL time.Duration
	Endpoint     string // DynamoDB endpoint override (DynamoDB Local); "" on AWS
	// ImportQueueURL is the queue large imports are sent to; "" runs every import
	// synchronously (and refuses one above the synchronous limit).
	ImportQueueURL string
	SQSEndpoint    string // SQS endpoint override (moto_server); "" on AWS
}

// ConfigFromEnv reads TABLE_NAME, AUTH_CACHE_TTL (a Go duration), DYNAMODB_ENDPOINT,
// IMPORT_QUEUE_URL and SQS_ENDPOINT.
func ConfigFromEnv() (Config, error) {
	c := Config{
		Table: os.Getenv("TABLE_NAME"), AuthCacheTTL: DefaultAuthCacheTTL, Endpoint: os.Getenv("DYNAMODB_ENDPOINT"),
		ImportQueueURL: os.Getenv("IMPORT_QUEUE_URL"), SQSEndpoint: os.Getenv("SQS_ENDPOINT"),
	}
	if c.Table == "" {
		return c, fmt.Errorf("TABLE_NAME is not set")
	}
	if v := os.Getenv("AUTH_CACHE_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return c, fmt.Errorf("AUTH_CACHE_TTL: %w", err)
		}
		c.AuthCacheTTL = d
	}
	return c, nil
}

// NewDynamoDBClient returns a metered client: on AWS (endpoint "") with the ordinary
// credentials and region; on a local endpoint with dummy credentials and nothing read from the
// developer's AWS config, so a stale profile cannot break local runs and local runs can never
// reach AWS.
func NewDynamoDBClient(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	if endpoint != "" {
		return dynamodb.New(dynamodb.Options{
			Region:      "us-east-1",
			Credentials: staticCredentials{},
			// DynamoDB Local's error responses lack the CRC32 header the SDK checks.
			DisableValidateResponseChecksum: true,
			BaseEndpoint:                    &endpoint,
		}, store.MeterOption), nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return dynamodb.NewFromConfig(cfg, store.MeterOption), nil
}

// App is the wired service.
type App struct {
	Store   *store.DDBStore
	Jobs    *store.Jobs
	Service *screening.Service
	Admin   *screening.Admin
	Spot    *spotapi.API
	Snap    *snapapi.API
	Log     *slog.Logger
	// ImportWriteBudget is what one import worker may write to one partition key, in write
	// units per second (store.DefaultPartitionWriteBudget unless IMPORT_PARTITION_WRITE_BUDGET
	// says otherwise; template.yaml has the arithmetic).
	ImportWriteBudget float64
}

// New wires the service over a client and table.
func New(client *dynamodb.Client, table string, authCacheTTL time.Duration, log *slog.Logger) *App {
	st := store.New(client, table)
	svc := screening.NewService(st)
	js := st.JobStore()
	return &App{
		Store: st, Jobs: js, Service: svc, Admin: &screening.Admin{Store: st, Now: time.Now, NewID: ids.New}, Log: log,
		ImportWriteBudget: store.DefaultPartitionWriteBudget,
		Spot:              &spotapi.API{Service: svc, Verifier: auth.NewVerifier(st, authCacheTTL), Log: log, Jobs: js},
		Snap:              &snapapi.API{Service: survey.NewService(st), Verifier: auth.NewVerifier(st.SnapKeys(), authCacheTTL), Log: log, Jobs: js},
	}
}

// EnableImports sends large Spot imports (and those asking Prefer: respond-async) and every
// Snap bulk import to a queue as jobs.
func (a *App) EnableImports(client jobqueue.Sender, queueURL string) {
	sub := &jobs.Submitter{Store: a.Jobs, Queue: &jobqueue.SQS{Client: client, QueueURL: queueURL}}
	a.Spot.Imports, a.Snap.Imports = sub, sub
}

// ImportWorker is the import worker's Lambda handler over the app's table; maxReceiveCount is
// the queue's redrive maxReceiveCount (0: jobs.DefaultMaxReceiveCount). Its rows' writes keep
// to ImportWriteBudget write units per second on each partition key (see store.Pacer).
func (a *App) ImportWorker(maxReceiveCount int) jobqueue.Handler {
	return jobqueue.HandlerFor(a.importWorker(maxReceiveCount, a.ImportWriteBudget))
}

// PolledImportWorker is the worker for a poller that runs concurrency batches at once (local
// runs, tests, the benchmark): the one worker stands for that many Lambda instances, so its
// budget per partition key is theirs together.
func (a *App) PolledImportWorker(maxReceiveCount, concurrency int) *jobs.Worker {
	return a.importWorker(maxReceiveCount, a.ImportWriteBudget*float64(max(concurrency, 1)))
}

// importWorker runs every family's chunks over one paced store: the rows' writes and the job's
// bookkeeping share the budget of each partition key.
func (a *App) importWorker(maxReceiveCount int, budget float64) *jobs.Worker {
	w := WorkerOver(a.Store.Paced(store.NewPacer(budget)), maxReceiveCount, a.Log)
	w.Now = a.Service.Now
	return w
}

// WorkerOver is the import worker with every family plugged in, over one store.
func WorkerOver(st *store.DDBStore, maxReceiveCount int, log *slog.Logger) *jobs.Worker {
	return &jobs.Worker{
		Store:           st.JobStore(),
		Families:        []jobs.Family{&spotjobs.Family{Service: screening.NewService(st)}, &snapjobs.Family{Store: st.SnapImports()}},
		MaxReceiveCount: maxReceiveCount, Log: log,
	}
}

// HTTPHandler returns the handler of one route, by its function's logical id, from its
// family's route table.
func (a *App) HTTPHandler(logicalID string) (routes.Route, http.Handler, error) {
	if d, ok := spotapi.Routes.Lookup(logicalID); ok {
		return d.Route, d.Handler(a.Spot), nil
	}
	if d, ok := snapapi.Routes.Lookup(logicalID); ok {
		return d.Route, d.Handler(a.Snap), nil
	}
	return routes.Route{}, nil, fmt.Errorf("no route for function %q", logicalID)
}

// errorWriter writes a family's error body for failures outside its handlers.
type errorWriter func(w http.ResponseWriter, r *http.Request, status int, message string)

func errorsOf(f routes.Family) errorWriter {
	if f == routes.Snap {
		return func(w http.ResponseWriter, _ *http.Request, status int, message string) {
			snapapi.WriteMessage(w, status, message)
		}
	}
	return func(w http.ResponseWriter, r *http.Request, status int, message string) {
		code := map[int]string{
			http.StatusBadRequest: spotapi.CodeInvalidQuery, http.StatusNotFound: spotapi.CodeNotFound,
			http.StatusMethodNotAllowed: spotapi.CodeNotFound, http.StatusInternalServerError: spotapi.CodeInternal,
		}[status]
		spotapi.WriteProblem(w, r, status, code, message, nil)
	}
}
