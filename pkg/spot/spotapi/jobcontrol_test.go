package spotapi_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/jobs"
)

// TestCancelLargeFullSyncMidFlight: a 5,000-row FULL_SYNC (10 chunks) canceled after a few chunks ends
// CANCELED: the chunks that ran count, the others are skipped (processed + skipped = total),
// every processed row is on the roster and no skipped row is, and the removals never run.
func TestCancelLargeFullSyncMidFlight(t *testing.T) {
	t.Parallel()
	a := newAsyncEnv(t)
	scr := a.screener("Cancel")
	absent := rows(50, "absent") // on the roster, not in the FULL_SYNC: only its finish would remove them
	wantStatus(t, a.importRows(scr, "", absent...), 200)
	// The worker runs only while pollUntil polls, so at most four of the ten chunks run.
	const total = 10 * jobs.MaxChunkRows
	payload := rows(total, "sync")
	job := a.submit("", importBody(scr, "FULL_SYNC", payload...), nil)
	a.pollUntil("three chunks counted", func() bool { return a.job(job.ID).Counts.Processed >= 3*jobs.MaxChunkRows })

	for range 2 { // a second cancel answers the same
		r := a.cancel(job.ID)
		wantStatus(t, r, 202)
		var canceling importJob
		r.JSON(&canceling)
		if canceling.Status != "CANCELING" || canceling.CancelRequestedAt == nil || canceling.FinishedAt != nil || canceling.ID != job.ID {
			t.Fatalf("cancel answered %+v", canceling)
		}
	}
	a.drain()
	done := a.job(job.ID)
	c := done.Counts
	if done.Status != "CANCELED" || c.Processed+c.Skipped != c.Total || c.Total != total || c.Skipped == 0 ||
		c.Processed < 3*jobs.MaxChunkRows || c.Processed != c.Created || c.Removed != 0 || done.FinishedAt == nil {
		t.Fatalf("canceled job %+v", done)
	}
	r := a.cancel(job.ID)
	wantStatus(t, r, 200)
	var again importJob
	r.JSON(&again)
	if again.Status != "CANCELED" || again.Counts != done.Counts {
		t.Fatalf("cancel of a canceled job answered %+v", again)
	}

	results := a.allResults(job.ID, "")
	if len(results) != total {
		t.Fatalf("%d results, want one per row", len(results))
	}
	roster := a.rosterEmails(scr)
	processed := 0
	for i, res := range results {
		email := payload[i].Email
		switch {
		case res.Row == nil || *res.Row != i || res.Email == nil || *res.Email != email:
			t.Fatalf("result %d is %+v, want row %d (%s)", i, res, i, email)
		case res.Outcome == "created":
			processed++
			if !roster[email] || res.ScreenerParticipantID == nil {
				t.Fatalf("row %d was processed, but %s is not on the roster (%+v)", i, email, res)
			}
		case res.Outcome == "skipped":
			if roster[email] {
				t.Fatalf("row %d was skipped, but %s is on the roster", i, email)
			}
		default:
			t.Fatalf("row %d: outcome %q", i, res.Outcome)
		}
	}
	for _, r := range absent {
		if !roster[r.Email] {
			t.Errorf("%s was removed by a canceled FULL_SYNC", r.Email)
		}
	}
	if processed != c.Processed || len(roster) != len(absent)+processed {
		t.Errorf("%d rows created, the job says %d processed; the roster has %d, want %d", processed, c.Processed, len(roster), len(absent)+processed)
	}
}

// TestCancelQueuedAndFinishedJobs: a queued job is CANCELED at once (its FULL_SYNC removes
// nothing, its rows are skipped); a finished one is 409; unknown or another workspace's, 404.
func TestCancelQueuedAndFinishedJobs(t *testing.T) {
	a := newAsyncEnv(t)
	scr := a.screener("Queued")
	seed := rows(2, "seed")
	wantStatus(t, a.importRows(scr, "", seed...), 200)
	queued := a.submit("", importBody(scr, "FULL_SYNC", rows(3, "new")...), asyncNow)
	for range 2 {
		r := a.cancel(queued.ID)
		wantStatus(t, r, 200)
		var job importJob
		r.JSON(&job)
		if job.Status != "CANCELED" || job.Counts != (importCounts{Total: 3, Skipped: 3}) || job.CancelRequestedAt == nil {
			t.Fatalf("cancel of a queued job answered %+v", job)
		}
	}
	finished := a.submit("", importBody(scr, "", rows(2, "fin")...), asyncNow)
	a.drain()
	if j := a.job(queued.ID); j.Status != "CANCELED" || j.Counts.Processed != 0 {
		t.Fatalf("after its chunks came, the canceled job is %+v", j)
	}
	if got := a.rosterEmails(scr); len(got) != 4 || !got[seed[0].Email] || !got[seed[1].Email] {
		t.Fatalf("roster %v: the canceled FULL_SYNC wrote or removed", got)
	}
	// Its rows are skipped; they never ran, so the engine may have no fields for them.
	for i, res := range a.allResults(queued.ID, "") {
		if res.Outcome != "skipped" || *res.Row != i || res.Email != nil && !strings.HasPrefix(*res.Email, "new") {
			t.Errorf("result %d of a canceled queued job: %+v", i, res)
		}
	}

	if j := a.job(finished.ID); j.Status != "COMPLETED" {
		t.Fatalf("job %+v", j)
	}
	wantProblem(t, a.cancel(finished.ID), 409, "IMPORT_FINISHED")
	if j := a.job(finished.ID); j.Status != "COMPLETED" || j.CancelRequestedAt != nil {
		t.Fatalf("a refused cancel changed the job: %+v", j)
	}
	other := newClient(t, a.env)
	wantProblem(t, a.cancel(jobs.NewID()), 404, "NOT_FOUND")
	wantProblem(t, a.call(cancelFn, "DELETE", jobPath("job_123"), "", "", nil), 404, "NOT_FOUND")
	wantProblem(t, other.call(cancelFn, "DELETE", jobPath(finished.ID), "", "", nil), 404, "NOT_FOUND")
}

// TestAsyncMaxRemovals: a FULL_SYNC job that would remove more than maxRemovals ends FAILED
// saying how many, and removes nothing (a dry run of it too).
func TestAsyncMaxRemovals(t *testing.T) {
	a := newAsyncEnv(t)
	type guarded struct {
		scr string
		job importJob
	}
	var jobsRun []guarded
	for _, query := range []string{q("maxRemovals", "2"), q("maxRemovals", "2", "dryRun", "true")} {
		scr := a.screener("Guard " + query)
		seed := rows(4, "seed")
		wantStatus(t, a.importRows(scr, "", seed...), 200)
		body := importBody(scr, "FULL_SYNC", seed[0], uidRow("new-1", "new1@example.com", "New")) // removes 3
		job := a.submit(query, body, asyncNow)
		if job.MaxRemovals == nil || *job.MaxRemovals != 2 || job.DryRun != strings.Contains(query, "dryRun") {
			t.Fatalf("%s: accepted %+v", query, job)
		}
		jobsRun = append(jobsRun, guarded{scr, job})
	}
	a.drain()
	for i, g := range jobsRun {
		j := a.job(g.job.ID)
		if j.Status != "FAILED" || !strings.Contains(deref(j.Reason), "would remove 3 records, more than maxRemovals 2") || j.Counts.Removed != 0 {
			t.Errorf("guarded job %+v (reason %q)", j, deref(j.Reason))
		}
		want := 5 // the 4 seeded, none removed, and the new row
		if j.DryRun {
			want = 4
		}
		if got := a.rosterEmails(g.scr); len(got) != want {
			t.Errorf("job %d: roster %v, want %d on it", i, got, want)
		}
	}
}

// TestCSVResultsRoundTrip: the failed rows of a job, exported as CSV, fixed and imported as
// that very file, all go in.
func TestCSVResultsRoundTrip(t *testing.T) {
	a := newAsyncEnv(t)
	scr := a.screener("Round trip")
	taken := rows(5, "taken")
	wantStatus(t, a.importRows(a.screener("Elsewhere"), "", taken...), 200)
	payload := rows(25, "ok")
	for i, tk := range taken { // a new externalUid with a taken email: EXTERNAL_UID_CONFLICT
		payload = append(payload, uidRow(fmt.Sprintf("fix-%d", i), tk.Email, fmt.Sprintf("Fix, \"%d\"", i)))
	}
	job := a.submit("", importBody(scr, "", payload...), asyncNow)
	a.drain()
	if j := a.job(job.ID); j.Status != "COMPLETED" || j.Counts.Failed != 5 || j.Counts.Created != 25 {
		t.Fatalf("job %+v", j)
	}
	for _, res := range a.allResults(job.ID, "failed") {
		if len(res.Errors) != 1 || res.Errors[0].Code != "EXTERNAL_UID_CONFLICT" || res.ParticipantID != nil {
			t.Errorf("failed result %+v", res)
		}
	}

	r := a.results(job.ID, q("filter[outcome][eq]", "failed"), "text/csv")
	wantStatus(t, r, 200)
	if ct := r.Headers["Content-Type"]; ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	records, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v\n%s", err, r.Body)
	}
	if got := strings.Join(records[0], ","); got != "externalUid,email,name,outcome,error" || len(records) != 6 {
		t.Fatalf("export header %q, %d records:\n%s", got, len(records), r.Body)
	}
	for i, rec := range records[1:] {
		if rec[0] != fmt.Sprintf("fix-%d", i) || rec[1] != taken[i].Email || rec[2] != fmt.Sprintf("Fix, \"%d\"", i) ||
			rec[3] != "failed" || !strings.Contains(rec[4], "externalUid") {
			t.Fatalf("exported record %d: %q", i, rec)
		}
		rec[1] = fmt.Sprintf("fixed-%d@example.com", i) // the fix: an email of their own
	}
	var fixed bytes.Buffer
	if err := csv.NewWriter(&fixed).WriteAll(records); err != nil {
		t.Fatal(err)
	}
	r = a.importCSV(q("screenerId", scr), fixed.String())
	wantStatus(t, r, 200)
	var imported []sp
	r.JSON(&imported)
	if len(imported) != 5 || imported[4].Name != `Fix, "4"` || imported[4].ExternalParticipantUID != "fix-4" {
		t.Fatalf("the fixed file imported %+v", imported)
	}
	if n := a.listScreener(scr).Total; n != 30 {
		t.Fatalf("the roster has %d, want all 30 rows", n)
	}
}

// TestImportResultsPagesAndFormats: paging with Link rel="next" (the filter kept), the outcome
// filter, Accept negotiation, and the 400s and 404s.
func TestImportResultsPagesAndFormats(t *testing.T) {
	a := newAsyncEnv(t)
	scr := a.screener("Pages")
	seed := rows(3, "pg")
	wantStatus(t, a.importRows(scr, "", seed...), 200)
	payload := append(seed[:3:3], rows(4, "fresh")...) // rows 0-2 unchanged, 3-6 created
	job := a.submit("", importBody(scr, "", payload...), asyncNow)
	a.drain()

	r := a.results(job.ID, q("filter[outcome][eq]", "created", "pagination[limit]", "3"), "")
	wantStatus(t, r, 200)
	var p page[importResult]
	r.JSON(&p)
	if p.Total != 4 || len(p.Items) != 3 || *p.Items[0].Row != 3 || p.Items[0].Outcome != "created" {
		t.Fatalf("first page of created: %+v", p)
	}
	m := nextLink.FindStringSubmatch(r.Headers["Link"])
	if m == nil || !strings.Contains(m[1], "filter%5Boutcome%5D%5Beq%5D=created") || !strings.Contains(m[1], "pagination%5Boffset%5D=3") {
		t.Fatalf("Link %q", r.Headers["Link"])
	}
	if got := a.allResults(job.ID, "unchanged"); len(got) != 3 || *got[2].Row != 2 {
		t.Fatalf("unchanged results %+v", got)
	}
	if got := a.allResults(job.ID, "removed"); len(got) != 0 {
		t.Fatalf("removed results of an UPDATES_ONLY job: %+v", got)
	}

	for accept, csvWanted := range map[string]bool{
		"": false, "*/*": false, "application/json": false, "text/csv": true, "text/csv, */*": true,
		"application/json, text/csv": false, "text/csv, application/json": true,
		"text/csv;q=0.5, application/json": false, "application/json;q=0.5, text/csv": true, "text/csv;q=0": false,
	} {
		r := a.results(job.ID, q("pagination[limit]", "2"), accept)
		wantStatus(t, r, 200)
		if got := strings.HasPrefix(r.Headers["Content-Type"], "text/csv"); got != csvWanted {
			t.Errorf("Accept %q: Content-Type %q", accept, r.Headers["Content-Type"])
		}
		if r.Headers["Link"] == "" {
			t.Errorf("Accept %q: no Link on a first page of 2 of 7", accept)
		}
	}
	csvPage := a.results(job.ID, q("pagination[offset]", "6"), "text/csv")
	if lines := strings.Split(strings.TrimSpace(csvPage.Body), "\r\n"); len(lines) != 2 || !strings.HasSuffix(lines[1], ",created,") {
		t.Fatalf("CSV of the last row: %q", csvPage.Body)
	}

	p2 := wantProblem(t, a.results(job.ID, q("filter[outcome][eq]", "lost"), ""), 400, "INVALID_QUERY")
	if got := p2.fields(); len(got) != 1 || got[0] != "filter[outcome][eq]:INVALID" {
		t.Errorf("bad outcome filter: %v", got)
	}
	wantProblem(t, a.results(job.ID, q("filter[row][eq]", "1"), ""), 400, "INVALID_QUERY")
	wantProblem(t, a.results(jobs.NewID(), "", ""), 404, "NOT_FOUND")
	wantProblem(t, newClient(t, a.env).results(job.ID, "", "text/csv"), 404, "NOT_FOUND")
}

// TestListImportJobs: newest first, filtered by screener and status, paged; another
// workspace's jobs are not there.
func TestListImportJobs(t *testing.T) {
	a := newAsyncEnv(t)
	scrA, scrB := a.screener("A"), a.screener("B")
	j1 := a.submit("", importBody(scrA, "", rows(2, "one")...), asyncNow)
	j2 := a.submit("", importBody(scrB, "", rows(2, "two")...), asyncNow)
	j3 := a.submit(q("dryRun", "true"), importBody(scrA, "FULL_SYNC", rows(2, "three")...), asyncNow)
	wantStatus(t, a.cancel(j3.ID), 200)
	a.drain()
	other := newClient(t, a.env)
	otherScr := other.screener("Theirs")
	wantStatus(t, other.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", "",
		importBody(otherScr, "", rows(1, "x")...), asyncNow), 202)

	list := func(c *client, query string) (int, []string) {
		t.Helper()
		r := c.get(listJobFn, "/screener-participants-imports", query)
		wantStatus(t, r, 200)
		var p page[importJob]
		r.JSON(&p)
		if p.Type != "PaginatedScreenerParticipantImport" {
			t.Fatalf("list %s", r.Body)
		}
		var ids []string
		for _, j := range p.Items {
			ids = append(ids, j.ID)
		}
		return p.Total, ids
	}
	for _, tc := range []struct {
		query string
		total int
		want  []string
	}{
		{"", 3, []string{j3.ID, j2.ID, j1.ID}},
		{q("filter[screenerId][eq]", scrA), 2, []string{j3.ID, j1.ID}},
		{q("filter[status][eq]", "CANCELED"), 1, []string{j3.ID}},
		{q("filter[status][eq]", "COMPLETED", "filter[screenerId][eq]", scrA), 1, []string{j1.ID}},
		{q("filter[status][eq]", "RUNNING"), 0, nil},
		{q("pagination[offset]", "1", "pagination[limit]", "1"), 3, []string{j2.ID}},
		{q("filter[screenerId][eq]", otherScr), 0, nil},
	} {
		total, ids := list(a.client, tc.query)
		if total != tc.total || strings.Join(ids, ",") != strings.Join(tc.want, ",") {
			t.Errorf("list %q: total %d, %v; want %d, %v", tc.query, total, ids, tc.total, tc.want)
		}
	}
	if total, _ := list(other, ""); total != 1 {
		t.Errorf("the other workspace lists %d jobs, want its own 1", total)
	}
	for query, field := range map[string]string{
		q("filter[status][eq]", "DONE"):    "filter[status][eq]:INVALID",
		q("filter[screenerId][eq]", "abc"): "filter[screenerId][eq]:INVALID",
		q("filter[importMode][eq]", "ADD"): "filter[importMode][eq]:UNKNOWN_FILTER",
		q("pagination[limit]", "0"):        "pagination[limit]:OUT_OF_RANGE",
	} {
		p := wantProblem(t, a.get(listJobFn, "/screener-participants-imports", query), 400, "INVALID_QUERY")
		if got := p.fields(); len(got) != 1 || got[0] != field {
			t.Errorf("list %q: %v, want %s", query, got, field)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
