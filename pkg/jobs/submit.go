package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/participant-roster/roster/pkg/vocab"
)

// Queue takes a job's chunk messages (the SQS adapter is jobqueue.SQS).
type Queue interface {
	Send(ctx context.Context, msgs []Message) error
}

// Submitter makes jobs: it stores a job and sends its chunks to the queue.
type Submitter struct {
	Store   Store
	Queue   Queue
	Planner Planner
	Now     func() time.Time // nil: time.Now
}

// Request is a job to make. Its rows should be validated already as far as they can be
// without the store (each row's shape, duplicates across the whole payload: chunks run apart,
// so a duplicate in two chunks is not caught by the worker).
type Request struct {
	WorkspaceID string
	Family      string
	Target      string
	Mode        string
	HoldsTarget bool // ignored on a dry run: a dry run never holds its target
	Actor       vocab.Actor
	Rows        []json.RawMessage
	DryRun      bool // plan the rows, write nothing
	MaxRemovals *int // a full sync's removal guard (nil: none)
}

// Submit plans the rows, stores the job and sends its chunks. If sending fails part-way the
// job is ended FAILED, so it does not wait forever for chunks that never come (and frees its
// target); the chunks that were sent then change nothing.
func (s *Submitter) Submit(ctx context.Context, req Request) (Job, error) {
	chunks := s.Planner.Plan(req.Rows)
	actor := req.Actor
	now := s.now()
	job := Job{
		ID: NewID(), WorkspaceID: req.WorkspaceID, Family: req.Family, Target: req.Target, Mode: req.Mode,
		HoldsTarget: req.HoldsTarget && !req.DryRun, DryRun: req.DryRun, MaxRemovals: req.MaxRemovals,
		Actor: &actor, Status: Queued, Total: len(req.Rows), Chunks: len(chunks),
		CreatedAt: now, ProgressAt: now, ExpiresAt: now.Add(Retention),
	}
	// The id is new, so vocab.ErrExists can only be this very write, retried after its reply was
	// lost: the job (and its hold) is there.
	if err := s.Store.Create(ctx, job); err != nil && !errors.Is(err, vocab.ErrExists) {
		return Job{}, err
	}
	msgs := make([]Message, len(chunks))
	for i, c := range chunks {
		msgs[i] = Message{
			Family: job.Family, JobID: job.ID, WorkspaceID: job.WorkspaceID, Target: job.Target, Mode: job.Mode,
			Chunk: c.N, FirstRow: c.FirstRow, Rows: c.Rows,
		}
	}
	if err := s.Queue.Send(ctx, msgs); err != nil {
		reason := fmt.Sprintf("the import's chunks could not be queued: %v", err)
		if ferr := s.Store.Fail(context.WithoutCancel(ctx), job.WorkspaceID, job.ID, reason, s.now(), false); ferr != nil {
			return job, fmt.Errorf("%w (and marking the job failed: %v)", err, ferr)
		}
		return job, err
	}
	return job, nil
}

func (s *Submitter) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}
