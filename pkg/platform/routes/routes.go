// Package routes declares the shape of the project's Lambda functions: a Route is one API
// Gateway route served by one function (by its template.yaml logical id), a Declaration adds
// the handler that answers it, and each family keeps its routes in one Table beside its
// handlers (pkg/spot/spotapi/routes.go, pkg/snap/snapapi/routes.go). Workers, the functions
// fed by a queue, and Schedules, the functions run on a schedule, are declared here. `make
// generate` (cmd/generate) writes template.yaml's route and scheduled functions, the
// Makefile's build targets and functions/ from these declarations.
package routes

import (
	"context"
	"net/http"
)

// Family names the public API a route belongs to; it selects the error shape.
type Family string

const (
	Spot Family = "spot"
	Snap Family = "snap"
)

// Route is one API Gateway route served by one Lambda function.
type Route struct {
	LogicalID string // template.yaml resource name, e.g. GetScreenerParticipantFunction
	Dir       string // functions/<Dir>/main.go
	Method    string // HTTP method as in the HttpApi event
	Path      string // HttpApi path, with {param} placeholders
	ReadOnly  bool   // gets DynamoDBReadPolicy instead of DynamoDBCrudPolicy
	// SendsImports, when set, says why the function sends import chunks to ImportQueue: it then
	// gets IMPORT_QUEUE_URL and SQSSendMessagePolicy, with this text as their comment.
	SendsImports string
	// Idempotent routes take an Idempotency-Key header (package idempotency): the family's
	// middleware puts the handler behind its guard, after authentication, for every request
	// that comes in by such a route (FromContext), and the API reference documents the header
	// on them (a test checks).
	Idempotent bool
	Family     Family
}

// Pattern is the route as a Go 1.22 http.ServeMux pattern ("GET /screeners/{id}").
func (r Route) Pattern() string { return r.Method + " " + r.Path }

type routeKey struct{}

// WithRoute returns a context carrying the route a request came in by; the Lambda adapter
// sets it, so middleware can follow the route's declaration.
func WithRoute(ctx context.Context, r Route) context.Context {
	return context.WithValue(ctx, routeKey{}, r)
}

// FromContext is the route WithRoute put in the context, if any.
func FromContext(ctx context.Context) (Route, bool) {
	r, ok := ctx.Value(routeKey{}).(Route)
	return r, ok
}

// Declaration is a route with the handler that answers it, built from the family's API (its
// services and middleware), so the declaration also says which middleware wraps the handler.
type Declaration[API any] struct {
	Route
	Handler func(API) http.Handler
}

// Table is a family's routes, in the order template.yaml lists their functions.
type Table[API any] []Declaration[API]

// Lookup finds a declaration by its function's logical id.
func (t Table[API]) Lookup(logicalID string) (Declaration[API], bool) {
	for _, d := range t {
		if d.LogicalID == logicalID {
			return d, true
		}
	}
	return Declaration[API]{}, false
}

// Routes is the table without its handlers.
func (t Table[API]) Routes() []Route {
	out := make([]Route, len(t))
	for i, d := range t {
		out[i] = d.Route
	}
	return out
}

// Worker is a Lambda function fed by an event source other than the HTTP API (an SQS queue).
// Its template.yaml resource is written by hand (its event source and settings are its own);
// its build target and functions/ main.go are generated.
type Worker struct {
	LogicalID string // template.yaml resource name
	Dir       string // functions/<Dir>/main.go
}

// Workers lists every non-HTTP function, in the order template.yaml declares them (after the
// routes).
var Workers = []Worker{
	{"ImportWorkerFunction", "import-worker"},
}

// WorkerByLogicalID finds a worker by its function's logical id.
func WorkerByLogicalID(id string) (Worker, bool) {
	for _, w := range Workers {
		if w.LogicalID == id {
			return w, true
		}
	}
	return Worker{}, false
}

// Scheduled is a Lambda function run on an EventBridge schedule. Everything about it is
// declared here: `make generate` writes its template.yaml resource (after the routes', with
// CRUD access to the table and one Schedule event), its build target and its functions/
// main.go, which calls pkg/wiring/schedwire.
type Scheduled struct {
	LogicalID string // template.yaml resource name
	Dir       string // functions/<Dir>/main.go
	// Schedule is the EventBridge schedule expression, e.g. "rate(10 minutes)".
	Schedule string
	// Why says what the function does and why on that schedule: its template.yaml comment.
	Why string
}

// Schedules lists every scheduled function, in the order template.yaml declares them.
var Schedules = []Scheduled{
	{
		LogicalID: "ImportSweeperFunction", Dir: "import-sweeper", Schedule: "rate(10 minutes)",
		Why: "Ends the import jobs that made no progress for STALE_AFTER (a Go duration; unset, " +
			"jobs.DefaultStaleAfter): FAILED, or CANCELED if a cancel was asked, their rows not run " +
			"counted skipped and their target's hold released (a Snap survey's roster). Every 10 " +
			"minutes, so a stale job ends at most 10 minutes after it became stale.",
	},
}

// ScheduledByLogicalID finds a scheduled function by its logical id.
func ScheduledByLogicalID(id string) (Scheduled, bool) {
	for _, s := range Schedules {
		if s.LogicalID == id {
			return s, true
		}
	}
	return Scheduled{}, false
}
