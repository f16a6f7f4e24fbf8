package jobs

import (
	"context"
	"errors"
	"fmt"
)

// Family is what an API family plugs into the engine: how its chunks' rows run and what its
// jobs do once every chunk is done. The engine does everything else (jobs, chunks, plans, row
// results and errors, counting each chunk once, finishing under a lease, poison chunks, dry
// runs, cancels, the removal guard), the same for every family; a new family implements this
// and touches nothing else here.
type Family interface {
	// Name is the family's name on its jobs and messages ("spot", "snap").
	Name() string
	// TargetKind names what a job's target is ("screener", "survey"), for reasons.
	TargetKind() string
	// RunChunk runs a chunk's rows against the job's target and says what each did. It must be
	// safe to run again, at the same time too (SQS delivers at least once): rows that already
	// ran must change nothing the second time, and the rows' results must come from run.Plan.
	// On a dry run (run.Plan's mayWrite false) it writes nothing. A target that is gone is
	// vocab.ErrNotFound (the chunk fails for good); ErrHoldLost if the job no longer holds its
	// target; any other error is retried.
	RunChunk(ctx context.Context, run *ChunkRun) (Outcome, error)
	// Finish runs once every chunk succeeded, under the finishing lease, before the job is
	// COMPLETED (a full sync's removals, announced first through Finishing.PlanRemovals); it
	// may run again when a finisher dies part-way. It never runs for a canceled job.
	Finish(ctx context.Context, f *Finishing) error
	// FailureNote is added to a failed job's reason: what its failure kept from happening
	// ("" for nothing).
	FailureNote(j Job) string
}

// Settler is a family whose chunk deliveries can leave work undone that a later delivery of
// the same chunk would finish (Spot: records written and not yet counted). Settle runs once
// the job ends, however it ends (finished by a worker, or ended by the sweeper), and must be
// safe to run again.
type Settler interface {
	Settle(ctx context.Context, j Job) error
}

// Outcome is what a chunk's rows did.
type Outcome struct {
	// Rows are the rows' results, exactly one per chunk row, in order (the held plan that
	// ChunkRun.Plan returned). Fields may be left empty: the engine fills them from the
	// chunk's message; Row too.
	Rows []RowResult
	Keep []string // keys of the target's records the rows name (see ChunkResult.Keep)
}

// ChunkRun is one attempt at one chunk, as a family sees it.
type ChunkRun struct {
	Job   Job
	Chunk Chunk
	store Store
	book  context.Context // the delivery's context, for the job's bookkeeping
}

// Plan settles the rows' results this chunk reports. An attempt calls it with its own per-row
// plan, before its first write, saying whether it will write: the first attempt that writes
// records its plan; a later attempt (after a crash part-way, or at the same time) finds its
// predecessor's writes unchanged, so the recorded plan holds instead of its own (when it has
// as many rows). mayWrite is false on a dry run: the family must then write nothing, and
// nothing is recorded.
func (r *ChunkRun) Plan(rows []RowResult, writes bool) (held []RowResult, mayWrite bool, err error) {
	if r.Job.DryRun {
		return rows, false, nil
	}
	earlier, found, err := r.store.ChunkPlan(r.book, r.Job.WorkspaceID, r.Job.ID, r.Chunk.N)
	switch {
	case err != nil:
		return nil, false, err
	case found && len(earlier) == len(rows):
		return earlier, true, nil
	case writes:
		held, err := r.store.PutChunkPlan(r.book, r.Job, r.Chunk.N, compact(rows))
		return held, err == nil, err
	}
	return rows, true, nil
}

// compact is a plan as stored: outcomes, ids and errors, without the rows' fields (the chunk's
// message has them).
func compact(rows []RowResult) []RowResult {
	out := make([]RowResult, len(rows))
	for i, r := range rows {
		r.Fields = nil
		out[i] = r
	}
	return out
}

// Finishing is a claimed job's finish, as a family sees it.
type Finishing struct {
	Job   Job
	token string
	store Store
	book  context.Context
	// refusal is why PlanRemovals refused the removals (the guard), so the job ends FAILED.
	refusal string
	// canceled: PlanRemovals found a cancel asked, so the job ends CANCELED.
	canceled bool
}

// Keep returns the keys that the job's chunks keep.
func (f *Finishing) Keep() (map[string]bool, error) {
	return f.store.KeepSet(f.book, f.Job.WorkspaceID, f.Job.ID)
}

// PlanRemovals announces, once, before the first removal, what the finish would remove
// (Fields: each removed record in the family's row encoding). proceed is false when the
// family must remove nothing: on a dry run (the would-be removals are recorded and counted as
// Removed; the job ends COMPLETED), when they are more than Job.MaxRemovals (nothing is
// recorded; the job ends FAILED with RemovalGuardReason), or when a cancel was asked (the job
// ends CANCELED). ErrLeaseLost if another worker took over.
func (f *Finishing) PlanRemovals(removed []RowResult) (proceed bool, err error) {
	if ExceedsMaxRemovals(f.Job.MaxRemovals, len(removed)) {
		f.refusal = RemovalGuardReason(f.Job.Mode, len(removed), *f.Job.MaxRemovals)
		return false, nil
	}
	rows := make([]RowResult, len(removed))
	for i, r := range removed {
		rows[i] = RowResult{Row: -1, Outcome: OutcomeRemoved, IDs: r.IDs, Fields: r.Fields}
	}
	_, err = f.store.PlanRemovals(f.book, f.Job, f.token, rows)
	if errors.Is(err, ErrCancelRequested) {
		f.canceled = true
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !f.Job.DryRun, nil
}

// ExceedsMaxRemovals reports whether removing n records breaks a removal guard (nil: none).
func ExceedsMaxRemovals(maxRemovals *int, n int) bool { return maxRemovals != nil && n > *maxRemovals }

// RemovalGuardReason is why a job whose removals break its guard failed (a synchronous import
// refused by the guard says the same).
func RemovalGuardReason(mode string, wouldRemove, maxRemovals int) string {
	return fmt.Sprintf("the %s would remove %d records, more than maxRemovals %d; nothing was removed", mode, wouldRemove, maxRemovals)
}
