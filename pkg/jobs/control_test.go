package jobs_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
)

// submitRequest submits a Spot import as spotjobs.Submit does, with edits to the request (a dry
// run, a removal guard).
func (f *fixture) submitRequest(mode screening.ImportMode, rs []screening.ImportRow, p jobs.Planner, edits ...func(*jobs.Request)) jobs.Job {
	f.t.Helper()
	rows := make([]spotjobs.Row, len(rs))
	for i, r := range rs {
		rows[i] = spotjobs.Row{ExternalUID: r.ExternalUID, Email: r.Email, Name: r.Name}
	}
	raw, err := jobs.EncodeRows(rows)
	if err != nil {
		f.t.Fatal(err)
	}
	req := jobs.Request{WorkspaceID: f.ws, Family: spotjobs.Name, Target: f.scr, Mode: string(mode), Actor: actor, Rows: raw}
	for _, e := range edits {
		e(&req)
	}
	job, err := f.submitter(f.env.App.Jobs, p).Submit(f.ctx, req)
	if err != nil {
		f.t.Fatal(err)
	}
	return job
}

// allResults reads every result of a job, page by page.
func (f *fixture) allResults(id string, q jobs.ResultQuery) []jobs.RowResult {
	f.t.Helper()
	var out []jobs.RowResult
	q.Limit = 700
	for {
		page, total, err := f.env.App.Jobs.Results(f.ctx, f.ws, id, q)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, page...)
		q.Offset += len(page)
		if len(page) == 0 || q.Offset >= total {
			return out
		}
	}
}

// TestDryRunOfAFullSyncWritesNothingAndPredicts: a FULL_SYNC dry run through the queue and the
// real Spot family writes nothing (0 row write units, the table's records unchanged), and says,
// row by row and removal by removal, what the real FULL_SYNC of the same rows then does.
func TestDryRunOfAFullSyncWritesNothingAndPredicts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	planner := jobs.Planner{MaxRows: 50}
	f.submit(screening.UpdatesOnly, rows(0, 300), planner)
	f.drain(5 * time.Second)
	before := f.snapshot(false)

	syncRows := rows(100, 400) // 200 known, 100 new; 0..99 absent
	dry := f.submitRequest(screening.FullSync, syncRows, planner, func(r *jobs.Request) { r.DryRun = true })
	f.drain(5 * time.Second)
	got, _ := f.job(dry.ID)
	want := jobs.Counts{Processed: 300, Created: 100, Unchanged: 200, Removed: 100}
	checkCounts(t, got, jobs.Completed, want)
	if !got.DryRun || got.RowWriteUnits != 0 {
		t.Errorf("dry run: DryRun %v, %.1f row write units; want 0", got.DryRun, got.RowWriteUnits)
	}
	sameSnapshot(t, "records after a dry run", before, f.snapshot(false))
	predicted := f.allResults(dry.ID, jobs.ResultQuery{})
	if len(predicted) != 400 || predicted[299].Row != 299 || predicted[300].Outcome != jobs.OutcomeRemoved {
		t.Fatalf("dry-run results: %d, want 300 rows then 100 removals", len(predicted))
	}

	real := f.submitRequest(screening.FullSync, syncRows, planner)
	f.drain(5 * time.Second)
	got, _ = f.job(real.ID)
	checkCounts(t, got, jobs.Completed, want)
	done := f.allResults(real.ID, jobs.ResultQuery{})
	// A dry run makes no ids for the rows it would create: compare outcomes, and ids elsewhere.
	for i := range done {
		p, d := predicted[i], done[i]
		if p.Outcome != d.Outcome || (p.Outcome != jobs.OutcomeCreated && p.IDs[spotjobs.IDParticipant] != d.IDs[spotjobs.IDParticipant]) ||
			string(p.Fields) != string(d.Fields) {
			t.Fatalf("result %d: the dry run said %+v, the import did %+v", i, p, d)
		}
	}
	if n := f.rosterTotal(); n != 300 {
		t.Errorf("roster after the real FULL_SYNC: %d, want 300", n)
	}
}

// TestCancelBeforeTheRemovals: a FULL_SYNC canceled while its chunks run counts the chunks that
// ran, skips the rest, removes nothing, and ends CANCELED with its counts adding up; its
// results list the skipped rows with their fields.
func TestCancelBeforeTheRemovals(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	planner := jobs.Planner{MaxRows: 100}
	f.submit(screening.UpdatesOnly, rows(0, 300), planner)
	f.drain(5 * time.Second)
	before := f.rosterEmails()

	j := f.submitRequest(screening.FullSync, rows(200, 1200), planner) // 10 chunks; 0..199 would go
	batches := f.receiveAll(j.Chunks)
	first := batches[0]
	rest := batches[1:]
	if len(first.Records) > 3 { // run three chunks before the cancel, the others after
		rest = append([]events.SQSEvent{{Records: first.Records[3:]}}, rest...)
		first.Records = first.Records[:3]
	}
	if _, err := f.handle(f.ctx, first); err != nil {
		t.Fatal(err)
	}
	canceling, err := f.env.App.Jobs.Cancel(f.ctx, f.ws, j.ID, time.Now())
	if err != nil || canceling.Status != jobs.Canceling {
		t.Fatalf("cancel: %s, %v", canceling.Status, err)
	}
	for _, ev := range rest {
		if resp, err := f.handle(f.ctx, ev); err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("after the cancel: %v, %v", err, resp.BatchItemFailures)
		}
	}
	got, _ := f.job(j.ID)
	ran := 100 * len(first.Records)
	if got.Status != jobs.Canceled || got.Counts.Processed != ran || got.Counts.Skipped != 1000-ran || got.Counts.Removed != 0 {
		t.Errorf("canceled job: %s, %+v; want CANCELED, %d processed, the rest skipped, none removed", got.Status, got.Counts, ran)
	}
	after := f.rosterEmails()
	for _, e := range before {
		if _, found := slices.BinarySearch(after, e); !found {
			t.Errorf("%s was removed by a canceled FULL_SYNC", e)
		}
	}
	if len(after) != len(before)+got.Counts.Created {
		t.Errorf("roster after the canceled FULL_SYNC: %d people, want the %d before and the %d its chunks created", len(after), len(before), got.Counts.Created)
	}
	skipped := f.allResults(j.ID, jobs.ResultQuery{Outcome: jobs.OutcomeSkipped})
	if len(skipped) != 1000-ran {
		t.Fatalf("%d skipped results, want %d", len(skipped), 1000-ran)
	}
	for _, r := range skipped {
		if len(r.Fields) == 0 || r.Outcome != jobs.OutcomeSkipped {
			t.Fatalf("skipped result without its fields: %+v", r)
		}
	}
}
