package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

// slowTable adds delay to every DynamoDB call of a client (each attempt, after the retryer).
func slowTable(delay time.Duration) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("InjectLatency",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					select {
					case <-time.After(delay):
					case <-ctx.Done():
						return middleware.FinalizeOutput{}, middleware.Metadata{}, ctx.Err()
					}
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		})
	}
}

// receives notes, by message id, when each receive of a message was handed to the worker's
// handler and when that batch ended.
type receives struct {
	mu  sync.Mutex
	got map[string][]receive
}

type receive struct {
	count      string // ApproximateReceiveCount
	start, end time.Time
}

func (r *receives) wrap(h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		start := time.Now()
		resp, err := h(ctx, ev)
		end := time.Now()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, rec := range ev.Records {
			r.got[rec.MessageId] = append(r.got[rec.MessageId], receive{rec.Attributes["ApproximateReceiveCount"], start, end})
		}
		return resp, err
	}
}

// TestNoChunkWaitsOutTheVisibilityTimeout: a table slowed so that a batch of 10 chunks cannot
// finish in its deadline. The handler hands back what it has no time for, so the import
// completes, and every chunk received again is received within a few seconds of the batch
// that handed it back, not after the queue's 60 s visibility timeout.
func TestNoChunkWaitsOutTheVisibilityTimeout(t *testing.T) {
	// Not in parallel: it measures how soon a handed-back chunk comes again, which another
	// test's load would stretch.
	const visibility = 60 * time.Second
	f := newFixture(t, fixtureOptions{visibility: visibility, batchSize: 10, storeOption: slowTable(40 * time.Millisecond)})
	f.poller.Timeout = 5 * time.Second
	f.poller.Concurrency = 1
	rec := &receives{got: map[string][]receive{}}
	f.poller.Handler = rec.wrap(f.handler)

	const n = 400 // 10 chunks of 40 rows
	rs := rows(0, n)
	start := time.Now()
	job := f.submit(screening.UpdatesOnly, rs, jobs.Planner{MaxRows: 40})
	ctx, cancel := context.WithTimeout(f.ctx, 3*time.Minute)
	s, err := f.poller.Drain(ctx, 15*time.Second)
	cancel()
	got, _ := f.job(job.ID)
	if err != nil {
		t.Fatalf("drain: %v (stats %+v); job %s, chunks %d/%d", err, s, got.Status, got.ChunksDone, got.Chunks)
	}
	took := time.Since(start)
	checkCounts(t, got, jobs.Completed, jobs.Counts{Processed: n, Created: n})
	if got.FailedChunks != 0 || got.Reason != "" {
		t.Errorf("%d failed chunks, reason %q", got.FailedChunks, got.Reason)
	}
	f.checkRosterIs("the import", rs)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != 10 {
		t.Errorf("%d messages received, want the 10 chunks", len(rec.got))
	}
	again, most := 0, 0
	const soon = 5 * time.Second
	for id, rr := range rec.got {
		most = max(most, len(rr))
		for i := 1; i < len(rr); i++ {
			again++
			if wait := rr[i].start.Sub(rr[i-1].end); wait > soon {
				t.Errorf("message %s: receive %s came %v after the batch of receive %s ended (want at most %v: it waited out the visibility timeout)",
					id, rr[i].count, wait.Round(time.Millisecond), rr[i-1].count, soon)
			}
		}
	}
	if again == 0 {
		t.Errorf("no chunk was received twice: the batch finished in its %v deadline, so nothing was handed back (the test did not exercise it)", f.poller.Timeout)
	}
	if took > visibility {
		t.Errorf("the import took %v, more than the %v visibility timeout", took, visibility)
	}
	t.Logf("%d rows in %v: %d batches, %d receives, %d of them again, at most %d of one chunk", n, took.Round(time.Millisecond), s.Batches, s.Received, again, most)
}
