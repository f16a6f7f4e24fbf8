package jobs

import "context"

// Family is what an API family plugs into the engine: how its chunks' rows run and what its
// jobs do once every chunk is done. The engine does everything else (jobs, chunks, plans, row
// errors, counting each chunk once, finishing under a lease, poison chunks), the same for
// every family; a new family implements this and touches nothing else here.
type Family interface {
	// Name is the family's name on its jobs and messages ("spot", "snap").
	Name() string
	// TargetKind names what a job's target is ("screener", "survey"), for reasons.
	TargetKind() string
	// RunChunk runs a chunk's rows against the job's target and says what they did. It must be
	// safe to run again, at the same time too (SQS delivers at least once): rows that already
	// ran must change nothing the second time, and counts must come from run.Plan. A target
	// that is gone is vocab.ErrNotFound (the chunk fails for good); ErrHoldLost if the job no
	// longer holds its target; any other error is retried.
	RunChunk(ctx context.Context, run *ChunkRun) (Outcome, error)
	// Finish runs once every chunk succeeded, under the finishing lease, before the job is
	// COMPLETED (a full sync's removals); it may run again when a finisher dies part-way.
	Finish(ctx context.Context, f *Finishing) error
	// FailureNote is added to a failed job's reason: what its failure kept from happening
	// ("" for nothing).
	FailureNote(j Job) string
}

// Outcome is what a chunk's rows did.
type Outcome struct {
	Counts    Counts     // from ChunkRun.Plan
	Keep      []string   // keys of the target's records the rows name (see ChunkResult.Keep)
	RowErrors []RowError // the rows rejected, by their index in the whole payload
}

// ChunkRun is one attempt at one chunk, as a family sees it.
type ChunkRun struct {
	Job   Job
	Chunk Chunk
	store Store
	book  context.Context // the delivery's context, for the job's bookkeeping
}

// Plan returns the counts this chunk reports. An attempt calls it with its own counts, before
// its first write, saying whether it will write: the first attempt that writes records them; a
// later attempt (after a crash part-way, or at the same time) finds its predecessor's writes
// unchanged, so the recorded counts hold instead of its own.
func (r *ChunkRun) Plan(counts Counts, writes bool) (Counts, error) {
	earlier, found, err := r.store.ChunkPlan(r.book, r.Job.WorkspaceID, r.Job.ID, r.Chunk.N)
	switch {
	case err != nil:
		return Counts{}, err
	case found && earlier.Processed == counts.Processed:
		return earlier, nil
	case writes:
		return r.store.PutChunkPlan(r.book, r.Job.WorkspaceID, r.Job.ID, r.Chunk.N, counts)
	}
	return counts, nil
}

// Finishing is a claimed job's finish, as a family sees it.
type Finishing struct {
	Job   Job
	token string
	store Store
	book  context.Context
}

// Keep returns the keys that the job's chunks keep.
func (f *Finishing) Keep() (map[string]bool, error) {
	return f.store.KeepSet(f.book, f.Job.WorkspaceID, f.Job.ID)
}

// PlanRemovals records how many records the finish removes, once, before the first removal;
// it returns ErrLeaseLost if another worker took over.
func (f *Finishing) PlanRemovals(n int) error {
	_, err := f.store.PlanRemovals(f.book, f.Job.WorkspaceID, f.Job.ID, f.token, n)
	return err
}
