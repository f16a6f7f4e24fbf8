package enginetest_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
)

func dryRun(r *jobs.Request) { r.DryRun = true }

func maxRemovals(n int) func(*jobs.Request) { return func(r *jobs.Request) { r.MaxRemovals = &n } }

// deliverAll delivers every chunk of a job once, in order.
func (e *engine) deliverAll(j jobs.Job) {
	e.t.Helper()
	for n := range j.Chunks {
		e.mustDeliver(j.ID, n)
	}
}

// results is every result of a job, one page.
func (e *engine) results(id string, q jobs.ResultQuery) ([]jobs.RowResult, int) {
	e.t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	rows, total, err := e.store.Results(e.ctx, ws, id, q)
	if err != nil {
		e.t.Fatal(err)
	}
	return rows, total
}

// outcomes are results' outcomes, with the removals' keys.
func outcomes(rows []jobs.RowResult) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Outcome
		if r.Outcome == jobs.OutcomeRemoved {
			out[i] += ":" + r.IDs["key"]
		}
	}
	return out
}

// TestEngineDryRunWritesNothingAndPredicts: a FULL_SYNC dry run writes nothing (0 row write
// units), never holds its target, ends COMPLETED with the counts it would have, the removals it
// would make counted and listed; the real run of the same payload then does row for row what
// the dry run said.
func TestEngineDryRunWritesNothingAndPredicts(t *testing.T) {
	f := newFamily("alpha", "k001", "old1", "old2")
	e := newEngine(t, f)
	rows := []string{"k000", "k001", "!bad", "k002", "k003"}
	dry := e.submit(fullSync, rows, dryRun)
	if !dry.DryRun || dry.HoldsTarget {
		t.Fatalf("dry-run job %+v: want DryRun, no hold", dry)
	}
	e.wantHeld(dry.ID, false)
	e.deliverAll(dry)
	predicted := jobs.Counts{Processed: 5, Created: 3, Unchanged: 1, Failed: 1, Removed: 2}
	j := e.wantJob(dry.ID, jobs.Completed, predicted, 3)
	if j.RowWriteUnits != 0 || !slices.Equal(f.recordKeys(), []string{"k001", "old1", "old2"}) {
		t.Errorf("a dry run wrote: %v units, records %v", j.RowWriteUnits, f.recordKeys())
	}
	plan, total := e.results(dry.ID, jobs.ResultQuery{})
	want := []string{"created", "unchanged", "failed", "created", "created", "removed:old1", "removed:old2"}
	if got := outcomes(plan); !slices.Equal(got, want) || total != 7 {
		t.Errorf("dry-run results %v (total %d), want %v", got, total, want)
	}
	if string(plan[2].Fields) != `"!bad"` || plan[2].Errors[0].Message != "rejected: !bad" || string(plan[5].Fields) != `"old1"` {
		t.Errorf("results carry the rows as sent and their errors: %+v, %+v", plan[2], plan[5])
	}

	real := e.submit(fullSync, rows)
	e.deliverAll(real)
	e.wantJob(real.ID, jobs.Completed, predicted, 3)
	ran, _ := e.results(real.ID, jobs.ResultQuery{})
	if !slices.Equal(outcomes(ran), outcomes(plan)) {
		t.Errorf("the real run did %v, the dry run said %v", outcomes(ran), outcomes(plan))
	}
	if !slices.Equal(f.recordKeys(), []string{"k000", "k001", "k002", "k003"}) {
		t.Errorf("records after the real run: %v", f.recordKeys())
	}
}

// TestEngineDryRunThatWritesFailsTheChunk: a family that writes in a dry run has a bug: the
// chunk fails (it is retried), and on its last receive the job ends FAILED.
func TestEngineDryRunThatWritesFailsTheChunk(t *testing.T) {
	f := newFamily("alpha")
	f.writesOnDryRun = true
	e := newEngine(t, f)
	j := e.submit("UPDATES", keys(2), dryRun)
	err := e.deliver(j.ID, 0)
	if err == nil || !strings.Contains(err.Error(), "dry run") {
		t.Fatalf("a dry-run chunk that wrote: %v, want an error naming the dry run", err)
	}
	e.wantJob(j.ID, jobs.Running, jobs.Counts{}, 0)
	last := e.submit("UPDATES", []string{"n1", "n2"}, dryRun) // rows its bug has not written yet
	if err := e.worker.Handle(e.ctx, delivery(t, e.message(last.ID, 0), jobs.DefaultMaxReceiveCount)); err == nil {
		t.Fatal("the last receive succeeded")
	}
	if got := e.wantJob(last.ID, jobs.Failed, jobs.Counts{Processed: 2, Failed: 2}, 1); !strings.Contains(got.Reason, "dry run") {
		t.Errorf("reason %q", got.Reason)
	}
}

// TestEngineCancelMidFlight: a cancel while a chunk runs lets that chunk finish and count; the
// chunks delivered after it are skipped (counted, their rows skipped with their fields); the
// job ends CANCELED without the family's finish (a FULL_SYNC removes nothing), its counts add
// up, its hold is released.
func TestEngineCancelMidFlight(t *testing.T) {
	f := newFamily("alpha", "old")
	e := newEngine(t, f)
	var id string
	var answered jobs.Job
	f.script = func(s step) error {
		if s.at == atRun && s.chunk == 1 && s.attempt == 1 {
			var err error
			answered, err = e.store.Cancel(e.ctx, ws, id, time.Now())
			return err
		}
		return nil
	}
	j := e.submit(fullSync, keys(9)) // 5 chunks
	id = j.ID
	e.deliverAll(j)
	if answered.Status != jobs.Canceling || answered.CancelRequestedAt == nil {
		t.Errorf("cancel answered %s, want CANCELING", answered.Status)
	}
	got := e.wantJob(id, jobs.Canceled, jobs.Counts{Processed: 4, Created: 4, Skipped: 5}, 5)
	if got.Counts.Processed+got.Counts.Skipped != got.Total || got.FinishedAt == nil {
		t.Errorf("counts %+v do not add up to %d", got.Counts, got.Total)
	}
	if f.finishCount() != 0 || !slices.Contains(f.recordKeys(), "old") {
		t.Errorf("the finish ran after a cancel (%d times; records %v)", f.finishCount(), f.recordKeys())
	}
	for n := 2; n < 5; n++ {
		if f.runsOf(n) != 0 {
			t.Errorf("chunk %d ran after the cancel", n)
		}
	}
	e.wantHeld(id, false)
	rows, total := e.results(id, jobs.ResultQuery{})
	if total != 9 || len(rows) != 9 {
		t.Fatalf("%d results of %d, want 9", len(rows), total)
	}
	for i, r := range rows {
		want := jobs.OutcomeCreated
		if i >= 4 {
			want = jobs.OutcomeSkipped
		}
		if r.Row != i || r.Outcome != want || string(r.Fields) != `"`+keys(9)[i]+`"` {
			t.Errorf("result %d: %+v, want %s with its fields", i, r, want)
		}
	}
	if again, err := e.store.Cancel(e.ctx, ws, id, time.Now()); err != nil || again.Status != jobs.Canceled {
		t.Errorf("cancel of the CANCELED job: %s, %v", again.Status, err)
	}
}

// TestEngineCancelOfAQueuedJob: a job that no chunk started ends CANCELED at once, every row
// skipped and its hold released; cancelling again answers the same; its chunks, delivered
// later, change nothing.
func TestEngineCancelOfAQueuedJob(t *testing.T) {
	f := newFamily("alpha")
	e := newEngine(t, f)
	j := e.submit("UPDATES", keys(5))
	first, err := e.store.Cancel(e.ctx, ws, j.ID, time.Now())
	if err != nil || first.Status != jobs.Canceled || first.Counts.Skipped != 5 {
		t.Fatalf("cancel: %s, %+v, %v", first.Status, first.Counts, err)
	}
	e.wantHeld(j.ID, false)
	again, err := e.store.Cancel(e.ctx, ws, j.ID, time.Now())
	if err != nil || again.Status != first.Status || again.Counts != first.Counts || !again.CancelRequestedAt.Equal(*first.CancelRequestedAt) {
		t.Errorf("cancel again: %+v, %v; want the same", again, err)
	}
	e.deliverAll(j)
	e.wantJob(j.ID, jobs.Canceled, jobs.Counts{Skipped: 5}, 0)
	if f.runsOf(0)+f.runsOf(1)+f.runsOf(2) != 0 || len(f.recordKeys()) != 0 {
		t.Errorf("chunks ran after the cancel: records %v", f.recordKeys())
	}
	rows, total := e.results(j.ID, jobs.ResultQuery{Outcome: jobs.OutcomeSkipped})
	if total != 5 || len(rows) != 5 || rows[4].Row != 4 {
		t.Errorf("results of a job canceled at once: %d of %d", len(rows), total)
	}
}

// TestEngineCancelOfAFinishedJob: a COMPLETED or FAILED job cannot be canceled (ErrFinished)
// and stays as it was.
func TestEngineCancelOfAFinishedJob(t *testing.T) {
	f := newFamily("alpha")
	e := newEngine(t, f)
	done := e.submit("UPDATES", keys(2))
	e.deliverAll(done)
	failed := e.submit("UPDATES", keys(2))
	if err := e.store.Fail(e.ctx, ws, failed.ID, "broken", time.Now(), false); err != nil {
		t.Fatal(err)
	}
	for _, j := range []jobs.Job{done, failed} {
		before, _ := e.job(j.ID)
		if _, err := e.store.Cancel(e.ctx, ws, j.ID, time.Now()); !errors.Is(err, jobs.ErrFinished) {
			t.Errorf("cancel of a %s job: %v, want ErrFinished", before.Status, err)
		}
		if after, _ := e.job(j.ID); after.Status != before.Status || after.CancelRequestedAt != nil {
			t.Errorf("the cancel changed a %s job: %+v", before.Status, after)
		}
	}
}

// TestEngineRemovalGuard: a FULL_SYNC that would remove more than its maxRemovals removes
// nothing and ends FAILED saying how many it would have removed (with the family's note); one
// within its guard removes as usual.
func TestEngineRemovalGuard(t *testing.T) {
	f := newFamily("alpha", "old1", "old2")
	f.note = " (nothing removed)"
	e := newEngine(t, f)
	guarded := e.submit(fullSync, keys(3), maxRemovals(1))
	e.deliverAll(guarded)
	j := e.wantJob(guarded.ID, jobs.Failed, jobs.Counts{Processed: 3, Created: 3}, 2)
	want := jobs.RemovalGuardReason(fullSync, 2, 1) + f.note
	if j.Reason != want || !strings.Contains(want, "would remove 2 records, more than maxRemovals 1; nothing was removed") {
		t.Errorf("reason %q, want %q", j.Reason, want)
	}
	if !slices.Contains(f.recordKeys(), "old1") || !slices.Contains(f.recordKeys(), "old2") {
		t.Errorf("the guard let removals through: %v", f.recordKeys())
	}
	if _, total := e.results(guarded.ID, jobs.ResultQuery{Outcome: jobs.OutcomeRemoved}); total != 0 {
		t.Errorf("%d removals recorded for a job that removed nothing", total)
	}
	e.wantHeld(guarded.ID, false)

	within := e.submit(fullSync, keys(3), maxRemovals(2))
	e.deliverAll(within)
	e.wantJob(within.ID, jobs.Completed, jobs.Counts{Processed: 3, Unchanged: 3, Removed: 2}, 2)
	if slices.Contains(f.recordKeys(), "old1") {
		t.Errorf("records after a FULL_SYNC within its guard: %v", f.recordKeys())
	}
}

// TestEngineResultsPaging: every row has exactly one result, in row order then the removals;
// an offset counts matching results only, with or without an outcome filter.
func TestEngineResultsPaging(t *testing.T) {
	f := newFamily("alpha", "k003", "k007", "gone")
	e := newEngine(t, f)
	rows := keys(11)
	rows[5] = "!bad5"
	rows[8] = "!bad8"
	j := e.submit(fullSync, rows)
	e.deliverAll(j)
	all, total := e.results(j.ID, jobs.ResultQuery{})
	if total != 12 || len(all) != 12 {
		t.Fatalf("%d results of %d, want 11 rows and 1 removal", len(all), total)
	}
	for i, r := range all[:11] {
		if r.Row != i {
			t.Errorf("result %d is row %d", i, r.Row)
		}
	}
	if last := all[11]; last.Row != -1 || last.Outcome != jobs.OutcomeRemoved || last.IDs["key"] != "gone" {
		t.Errorf("the removal: %+v", last)
	}
	for _, c := range []struct {
		q    jobs.ResultQuery
		rows []int // -1: the removal
		tot  int
	}{
		{jobs.ResultQuery{Offset: 3, Limit: 4}, []int{3, 4, 5, 6}, 12},
		{jobs.ResultQuery{Offset: 10, Limit: 4}, []int{10, -1}, 12},
		{jobs.ResultQuery{Outcome: jobs.OutcomeCreated, Offset: 2, Limit: 3}, []int{2, 4, 6}, 7},
		{jobs.ResultQuery{Outcome: jobs.OutcomeFailed, Offset: 1, Limit: 5}, []int{8}, 2},
		{jobs.ResultQuery{Outcome: jobs.OutcomeUnchanged, Limit: 5}, []int{3, 7}, 2},
		{jobs.ResultQuery{Outcome: jobs.OutcomeRemoved, Limit: 5}, []int{-1}, 1},
		{jobs.ResultQuery{Offset: 12, Limit: 5}, nil, 12},
	} {
		got, tot := e.results(j.ID, c.q)
		var gotRows []int
		for _, r := range got {
			gotRows = append(gotRows, r.Row)
		}
		if !slices.Equal(gotRows, c.rows) || tot != c.tot {
			t.Errorf("%+v: rows %v of %d, want %v of %d", c.q, gotRows, tot, c.rows, c.tot)
		}
	}
}

// TestEngineSweeperEndsStaleJobs: a job without progress for StaleAfter is ended (FAILED, or
// CANCELED when a cancel was asked), its rows not run skipped, its hold released; a job with
// recent progress is left alone; SweepAll ends every job that is not finished.
func TestEngineSweeperEndsStaleJobs(t *testing.T) {
	f := newFamily("alpha")
	e := newEngine(t, f)
	stale := e.submit("UPDATES", keys(5))
	e.mustDeliver(stale.ID, 0)
	other := newFamily("beta")
	e.worker.Families = append(e.worker.Families, other)
	canceling, err := e.sub.Submit(e.ctx, jobs.Request{WorkspaceID: ws, Family: "beta", Target: "t2", Rows: encode(t, keys(4))})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.worker.Handle(e.ctx, delivery(t, e.message(canceling.ID, 0), 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Cancel(e.ctx, ws, canceling.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	hour := time.Now().Add(-time.Hour)
	for _, id := range []string{stale.ID, canceling.ID} {
		e.store.edit(ws, id, func(j *jobs.Job) { j.ProgressAt = hour })
	}
	fresh, err := e.sub.Submit(e.ctx, jobs.Request{WorkspaceID: ws, Family: "beta", Target: "t3", Rows: encode(t, keys(2))})
	if err != nil {
		t.Fatal(err)
	}

	sweeper := &jobs.Sweeper{Store: e.store, StaleAfter: 30 * time.Minute}
	if ended, err := sweeper.Sweep(e.ctx); ended != 2 || err != nil {
		t.Fatalf("sweep: ended %d, %v; want 2", ended, err)
	}
	if j := e.wantJob(stale.ID, jobs.Failed, jobs.Counts{Processed: 2, Created: 2, Skipped: 3}, 1); !strings.Contains(j.Reason, "no progress") {
		t.Errorf("reason %q", j.Reason)
	}
	e.wantHeld(stale.ID, false)
	e.wantJob(canceling.ID, jobs.Canceled, jobs.Counts{Processed: 2, Created: 2, Skipped: 2}, 1)
	e.wantJob(fresh.ID, jobs.Queued, jobs.Counts{}, 0)
	if ended, err := sweeper.Sweep(e.ctx); ended != 0 || err != nil {
		t.Errorf("a second sweep: ended %d, %v", ended, err)
	}
	if ended, err := sweeper.SweepAll(e.ctx); ended != 1 || err != nil {
		t.Errorf("SweepAll: ended %d, %v", ended, err)
	}
	e.wantJob(fresh.ID, jobs.Failed, jobs.Counts{Skipped: 2}, 0)
}
