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
// claimed under a lease that expires, removals are planned once and never after a cancel, a
// cancel races Start as one conditional write does, and a job of another workspace (or past
// its expiry) is not found. One mutex makes each method one atomic step, as each of the
// adapter's conditional writes is. Safe for concurrent use.
type memStore struct {
	mu    sync.Mutex
	jobs  map[jobKey]*memJob
	holds map[targetKey]string // a held target's holding job
	gone  map[targetKey]bool   // targets that no longer exist
	now   func() time.Time     // the clock reads compare expiries with
}

type jobKey struct{ ws, id string }

type targetKey struct{ ws, family, target string }

// memJob is one job with what the adapter keeps in the job's partition.
type memJob struct {
	job             jobs.Job
	chunks          map[int]jobs.ChunkResult // completion records
	plans           map[int][]jobs.RowResult
	rowErrors       map[int]jobs.RowError
	results         map[string][]jobs.RowResult // by attempt
	removals        []jobs.RowResult
	finisher        string    // the token holding the finishing lease ("" for none)
	lease           time.Time // when that lease ends
	removalsPlanned bool
}

var _ jobs.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{jobs: map[jobKey]*memJob{}, holds: map[targetKey]string{}, gone: map[targetKey]bool{}, now: time.Now}
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

// edit changes a stored job in place (a test's shortcut to a state), under the store's lock.
func (s *memStore) edit(ws, id string, f func(*jobs.Job)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.jobs[jobKey{ws, id}].job)
}

// find is a workspace's job, or vocab.ErrNotFound; the caller holds mu.
func (s *memStore) find(ws, id string) (*memJob, error) {
	m, ok := s.jobs[jobKey{ws, id}]
	if !ok {
		return nil, vocab.ErrNotFound
	}
	return m, nil
}

// findLive is find for reads: a job past its expiry is not found either.
func (s *memStore) findLive(ws, id string) (*memJob, error) {
	m, err := s.find(ws, id)
	if err == nil && m.job.Expired(s.now()) {
		return nil, vocab.ErrNotFound
	}
	return m, err
}

// copyJob returns a job that shares nothing with the stored one, so callers may read it while
// the store changes.
func copyJob(j jobs.Job) jobs.Job {
	if j.Actor != nil {
		a := *j.Actor
		j.Actor = &a
	}
	for _, p := range []**time.Time{&j.StartedAt, &j.FinishedAt, &j.CancelRequestedAt} {
		if *p != nil {
			t := **p
			*p = &t
		}
	}
	if j.MaxRemovals != nil {
		n := *j.MaxRemovals
		j.MaxRemovals = &n
	}
	return j
}

// copyRows returns rows that share nothing with the stored ones.
func copyRows(rows []jobs.RowResult) []jobs.RowResult {
	out := make([]jobs.RowResult, len(rows))
	for i, r := range rows {
		r.IDs = maps.Clone(r.IDs)
		r.Errors = slices.Clone(r.Errors)
		r.Fields = slices.Clone(r.Fields)
		out[i] = r
	}
	return out
}

func timeRef(t time.Time) *time.Time { return &t }

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
		HoldsTarget: j.HoldsTarget, DryRun: j.DryRun, MaxRemovals: j.MaxRemovals, Actor: j.Actor, Status: jobs.Queued,
		Total: j.Total, Chunks: j.Chunks, CreatedAt: j.CreatedAt, ProgressAt: j.CreatedAt, ExpiresAt: j.ExpiresAt,
	})
	s.jobs[k] = &memJob{
		job: stored, chunks: map[int]jobs.ChunkResult{}, plans: map[int][]jobs.RowResult{}, rowErrors: map[int]jobs.RowError{},
		results: map[string][]jobs.RowResult{},
	}
	return nil
}

func (s *memStore) Get(_ context.Context, ws, id string, maxErrors int) (jobs.Job, []jobs.RowError, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.findLive(ws, id)
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
	m, err := s.findLive(ws, id)
	if err != nil {
		return jobs.Job{}, false, err
	}
	_, done := m.chunks[n]
	return copyJob(m.job), done, nil
}

func (s *memStore) Start(_ context.Context, ws, id string, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil { // a job of another workspace: one it may not change
		return false, nil
	}
	if m.job.Status == jobs.Queued {
		m.job.Status, m.job.StartedAt, m.job.ProgressAt = jobs.Running, timeRef(now), now
	}
	return m.job.Status == jobs.Running, nil
}

func (s *memStore) ChunkPlan(_ context.Context, ws, id string, n int) ([]jobs.RowResult, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(ws, id)
	if err != nil {
		return nil, false, err
	}
	rows, ok := m.plans[n]
	return copyRows(rows), ok, nil
}

func (s *memStore) PutChunkPlan(_ context.Context, j jobs.Job, n int, rows []jobs.RowResult) ([]jobs.RowResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(j.WorkspaceID, j.ID)
	if err != nil {
		return nil, err
	}
	if _, ok := m.plans[n]; !ok {
		m.plans[n] = copyRows(rows)
	}
	return copyRows(m.plans[n]), nil
}

func (s *memStore) ReplaceRowErrors(_ context.Context, j jobs.Job, firstRow, lastRow int, errs []jobs.RowError) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(j.WorkspaceID, j.ID)
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

func (s *memStore) PutResults(_ context.Context, j jobs.Job, attempt string, _ int, rows []jobs.RowResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(j.WorkspaceID, j.ID)
	if err != nil {
		return err
	}
	m.results[attempt] = copyRows(rows)
	return nil
}

// CompleteChunk checks the chunk's record before the job's status, as the adapter's
// transaction reports its first failed condition: a done chunk is (false, nil) even on a
// finished job.
func (s *memStore) CompleteChunk(_ context.Context, job jobs.Job, c jobs.ChunkResult, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(job.WorkspaceID, job.ID)
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
	removed := j.Counts.Removed
	j.Counts = j.Counts.Add(c.Counts)
	j.Counts.Removed = removed
	j.ChunksDone++
	if c.Failed {
		j.FailedChunks++
		if j.Reason == "" {
			j.Reason = c.Reason
		}
	}
	j.RowReadUnits += c.ReadUnits
	j.RowWriteUnits += c.WriteUnits
	if j.Status == jobs.Queued {
		j.Status = jobs.Running
	}
	if j.StartedAt == nil {
		j.StartedAt = timeRef(now)
	}
	j.ProgressAt = now
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

func (s *memStore) PlanRemovals(_ context.Context, j jobs.Job, token string, removed []jobs.RowResult) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(j.WorkspaceID, j.ID)
	if err != nil { // a job of another workspace: one it may not change
		return 0, jobs.ErrLeaseLost
	}
	switch {
	case m.finisher != token || m.job.Terminal():
		return 0, jobs.ErrLeaseLost
	case m.removalsPlanned:
		return m.job.Counts.Removed, nil
	case m.job.Status == jobs.Canceling:
		return 0, jobs.ErrCancelRequested
	}
	m.job.Counts.Removed, m.removalsPlanned, m.removals = len(removed), true, copyRows(removed)
	return len(removed), nil
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
	if m.job.Status == jobs.Canceling {
		status, reason = jobs.Canceled, ""
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

func (s *memStore) Cancel(_ context.Context, ws, id string, now time.Time) (jobs.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.findLive(ws, id)
	if err != nil {
		return jobs.Job{}, err
	}
	j := &m.job
	switch {
	case j.Status == jobs.Completed || j.Status == jobs.Failed || (m.removalsPlanned && !j.DryRun):
		return jobs.Job{}, jobs.ErrFinished
	case j.Status == jobs.Queued && j.ChunksDone == 0:
		j.CancelRequestedAt = timeRef(now)
		s.end(m, jobs.Canceled, now)
	case j.Status == jobs.Running || j.Status == jobs.Queued:
		j.CancelRequestedAt, j.Status = timeRef(now), jobs.Canceling
	}
	return copyJob(*j), nil
}

func (s *memStore) List(_ context.Context, ws string, q jobs.ListQuery) ([]jobs.Job, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []jobs.Job
	for k, m := range s.jobs {
		j := m.job
		if k.ws != ws || j.Expired(s.now()) || (q.Family != "" && j.Family != q.Family) ||
			(q.Target != "" && j.Target != q.Target) || (q.Status != "" && j.Status != q.Status) {
			continue
		}
		all = append(all, copyJob(j))
	}
	slices.SortFunc(all, func(a, b jobs.Job) int { return -compareStrings(a.ID, b.ID) }) // ULIDs: newest first
	from := min(q.Offset, len(all))
	return all[from:min(len(all), from+max(0, q.Limit))], len(all), nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *memStore) Results(_ context.Context, ws, id string, q jobs.ResultQuery) ([]jobs.RowResult, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.findLive(ws, id)
	if err != nil {
		return nil, 0, err
	}
	return jobs.PageResults(m.job, slices.Collect(maps.Values(m.chunks)), q, memResults{m})
}

// memResults reads a job's stored results for jobs.PageResults; the caller holds mu.
type memResults struct{ m *memJob }

func (r memResults) ChunkResults(chunks []jobs.ChunkResult) (map[int][]jobs.RowResult, error) {
	out := map[int][]jobs.RowResult{}
	for _, c := range chunks {
		if rows, ok := r.m.results[c.Attempt]; ok && c.Attempt != "" {
			out[c.N] = copyRows(rows)
		}
	}
	return out, nil
}

func (r memResults) Removals(from, to int) ([]jobs.RowResult, error) {
	return copyRows(r.m.removals[from:to]), nil
}

func (s *memStore) ActiveJobs(context.Context) ([]jobs.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []jobs.Job
	for _, m := range s.jobs {
		if !m.job.Terminal() {
			out = append(out, copyJob(m.job))
		}
	}
	return out, nil
}

func (s *memStore) EndStale(_ context.Context, j jobs.Job, status, reason string, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.find(j.WorkspaceID, j.ID)
	if err != nil || m.job.Status != j.Status || !m.job.ProgressAt.Equal(j.ProgressAt) {
		return false, nil
	}
	if reason != "" {
		m.job.Reason = reason
	}
	s.end(m, status, now)
	return true, nil
}

// end gives a job its final status, counts its rows not run as skipped, drops its finishing
// lease and frees its target if it still holds it; the caller holds mu.
func (s *memStore) end(m *memJob, status string, now time.Time) {
	m.job.Counts.Skipped += m.job.Unrun()
	m.job.Status, m.job.FinishedAt = status, timeRef(now)
	m.finisher, m.lease = "", time.Time{}
	t := targetKey{m.job.WorkspaceID, m.job.Family, m.job.Target}
	if m.job.HoldsTarget && s.holds[t] == m.job.ID {
		delete(s.holds, t)
	}
}
