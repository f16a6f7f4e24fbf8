package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/platform/httpx"
	"github.com/participant-roster/roster/pkg/platform/routes"
)

// LambdaHandler is what API Gateway (HTTP API, payload 2.0) calls.
type LambdaHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// LambdaHandler returns the Lambda handler of one function. It converts the event itself
// rather than through the proxy library's Proxy, which answers 504 to an event it cannot turn
// into a request (a bad %-escape in the path, a broken base64 body): those are the client's
// fault and get a 400 in the family's shape.
func (a *App) LambdaHandler(logicalID string) (LambdaHandler, error) {
	route, h, err := a.HTTPHandler(logicalID)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(route.Pattern(), h)
	var accessor core.RequestAccessorV2
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		start := time.Now()
		meter := capacity.FromContext(ctx) // a caller (test, benchmark) may bring its own
		if meter == nil {
			ctx, meter = capacity.WithMeter(ctx)
		}
		requestID := ev.RequestContext.RequestID
		ctx = httpx.WithRequestID(ctx, requestID)
		w := core.NewProxyResponseWriterV2()
		var req *http.Request
		convErr := readable(ev)
		if convErr == nil {
			req, convErr = accessor.EventToRequestWithContext(ctx, ev)
		}
		if convErr != nil {
			req, _ = http.NewRequestWithContext(ctx, ev.RequestContext.HTTP.Method, "/", nil)
			errorsOf(route.Family)(w, req, http.StatusBadRequest, "The request could not be read: its path or body is malformed.")
		} else {
			a.serve(mux, route, w, req)
		}
		w.Header().Set("X-Request-Id", requestID)
		resp, err := w.GetProxyResponse()
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("response: %w", err)
		}
		a.logRequest(ctx, route, ev, resp.StatusCode, start, meter)
		return resp, nil
	}, nil
}

// readable checks what the proxy library would fail on (and log as plain text) first.
func readable(ev events.APIGatewayV2HTTPRequest) error {
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	if _, err := url.Parse("https://host" + path); err != nil {
		return err
	}
	if ev.IsBase64Encoded {
		if _, err := base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return err
		}
	}
	return nil
}

// serve runs the route's mux; a request the route does not match (another path or method,
// which API Gateway never sends but a hand-made event can) gets the family's 404 or 405, and a
// panic becomes a logged 500 instead of a crashed function.
func (a *App) serve(mux *http.ServeMux, route routes.Route, w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			a.Log.ErrorContext(r.Context(), "panic", slog.Any("panic", p), slog.String("requestId", httpx.RequestID(r.Context())))
			errorsOf(route.Family)(w, r, http.StatusInternalServerError, "Internal error; the request id identifies it in our logs.")
		}
	}()
	if _, pattern := mux.Handler(r); pattern == "" {
		status, msg := http.StatusNotFound, "No route matches this path."
		if r.Method != route.Method && pathMatches(route, r) {
			status, msg = http.StatusMethodNotAllowed, "This path does not accept "+r.Method+"."
			w.Header().Set("Allow", route.Method)
		}
		errorsOf(route.Family)(w, r, status, msg)
		return
	}
	mux.ServeHTTP(w, r)
}

func pathMatches(route routes.Route, r *http.Request) bool {
	probe := r.Clone(r.Context())
	probe.Method = route.Method
	m := http.NewServeMux()
	m.Handle(route.Pattern(), http.NotFoundHandler())
	_, pattern := m.Handler(probe)
	return pattern != ""
}

// logRequest writes the request's one JSON log line, with what it cost in DynamoDB units.
func (a *App) logRequest(ctx context.Context, route routes.Route, ev events.APIGatewayV2HTTPRequest, status int, start time.Time, m *capacity.Meter) {
	rcu, wcu := m.Units()
	a.Log.InfoContext(ctx, "request",
		slog.String("requestId", ev.RequestContext.RequestID),
		slog.String("function", route.LogicalID),
		slog.String("method", ev.RequestContext.HTTP.Method),
		slog.String("path", ev.RawPath),
		slog.Int("status", status),
		slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000),
		slog.Int("dynamodbCalls", m.Calls()),
		slog.Float64("readUnits", rcu),
		slog.Float64("writeUnits", wcu),
	)
}

// Main is the whole of a function's main: read the environment once, build clients once, and
// hand the handler to the Lambda runtime.
func Main(logicalID string) {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	handler, err := lambdaHandlerFromEnv(logicalID, log)
	if err != nil {
		// An init failure: Lambda reports it and retries the cold start; there is no request yet.
		log.Error("init failed", slog.String("function", logicalID), slog.Any("error", err))
		os.Exit(1)
	}
	lambda.Start(handler)
}

func lambdaHandlerFromEnv(logicalID string, log *slog.Logger) (LambdaHandler, error) {
	a, err := FromEnv(log)
	if err != nil {
		return nil, err
	}
	return a.LambdaHandler(logicalID)
}

// FromEnv reads the environment once and wires the app: the DynamoDB client, and the import
// queue's SQS client when IMPORT_QUEUE_URL is set.
func FromEnv(log *slog.Logger) (*App, error) {
	ctx := context.Background()
	cfg, err := ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	client, err := NewDynamoDBClient(ctx, cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	a := New(client, cfg.Table, cfg.AuthCacheTTL, log)
	if cfg.ImportQueueURL != "" {
		sqsClient, err := jobqueue.NewClient(ctx, cfg.SQSEndpoint)
		if err != nil {
			return nil, err
		}
		a.EnableImports(sqsClient, cfg.ImportQueueURL)
	}
	return a, nil
}

// MainWorker is the whole of a worker function's main (routes.Workers): read the environment
// once and hand the worker's SQS handler to the Lambda runtime.
func MainWorker(logicalID string) {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	handler, err := workerHandlerFromEnv(logicalID, log)
	if err != nil {
		log.Error("init failed", slog.String("function", logicalID), slog.Any("error", err))
		os.Exit(1)
	}
	lambda.Start(handler)
}

func workerHandlerFromEnv(logicalID string, log *slog.Logger) (jobqueue.Handler, error) {
	a, err := FromEnv(log)
	if err != nil {
		return nil, err
	}
	return a.WorkerHandler(logicalID)
}

// WorkerHandler returns the SQS handler of a worker function, by its logical id. The queue's
// maxReceiveCount comes from MAX_RECEIVE_COUNT (template.yaml sets it from the redrive policy),
// the write budget per partition key from IMPORT_PARTITION_WRITE_BUDGET.
func (a *App) WorkerHandler(logicalID string) (jobqueue.Handler, error) {
	if _, ok := routes.WorkerByLogicalID(logicalID); !ok || logicalID != "ImportWorkerFunction" {
		return nil, fmt.Errorf("no worker for function %q", logicalID)
	}
	n := 0
	if v := os.Getenv("MAX_RECEIVE_COUNT"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			return nil, fmt.Errorf("MAX_RECEIVE_COUNT: %w", err)
		}
	}
	if v := os.Getenv("IMPORT_PARTITION_WRITE_BUDGET"); v != "" {
		var budget float64
		if _, err := fmt.Sscan(v, &budget); err != nil || budget <= 0 {
			return nil, fmt.Errorf("IMPORT_PARTITION_WRITE_BUDGET %q: want a positive number of write units per second", v)
		}
		a.ImportWriteBudget = budget
	}
	return a.ImportWorker(n), nil
}
