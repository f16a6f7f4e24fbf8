// Package workerwire is the composition root of the import worker: the jobs engine with every
// family plugged in (Spot's screening service, Snap's import store), over the jobs, Spot and
// Snap store adapters of one table.
package workerwire

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/jobs/jobstore"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/snap/snapjobs"
	"github.com/participant-roster/roster/pkg/snap/snapstore"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
	"github.com/participant-roster/roster/pkg/wiring"
)

// New is the import worker over a table; its jobs' bookkeeping and its rows' writes go
// through the same table (a paced one keeps both to its budget).
func New(t *ddb.Table, maxReceiveCount int, log *slog.Logger) *jobs.Worker {
	snap := snapstore.New(t)
	return &jobs.Worker{
		Store: jobstore.New(t, snap),
		Families: []jobs.Family{
			&spotjobs.Family{Service: screening.NewService(spotstore.New(t))},
			&snapjobs.Family{Store: snap.SnapImports()},
		},
		MaxReceiveCount: maxReceiveCount, Log: log,
	}
}

// Paced is the worker whose writes keep to budget write units per second on each partition
// key (ddb.Pacer).
func Paced(t *ddb.Table, budget float64, maxReceiveCount int, log *slog.Logger) *jobs.Worker {
	return New(t.Paced(ddb.NewPacer(budget)), maxReceiveCount, log)
}

// Settings are the worker's environment: the queue's maxReceiveCount (MAX_RECEIVE_COUNT,
// which template.yaml sets from the redrive policy), the write budget per partition key
// (IMPORT_PARTITION_WRITE_BUDGET) and the queue its batches come from (IMPORT_QUEUE_URL,
// through SQS_ENDPOINT when set), where it hands back the records a batch has no time left
// for (jobqueue.HandlerFor). Without a queue those wait out the visibility timeout.
type Settings struct {
	MaxReceiveCount int
	Budget          float64
	HandBack        jobqueue.HandBack
}

// SettingsFromEnv reads the worker's settings; unset ones (and a MAX_RECEIVE_COUNT of 0 or
// less) are the defaults.
func SettingsFromEnv() (Settings, error) {
	s := Settings{MaxReceiveCount: jobs.DefaultMaxReceiveCount, Budget: ddb.DefaultPartitionWriteBudget}
	if v := os.Getenv("MAX_RECEIVE_COUNT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return s, fmt.Errorf("MAX_RECEIVE_COUNT %q: want a whole number", v)
		}
		if n > 0 { // 0 or less: the default
			s.MaxReceiveCount = n
		}
	}
	if v := os.Getenv("IMPORT_PARTITION_WRITE_BUDGET"); v != "" {
		b, err := strconv.ParseFloat(v, 64)
		if err != nil || b <= 0 {
			return s, fmt.Errorf("IMPORT_PARTITION_WRITE_BUDGET %q: want a positive number of write units per second", v)
		}
		s.Budget = b
	}
	return s, nil
}

// Handler is a worker function's SQS handler over a table, by its logical id.
func Handler(logicalID string, t *ddb.Table, s Settings, log *slog.Logger) (jobqueue.Handler, error) {
	if _, ok := routes.WorkerByLogicalID(logicalID); !ok || logicalID != "ImportWorkerFunction" {
		return nil, fmt.Errorf("no worker for function %q", logicalID)
	}
	return jobqueue.HandlerFor(Paced(t, s.Budget, s.MaxReceiveCount, log), s.HandBack), nil
}

// Main is the whole of a worker function's main: read the environment once and hand the
// worker's SQS handler to the Lambda runtime.
func Main(logicalID string) { wiring.Start(logicalID, fromEnv) }

func fromEnv(logicalID string, log *slog.Logger) (jobqueue.Handler, error) {
	t, _, err := wiring.TableFromEnv(context.Background())
	if err != nil {
		return nil, err
	}
	s, err := SettingsFromEnv()
	if err != nil {
		return nil, err
	}
	if s.HandBack, err = HandBackFromEnv(context.Background()); err != nil {
		return nil, err
	}
	return Handler(logicalID, t, s, log)
}

// HandBackFromEnv is the queue IMPORT_QUEUE_URL names (through SQS_ENDPOINT, moto_server, when
// set), for handing back records; none when IMPORT_QUEUE_URL is unset.
func HandBackFromEnv(ctx context.Context) (jobqueue.HandBack, error) {
	url := os.Getenv("IMPORT_QUEUE_URL")
	if url == "" {
		return jobqueue.HandBack{}, nil
	}
	client, err := jobqueue.NewClient(ctx, os.Getenv("SQS_ENDPOINT"))
	if err != nil {
		return jobqueue.HandBack{}, err
	}
	return jobqueue.HandBack{Client: client, QueueURL: url}, nil
}
