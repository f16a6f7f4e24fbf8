package jobstore_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/vocab"
)

// TestCancelRacesStart: a cancel of a QUEUED job and the Start of its first chunk, at the same
// time, have one winner: either the job runs (Start reports RUNNING) and the cancel makes it
// CANCELING, or the cancel ends it CANCELED at once (every row skipped, the hold released) and
// Start reports that it is not running, so the chunk does not run.
func TestCancelRacesStart(t *testing.T) {
	b := newBench(t)
	wins := map[bool]int{}
	for i := range 12 {
		tgt := b.target(fmt.Sprintf("t%d", i))
		j := b.create(heldFamily, tgt, 10, 5, time.Now())
		var running bool
		var canceled jobs.Job
		var startErr, cancelErr error
		var wg sync.WaitGroup
		wg.Go(func() { running, startErr = b.st.Start(b.ctx, b.ws, j.ID, time.Now()) })
		wg.Go(func() { canceled, cancelErr = b.st.Cancel(b.ctx, b.ws, j.ID, time.Now()) })
		wg.Wait()
		if startErr != nil || cancelErr != nil {
			t.Fatalf("start %v, cancel %v", startErr, cancelErr)
		}
		wins[running]++
		got := b.get(j.ID)
		if got.CancelRequestedAt == nil || canceled.Status != got.Status {
			t.Errorf("race %d: cancel answered %s, stored %s (asked at %v)", i, canceled.Status, got.Status, got.CancelRequestedAt)
		}
		if running {
			if got.Status != jobs.Canceling || b.holder(tgt) != j.ID {
				t.Errorf("race %d: Start won but the job is %s, holder %q", i, got.Status, b.holder(tgt))
			}
			continue
		}
		if got.Status != jobs.Canceled || got.Counts.Skipped != 10 || got.FinishedAt == nil || b.holder(tgt) != "" {
			t.Errorf("race %d: the cancel won but the job is %s, counts %+v, holder %q", i, got.Status, got.Counts, b.holder(tgt))
		}
		if again, err := b.st.Start(b.ctx, b.ws, j.ID, time.Now()); again || err != nil {
			t.Errorf("race %d: Start after the cancel: running %v, %v", i, again, err)
		}
		if _, err := b.st.CompleteChunk(b.ctx, got, jobs.ChunkResult{N: 0, Rows: 5, Counts: jobs.Counts{Processed: 5}}, time.Now()); !errors.Is(err, jobs.ErrClosed) {
			t.Errorf("race %d: a chunk of the canceled job counted: %v", i, err)
		}
	}
	t.Logf("Start won %d, the cancel %d", wins[true], wins[false])
}

// TestCancelOfARunningJob: a RUNNING job becomes CANCELING (again: the same answer); a chunk
// in flight still counts; the finish plans no removal and ends the job CANCELED whatever it
// asks, releasing the hold; cancels of finished jobs are ErrFinished, of unknown ones not
// found; once a FULL_SYNC's removals are planned it can no longer be canceled, unless it is a
// dry run.
func TestCancelOfARunningJob(t *testing.T) {
	b := newBench(t)
	tgt := b.target("t")
	j := b.create(heldFamily, tgt, 10, 5, time.Now())
	if running, err := b.st.Start(b.ctx, b.ws, j.ID, time.Now()); !running || err != nil {
		t.Fatalf("start: %v, %v", running, err)
	}
	first, err := b.st.Cancel(b.ctx, b.ws, j.ID, time.Now())
	if err != nil || first.Status != jobs.Canceling || first.CancelRequestedAt == nil {
		t.Fatalf("cancel: %+v, %v", first, err)
	}
	again, err := b.st.Cancel(b.ctx, b.ws, j.ID, time.Now().Add(time.Second))
	if err != nil || again.Status != jobs.Canceling || !again.CancelRequestedAt.Equal(*first.CancelRequestedAt) {
		t.Errorf("cancel again: %+v, %v; want the same CANCELING job", again, err)
	}
	b.runChunk(first, 0, 5) // in flight when the cancel came
	skipped := jobs.ChunkResult{N: 1, FirstRow: 5, Rows: 5, Counts: jobs.Counts{Skipped: 5}}
	if applied, err := b.st.CompleteChunk(b.ctx, first, skipped, time.Now()); !applied || err != nil {
		t.Fatalf("skipped chunk: %v, %v", applied, err)
	}
	now := time.Now()
	claimed, ok, err := b.st.ClaimFinish(b.ctx, b.ws, j.ID, "fin", now, now.Add(time.Minute))
	if !ok || err != nil || claimed.Status != jobs.Canceling {
		t.Fatalf("claim a CANCELING job's finish: %v, %v, %s", ok, err, claimed.Status)
	}
	if _, err := b.st.PlanRemovals(b.ctx, claimed, "fin", removals(3)); !errors.Is(err, jobs.ErrCancelRequested) {
		t.Errorf("removals after a cancel: %v, want ErrCancelRequested", err)
	}
	if err := b.st.Finish(b.ctx, claimed, "fin", jobs.Completed, "", now, 0, 0); err != nil {
		t.Fatal(err)
	}
	got := b.get(j.ID)
	if got.Status != jobs.Canceled || got.Counts.Removed != 0 || got.Counts.Processed+got.Counts.Skipped != got.Total || got.Counts.Skipped != 5 || b.holder(tgt) != "" {
		t.Errorf("canceled job %s, counts %+v, holder %q; want CANCELED, 5 processed + 5 skipped, nothing removed, released", got.Status, got.Counts, b.holder(tgt))
	}
	if again, err := b.st.Cancel(b.ctx, b.ws, j.ID, time.Now()); err != nil || again.Status != jobs.Canceled {
		t.Errorf("cancel of a CANCELED job: %s, %v", again.Status, err)
	}

	done := b.create("plain", "x", 5, 5, time.Now())
	b.runChunk(done, 0, 5)
	b.finish(done, nil, jobs.Completed)
	if _, err := b.st.Cancel(b.ctx, b.ws, done.ID, time.Now()); !errors.Is(err, jobs.ErrFinished) {
		t.Errorf("cancel of a COMPLETED job: %v, want ErrFinished", err)
	}
	if _, err := b.st.Cancel(b.ctx, b.ws, jobs.NewID(), time.Now()); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("cancel of an unknown job: %v", err)
	}
	for _, dry := range []bool{false, true} {
		sync := b.create("plain", "x", 5, 5, time.Now(), func(j *jobs.Job) { j.DryRun = dry })
		b.runChunk(sync, 0, 5)
		claimed, _, _ := b.st.ClaimFinish(b.ctx, b.ws, sync.ID, "fin", now, now.Add(time.Minute))
		if _, err := b.st.PlanRemovals(b.ctx, claimed, "fin", removals(2)); err != nil {
			t.Fatal(err)
		}
		_, err := b.st.Cancel(b.ctx, b.ws, sync.ID, time.Now())
		if dry && err != nil || !dry && !errors.Is(err, jobs.ErrFinished) {
			t.Errorf("cancel once the removals are planned (dry run %v): %v", dry, err)
		}
	}
}

// TestResultsPagingCost: a 20-chunk job's results come one per row in row order, then its
// removals; an outcome filter counts its offset in matching rows; and a page far into the job
// costs what the first page costs (the chunk records find the page: no item before it is read).
func TestResultsPagingCost(t *testing.T) {
	b := newBench(t)
	const rows, chunkRows = 10000, 500
	j := b.create("plain", "x", rows, chunkRows, time.Now())
	for n := range j.Chunks {
		b.runChunk(j, n, chunkRows)
	}
	b.finish(j, removals(700), jobs.Completed)

	page := func(q jobs.ResultQuery) ([]jobs.RowResult, int, float64) {
		t.Helper()
		ctx, m := capacity.WithMeter(b.ctx)
		got, total, err := b.st.Results(ctx, b.ws, j.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		read, _ := m.Units()
		return got, total, read
	}
	first, total, costFirst := page(jobs.ResultQuery{Limit: 100})
	if total != rows+700 || len(first) != 100 || first[0].Row != 0 || first[99].Row != 99 || string(first[5].Fields) != string(rowFields(5)) {
		t.Fatalf("first page: total %d, %d rows from %d", total, len(first), first[0].Row)
	}
	far, _, costFar := page(jobs.ResultQuery{Offset: rows - 50, Limit: 100})
	if len(far) != 100 || far[0].Row != rows-50 || far[49].Row != rows-1 || far[50].Outcome != jobs.OutcomeRemoved || far[50].Row != -1 ||
		far[99].IDs["participantId"] != "ptp_r49" {
		t.Fatalf("page across the end of the rows: %d rows, first %d, 51st %+v, last %+v", len(far), far[0].Row, far[50], far[99])
	}
	if costFar > costFirst*1.5+1 {
		t.Errorf("a page at offset %d cost %.1f read units, the first %.1f: cost grows with the offset", rows-50, costFar, costFirst)
	}
	t.Logf("read units: first page %.1f, page at the end %.1f", costFirst, costFar)

	var failed []int
	for i := range rows {
		if outcomeOf(i) == jobs.OutcomeFailed {
			failed = append(failed, i)
		}
	}
	got, total, _ := page(jobs.ResultQuery{Outcome: jobs.OutcomeFailed, Offset: 1000, Limit: 300})
	if total != len(failed) || len(got) != min(300, len(failed)-1000) || got[0].Row != failed[1000] || got[0].Errors[0].Message != fmt.Sprintf("row %d is bad", failed[1000]) {
		t.Fatalf("failed rows from 1000: total %d (want %d), %d rows, first %+v (want row %d)", total, len(failed), len(got), got[0], failed[1000])
	}
	for k, r := range got {
		if r.Row != failed[1000+k] || r.Outcome != jobs.OutcomeFailed {
			t.Fatalf("failed row %d of the page is %+v, want row %d", k, r, failed[1000+k])
		}
	}
	removed, total, _ := page(jobs.ResultQuery{Outcome: jobs.OutcomeRemoved, Offset: 490, Limit: 20})
	if total != 700 || len(removed) != 20 || removed[0].IDs["participantId"] != "ptp_r490" || removed[19].IDs["participantId"] != "ptp_r509" {
		t.Errorf("removals 490..509 (across two items): total %d, %d, from %v", total, len(removed), removed[0].IDs)
	}
	if none, total, _ := page(jobs.ResultQuery{Outcome: jobs.OutcomeSkipped, Limit: 10}); total != 0 || len(none) != 0 {
		t.Errorf("skipped rows of a job that skipped none: %d of %d", len(none), total)
	}
}

// TestResultsOfAJobThatLostChunks: a terminal job's rows that no chunk recorded (the sweeper
// ended it) are skipped results without fields, in their place in row order; a job still
// running lists only what its chunks recorded.
func TestResultsOfAJobThatLostChunks(t *testing.T) {
	b := newBench(t)
	j := b.create("plain", "x", 12, 4, time.Now())
	b.runChunk(j, 1, 4) // rows 4..7; chunks 0 and 2 never come
	got, total, err := b.st.Results(b.ctx, b.ws, j.ID, jobs.ResultQuery{Limit: 100})
	if err != nil || total != 4 || len(got) != 4 || got[0].Row != 4 {
		t.Fatalf("a running job's results: %d of %d from %v, %v", len(got), total, got, err)
	}
	j = b.get(j.ID)
	if ended, err := b.st.EndStale(b.ctx, j, jobs.Failed, "lost", time.Now()); !ended || err != nil {
		t.Fatalf("end: %v, %v", ended, err)
	}
	got, total, err = b.st.Results(b.ctx, b.ws, j.ID, jobs.ResultQuery{Limit: 100})
	if err != nil || total != 12 || len(got) != 12 {
		t.Fatalf("results of the ended job: %d of %d, %v", len(got), total, err)
	}
	for i, r := range got {
		lost := i < 4 || i >= 8
		if r.Row != i || lost != (r.Outcome == jobs.OutcomeSkipped && r.Fields == nil) {
			t.Errorf("row %d: %+v (lost %v)", i, r, lost)
		}
	}
	skipped, total, _ := b.st.Results(b.ctx, b.ws, j.ID, jobs.ResultQuery{Outcome: jobs.OutcomeSkipped, Offset: 5, Limit: 10})
	if total != 8 || len(skipped) != 3 || skipped[0].Row != 9 {
		t.Errorf("skipped from 5: %d of %d, first %+v", len(skipped), total, skipped)
	}
	if j = b.get(j.ID); j.Counts.Processed+j.Counts.Skipped != j.Total {
		t.Errorf("counts %+v do not add up to %d", j.Counts, j.Total)
	}
}

// TestEveryItemOfAJobExpires: every item a job's life writes (job, chunk, keep, plan, row
// errors, results, removals) carries the table's TTL attribute at the job's ExpiresAt; a job
// past it is not found by Get, Results, Cancel or List.
func TestEveryItemOfAJobExpires(t *testing.T) {
	b := newBench(t)
	j := b.create("plain", "x", 4, 2, time.Now())
	if _, err := b.st.PutChunkPlan(b.ctx, j, 0, []jobs.RowResult{{Outcome: jobs.OutcomeCreated}, {Outcome: jobs.OutcomeFailed}}); err != nil {
		t.Fatal(err)
	}
	if err := b.st.ReplaceRowErrors(b.ctx, j, 0, 1, []jobs.RowError{{Row: 1, Errors: []jobs.FieldError{{Message: "bad"}}}}); err != nil {
		t.Fatal(err)
	}
	b.runChunk(j, 0, 2)
	b.runChunk(j, 1, 2)
	b.finish(j, removals(3), jobs.Completed)

	res, err := b.env.Client.Query(b.ctx, &dynamodb.QueryInput{
		TableName: aws.String(b.env.Table), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": ddb.S("WS#" + b.ws + "#IMPORT#" + j.ID)},
	})
	if err != nil {
		t.Fatal(err)
	}
	jobItem, err := b.env.Client.GetItem(b.ctx, &dynamodb.GetItemInput{TableName: aws.String(b.env.Table),
		Key: map[string]types.AttributeValue{"pk": ddb.S("WS#" + b.ws + "#IMPORT"), "sk": ddb.S(j.ID)}})
	if err != nil {
		t.Fatal(err)
	}
	items := append(res.Items, jobItem.Item)
	want := strconv.FormatInt(j.ExpiresAt.Unix(), 10)
	var kinds []string
	for _, it := range items {
		sk := it["sk"].(*types.AttributeValueMemberS).Value
		ttl, ok := it[ddb.TTLAttribute].(*types.AttributeValueMemberN)
		if !ok || ttl.Value != want {
			t.Errorf("item %s: %s = %v, want %s", sk, ddb.TTLAttribute, it[ddb.TTLAttribute], want)
		}
		kind, _, _ := cut(sk)
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	kinds = slices.Compact(kinds)
	if wantKinds := []string{"CHUNK", "ERR", "KEEP", "PLAN", "REM", "RES", j.ID}; !slices.Equal(kinds, wantKinds) {
		t.Errorf("item kinds %v, want %v", kinds, wantKinds)
	}

	b.st.Now = func() time.Time { return j.ExpiresAt.Add(time.Second) }
	if _, _, err := b.st.Get(b.ctx, b.ws, j.ID, 0); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("Get of an expired job: %v", err)
	}
	if _, _, err := b.st.Results(b.ctx, b.ws, j.ID, jobs.ResultQuery{Limit: 1}); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("Results of an expired job: %v", err)
	}
	if _, err := b.st.Cancel(b.ctx, b.ws, j.ID, time.Now()); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("Cancel of an expired job: %v", err)
	}
	if listed, total, err := b.st.List(b.ctx, b.ws, jobs.ListQuery{Limit: 10}); err != nil || total != 0 || len(listed) != 0 {
		t.Errorf("List with the job expired: %d of %d, %v", len(listed), total, err)
	}
}

func cut(sk string) (string, string, bool) {
	for i := range sk {
		if sk[i] == '#' {
			return sk[:i], sk[i+1:], true
		}
	}
	return sk, "", false
}

// TestSweeperOverTheActiveIndex: the sweeper finds the jobs that are not terminal through the
// sparse index (ended jobs leave it), ends those without progress for StaleAfter (FAILED, or
// CANCELED when a cancel was asked; their rows not run skipped; their hold released) and
// leaves fresh ones alone; SweepAll ends every one.
func TestSweeperOverTheActiveIndex(t *testing.T) {
	b := newBench(t)
	old := time.Now().Add(-2 * time.Hour)
	stale := b.create(heldFamily, b.target("stale"), 10, 5, old)
	b.at = old.Add(time.Minute)
	b.runChunk(stale, 0, 5) // progress, but long ago
	b.at = time.Time{}
	staleCanceling := b.create("plain", "x", 6, 6, old.Add(time.Second))
	if _, err := b.st.Start(b.ctx, b.ws, staleCanceling.ID, old); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Cancel(b.ctx, b.ws, staleCanceling.ID, old); err != nil {
		t.Fatal(err)
	}
	fresh := b.create(heldFamily, b.target("fresh"), 10, 5, time.Now())
	done := b.create("plain", "y", 2, 2, old.Add(2*time.Second))
	b.runChunk(done, 0, 2)
	b.finish(done, nil, jobs.Completed)

	active, err := b.st.ActiveJobs(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ids := jobIDs(active); !slices.Equal(ids, []string{stale.ID, staleCanceling.ID, fresh.ID}) {
		t.Fatalf("active jobs %v, want the stale, the canceling and the fresh one (oldest first)", ids)
	}
	if got := b.get(stale.ID).ProgressAt; !got.Equal(old.Add(time.Minute)) {
		t.Fatalf("the stale job's progress is at %v, want its chunk's %v", got, old.Add(time.Minute))
	}
	sweeper := &jobs.Sweeper{Store: b.st, StaleAfter: 30 * time.Minute}
	ended, err := sweeper.Sweep(b.ctx)
	if err != nil || ended != 2 {
		t.Fatalf("sweep: ended %d, %v; want the stale and the canceling job", ended, err)
	}
	got := b.get(stale.ID)
	if got.Status != jobs.Failed || got.Counts.Skipped != 5 || got.Counts.Processed != 5 || got.Reason == "" || b.holder("stale") != "" {
		t.Errorf("swept job %s, counts %+v, reason %q, holder %q", got.Status, got.Counts, got.Reason, b.holder("stale"))
	}
	if got := b.get(staleCanceling.ID); got.Status != jobs.Canceled || got.Counts.Skipped != 6 {
		t.Errorf("swept canceling job %s, counts %+v; want CANCELED, 6 skipped", got.Status, got.Counts)
	}
	if got := b.get(fresh.ID); got.Status != jobs.Queued || b.holder("fresh") != fresh.ID {
		t.Errorf("fresh job %s, holder %q: the sweep touched it", got.Status, b.holder("fresh"))
	}
	if active, _ = b.st.ActiveJobs(b.ctx); !slices.Equal(jobIDs(active), []string{fresh.ID}) {
		t.Errorf("active after the sweep: %v", jobIDs(active))
	}
	// A job that moved after it was read is not ended.
	if ok, err := b.st.EndStale(b.ctx, withProgress(b.get(fresh.ID), old), jobs.Failed, "x", time.Now()); ok || err != nil {
		t.Errorf("EndStale of a job whose progress moved: %v, %v", ok, err)
	}
	if ended, err := (&jobs.Sweeper{Store: b.st}).SweepAll(b.ctx); ended != 1 || err != nil {
		t.Errorf("SweepAll: %d, %v", ended, err)
	}
	if got := b.get(fresh.ID); got.Status != jobs.Failed || got.Counts.Skipped != 10 || b.holder("fresh") != "" {
		t.Errorf("after SweepAll the fresh job is %s, %+v, holder %q", got.Status, got.Counts, b.holder("fresh"))
	}
}

func withProgress(j jobs.Job, at time.Time) jobs.Job {
	j.ProgressAt = at
	return j
}

func jobIDs(js []jobs.Job) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	return out
}

// TestListFiltersAndOrder: a workspace's jobs list newest first, filtered by family, target
// and status, paged by offset and limit with the total of matching jobs; another workspace's
// jobs are not listed.
func TestListFiltersAndOrder(t *testing.T) {
	b := newBench(t)
	start := time.Now().Add(-time.Hour)
	var made []jobs.Job
	for i := range 7 {
		family, target := "alpha", fmt.Sprintf("t%d", i%2)
		if i == 3 {
			family = "beta"
		}
		made = append(made, b.create(family, target, 2, 2, start.Add(time.Duration(i)*time.Minute)))
	}
	b.runChunk(made[5], 0, 2)
	b.finish(made[5], nil, jobs.Completed)
	other := *b
	other.ws = "ws_other"
	other.create("alpha", "t0", 2, 2, start)

	list := func(q jobs.ListQuery) ([]string, int) {
		t.Helper()
		got, total, err := b.st.List(b.ctx, b.ws, q)
		if err != nil {
			t.Fatal(err)
		}
		return jobIDs(got), total
	}
	ids := func(is ...int) []string {
		var out []string
		for _, i := range is {
			out = append(out, made[i].ID)
		}
		return out
	}
	for _, c := range []struct {
		q         jobs.ListQuery
		want      []string
		wantTotal int
	}{
		{jobs.ListQuery{Limit: 100}, ids(6, 5, 4, 3, 2, 1, 0), 7},
		{jobs.ListQuery{Limit: 2, Offset: 1}, ids(5, 4), 7},
		{jobs.ListQuery{Family: "alpha", Limit: 100}, ids(6, 5, 4, 2, 1, 0), 6},
		{jobs.ListQuery{Family: "alpha", Target: "t0", Limit: 100}, ids(6, 4, 2, 0), 4},
		{jobs.ListQuery{Family: "alpha", Status: jobs.Completed, Limit: 100}, ids(5), 1},
		{jobs.ListQuery{Status: jobs.Queued, Offset: 4, Limit: 100}, ids(1, 0), 6},
		{jobs.ListQuery{Family: "gamma", Limit: 100}, nil, 0},
	} {
		got, total := list(c.q)
		if !slices.Equal(got, c.want) || total != c.wantTotal {
			t.Errorf("List(%+v): %v of %d, want %v of %d", c.q, got, total, c.want, c.wantTotal)
		}
	}
}
