package jobs_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

// Fault kinds the injector counts.
const (
	faultProvisioned = "ProvisionedThroughputExceededException"
	faultThrottling  = "ThrottlingException"
	faultConflict    = "TransactionCanceledException(TransactionConflict)"
	fault500Before   = "InternalServerError before the call"
	fault500After    = "InternalServerError after the call (written, response lost)"
)

var faultKinds = []string{faultProvisioned, faultThrottling, faultConflict, fault500Before, fault500After}

// lostTransaction counts the TransactWriteItems calls that could have lost their answer.
const lostTransaction = "lost transaction"

// Fault rates: throttling of write calls, conflicts of TransactWriteItems calls, 500s of all
// calls.
const (
	throttleRate = 0.20
	conflictRate = 0.05
	serverRate   = 0.01
	// guaranteeAfter: a kind not drawn by the time this many calls could have drawn it is
	// injected on the next one, so that every kind is exercised whatever the interleaving.
	guaranteeAfter = 150
)

var writeOps = map[string]bool{"BatchWriteItem": true, "BatchExecuteStatement": true, "TransactWriteItems": true, "PutItem": true, "UpdateItem": true, "DeleteItem": true}

// faults injects DynamoDB errors into every attempt a client makes, as DynamoDB would send
// them: the error types of service/dynamodb/types inside the HTTP response error the SDK wraps
// them in (status 400 for throttling and cancellations, 500 for InternalServerError), so the
// SDK's retryer retries what it retries for real (throttling codes, HTTP 500) and the store's
// classify() sees what it would see.
type faults struct {
	mu       sync.Mutex
	rng      *rand.Rand // seeded: a run draws the same sequence (goroutines interleave it differently)
	calls    int
	eligible map[string]int // calls that could have drawn each kind
	injected map[string]int
	byOp     map[string]int // "kind|operation" -> count
}

func newFaults(seed uint64) *faults {
	return &faults{
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		eligible: map[string]int{}, injected: map[string]int{}, byOp: map[string]int{},
	}
}

type transactItemsKey struct{}

// option adds the injector to a client's stack, and a retryer like the SDK's standard one
// (3 attempts, the same retryable errors and retry quota) with its backoff scaled down like the
// test's queue timeouts: the standard backoff waits up to 2 s, then 4 s, which at these rates
// would spend minutes and outlast the 2.5 s batches this test runs.
func (f *faults) option(o *dynamodb.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			d := min(10*time.Millisecond<<attempt, 200*time.Millisecond)
			return d/2 + rand.N(d/2+1), nil
		})
	})
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		// A cancellation names one reason per item of the transaction: note how many.
		if err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("NoteTransactItems",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if tx, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok {
					ctx = context.WithValue(ctx, transactItemsKey{}, len(tx.TransactItems))
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After); err != nil {
			return err
		}
		// Right after the retry middleware: every attempt, first or retried, passes here.
		return s.Finalize.Insert(middleware.FinalizeMiddlewareFunc("InjectFaults", f.handle), "Retry", middleware.After)
	})
}

// draw decides the fault of one attempt: 1% of all calls a 500 (half of them after the call
// went through), else 20% of writes a throttle, else 5% of transactions a conflict.
func (f *faults) draw(op string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	var candidates []string
	candidates = append(candidates, fault500Before, fault500After)
	if writeOps[op] {
		candidates = append(candidates, faultProvisioned, faultThrottling)
	}
	if op == "TransactWriteItems" {
		candidates = append(candidates, faultConflict)
	}
	for _, k := range candidates {
		f.eligible[k]++
	}
	kind := ""
	u := f.rng.Float64()
	switch {
	case u < serverRate/2:
		kind = fault500Before
	case u < serverRate:
		kind = fault500After
	case writeOps[op] && u < serverRate+throttleRate/2:
		kind = faultProvisioned
	case writeOps[op] && u < serverRate+throttleRate:
		kind = faultThrottling
	case op == "TransactWriteItems" && u < serverRate+throttleRate+conflictRate:
		kind = faultConflict
	}
	if kind == "" {
		for _, k := range candidates {
			if f.injected[k] == 0 && f.eligible[k] >= guaranteeAfter {
				kind = k
				break
			}
		}
	}
	// The hardest case for idempotency is a transaction that wrote and whose answer was lost:
	// make sure one happens even if the 1% never lands on a transaction.
	if op == "TransactWriteItems" {
		f.eligible[lostTransaction]++
		if kind == "" && f.byOp[fault500After+"|"+op] == 0 && f.eligible[lostTransaction] >= guaranteeAfter {
			kind = fault500After
		}
	}
	if kind != "" {
		f.injected[kind]++
		f.byOp[kind+"|"+op]++
	}
	return kind
}

func (f *faults) handle(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	op := middleware.GetOperationName(ctx)
	switch f.draw(op) {
	case fault500Before:
		return middleware.FinalizeOutput{}, middleware.Metadata{}, responseError(500, &types.InternalServerError{Message: aws.String("injected: internal server error")})
	case fault500After:
		out, md, err := next.HandleFinalize(ctx, in)
		if err != nil {
			return out, md, err // the call failed on its own: nothing was lost
		}
		return middleware.FinalizeOutput{}, md, responseError(500, &types.InternalServerError{Message: aws.String("injected: internal server error after the write")})
	case faultProvisioned:
		return middleware.FinalizeOutput{}, middleware.Metadata{}, responseError(400, &types.ProvisionedThroughputExceededException{
			Message: aws.String("injected: the level of configured provisioned throughput for the table was exceeded"),
		})
	case faultThrottling:
		return middleware.FinalizeOutput{}, middleware.Metadata{}, responseError(400, &types.ThrottlingException{Message: aws.String("injected: rate exceeded")})
	case faultConflict:
		n, _ := ctx.Value(transactItemsKey{}).(int)
		reasons := make([]types.CancellationReason, max(n, 1))
		for i := range reasons {
			reasons[i] = types.CancellationReason{Code: aws.String("None")}
		}
		conflict := rand.N(len(reasons))
		reasons[conflict] = types.CancellationReason{Code: aws.String("TransactionConflict"), Message: aws.String("Transaction is ongoing for the item")}
		return middleware.FinalizeOutput{}, middleware.Metadata{}, responseError(400, &types.TransactionCanceledException{
			Message:             aws.String("injected: transaction cancelled, please refer cancellation reasons for specific reasons"),
			CancellationReasons: reasons,
		})
	}
	return next.HandleFinalize(ctx, in)
}

// responseError wraps an API error as the SDK's deserializers do: an HTTP response error
// carrying the status code (what the retryer's HTTP status check reads) and a request id.
func responseError(status int, err error) error {
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
			Err:      err,
		},
		RequestID: "injected-fault",
	}
}

func (f *faults) report() (calls int, injected map[string]int, byOp map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, maps.Clone(f.injected), maps.Clone(f.byOp)
}

// faultSeed is fixed so a failure can be rerun with the same draws (the interleaving of the
// two concurrent batches still varies).
const faultSeed = 20240404

// TestImportUnderInjectedFaults: the worker's DynamoDB client fails 20% of its writes with
// throttling, 5% of its transactions with a TransactionConflict cancellation and 1% of all its
// calls with a 500, half of those after the write went through. An UPDATES_ONLY import and
// then a FULL_SYNC still complete with exact counts, and every row is on the roster exactly
// once.
func TestImportUnderInjectedFaults(t *testing.T) {
	// Not in parallel: its batches have 2.5 s deadlines, which another test's load could
	// make a chunk miss five times.
	fl := newFaults(faultSeed)
	// Redeliveries come after 3 s. A batch's deadline (the finishing lease) is shorter than the
	// visibility timeout, as deployed (60 s against 360 s): a finisher that failed has let its
	// lease go by the time its message comes back.
	f := newFixture(t, fixtureOptions{visibility: 3 * time.Second, maxReceiveCount: 5, storeOption: fl.option})
	f.poller.Timeout = 2500 * time.Millisecond
	f.poller.BatchSize = 1
	f.poller.Concurrency = 2
	planner := jobs.Planner{MaxRows: 50}
	t.Logf("fault seed %d", faultSeed)

	const n = 2000
	first := rows(0, n)
	syncRows := slices.Clone(rows(400, n+400)) // 1,600 known, 400 new, 400 absent
	for i := range syncRows {
		if i%8 == 0 && i < 1600 {
			syncRows[i].Name += " (renamed)" // 200 known rows change
		}
	}
	for _, step := range []struct {
		mode screening.ImportMode
		rows []screening.ImportRow
		want jobs.Counts
		// participants is the tenant's participant total after the step: a FULL_SYNC unlinks
		// the absent ones from the screener, it does not delete them.
		participants int
	}{
		{screening.UpdatesOnly, first, jobs.Counts{Processed: n, Created: n}, n},
		{screening.FullSync, syncRows, jobs.Counts{Processed: n, Created: 400, Updated: 200, Unchanged: 1400, Removed: 400}, n + 400},
	} {
		start := time.Now()
		job := f.submit(step.mode, step.rows, planner)
		ctx, cancel := context.WithTimeout(f.ctx, 3*time.Minute)
		s, err := f.poller.Drain(ctx, 10*time.Second)
		cancel()
		got, _ := f.job(job.ID)
		if err != nil {
			t.Fatalf("%s: drain: %v (stats %+v); job %s, counts %+v, chunks %d/%d, reason %q",
				step.mode, err, s, got.Status, got.Counts, got.ChunksDone, got.Chunks, got.Reason)
		}
		if !got.Terminal() && got.ChunksDone == got.Chunks {
			// Every chunk is counted and nothing is queued, so nothing will ever finish it.
			t.Errorf("%s: job %s is stuck %s with all %d chunks done and the queue drained: no worker is left to finish it "+
				"(a finisher's claim that was written but whose answer was lost?)", step.mode, got.ID, got.Status, got.Chunks)
		}
		checkCounts(t, got, jobs.Completed, step.want)
		if got.FailedChunks != 0 || got.Reason != "" {
			t.Errorf("%s: %d failed chunks, reason %q", step.mode, got.FailedChunks, got.Reason)
		}
		f.checkRosterIs(step.mode, step.rows)
		if total := f.participantTotal(); total != step.participants {
			t.Errorf("%s: the tenant has %d participants, want %d (a duplicate participant or a lost one)", step.mode, total, step.participants)
		}
		t.Logf("%s of %d rows: %v, %d batches, %d received, %d failed", step.mode, len(step.rows),
			time.Since(start).Round(time.Millisecond), s.Batches, s.Received, s.Failed)
	}

	calls, injected, byOp := fl.report()
	t.Logf("%d DynamoDB calls by the worker; injected: %v", calls, injected)
	var ops []string
	for k, v := range byOp {
		ops = append(ops, fmt.Sprintf("%s: %d", k, v))
	}
	slices.Sort(ops)
	t.Logf("by operation:\n  %s", strings.Join(ops, "\n  "))
	for _, k := range faultKinds {
		if injected[k] == 0 {
			t.Errorf("no %s was injected in %d calls: the test did not exercise it", k, calls)
		}
	}
	if byOp[fault500After+"|TransactWriteItems"] == 0 {
		t.Errorf("no TransactWriteItems lost its answer after writing: the test did not exercise it")
	}
}
