// Package wiring is what every function's composition root shares: the configuration read
// once from the environment, the table's client, and the start of a Lambda handler. The
// family roots (spotwire, snapwire, workerwire) build their store adapters, services and
// handlers on it; each function's main.go calls one of them, so a binary links only its own
// family.
package wiring

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/idempotency"
	"github.com/participant-roster/roster/pkg/platform/idempotency/idemstore"
	"github.com/participant-roster/roster/pkg/platform/lambdahttp"
)

// DefaultAuthCacheTTL is how long a warm function trusts a verified key without re-reading it;
// it bounds how long a revoked key keeps working.
const DefaultAuthCacheTTL = 60 * time.Second

// Config is what a function reads from its environment once.
type Config struct {
	Table        string
	AuthCacheTTL time.Duration
	Endpoint     string // DynamoDB endpoint override (DynamoDB Local); "" on AWS
}

// configFromEnv reads TABLE_NAME, AUTH_CACHE_TTL (a Go duration) and DYNAMODB_ENDPOINT.
func configFromEnv() (Config, error) {
	c := Config{Table: os.Getenv("TABLE_NAME"), AuthCacheTTL: DefaultAuthCacheTTL, Endpoint: os.Getenv("DYNAMODB_ENDPOINT")}
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

// TableFromEnv reads the configuration and opens the table.
func TableFromEnv(ctx context.Context) (*ddb.Table, Config, error) {
	cfg, err := configFromEnv()
	if err != nil {
		return nil, cfg, err
	}
	client, err := ddb.NewClient(ctx, cfg.Endpoint)
	if err != nil {
		return nil, cfg, err
	}
	return ddb.New(client, cfg.Table), cfg, nil
}

// IdempotencyGuard is the Idempotency-Key guard of a family's API, its records in the table.
func IdempotencyGuard(t *ddb.Table, log *slog.Logger) *idempotency.Guard {
	return &idempotency.Guard{Store: idemstore.New(t), Log: log}
}

// Family is what a family's composition root gives Main: its routes' handlers, and imports
// that become jobs once it has a queue.
type Family interface {
	EnableImports(q jobs.Queue)
	LambdaHandler(logicalID string) (lambdahttp.Handler, error)
}

// Main is the whole of an HTTP function's main: read the environment once, build the clients
// and the family once (the import queue's client only for a function given its source), and
// hand the route's handler to the Lambda runtime.
func Main(logicalID string, build func(t *ddb.Table, cfg Config, log *slog.Logger) Family, queue []QueueSource) {
	log := Log()
	h, err := handlerFromEnv(context.Background(), logicalID, build, log, queue)
	if err != nil {
		InitFailed(log, logicalID, err)
	}
	lambda.Start(h)
}

func handlerFromEnv(ctx context.Context, logicalID string, build func(*ddb.Table, Config, *slog.Logger) Family, log *slog.Logger, queue []QueueSource) (lambdahttp.Handler, error) {
	t, cfg, err := TableFromEnv(ctx)
	if err != nil {
		return nil, err
	}
	f := build(t, cfg, log)
	for _, source := range queue {
		q, err := source(ctx)
		if err != nil {
			return nil, err
		}
		if q != nil {
			f.EnableImports(q)
		}
	}
	return f.LambdaHandler(logicalID)
}

// Start is the whole of a function's main that is fed by another source than the HTTP API (a
// queue, a schedule): build its handler once from the environment, and hand it to the Lambda
// runtime; a handler that cannot be built ends the cold start.
func Start[H any](logicalID string, fromEnv func(logicalID string, log *slog.Logger) (H, error)) {
	log := Log()
	h, err := fromEnv(logicalID, log)
	if err != nil {
		InitFailed(log, logicalID, err)
	}
	lambda.Start(h)
}

// QueueSource builds, once at start, the queue a function sends import chunks to; nil and no
// error when the environment names none. Only the functions that send link one (queuewire).
type QueueSource func(ctx context.Context) (jobs.Queue, error)

// Log is every function's logger: JSON lines on stdout, which Lambda sends to CloudWatch.
func Log() *slog.Logger { return slog.New(slog.NewJSONHandler(os.Stdout, nil)) }

// InitFailed ends a cold start that cannot serve: Lambda reports it and retries the cold
// start; there is no request to answer yet.
func InitFailed(log *slog.Logger, logicalID string, err error) {
	log.Error("init failed", slog.String("function", logicalID), slog.Any("error", err))
	os.Exit(1)
}
