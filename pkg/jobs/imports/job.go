package imports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/store"
	"github.com/participant-roster/roster/pkg/vocab"
)

// NewJob returns the record of a new job importing req in chunks, for a workspace.
func NewJob(workspaceID string, actor vocab.Actor, req screening.ImportRequest, chunks []Chunk, now time.Time) store.ImportJob {
	mode := req.Mode
	if mode == "" {
		mode = screening.UpdatesOnly
	}
	return store.ImportJob{
		ID: NewJobID(), WorkspaceID: workspaceID, Family: FamilySpot, Target: req.ScreenerID, Mode: string(mode),
		Actor: &actor, Status: store.ImportQueued, Total: len(req.Rows), Chunks: len(chunks), CreatedAt: now.UTC(),
	}
}

// Submit plans a Spot import, stores its job and sends its chunks to the queue. The request
// should already be validated as far as it can be without the store (rows' shape, duplicates
// across the whole payload: chunks run independently, so a duplicate in two chunks is not
// caught by the worker).
func Submit(ctx context.Context, st *store.DDBStore, client Sender, queueURL, workspaceID string, actor vocab.Actor, req screening.ImportRequest) (store.ImportJob, error) {
	chunks := Plan(req.Rows)
	job := NewJob(workspaceID, actor, req, chunks, time.Now())
	return submit(ctx, st, job, func() error { return Enqueue(ctx, client, queueURL, job, chunks) })
}

// submit stores a job, then sends its chunks. If sending fails part-way the job is ended
// FAILED, so it does not wait forever for chunks that never come (and a Snap job frees its
// survey's roster); the chunks that were sent then change nothing.
func submit(ctx context.Context, st *store.DDBStore, job store.ImportJob, enqueue func() error) (store.ImportJob, error) {
	// The id is new, so ErrExists can only be this very write, retried after its reply was
	// lost: the job (and a Snap job's hold on its roster) is there.
	if err := st.CreateImportJob(ctx, job.WorkspaceID, job); err != nil && !errors.Is(err, store.ErrExists) {
		return store.ImportJob{}, err
	}
	if err := enqueue(); err != nil {
		reason := fmt.Sprintf("the import's chunks could not be queued: %v", err)
		if ferr := st.FailImportJob(context.WithoutCancel(ctx), job.WorkspaceID, job.ID, reason, time.Now(), false); ferr != nil {
			return job, fmt.Errorf("%w (and marking the job failed: %v)", err, ferr)
		}
		return job, err
	}
	return job, nil
}
