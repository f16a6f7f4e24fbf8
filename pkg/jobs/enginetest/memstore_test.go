package enginetest_test

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/vocab"
)

// memStore is a jobs.Store in memory that keeps every promise of the interface (store.go), so
// that the engine meets here what it meets in DynamoDB: a chunk is counted once, finishing is
// claimed under a lease that expires, removals are planned once, and a job of another
// workspace is not found. One mutex makes each method one atomic step, as each of the
// adapter's conditional writes is. Safe for concurrent use.
type memStore struct {
	mu    sync.Mutex
	jobs  map[jobKey]*memJob
	holds map[targetKey]string // a held target's holding job
	gone  map[targetKey]bool   // targets that no longer exist
}

type jobKey struct{ ws, id string }

type targetKey struct{ ws, family, target string }

// memJob is one job with what the adapter keeps in the job's partition.
type memJob struct {
	job             jobs.Job
	chunks          map[int]jobs.ChunkResult // completion records
	plans           map[int]jobs.Counts
	rowErrors       map[int]jobs.RowError
	finisher        string    // the token holding the finishing lease ("" for none)
	lease           time.Time // when that lease ends
	removalsPlanned bool
}

var _ jobs.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{jobs: map[jobKey]*memJob{}, holds: map[targetKey]string{}, gone: map[targetKey]bool{}}
}

// removeTarget makes a target gone: a job created to hold it is vocab.ErrNotFound.
func (s *memStore) removeTarget(ws, family, target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone[targetKey{ws, family, target}] = true
}

// holder returns the job holding a target, if one does.
func (s *memStore) holder(ws, family, target string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.holds[targetKey{ws, family, target}]
	return id, ok
}

// find is a workspace's job, or vocab.ErrNotFound; the caller holds mu.
func (s *memStore) find(ws, id string) (*memJob, error) {
	m, ok := s.jobs[jobKey{ws, id}]
	if !ok {
		return nil, vocab.ErrNotFound
	}
	return m, nil
}

// copyJob returns a job that shares nothing with the stored one, so callers may read it while
// the store changes.
func copyJob(j jobs.Job) jobs.Job {
	if j.Actor != nil {
		a := *j.Actor
		j.Actor = &a
	}
	if j.StartedAt != nil {
		t := *j.StartedAt
		j.StartedAt = &t
	}
	if j.FinishedAt != nil {
		t := *j.FinishedAt
		j.FinishedAt = &t
	}
	return j
}

func timeRef(t time.Time) *time.Time { return &t }

// withProcessed is c with Processed as the adapter stores a plan: the sum of the rest.
func withProcessed(c jobs.Counts) jobs.Counts {
	return jobs.Counts{
		Processed: c.Created + c.Updated + c.Unchanged + c.Failed,
		Created:   c.Created, Updated: c.Updated, Unchanged: c.Unchanged, Failed: c.Failed,
	}
}

func (s *memStore) Create(_ context.Context, j jobs.Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := jobKey{j.WorkspaceID, j.ID}
	if _, ok := s.jobs[k]; ok {
		return vocab.ErrExists
	}
	if j.HoldsTarget {
		t := targetKey{j.WorkspaceID, j.Family, j.Target}
		if s.gone[t] {
			return vocab.ErrNotFound
		}
		if _, held := s.holds[t]; held {
			return jobs.ErrTargetHeld
		}
		s.holds[t] = j.ID
	}
	stored := copyJob(jobs.Job{
		ID: j.ID, WorkspaceID: j.WorkspaceID, Family: j.Family, Target: j.Target, Mode: j.Mode,
		HoldsTarget: j.HoldsTarget, Actor: j.Actor, Status: jobs.Queued, Total: j.Total, Chunks: j.Chunks,
		CreatedAt: j.CreatedAt,
	})
	s.jobs[k] = &memJob{
		job: stored, chunks: map[int]jobs.ChunkResult{}, plans: map[int]jobs.Counts{}, rowErrors: map[int]jobs.RowError{},
	}
	return nil
}

func (s *memStore) Get(_ context.Context, ws, id string, maxErrors int) (jobs.Job, []jobs.RowError, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil {
		return jobs.Job{}, nil, err
	}
	if maxErrors <= 0 {
		return copyJob(m.job), nil, nil
	}
	rows := slices.Sorted(maps.Keys(m.rowErrors))
	var errs []jobs.RowError
	for _, r := range rows[:min(len(rows), maxErrors)] {
		errs = append(errs, m.rowErrors[r])
	}
	return copyJob(m.job), errs, nil
}

func (s *memStore) ChunkState(_ context.Context, ws, id string, n int) (jobs.Job, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil {
		return jobs.Job{}, false, err
	}
	_, done := m.chunks[n]
	return copyJob(m.job), done, nil
}

func (s *memStore) Start(_ context.Context, ws, id string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil { // a job of another workspace: one it may not change
		return nil
	}
	if m.job.Status == jobs.Queued {
		m.job.Status, m.job.StartedAt = jobs.Running, timeRef(now)
	}
	return nil
}

func (s *memStore) ChunkPlan(_ context.Context, ws, id string, n int) (jobs.Counts, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil {
		return jobs.Counts{}, false, err
	}
	c, ok := m.plans[n]
	return c, ok, nil
}

func (s *memStore) PutChunkPlan(_ context.Context, ws, id string, n int, c jobs.Counts) (jobs.Counts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil {
		return jobs.Counts{}, err
	}
	if earlier, ok := m.plans[n]; ok {
		return earlier, nil
	}
	m.plans[n] = withProcessed(c)
	return m.plans[n], nil
}

func (s *memStore) ReplaceRowErrors(_ context.Context, ws, id string, firstRow, lastRow int, errs []jobs.RowError) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil {
		return err
	}
	for r := range m.rowErrors {
		if r >= firstRow && r <= lastRow {
			delete(m.rowErrors, r)
		}
	}
	for _, e := range errs {
		e.Errors = slices.Clone(e.Errors)
		m.rowErrors[e.Row] = e
	}
	return nil
}

// CompleteChunk checks the chunk's record before the job's status, as the adapter's
// transaction reports its first failed condition: a done chunk is (false, nil) even on a
// finished job.
func (s *memStore) CompleteChunk(_ context.Context, ws, id string, c jobs.ChunkResult, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil {
		return false, jobs.ErrClosed
	}
	if _, done := m.chunks[c.N]; done {
		return false, nil
	}
	if m.job.Terminal() {
		return false, jobs.ErrClosed
	}
	c.Keep = slices.Clone(c.Keep)
	m.chunks[c.N] = c
	j := &m.job
	j.Counts.Processed += c.Counts.Processed
	j.Counts.Created += c.Counts.Created
	j.Counts.Updated += c.Counts.Updated
	j.Counts.Unchanged += c.Counts.Unchanged
	j.Counts.Failed += c.Counts.Failed
	j.ChunksDone++
	if c.Failed {
		j.FailedChunks++
		if j.Reason == "" {
			j.Reason = c.Reason
		}
	}
	j.RowReadUnits += c.ReadUnits
	j.RowWriteUnits += c.WriteUnits
	j.Status = jobs.Running
	if j.StartedAt == nil {
		j.StartedAt = timeRef(now)
	}
	return true, nil
}

func (s *memStore) KeepSet(_ context.Context, ws, id string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, c := range m.chunks {
		for _, k := range c.Keep {
			keep[k] = true
		}
	}
	return keep, nil
}

func (s *memStore) ClaimFinish(_ context.Context, ws, id, token string, now, until time.Time) (jobs.Job, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil { // a job of another workspace: one it may not change
		return jobs.Job{}, false, nil
	}
	free := m.finisher == "" || m.lease.Before(now) || m.finisher == token
	if m.job.ChunksDone != m.job.Chunks || m.job.Terminal() || !free {
		return jobs.Job{}, false, nil
	}
	m.finisher, m.lease = token, until
	return copyJob(m.job), true, nil
}

func (s *memStore) PlanRemovals(_ context.Context, ws, id, token string, n int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil { // a job of another workspace: one it may not change
		return 0, jobs.ErrLeaseLost
	}
	if m.finisher != token {
		return 0, jobs.ErrLeaseLost
	}
	if !m.removalsPlanned {
		m.job.Counts.Removed, m.removalsPlanned = n, true
	}
	return m.job.Counts.Removed, nil
}

func (s *memStore) Finish(_ context.Context, j jobs.Job, token, status, reason string, now time.Time, readUnits, writeUnits float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(j.WorkspaceID, j.ID)
	if err != nil { // a job of another workspace: one it may not change
		return jobs.ErrLeaseLost
	}
	if m.finisher != token || m.job.Terminal() {
		return jobs.ErrLeaseLost
	}
	if reason != "" {
		m.job.Reason = reason
	}
	m.job.RowReadUnits += readUnits
	m.job.RowWriteUnits += writeUnits
	s.end(m, status, now)
	return nil
}

func (s *memStore) Fail(_ context.Context, ws, id, reason string, now time.Time, allDone bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil { // a job of another workspace: one it may not change
		return nil
	}
	if m.job.Terminal() || (allDone && m.job.ChunksDone != m.job.Chunks) {
		return nil
	}
	m.job.Reason = reason
	s.end(m, jobs.Failed, now)
	return nil
}

// end gives a job its final status, drops its finishing lease and frees its target if it
// still holds it; the caller holds mu.
func (s *memStore) end(m *memJob, status string, now time.Time) {
	m.job.Status, m.job.FinishedAt = status, timeRef(now)
	m.finisher, m.lease = "", time.Time{}
	t := targetKey{m.job.WorkspaceID, m.job.Family, m.job.Target}
	if m.job.HoldsTarget && s.holds[t] == m.job.ID {
		delete(s.holds, t)
	}
}
