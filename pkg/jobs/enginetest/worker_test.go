package enginetest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/vocab"
)

// TestEngineJobGoesQueuedRunningCompleted: a submitted job is QUEUED and holds its target; its
// first chunk starts it (RUNNING before the rows run); the last chunk finishes it COMPLETED with
// every chunk's counts and cost, once, and frees the target; a finished job stays finished.
func TestEngineJobGoesQueuedRunningCompleted(t *testing.T) {
	f := newFamily("alpha")
	e := newEngine(t, f)
	var duringRun jobs.Job
	var id string
	f.script = func(s step) error {
		if s.at == atRun && s.chunk == 0 {
			duringRun, _ = e.job(id)
		}
		return nil
	}
	submitted := e.submit("UPDATES", keys(5))
	id = submitted.ID
	if submitted.Status != jobs.Queued || submitted.Total != 5 || submitted.Chunks != 3 {
		t.Fatalf("submitted %+v, want QUEUED, 5 rows in 3 chunks", submitted)
	}
	if j := e.wantJob(id, jobs.Queued, jobs.Counts{}, 0); j.StartedAt != nil {
		t.Errorf("a queued job has startedAt %v", j.StartedAt)
	}
	e.wantHeld(id, true)
	if _, err := e.sub.Submit(e.ctx, jobs.Request{WorkspaceID: ws, Family: f.name, Target: target, HoldsTarget: true, Rows: encode(t, keys(1))}); !errors.Is(err, jobs.ErrTargetHeld) {
		t.Errorf("a second job for a held target: %v, want ErrTargetHeld", err)
	}
	for n, want := range []struct{ firstRow, rows int }{{0, 2}, {2, 2}, {4, 1}} {
		if m := e.message(id, n); m.FirstRow != want.firstRow || len(m.Rows) != want.rows || m.Family != f.name || m.Target != target {
			t.Errorf("chunk %d message: %+v, want first row %d, %d rows", n, m, want.firstRow, want.rows)
		}
	}

	e.mustDeliver(id, 0)
	if duringRun.Status != jobs.Running || duringRun.StartedAt == nil {
		t.Errorf("while its first chunk ran the job was %s (startedAt %v), want RUNNING", duringRun.Status, duringRun.StartedAt)
	}
	e.wantJob(id, jobs.Running, jobs.Counts{Processed: 2, Created: 2}, 1)
	if f.finishCount() != 0 {
		t.Error("the job was finished with chunks left")
	}

	e.mustDeliver(id, 1)
	e.mustDeliver(id, 2)
	j := e.wantJob(id, jobs.Completed, jobs.Counts{Processed: 5, Created: 5}, 3)
	if j.FinishedAt == nil || j.StartedAt == nil || j.FinishedAt.Before(*j.StartedAt) || j.Reason != "" || j.RowWriteUnits != 5 {
		t.Errorf("completed job: started %v, finished %v, reason %q, row write units %v; want both times in order, no reason, 5 units",
			j.StartedAt, j.FinishedAt, j.Reason, j.RowWriteUnits)
	}
	if f.finishCount() != 1 || !slices.Equal(f.recordKeys(), keys(5)) {
		t.Errorf("finish ran %d times, records %v; want once, %v", f.finishCount(), f.recordKeys(), keys(5))
	}
	e.wantHeld(id, false)

	e.mustDeliver(id, 0)
	e.wantJob(id, jobs.Completed, jobs.Counts{Processed: 5, Created: 5}, 3)
	if f.runsOf(0) != 1 {
		t.Errorf("a chunk of a finished job ran again (%d runs)", f.runsOf(0))
	}
}

// TestEngineChunkDeliveredFiveTimesIsCountedOnce: three deliveries of a chunk run at the same
// time, then two more come after it is done: its rows are counted once, and a delivery that
// finds it done runs nothing.
func TestEngineChunkDeliveredFiveTimesIsCountedOnce(t *testing.T) {
	f := newFamily("alpha")
	e := newEngine(t, f)
	const together = 3
	arrived, release := make(chan struct{}, together), make(chan struct{})
	f.script = func(s step) error {
		if s.at == atRun && s.chunk == 0 {
			arrived <- struct{}{}
			<-release
		}
		return nil
	}
	id := e.submit("UPDATES", keys(4)).ID
	m := e.message(id, 0)

	errs := make([]error, together)
	var wg sync.WaitGroup
	for i := range together {
		wg.Go(func() { errs[i] = e.worker.Handle(e.ctx, delivery(t, m, i+1)) })
	}
	for range together { // all three are inside the family's RunChunk at once
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the concurrent deliveries did not all reach the family")
		}
	}
	close(release)
	wg.Wait()
	for i := together; i < 5; i++ {
		errs = append(errs, e.worker.Handle(e.ctx, delivery(t, m, i+1)))
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("delivery %d: %v", i+1, err)
		}
	}
	e.wantJob(id, jobs.Running, jobs.Counts{Processed: 2, Created: 2}, 1)
	if got := f.runsOf(0); got != together {
		t.Errorf("the chunk ran %d times, want %d (the deliveries that found it done must run nothing)", got, together)
	}

	e.mustDeliver(id, 1)
	e.wantJob(id, jobs.Completed, jobs.Counts{Processed: 4, Created: 4}, 2)
}

// TestEngineLastChunkFinishesTheJob: chunks done in any order; the one that completes the set
// finishes the job, whatever its number: the family's finish runs once (a full sync's removals,
// counted as removed and as row cost), and a later delivery changes nothing.
func TestEngineLastChunkFinishesTheJob(t *testing.T) {
	f := newFamily("alpha", "k001", "old1", "old2")
	e := newEngine(t, f)
	id := e.submit(fullSync, keys(5)).ID
	e.mustDeliver(id, 2)
	e.mustDeliver(id, 0)
	e.wantJob(id, jobs.Running, jobs.Counts{Processed: 3, Created: 2, Unchanged: 1}, 2)
	if f.finishCount() != 0 || !slices.Contains(f.recordKeys(), "old1") {
		t.Fatalf("finished before the last chunk (finishes %d, records %v)", f.finishCount(), f.recordKeys())
	}
	e.mustDeliver(id, 1)
	want := jobs.Counts{Processed: 5, Created: 4, Unchanged: 1, Removed: 2}
	j := e.wantJob(id, jobs.Completed, want, 3)
	if j.RowWriteUnits != 6 {
		t.Errorf("row write units %v, want 6 (4 created, 2 removed)", j.RowWriteUnits)
	}
	if f.finishCount() != 1 || !slices.Equal(f.recordKeys(), keys(5)) {
		t.Errorf("finish ran %d times, records %v; want once, %v", f.finishCount(), f.recordKeys(), keys(5))
	}
	e.mustDeliver(id, 1)
	e.wantJob(id, jobs.Completed, want, 3)
	if f.finishCount() != 1 {
		t.Errorf("finish ran %d times after a redelivery, want 1", f.finishCount())
	}
}

// leaseCtx is a delivery's context whose deadline (the worker's finishing lease) passes while
// the context itself goes on: a finisher that outlives its lease, as one that stalls does.
type leaseCtx struct {
	context.Context
	deadline time.Time
}

func (c leaseCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func withLease(ctx context.Context, d time.Duration) (context.Context, time.Time) {
	until := time.Now().Add(d)
	return leaseCtx{ctx, until}, until
}

// sleepPast sleeps until t has passed.
func sleepPast(t time.Time) { time.Sleep(time.Until(t) + 5*time.Millisecond) }

// TestEngineDeadFinisherIsTakenOverAfterItsLease: a finisher dies part-way through its
// removals; a redelivery while its lease runs leaves the job to it; one after the lease takes
// the finish over, keeps the first finisher's planned removals, and completes the job.
func TestEngineDeadFinisherIsTakenOverAfterItsLease(t *testing.T) {
	f := newFamily("alpha", "old1", "old2", "old3")
	e := newEngine(t, f)
	f.script = func(s step) error {
		if s.at == atRemoved && s.attempt == 1 {
			return errors.New("the finisher died")
		}
		return nil
	}
	id := e.submit(fullSync, keys(2)).ID
	m := e.message(id, 0)

	ctx, leaseEnd := withLease(e.ctx, time.Second)
	if err := e.worker.Handle(ctx, delivery(t, m, 1)); err == nil {
		t.Fatal("a delivery whose finish died reported success")
	}
	e.wantJob(id, jobs.Running, jobs.Counts{Processed: 2, Created: 2, Removed: 3}, 1)
	if err := e.worker.Handle(e.ctx, delivery(t, m, 2)); err != nil {
		t.Fatalf("a redelivery during the lease: %v", err)
	}
	if time.Now().After(leaseEnd) {
		t.Fatal("the machine was too slow: the lease ended before the redelivery could be checked")
	}
	if f.finishCount() != 1 {
		t.Errorf("finish ran %d times while the first finisher's lease ran, want 1", f.finishCount())
	}
	e.wantJob(id, jobs.Running, jobs.Counts{Processed: 2, Created: 2, Removed: 3}, 1)

	sleepPast(leaseEnd)
	if err := e.worker.Handle(e.ctx, delivery(t, m, 3)); err != nil {
		t.Fatalf("a redelivery after the lease: %v", err)
	}
	if f.finishCount() != 2 {
		t.Errorf("finish ran %d times, want 2 (taken over)", f.finishCount())
	}
	e.wantJob(id, jobs.Completed, jobs.Counts{Processed: 2, Created: 2, Removed: 3}, 1)
	if !slices.Equal(f.recordKeys(), keys(2)) {
		t.Errorf("records %v, want %v", f.recordKeys(), keys(2))
	}
	e.wantHeld(id, false)
}

// TestEngineStalledFinisherLosesToTheOneThatTookOver: a finisher stalls past its lease;
// another takes over and completes the job; the first, resuming, finds its lease lost, reports
// success (the job is done) and changes nothing.
func TestEngineStalledFinisherLosesToTheOneThatTookOver(t *testing.T) {
	f := newFamily("alpha", "old1")
	e := newEngine(t, f)
	stalled, resume := make(chan struct{}), make(chan struct{})
	f.script = func(s step) error {
		if s.at == atFinish && s.attempt == 1 {
			close(stalled)
			<-resume
		}
		return nil
	}
	id := e.submit(fullSync, keys(2)).ID
	m := e.message(id, 0)
	ctx, leaseEnd := withLease(e.ctx, 200*time.Millisecond)
	first := make(chan error, 1)
	go func() { first <- e.worker.Handle(ctx, delivery(t, m, 1)) }()
	<-stalled
	sleepPast(leaseEnd)
	if err := e.worker.Handle(e.ctx, delivery(t, m, 2)); err != nil {
		t.Fatalf("the delivery that took over: %v", err)
	}
	want := jobs.Counts{Processed: 2, Created: 2, Removed: 1}
	e.wantJob(id, jobs.Completed, want, 1)
	close(resume)
	if err := <-first; err != nil {
		t.Errorf("the stalled finisher: %v, want success (the job was finished by another)", err)
	}
	e.wantJob(id, jobs.Completed, want, 1)
}

// TestEngineFailureNoteIsAddedToAFailedJobsReason: a job whose chunks failed ends FAILED with
// the first failure, how many failed, and the family's note on what the failure kept from
// happening; the family's finish does not run.
func TestEngineFailureNoteIsAddedToAFailedJobsReason(t *testing.T) {
	f := newFamily("alpha", "old1")
	f.note = " (no records were removed)"
	e := newEngine(t, f)
	f.script = func(s step) error {
		if s.at == atRun && s.chunk != 1 {
			return errors.New("boom")
		}
		return nil
	}
	id := e.submit(fullSync, keys(5)).ID
	e.mustDeliver(id, 1)
	for _, n := range []int{0, 2} {
		if err := e.worker.Handle(e.ctx, delivery(t, e.message(id, n), jobs.DefaultMaxReceiveCount)); err == nil {
			t.Fatalf("chunk %d: a failing delivery reported success", n)
		}
	}
	j := e.wantJob(id, jobs.Failed, jobs.Counts{Processed: 5, Created: 2, Failed: 3}, 3)
	want := "2 of 3 chunks failed; the first: chunk 0 (rows 0 to 1) failed 5 times: boom (no records were removed)"
	if j.Reason != want || j.FailedChunks != 2 {
		t.Errorf("reason %q, %d failed chunks; want %q, 2", j.Reason, j.FailedChunks, want)
	}
	if f.finishCount() != 0 || !slices.Contains(f.recordKeys(), "old1") {
		t.Errorf("a failed job ran its finish (%d times; records %v)", f.finishCount(), f.recordKeys())
	}
	e.wantHeld(id, false)
}

// TestEnginePoisonChunkOnItsLastReceiveFailsTheJob: a chunk that keeps failing (an error or a
// panic) is asked for again until its last receive (MaxReceiveCount, 5 when unset); then it is
// recorded failed, all its rows failed, the job ends FAILED with the error, and the delivery
// still fails so that the queue moves it to the DLQ. A delivery after the job ended runs
// nothing.
func TestEnginePoisonChunkOnItsLastReceiveFailsTheJob(t *testing.T) {
	for _, tc := range []struct {
		maxReceiveCount, last int
	}{{3, 3}, {0, jobs.DefaultMaxReceiveCount}} {
		t.Run(fmt.Sprintf("maxReceiveCount=%d", tc.maxReceiveCount), func(t *testing.T) {
			f := newFamily("alpha")
			e := newEngine(t, f)
			e.worker.MaxReceiveCount = tc.maxReceiveCount
			f.script = func(s step) error {
				switch {
				case s.at != atRun || s.chunk != 1:
					return nil
				case s.attempt == 1:
					panic("the family's bug")
				}
				return errors.New("boom")
			}
			id := e.submit("UPDATES", keys(5)).ID
			e.mustDeliver(id, 0)
			e.mustDeliver(id, 2)
			m := e.message(id, 1)
			for receive := 1; receive < tc.last; receive++ {
				err := e.worker.Handle(e.ctx, delivery(t, m, receive))
				if err == nil || (receive == 1 && !strings.Contains(err.Error(), "panic")) {
					t.Fatalf("receive %d: %v, want the chunk's error", receive, err)
				}
				e.wantJob(id, jobs.Running, jobs.Counts{Processed: 3, Created: 3}, 2)
			}
			if err := e.worker.Handle(e.ctx, delivery(t, m, tc.last)); err == nil || !strings.Contains(err.Error(), "boom") {
				t.Fatalf("the last receive: %v, want boom (it goes to the DLQ)", err)
			}
			want := jobs.Counts{Processed: 5, Created: 3, Failed: 2}
			j := e.wantJob(id, jobs.Failed, want, 3)
			if reason := fmt.Sprintf("chunk 1 (rows 2 to 3) failed %d times: boom", tc.last); j.Reason != reason || j.FailedChunks != 1 {
				t.Errorf("reason %q, %d failed chunks; want %q, 1", j.Reason, j.FailedChunks, reason)
			}
			e.wantHeld(id, false)
			runs := f.runsOf(1)
			if err := e.worker.Handle(e.ctx, delivery(t, m, tc.last+1)); err != nil || f.runsOf(1) != runs {
				t.Errorf("a delivery after the job ended: %v, %d more runs; want success, none", err, f.runsOf(1)-runs)
			}
			e.wantJob(id, jobs.Failed, want, 3)
		})
	}
}

// TestEngineUndecodableBodyIsAttributedByItsAttributes: a message whose body cannot be read is
// retried, and on its last receive recorded failed on the job and chunk its attributes name; one
// that names nothing is only an error.
func TestEngineUndecodableBodyIsAttributedByItsAttributes(t *testing.T) {
	f := newFamily("alpha")
	e := newEngine(t, f)
	id := e.submit("UPDATES", keys(4)).ID
	e.mustDeliver(id, 0)
	broken := jobs.Delivery{ID: "msg-broken", Body: `{"family": "alpha", "rows": [`, Attributes: attributes(e.message(id, 1))}
	for broken.ReceiveCount = 1; broken.ReceiveCount <= jobs.DefaultMaxReceiveCount; broken.ReceiveCount++ {
		if broken.ReceiveCount == jobs.DefaultMaxReceiveCount {
			e.wantJob(id, jobs.Running, jobs.Counts{Processed: 2, Created: 2}, 1)
		}
		if err := e.worker.Handle(e.ctx, broken); err == nil || !strings.Contains(err.Error(), "undecodable") {
			t.Fatalf("receive %d: %v, want an undecodable-message error", broken.ReceiveCount, err)
		}
	}
	j := e.wantJob(id, jobs.Failed, jobs.Counts{Processed: 4, Created: 2, Failed: 2}, 2)
	if !strings.HasPrefix(j.Reason, "chunk 1 (rows 2 to 3) failed 5 times: jobs: undecodable chunk message") {
		t.Errorf("reason %q", j.Reason)
	}
	if f.runsOf(1) != 0 {
		t.Error("the family ran an undecodable chunk")
	}

	other := e.submit("UPDATES", keys(1)).ID // the first job freed the target
	nameless := jobs.Delivery{ID: "msg-nameless", Body: "not json", ReceiveCount: jobs.DefaultMaxReceiveCount}
	if err := e.worker.Handle(e.ctx, nameless); err == nil {
		t.Error("a nameless undecodable message reported success")
	}
	e.wantJob(other, jobs.Queued, jobs.Counts{}, 0)
}

// TestEngineMessageOfUnknownFamilyOrNotMatchingItsJobFails: a message of a family the worker
// does not know, of another family than its job's, for another target, past the job's chunks
// or for a job that does not exist is an error and runs nothing; on its last receive it still
// fails its chunk, so the job ends FAILED, finished by its own family.
func TestEngineMessageOfUnknownFamilyOrNotMatchingItsJobFails(t *testing.T) {
	alpha, beta := newFamily("alpha"), newFamily("beta")
	e := newEngine(t, alpha)
	e.worker.Families = []jobs.Family{alpha, beta}
	id := e.submit("UPDATES", keys(4)).ID
	good := e.message(id, 0)
	for name, change := range map[string]func(*jobs.Message){
		"unknown family":  func(m *jobs.Message) { m.Family = "gamma" },
		"another family":  func(m *jobs.Message) { m.Family = "beta" },
		"another target":  func(m *jobs.Message) { m.Target = "thing_2" },
		"past its chunks": func(m *jobs.Message) { m.Chunk = 2 },
		"no such job":     func(m *jobs.Message) { m.JobID = jobs.NewID() },
		"other workspace": func(m *jobs.Message) { m.WorkspaceID = "ws_other" },
	} {
		m := good
		change(&m)
		if err := e.worker.Handle(e.ctx, delivery(t, m, 1)); err == nil {
			t.Errorf("%s: a message that does not match its job reported success", name)
		}
	}
	e.wantJob(id, jobs.Queued, jobs.Counts{}, 0)
	if alpha.runsOf(0)+beta.runsOf(0) != 0 {
		t.Fatal("a family ran a chunk of a message that does not match its job")
	}

	unknown := good
	unknown.Family = "gamma"
	if err := e.worker.Handle(e.ctx, delivery(t, unknown, jobs.DefaultMaxReceiveCount)); err == nil {
		t.Fatal("the last receive of an unknown family's message reported success")
	}
	e.wantJob(id, jobs.Running, jobs.Counts{Processed: 2, Failed: 2}, 1)
	e.mustDeliver(id, 1)
	j := e.wantJob(id, jobs.Failed, jobs.Counts{Processed: 4, Created: 2, Failed: 2}, 2)
	if !strings.Contains(j.Reason, `unknown family "gamma"`) {
		t.Errorf("reason %q, want the unknown family named", j.Reason)
	}
}

// TestEngineHoldLostAfterTheJobEndedIsSuccess: a family write that finds its job no longer
// holds the target is success when the job has ended meanwhile (another delivery finished it),
// and an error to retry while the job still runs.
func TestEngineHoldLostAfterTheJobEndedIsSuccess(t *testing.T) {
	f := newFamily("alpha")
	e := newEngine(t, f)
	var id string
	endJob := true
	f.script = func(s step) error {
		if s.at != atRun {
			return nil
		}
		if endJob {
			if err := e.store.Fail(e.ctx, ws, id, "ended by another delivery", time.Now(), false); err != nil {
				return err
			}
		}
		return fmt.Errorf("write a record: %w", jobs.ErrHoldLost)
	}
	id = e.submit("UPDATES", keys(2)).ID
	e.mustDeliver(id, 0)
	if j := e.wantJob(id, jobs.Failed, jobs.Counts{Skipped: 2}, 0); j.Reason != "ended by another delivery" {
		t.Errorf("reason %q", j.Reason)
	}

	endJob = false
	id = e.submit("UPDATES", keys(2)).ID
	if err := e.deliver(id, 0); !errors.Is(err, jobs.ErrHoldLost) {
		t.Errorf("hold lost while the job runs: %v, want ErrHoldLost (retried)", err)
	}
	e.wantJob(id, jobs.Running, jobs.Counts{}, 0)
}

// TestEngineTargetNotFoundFailsTheChunkForGood: a target that is gone fails its chunk at once,
// without asking for the delivery again: its rows count failed, the job ends FAILED saying what
// was not found, and nothing is removed.
func TestEngineTargetNotFoundFailsTheChunkForGood(t *testing.T) {
	f := newFamily("alpha", "old1")
	e := newEngine(t, f)
	f.script = func(s step) error {
		if s.at == atRun && s.chunk == 1 {
			return fmt.Errorf("get thing: %w", vocab.ErrNotFound)
		}
		return nil
	}
	id := e.submit(fullSync, keys(4)).ID
	e.mustDeliver(id, 0)
	e.mustDeliver(id, 1)
	want := jobs.Counts{Processed: 4, Created: 2, Failed: 2}
	j := e.wantJob(id, jobs.Failed, want, 2)
	if j.Reason != "the thing thing_1 was not found" || j.FailedChunks != 1 {
		t.Errorf("reason %q, %d failed chunks", j.Reason, j.FailedChunks)
	}
	if f.finishCount() != 0 || !slices.Contains(f.recordKeys(), "old1") {
		t.Errorf("finish ran %d times, records %v: nothing may be removed", f.finishCount(), f.recordKeys())
	}
	e.wantHeld(id, false)
	e.mustDeliver(id, 1)
	if f.runsOf(1) != 1 {
		t.Errorf("the failed chunk ran %d times, want 1", f.runsOf(1))
	}
	e.wantJob(id, jobs.Failed, want, 2)
}

// TestEngineChunkRunPlanKeepsTheFirstWritingAttemptsCounts: an attempt that wrote and then
// died leaves its counts; the retry finds its rows unchanged, yet the chunk counts what the
// first attempt did.
func TestEngineChunkRunPlanKeepsTheFirstWritingAttemptsCounts(t *testing.T) {
	f := newFamily("alpha", "k001")
	e := newEngine(t, f)
	f.script = func(s step) error {
		if s.at == atWritten && s.chunk == 0 && s.attempt == 1 {
			return errors.New("crashed after writing")
		}
		return nil
	}
	id := e.submit("UPDATES", []string{"k000", "k001", "!bad"}).ID
	if err := e.deliver(id, 0); err == nil {
		t.Fatal("a crashed attempt reported success")
	}
	e.wantJob(id, jobs.Running, jobs.Counts{}, 0)
	e.mustDeliver(id, 0)
	e.mustDeliver(id, 1)
	_, rowErrs := e.job(id)
	e.wantJob(id, jobs.Completed, jobs.Counts{Processed: 3, Created: 1, Unchanged: 1, Failed: 1}, 2)
	if len(rowErrs) != 1 || rowErrs[0].Row != 2 {
		t.Errorf("row errors %+v, want row 2's", rowErrs)
	}
}
