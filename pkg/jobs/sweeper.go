package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/participant-roster/roster/pkg/vocab"
)

// DefaultStaleAfter is how long a job may make no progress before the Sweeper ends it: a chunk
// is tried DefaultMaxReceiveCount (5) times, each after the queue's visibility timeout (360 s),
// so 30 minutes without progress means its chunks are gone (a lost local queue, a deleted
// message), and 15 minutes more is the margin.
const DefaultStaleAfter = 45 * time.Minute

// Sweeper ends jobs that make no progress, so that no job stays unfinished (holding its
// target) for good. It runs on a schedule (the sweeper function) and at the start of a local
// run, whose in-memory queue lost every chunk.
type Sweeper struct {
	Store      Store
	StaleAfter time.Duration    // 0: DefaultStaleAfter
	Now        func() time.Time // nil: time.Now
	Log        *slog.Logger     // nil: no log
	// Settlers settle the jobs of their family (by name) before the sweeper ends them.
	Settlers map[string]Settler
}

// Sweep ends every job that is not terminal and whose ProgressAt is older than StaleAfter:
// FAILED, or CANCELED if a cancel was asked; its rows not run count skipped and its target's
// hold is released. It returns how many it ended.
func (s *Sweeper) Sweep(ctx context.Context) (ended int, err error) {
	stale := s.StaleAfter
	if stale <= 0 {
		stale = DefaultStaleAfter
	}
	return s.sweep(ctx, func(j Job, now time.Time) bool { return now.Sub(j.ProgressAt) > stale })
}

// SweepAll ends every job that is not terminal, whatever its age (a local run's start: its
// in-memory queue lost every chunk).
func (s *Sweeper) SweepAll(ctx context.Context) (ended int, err error) {
	return s.sweep(ctx, func(Job, time.Time) bool { return true })
}

func (s *Sweeper) sweep(ctx context.Context, due func(Job, time.Time) bool) (int, error) {
	active, err := s.Store.ActiveJobs(ctx)
	if err != nil {
		return 0, err
	}
	ended := 0
	var errs []error
	for _, a := range active {
		ok, err := s.end(ctx, a, due)
		if err != nil {
			errs = append(errs, fmt.Errorf("job %s: %w", a.ID, err))
		}
		if ok {
			ended++
		}
	}
	return ended, errors.Join(errs...)
}

// end ends one job if, read again consistently, it is still not terminal and due.
func (s *Sweeper) end(ctx context.Context, a Job, due func(Job, time.Time) bool) (bool, error) {
	j, _, err := s.Store.Get(ctx, a.WorkspaceID, a.ID, 0)
	if errors.Is(err, vocab.ErrNotFound) {
		return false, nil // expired or deleted meanwhile
	}
	if err != nil {
		return false, err
	}
	now := s.now()
	if j.Terminal() || !due(j, now) {
		return false, nil
	}
	if st, ok := s.Settlers[j.Family]; ok && !j.DryRun {
		if err := st.Settle(ctx, j); err != nil {
			return false, err
		}
	}
	status, reason := Failed, StaleReason(j, now)
	if j.CancelRequestedAt != nil {
		status, reason = Canceled, ""
	}
	ok, err := s.Store.EndStale(ctx, j, status, reason, now)
	if ok {
		s.log().Warn("import job ended by the sweeper", "job", j.ID, "workspace", j.WorkspaceID, "family", j.Family,
			"status", status, "progressAt", j.ProgressAt, "unrun", j.Unrun())
	}
	return ok, err
}

// StaleReason is why the sweeper failed a job.
func StaleReason(j Job, now time.Time) string {
	return fmt.Sprintf("the import made no progress for %s (since %s): its chunks were lost; %d rows that did not run are counted skipped",
		now.Sub(j.ProgressAt).Round(time.Second), j.ProgressAt.Format(time.RFC3339), j.Unrun())
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Sweeper) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}
