package enginetest_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/vocab"
)

// The engine's tests are only as good as their store: these hold memStore to the promises of
// jobs.Store (store.go) that the engine relies on.

func newJob(family, tgt string, chunks int) jobs.Job {
	return jobs.Job{
		ID: jobs.NewID(), WorkspaceID: ws, Family: family, Target: tgt, HoldsTarget: true, Status: jobs.Running,
		Chunks: chunks, Total: chunks, Counts: jobs.Counts{Processed: 7}, ChunksDone: 5, CreatedAt: time.Now(),
	}
}

// inWorkspace is j as another workspace would name it.
func inWorkspace(j jobs.Job, w string) jobs.Job {
	j.WorkspaceID = w
	return j
}

// removals are n records a finish removes.
func removals(n int) []jobs.RowResult {
	out := make([]jobs.RowResult, n)
	for i := range out {
		out[i] = jobs.RowResult{Row: -1, Outcome: jobs.OutcomeRemoved, IDs: map[string]string{"key": fmt.Sprintf("r%d", i)}}
	}
	return out
}

func chunkDone(n int) jobs.ChunkResult {
	return jobs.ChunkResult{N: n, FirstRow: n, Rows: 1, Counts: jobs.Counts{Processed: 1, Created: 1}, Keep: []string{"k"}, WriteUnits: 1}
}

// TestEngineMemStoreCreatesAndScopesJobs: a new job is QUEUED with counters 0 whatever it is
// given; an id taken, a held target and a gone target are refused; another workspace sees
// nothing.
func TestEngineMemStoreCreatesAndScopesJobs(t *testing.T) {
	ctx, s := context.Background(), newMemStore()
	j := newJob("alpha", target, 2)
	if err := s.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Get(ctx, ws, j.ID, 0)
	if err != nil || got.Status != jobs.Queued || got.Counts != (jobs.Counts{}) || got.ChunksDone != 0 || got.Chunks != 2 {
		t.Errorf("created job %+v, %v; want QUEUED, counters 0, 2 chunks", got, err)
	}
	if err := s.Create(ctx, j); !errors.Is(err, vocab.ErrExists) {
		t.Errorf("the same id again: %v, want ErrExists", err)
	}
	if err := s.Create(ctx, newJob("alpha", target, 1)); !errors.Is(err, jobs.ErrTargetHeld) {
		t.Errorf("a held target: %v, want ErrTargetHeld", err)
	}
	if err := s.Create(ctx, newJob("beta", target, 1)); err != nil {
		t.Errorf("another family's target of the same id: %v", err)
	}
	s.removeTarget(ws, "alpha", "thing_gone")
	if err := s.Create(ctx, newJob("alpha", "thing_gone", 1)); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("a gone target: %v, want ErrNotFound", err)
	}
	if _, _, err := s.Get(ctx, "ws_other", j.ID, 0); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("Get from another workspace: %v", err)
	}
	if _, _, err := s.ChunkState(ctx, "ws_other", j.ID, 0); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("ChunkState from another workspace: %v", err)
	}
	if running, err := s.Start(ctx, "ws_other", j.ID, time.Now()); running || err != nil {
		t.Errorf("Start from another workspace: %v, %v; want nothing done", running, err)
	}
	if _, ok, err := s.ClaimFinish(ctx, "ws_other", j.ID, "t", time.Now(), time.Now().Add(time.Minute)); ok || err != nil {
		t.Errorf("ClaimFinish from another workspace: granted %v, %v; want not granted", ok, err)
	}
	if _, err := s.PlanRemovals(ctx, inWorkspace(j, "ws_other"), "t", removals(1)); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Errorf("PlanRemovals from another workspace: %v, want ErrLeaseLost", err)
	}
	if got, _, _ := s.Get(ctx, ws, j.ID, 0); got.Status != jobs.Queued {
		t.Errorf("another workspace's calls changed the job: %s", got.Status)
	}
	if _, err := s.CompleteChunk(ctx, inWorkspace(j, "ws_other"), chunkDone(0), time.Now()); !errors.Is(err, jobs.ErrClosed) {
		t.Errorf("CompleteChunk from another workspace: %v, want ErrClosed", err)
	}
}

// TestEngineMemStoreCountsAChunkOnce: CompleteChunk counts a chunk once, however many
// deliveries complete it at the same time; a done chunk is not an error even on a finished
// job, a chunk not done on a finished job is ErrClosed; a plan is kept from its first put; row
// errors of a range are replaced.
func TestEngineMemStoreCountsAChunkOnce(t *testing.T) {
	ctx, s := context.Background(), newMemStore()
	j := newJob("alpha", target, 3)
	if err := s.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	var applied atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ok, err := s.CompleteChunk(ctx, j, chunkDone(0), time.Now())
			if err != nil {
				t.Error(err)
			}
			if ok {
				applied.Add(1)
			}
		})
	}
	wg.Wait()
	got, done, _ := s.ChunkState(ctx, ws, j.ID, 0)
	if applied.Load() != 1 || !done || got.ChunksDone != 1 || got.Counts != (jobs.Counts{Processed: 1, Created: 1}) ||
		got.Status != jobs.Running || got.StartedAt == nil || got.RowWriteUnits != 1 {
		t.Errorf("8 completions of a chunk: %d applied, job %+v; want 1, counted once, RUNNING", applied.Load(), got)
	}

	created := []jobs.RowResult{{Row: 1, Outcome: jobs.OutcomeCreated}, {Row: 2, Outcome: jobs.OutcomeCreated}}
	unchanged := []jobs.RowResult{{Row: 1, Outcome: jobs.OutcomeUnchanged}, {Row: 2, Outcome: jobs.OutcomeUnchanged}}
	first, _ := s.PutChunkPlan(ctx, j, 1, created)
	again, _ := s.PutChunkPlan(ctx, j, 1, unchanged)
	plan, found, _ := s.ChunkPlan(ctx, ws, j.ID, 1)
	if !reflect.DeepEqual(first, created) || !reflect.DeepEqual(again, created) || !reflect.DeepEqual(plan, created) || !found {
		t.Errorf("plans %+v, %+v, read %+v (%v); want %+v each time", first, again, plan, found, created)
	}

	if err := s.ReplaceRowErrors(ctx, j, 0, 9, []jobs.RowError{{Row: 7}, {Row: 3}, {Row: 5}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceRowErrors(ctx, j, 4, 6, []jobs.RowError{{Row: 4}}); err != nil {
		t.Fatal(err)
	}
	_, errs, _ := s.Get(ctx, ws, j.ID, 2)
	if len(errs) != 2 || errs[0].Row != 3 || errs[1].Row != 4 {
		t.Errorf("first 2 row errors %+v, want rows 3 and 4", errs)
	}

	if err := s.Fail(ctx, ws, j.ID, "stop", time.Now(), false); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.CompleteChunk(ctx, j, chunkDone(0), time.Now()); ok || err != nil {
		t.Errorf("a done chunk on a finished job: %v, %v; want false, nil", ok, err)
	}
	if _, err := s.CompleteChunk(ctx, j, chunkDone(1), time.Now()); !errors.Is(err, jobs.ErrClosed) {
		t.Errorf("a new chunk on a finished job: %v, want ErrClosed", err)
	}
}

// TestEngineMemStoreLeasesTheFinish: ClaimFinish is granted once every chunk is done, to one
// finisher while its lease runs (and again to that same finisher), to another after it;
// PlanRemovals keeps its first count and is refused to a finisher that lost the lease, as is
// Finish; Finish frees the target; Fail leaves a finished job alone and waits for every chunk
// when asked to.
func TestEngineMemStoreLeasesTheFinish(t *testing.T) {
	ctx, s := context.Background(), newMemStore()
	j := newJob("alpha", target, 1)
	if err := s.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, ok, _ := s.ClaimFinish(ctx, ws, j.ID, "a", now, now.Add(time.Minute)); ok {
		t.Error("a claim granted with a chunk left")
	}
	if err := s.Fail(ctx, ws, j.ID, "not yet", now, true); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Get(ctx, ws, j.ID, 0); got.Status != jobs.Queued {
		t.Errorf("Fail(allDone) with a chunk left made the job %s", got.Status)
	}
	if _, err := s.CompleteChunk(ctx, j, chunkDone(0), now); err != nil {
		t.Fatal(err)
	}
	claim := func(token string, at time.Time) bool {
		t.Helper()
		_, ok, err := s.ClaimFinish(ctx, ws, j.ID, token, at, at.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("a", now) || claim("b", now.Add(30*time.Second)) || !claim("a", now.Add(30*time.Second)) {
		t.Fatal("claims: want a granted, b refused during a's lease, a granted again")
	}
	if n, err := s.PlanRemovals(ctx, j, "a", removals(3)); n != 3 || err != nil {
		t.Errorf("a plans 3 removals: %d, %v", n, err)
	}
	if !claim("b", now.Add(2*time.Minute)) {
		t.Fatal("b refused after a's lease (renewed to 30 s + 1 min) ended")
	}
	if _, err := s.PlanRemovals(ctx, j, "a", removals(1)); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Errorf("a plans after losing its lease: %v, want ErrLeaseLost", err)
	}
	if n, err := s.PlanRemovals(ctx, j, "b", removals(1)); n != 3 || err != nil {
		t.Errorf("b plans 1 removal: %d, %v; want the first plan's 3", n, err)
	}
	if err := s.Finish(ctx, j, "a", jobs.Completed, "", now, 0, 0); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Errorf("Finish by a: %v, want ErrLeaseLost", err)
	}
	if err := s.Finish(ctx, j, "b", jobs.Completed, "", now, 1, 2); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.Get(ctx, ws, j.ID, 0)
	if got.Status != jobs.Completed || got.Counts.Removed != 3 || got.RowWriteUnits != 3 || got.FinishedAt == nil {
		t.Errorf("finished job %+v", got)
	}
	if _, held := s.holder(ws, "alpha", target); held {
		t.Error("a finished job still holds its target")
	}
	if claim("b", now.Add(2*time.Minute)) {
		t.Error("a finished job's finish claimed again")
	}
	if err := s.Finish(ctx, j, "b", jobs.Failed, "again", now, 0, 0); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Errorf("a second Finish: %v, want ErrLeaseLost", err)
	}
	if err := s.Fail(ctx, ws, j.ID, "late", now, false); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Get(ctx, ws, j.ID, 0); got.Status != jobs.Completed || got.Reason != "" {
		t.Errorf("Fail changed a finished job: %s, %q", got.Status, got.Reason)
	}
}
