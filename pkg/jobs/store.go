package jobs

import (
	"context"
	"time"
)

// Store keeps jobs, their chunks' completion records, plans, row results and row errors. Every
// method is scoped to one workspace (the writes of a job's records take the job, for its
// WorkspaceID, ID and ExpiresAt, which every record of the job carries as its time to live): Get, ChunkState, Cancel and Results answer
// vocab.ErrNotFound for a job that is not the workspace's (or is past its ExpiresAt), and the
// writes treat it as a job they may not change (Start and Fail do nothing, ClaimFinish is not
// granted, PlanRemovals and Finish answer ErrLeaseLost, CompleteChunk ErrClosed). Reads are
// consistent: the worker decides on them. Every item of a job carries its ExpiresAt as the
// table's time to live.
type Store interface {
	// Create stores a new job (QUEUED, counters 0, ProgressAt = CreatedAt, ExpiresAt as
	// given), taking its target's hold in the same write when it holds one: vocab.ErrExists if
	// the id is taken, ErrTargetHeld if another job holds the target, vocab.ErrNotFound if the
	// target is gone.
	Create(ctx context.Context, j Job) error
	// Get reads a job and its first maxErrors row errors, in row order.
	Get(ctx context.Context, ws, id string, maxErrors int) (Job, []RowError, error)
	// ChunkState reads a job and whether chunk n is done, in one call.
	ChunkState(ctx context.Context, ws, id string, n int) (Job, bool, error)
	// Start moves a QUEUED job to RUNNING (ProgressAt = now) and reports whether the job is
	// RUNNING now: false when a cancel (or anything else) ended it or made it CANCELING first,
	// and then the chunk must not run.
	Start(ctx context.Context, ws, id string, now time.Time) (running bool, err error)
	// ChunkPlan returns the per-row plan chunk n's first writing attempt recorded, if one did.
	ChunkPlan(ctx context.Context, ws, id string, n int) ([]RowResult, bool, error)
	// PutChunkPlan records chunk n's per-row plan unless an earlier attempt did, and returns
	// the plan that holds (the earlier attempt's, if any).
	PutChunkPlan(ctx context.Context, j Job, n int, rows []RowResult) ([]RowResult, error)
	// ReplaceRowErrors makes the row errors of rows firstRow..lastRow exactly errs.
	ReplaceRowErrors(ctx context.Context, j Job, firstRow, lastRow int, errs []RowError) error
	// PutResults stores the results of one attempt at a chunk's rows (rows[i] is row
	// firstRow+i), under the attempt's token: the attempt that CompleteChunk counts names its
	// results (ChunkResult.Attempt), so results and counts always agree.
	PutResults(ctx context.Context, j Job, attempt string, firstRow int, rows []RowResult) error
	// CompleteChunk records a chunk as done and adds its counts to its job (ProgressAt = now),
	// at most once: applied is false when it was done already. It counts on a QUEUED, RUNNING
	// or CANCELING job; ErrClosed: the job is finished or gone.
	CompleteChunk(ctx context.Context, j Job, c ChunkResult, now time.Time) (applied bool, err error)
	// KeepSet returns the keys every done chunk of a job keeps.
	KeepSet(ctx context.Context, ws, id string) (map[string]bool, error)
	// ClaimFinish makes the caller (token) the job's finisher until `until`, if every chunk is
	// done, the job is not finished (CANCELING included) and no other finisher's lease runs; a
	// retry of the same claim is granted again. ok is false when it was not granted.
	ClaimFinish(ctx context.Context, ws, id, token string, now, until time.Time) (job Job, ok bool, err error)
	// PlanRemovals records, once, what the finish removes (Removed = len(removed), and the
	// removals as results), and returns the count that holds (a finisher taking over keeps
	// the first one's). ErrLeaseLost if token is no longer the finisher; ErrCancelRequested if
	// the job is CANCELING (nothing is recorded: no removal may start after a cancel). Once it
	// recorded them, a cancel of a job that is not a dry run is ErrFinished.
	PlanRemovals(ctx context.Context, j Job, token string, removed []RowResult) (int, error)
	// Finish sets the final status if token still holds the finishing lease, adds what
	// finishing cost to the row units, and releases the target's hold: ErrLeaseLost otherwise.
	// A job that is CANCELING ends CANCELED whatever status is asked (its cancel came first).
	Finish(ctx context.Context, j Job, token, status, reason string, now time.Time, readUnits, writeUnits float64) error
	// Fail ends a job FAILED with a reason, whoever finishes it, when every chunk is done
	// (allDone) or in any case; a finished job is left alone. Rows not run count skipped. It
	// releases the target's hold.
	Fail(ctx context.Context, ws, id, reason string, now time.Time, allDone bool) error
	// Cancel asks a job to stop and returns it as it is then: QUEUED with no chunk started ->
	// CANCELED at once (its rows skipped, its hold released); RUNNING -> CANCELING;
	// CANCELING or CANCELED -> unchanged; COMPLETED or FAILED (or a full sync whose removals
	// have begun) -> ErrFinished; unknown -> vocab.ErrNotFound.
	Cancel(ctx context.Context, ws, id string, now time.Time) (Job, error)
	// List returns a page of a workspace's jobs, newest first, and how many match in all.
	List(ctx context.Context, ws string, q ListQuery) ([]Job, int, error)
	// Results returns a page of a job's row results (payload rows in row order, then removals)
	// and how many match in all. A terminal job's rows that no chunk recorded are "skipped"
	// (without Fields).
	Results(ctx context.Context, ws, id string, q ResultQuery) ([]RowResult, int, error)
	// ActiveJobs returns every job, of every workspace, that is not terminal (from an index:
	// it may lag; read each again with Get before acting on it).
	ActiveJobs(ctx context.Context) ([]Job, error)
	// EndStale ends a job that made no progress since j.ProgressAt with status (FAILED or
	// CANCELED) and reason, counting its rows not run as skipped and releasing its hold, only
	// if it is still j.Status with that ProgressAt: ended is false when it moved meanwhile.
	EndStale(ctx context.Context, j Job, status, reason string, now time.Time) (ended bool, err error)
}
