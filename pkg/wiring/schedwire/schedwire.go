// Package schedwire is the composition root of the scheduled functions (routes.Schedules): the
// import sweeper, over the jobs store of one table with the holds of every family whose jobs
// hold their target (Snap's survey rosters), so that ending a job frees what it held.
package schedwire

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobstore"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/snap/snapstore"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
	"github.com/participant-roster/roster/pkg/wiring"
)

// SweeperID is the import sweeper's logical id (routes.Schedules).
const SweeperID = "ImportSweeperFunction"

// Sweeper is the import sweeper over a table: it ends the jobs that made no progress for
// staleAfter (0: jobs.DefaultStaleAfter).
func Sweeper(t *ddb.Table, staleAfter time.Duration, log *slog.Logger) *jobs.Sweeper {
	return &jobs.Sweeper{
		Store: jobstore.New(t, snapstore.New(t)), StaleAfter: staleAfter, Log: log,
		// A Spot job's interrupted deliveries may have written records they did not count.
		Settlers: map[string]jobs.Settler{spotjobs.Name: &spotjobs.Family{Service: screening.NewService(spotstore.New(t))}},
	}
}

// StaleAfterFromEnv reads STALE_AFTER, a Go duration ("45m"); unset, jobs.DefaultStaleAfter.
func StaleAfterFromEnv() (time.Duration, error) {
	v := os.Getenv("STALE_AFTER")
	if v == "" {
		return jobs.DefaultStaleAfter, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("STALE_AFTER %q: want a positive Go duration, e.g. 45m", v)
	}
	return d, nil
}

// Result is a sweep's answer: how many jobs it ended.
type Result struct {
	Ended int `json:"ended"`
}

// Handler is what EventBridge's schedule invokes.
type Handler func(ctx context.Context, ev events.EventBridgeEvent) (Result, error)

// HandlerFor is a scheduled function's handler over a table, by its logical id. A sweep that
// failed part-way returns its error (Lambda retries a scheduled invocation; a sweep is
// repeatable: a job already ended is left alone).
func HandlerFor(logicalID string, t *ddb.Table, staleAfter time.Duration, log *slog.Logger) (Handler, error) {
	if _, ok := routes.ScheduledByLogicalID(logicalID); !ok || logicalID != SweeperID {
		return nil, fmt.Errorf("no scheduled function %q", logicalID)
	}
	s := Sweeper(t, staleAfter, log)
	return func(ctx context.Context, _ events.EventBridgeEvent) (Result, error) {
		ended, err := s.Sweep(ctx)
		log.InfoContext(ctx, "import sweep", slog.String("function", logicalID), slog.Int("ended", ended),
			slog.Duration("staleAfter", staleAfter), slog.Any("error", err))
		return Result{Ended: ended}, err
	}, nil
}

// Main is the whole of a scheduled function's main: read the environment once and hand its
// handler to the Lambda runtime.
func Main(logicalID string) { wiring.Start(logicalID, fromEnv) }

func fromEnv(logicalID string, log *slog.Logger) (Handler, error) {
	t, _, err := wiring.TableFromEnv(context.Background())
	if err != nil {
		return nil, err
	}
	staleAfter, err := StaleAfterFromEnv()
	if err != nil {
		return nil, err
	}
	return HandlerFor(logicalID, t, staleAfter, log)
}
