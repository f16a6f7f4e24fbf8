package jobs

import (
	"context"
	"time"
)

// Store keeps jobs, their chunks' completion records, plans and row errors. Every method is
// scoped to one workspace: Get and ChunkState answer vocab.ErrNotFound for a job that is not
// the workspace's, and the writes treat it as a job they may not change (Start and Fail do
// nothing, ClaimFinish is not granted, PlanRemovals and Finish answer ErrLeaseLost,
// CompleteChunk ErrClosed). Reads are consistent: the worker decides on them.
type Store interface {
	// Create stores a new job (QUEUED, counters 0), taking its target's hold in the same
	// write when it holds one: vocab.ErrExists if the id is taken, ErrTargetHeld if another job
	// holds the target, vocab.ErrNotFound if the target is gone.
	Create(ctx context.Context, j Job) error
	// Get reads a job and its first maxErrors row errors, in row order.
	Get(ctx context.Context, ws, id string, maxErrors int) (Job, []RowError, error)
	// ChunkState reads a job and whether chunk n is done, in one call.
	ChunkState(ctx context.Context, ws, id string, n int) (Job, bool, error)
	// Start moves a QUEUED job to RUNNING; it does nothing to a job in any other status.
	Start(ctx context.Context, ws, id string, now time.Time) error
	// ChunkPlan returns the counts chunk n's first writing attempt planned, if one did.
	ChunkPlan(ctx context.Context, ws, id string, n int) (Counts, bool, error)
	// PutChunkPlan records chunk n's planned counts unless an earlier attempt did, and returns
	// the counts that hold (the earlier attempt's, if any).
	PutChunkPlan(ctx context.Context, ws, id string, n int, c Counts) (Counts, error)
	// ReplaceRowErrors makes the row errors of rows firstRow..lastRow exactly errs.
	ReplaceRowErrors(ctx context.Context, ws, id string, firstRow, lastRow int, errs []RowError) error
	// CompleteChunk records a chunk as done and adds its counts to its job, at most once:
	// applied is false when it was done already. ErrClosed: the job is finished or gone.
	CompleteChunk(ctx context.Context, ws, id string, c ChunkResult, now time.Time) (applied bool, err error)
	// KeepSet returns the keys every done chunk of a job keeps.
	KeepSet(ctx context.Context, ws, id string) (map[string]bool, error)
	// ClaimFinish makes the caller (token) the job's finisher until `until`, if every chunk is
	// done, the job is not finished and no other finisher's lease runs; a retry of the same
	// claim is granted again. ok is false when it was not granted.
	ClaimFinish(ctx context.Context, ws, id, token string, now, until time.Time) (job Job, ok bool, err error)
	// PlanRemovals records, once, how many records the finish removes, and returns the count
	// that holds (a finisher taking over keeps the first one's). ErrLeaseLost if token is no
	// longer the finisher.
	PlanRemovals(ctx context.Context, ws, id, token string, n int) (int, error)
	// Finish sets the final status if token still holds the finishing lease, adds what
	// finishing cost to the row units, and releases the target's hold: ErrLeaseLost otherwise.
	Finish(ctx context.Context, j Job, token, status, reason string, now time.Time, readUnits, writeUnits float64) error
	// Fail ends a job FAILED with a reason, whoever finishes it, when every chunk is done
	// (allDone) or in any case; a finished job is left alone. It releases the target's hold.
	Fail(ctx context.Context, ws, id, reason string, now time.Time, allDone bool) error
}
