package snapapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/capacity"
)

// Issue 9 on the Snap side: dry runs, cancel, per-row results (JSON and CSV) and the job list,
// through the functions' handlers against DynamoDB Local and the local SQS.

type importResult struct {
	Row                 int             `json:"row"`
	Outcome             string          `json:"outcome"`
	Participant         json.RawMessage `json:"participant"`
	ParticipantUniqueID *string         `json:"participantUniqueId"`
	Message             *string         `json:"message"`
}

type importCounts struct {
	Total, Processed, Created, Unchanged, Failed, Skipped int
}

type importPlan struct {
	DryRun   bool           `json:"dryRun"`
	SurveyID string         `json:"surveyId"`
	Mode     string         `json:"mode"`
	Counts   importCounts   `json:"counts"`
	Results  []importResult `json:"results"`
}

// jobView is the job JSON's fields this file checks beyond snapImport's.
type jobView struct {
	ImportID          string       `json:"importId"`
	DryRun            bool         `json:"dryRun"`
	Status            string       `json:"status"`
	Counts            importCounts `json:"counts"`
	Errors            *[]any       `json:"errors"`
	CancelRequestedAt *string      `json:"cancelRequestedAt"`
	FinishedAt        *string      `json:"finishedAt"`
	ExpiresAt         string       `json:"expiresAt"`
}

const (
	importFn  = "SnapImportParticipantsFunction"
	getFn     = "SnapGetParticipantImportFunction"
	cancelFn  = "SnapCancelParticipantImportFunction"
	resultsFn = "SnapListParticipantImportResultsFunction"
	listFn    = "SnapListParticipantImportsFunction"
)

func importsURL(surveyID string) string { return base + surveyID + "/participant-imports" }

// mixedRoster adds the participants mixedRows meet: one there as its row says, one holding a
// login, one holding an email.
func (f *fixture) mixedRoster() {
	f.t.Helper()
	for _, body := range []string{groupBody("same", "same@example.com"), groupBody("holder", "held@example.com"), groupBody("mailer", "mail@example.com")} {
		wantStatus(f.t, f.add(f.owner, f.group, body), 201)
	}
}

// mixedRows are n new rows, then a row unchanged, one whose login another participant holds
// and one whose email another holds (the last three rows).
func mixedRows(n int) []string {
	return append(groupRows(0, n),
		strings.Replace(groupBody("same", "same@example.com"), `"status":"Completed"`, `"status":"NotStarted"`, 1),
		groupBody("holder", "other@example.com"),
		groupBody("newcomer", "mail@example.com"),
	)
}

func (f *fixture) job(surveyID, id string) jobView {
	f.t.Helper()
	r := f.do(f.owner, "2.0", getFn, "GET", importsURL(surveyID)+"/"+id, "", "")
	wantStatus(f.t, r, 200)
	var j jobView
	r.JSON(&j)
	return j
}

// resultsPage reads one page of a job's results.
func (f *fixture) resultsPage(surveyID, id, query string) (page struct {
	Results  []importResult `json:"results"`
	Progress string         `json:"progress"`
	UpToDate bool           `json:"upToDate"`
}, link string) {
	f.t.Helper()
	r := f.do(f.owner, "2.0", resultsFn, "GET", importsURL(surveyID)+"/"+id+"/results", query, "")
	wantStatus(f.t, r, 200)
	r.JSON(&page)
	return page, r.Headers["Link"]
}

// allResults walks every page of a job's results, pageSize at a time, checking the paging.
func (f *fixture) allResults(surveyID, id string, pageSize int, outcome string) []importResult {
	f.t.Helper()
	var out []importResult
	token := "0"
	for pages := 0; ; pages++ {
		q := url.Values{"startingFrom": {token}, "maxResults": {fmt.Sprint(pageSize)}}
		if outcome != "" {
			q.Set("outcome", outcome)
		}
		page, link := f.resultsPage(surveyID, id, q.Encode())
		out = append(out, page.Results...)
		if len(page.Results) > pageSize || pages > 1000 {
			f.t.Fatalf("page of %d results, asked for %d", len(page.Results), pageSize)
		}
		if page.UpToDate {
			if link != "" {
				f.t.Errorf("the last page names a next one: %s", link)
			}
			return out
		}
		if len(page.Results) != pageSize || !strings.Contains(link, "startingFrom="+page.Progress) || !strings.HasSuffix(link, `>; rel="next"`) {
			f.t.Fatalf("a page before the last: %d results, Link %q, progress %q", len(page.Results), link, page.Progress)
		}
		token = page.Progress
	}
}

// dryRun posts a dry run and returns its 200 plan and what it cost.
func (f *fixture) dryRun(surveyID, body string) (importPlan, float64, float64) {
	f.t.Helper()
	ctx, meter := capacity.WithMeter(context.Background())
	h := f.owner.headers("2.0")
	h["content-type"] = "application/json"
	r := f.env.InvokeContext(ctx, importFn, testkit.Event("POST", importsURL(surveyID), "dryRun=true", h, body))
	wantStatus(f.t, r, 200)
	var plan importPlan
	r.JSON(&plan)
	read, write := meter.Units()
	return plan, read, write - rateCounterWrite
}

// rateCounterWrite is the write unit every Snap call costs to count itself (the rate limiter's
// UpdateItem), whatever it does.
const rateCounterWrite = 1

// sameResults fails unless two runs' results say the same of every row.
func sameResults(t *testing.T, what string, got, want []importResult) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Row != i || w.Row != i || g.Outcome != w.Outcome || !equalJSON(g.Participant, w.Participant) ||
			deref(g.ParticipantUniqueID) != deref(w.ParticipantUniqueID) || deref(g.Message) != deref(w.Message) {
			t.Fatalf("%s: row %d: %+v (%s), want %+v (%s)", what, i, g, g.Participant, w, w.Participant)
		}
	}
}

func equalJSON(a, b json.RawMessage) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && js(x) == js(y)
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// checkMixed checks the results of mixedRows(n): created, then unchanged, login taken, email
// taken.
func checkMixed(t *testing.T, results []importResult, n int) {
	t.Helper()
	if len(results) != n+3 {
		t.Fatalf("%d results, want %d", len(results), n+3)
	}
	for i, r := range results[:n] {
		if id := fmt.Sprintf("p%05d", i); r.Row != i || r.Outcome != "created" || deref(r.ParticipantUniqueID) != id || r.Message != nil ||
			!strings.Contains(string(r.Participant), `"login":"`+id+`"`) {
			t.Fatalf("row %d: %+v %s", i, r, r.Participant)
		}
	}
	want := []struct{ outcome, id, message string }{
		{"unchanged", "same", "<nil>"}, {"failed", "holder", loginTaken}, {"failed", "newcomer", emailTaken},
	}
	for i, w := range want {
		if r := results[n+i]; r.Outcome != w.outcome || deref(r.ParticipantUniqueID) != w.id || deref(r.Message) != w.message {
			t.Errorf("row %d: %+v, want %+v", n+i, r, w)
		}
	}
}

// TestSyncDryRunPredictsTheImport: a dry run of up to 1,000 rows answers at once with every
// row's planned outcome, costs no write unit and changes nothing (no job, no lock); the real
// import then reports exactly the same, row by row.
func TestSyncDryRunPredictsTheImport(t *testing.T) {
	f := newFixture(t)
	q := f.env.EnableImports()
	f.mixedRoster()
	body := importBody(mixedRows(300)...)

	before := f.records()
	plan, read, write := f.dryRun(f.group, body)
	if write != 0 || read == 0 {
		t.Errorf("the dry run cost %v read and %v write units; want reads and no writes", read, write)
	}
	if after := f.records(); !maps.Equal(before, after) {
		t.Errorf("the dry run changed records: %d before, %d after", len(before), len(after))
	}
	if !plan.DryRun || plan.SurveyID != f.group || plan.Mode != "ADD" ||
		plan.Counts != (importCounts{Total: 303, Processed: 303, Created: 300, Unchanged: 1, Failed: 2}) {
		t.Fatalf("plan %+v", plan)
	}
	checkMixed(t, plan.Results, 300)
	if imports := f.listImports(f.group, ""); len(imports.Imports) != 0 {
		t.Errorf("a synchronous dry run made a job: %+v", imports.Imports)
	}

	// Invalid rows get the real import's 400, and a bad dryRun value its own.
	rows := mixedRows(2)
	rows[1] = groupBody("", "blank@example.com")
	h := f.owner.headers("2.0")
	r := f.env.Invoke(importFn, testkit.Event("POST", importsURL(f.group), "dryRun=true", h, importBody(rows...)))
	wantStatus(t, r, 400)
	if imported := f.importRows(f.group, importBody(rows...)); imported.Body != r.Body {
		t.Errorf("dry run 400 %s, real import 400 %s", r.Body, imported.Body)
	}
	for _, v := range []string{"yes", "1", "truth"} {
		wantMessage(t, f.env.Invoke(importFn, testkit.Event("POST", importsURL(f.group), "dryRun="+v, h, body)), 400,
			"The query parameter 'dryRun' must be true or false.")
	}
	wantMessage(t, f.env.Invoke(importFn, testkit.Event("POST", importsURL(f.group), "dryRun=true&dryRun=false", h, body)), 400,
		"The query parameter 'dryRun' is given more than once.")

	job := f.accepted(f.group, f.do(f.owner, "2.0", importFn, "POST", importsURL(f.group), "dryRun=false", body))
	q.Drain()
	if got := f.job(f.group, job.ImportID); got.Status != "COMPLETED" || got.DryRun || got.Counts != plan.Counts {
		t.Fatalf("the real import: %+v, the plan said %+v", got, plan.Counts)
	}
	sameResults(t, "import vs sync dry run", f.allResults(f.group, job.ImportID, 5000, ""), plan.Results)

	// Fewer rows than the limit, but more than 1 MB of them: a dry-run job.
	big := groupRows(9000, 800)
	for i := range big {
		big[i] = strings.Replace(big[i], `"Leeds"`, `"`+strings.Repeat("Leeds ", 250)+`"`, 1)
	}
	dry := f.accepted(f.group, f.do(f.owner, "2.0", importFn, "POST", importsURL(f.group), "dryRun=true", importBody(big...)))
	if j := f.job(f.group, dry.ImportID); !j.DryRun || j.Counts.Total != 800 {
		t.Errorf("a dry run of 800 rows and over 1 MB: %+v", j)
	}
	wantStatus(t, f.do(f.owner, "2.0", cancelFn, "DELETE", importsURL(f.group)+"/"+dry.ImportID, "", ""), 200)
}

// TestDryRunJobPredictsTheImport: above 1,000 rows a dry run is a job that does not hold the
// roster, writes nothing (0 row write units) and predicts the real import row by row.
func TestDryRunJobPredictsTheImport(t *testing.T) {
	f := newFixture(t)
	q := f.env.EnableImports()
	f.mixedRoster()
	body := importBody(mixedRows(1100)...)

	dry := f.accepted(f.group, f.do(f.owner, "2.0", importFn, "POST", importsURL(f.group), "dryRun=TRUE", body))
	if j := f.job(f.group, dry.ImportID); !j.DryRun || j.Counts.Total != 1103 || j.ExpiresAt == "" {
		t.Fatalf("dry-run job %+v", j)
	}
	// It holds nothing: participants change while it waits (one its rows do not name).
	wantStatus(t, f.add(f.owner, f.group, groupBody("bystander", "bystander@example.com")), 201)
	before := f.records()
	q.Drain()
	if after := f.records(); !maps.Equal(before, after) {
		t.Errorf("the dry-run job changed records: %d before, %d after", len(before), len(after))
	}
	stored, _, err := f.env.App.Jobs.Get(context.Background(), f.ws, dry.ImportID, 0)
	must(t, err)
	if stored.RowWriteUnits != 0 || stored.RowReadUnits == 0 || stored.HoldsTarget {
		t.Errorf("dry-run job: %v row write units, %v row read units, holds %v; want no writes, some reads, no hold",
			stored.RowWriteUnits, stored.RowReadUnits, stored.HoldsTarget)
	}
	got := f.job(f.group, dry.ImportID)
	want := importCounts{Total: 1103, Processed: 1103, Created: 1100, Unchanged: 1, Failed: 2}
	if got.Status != "COMPLETED" || !got.DryRun || got.Counts != want {
		t.Fatalf("dry-run job %+v", got)
	}
	planned := f.allResults(f.group, dry.ImportID, 400, "")
	checkMixed(t, planned, 1100)

	imported := f.accepted(f.group, f.importRows(f.group, body))
	q.Drain()
	if got := f.job(f.group, imported.ImportID); got.Status != "COMPLETED" || got.DryRun || got.Counts != want {
		t.Fatalf("the real import: %+v", got)
	}
	sameResults(t, "import vs dry-run job", f.allResults(f.group, imported.ImportID, 5000, ""), planned)
}

// TestCancelMidFlight: a cancel of a running import of several thousand rows lets the chunk in
// hand finish, skips the rest, ends CANCELED with counts that add up and one result per row,
// and frees the roster; asking again answers the same.
func TestCancelMidFlight(t *testing.T) {
	f := newFixture(t)
	q := f.env.EnableImports()
	q.Poller.BatchSize, q.Poller.Concurrency = 1, 1 // one chunk at a time, so the cancel falls between two
	const total = 3000
	job := f.accepted(f.group, f.importRows(f.group, importBody(groupRows(0, total)...)))
	path := importsURL(f.group) + "/" + job.ImportID

	// Before the second chunk: a cancel, and the same again (checked once the poller is done).
	worker, deliveries := q.Poller.Handler, 0
	var answers []testkit.Response
	q.Poller.Handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		if deliveries++; deliveries == 2 {
			for range 2 {
				answers = append(answers, f.do(f.owner, "2.0", cancelFn, "DELETE", path, "", ""))
			}
		}
		return worker(ctx, ev)
	}
	q.Drain()
	if len(answers) != 2 {
		t.Fatalf("%d cancels asked, want 2 (deliveries: %d)", len(answers), deliveries)
	}
	for _, r := range answers {
		wantStatus(t, r, 202)
		var j jobView
		r.JSON(&j)
		if j.Status != "CANCELING" || j.CancelRequestedAt == nil || !strings.HasSuffix(r.Headers["Location"], path) {
			t.Errorf("cancel of a running job: %+v, Location %q", j, r.Headers["Location"])
		}
	}

	got := f.job(f.group, job.ImportID)
	c := got.Counts
	if got.Status != "CANCELED" || got.FinishedAt == nil || got.CancelRequestedAt == nil || c.Total != total ||
		c.Processed+c.Skipped != total || c.Processed == 0 || c.Skipped == 0 || c.Created != c.Processed {
		t.Fatalf("canceled job %+v", got)
	}
	if logins := f.logins(f.group); len(logins) != c.Created {
		t.Errorf("%d participants, the job counts %d created", len(logins), c.Created)
	}
	results := f.allResults(f.group, job.ImportID, 5000, "")
	if len(results) != total {
		t.Fatalf("%d results, want one per row (%d)", len(results), total)
	}
	outcomes := map[string]int{}
	for i, r := range results {
		if r.Row != i || deref(r.ParticipantUniqueID) != fmt.Sprintf("p%05d", i) {
			t.Fatalf("result %d: %+v", i, r)
		}
		outcomes[r.Outcome]++
	}
	if outcomes["created"] != c.Created || outcomes["skipped"] != c.Skipped || len(outcomes) != 2 {
		t.Errorf("outcomes %v, counts %+v", outcomes, c)
	}
	if skipped := f.allResults(f.group, job.ImportID, 5000, "skipped"); len(skipped) != c.Skipped {
		t.Errorf("%d skipped results, want %d", len(skipped), c.Skipped)
	}

	// Again, now CANCELED: 200 and the same job.
	r := f.do(f.owner, "2.0", cancelFn, "DELETE", path, "", "")
	wantStatus(t, r, 200)
	var again jobView
	r.JSON(&again)
	if again.Status != "CANCELED" || again.Counts != c {
		t.Errorf("cancel again: %+v", again)
	}
	// The roster is free: add, update and delete go through again.
	after := base + f.group + "/participants/after"
	wantStatus(t, f.add(f.owner, f.group, groupBody("after", "after@example.com")), 201)
	wantStatus(t, f.do(f.owner, "2.0", "SnapUpdateParticipantFunction", "PUT", after, "", strings.Replace(groupBody("after", "after@example.com"), `"enabled":true`, `"enabled":false`, 1)), 200)
	wantStatus(t, f.do(f.owner, "2.0", "SnapDeleteParticipantFunction", "DELETE", after, "", ""), 200)
}

// TestCancelAnswers: a queued job is CANCELED at once (200) and frees the roster before any
// chunk runs, and its chunks change nothing later; a finished job is 409; an unknown job,
// one of another survey and a malformed id are 404.
func TestCancelAnswers(t *testing.T) {
	f := newFixture(t)
	q := f.env.EnableImports()
	job := f.accepted(f.group, f.importRows(f.group, importBody(groupRows(0, 1200)...)))
	path := importsURL(f.group) + "/" + job.ImportID
	// While it holds the roster a dry run is refused as an import is: its plan would not hold.
	wantMessage(t, f.do(f.owner, "2.0", importFn, "POST", importsURL(f.group), "dryRun=true", importBody(groupRows(0, 2)...)), 400, lockMessage)
	r := f.do(f.owner, "2.0", cancelFn, "DELETE", path, "", "")
	wantStatus(t, r, 200)
	var canceled jobView
	r.JSON(&canceled)
	if canceled.Status != "CANCELED" || canceled.Counts != (importCounts{Total: 1200, Skipped: 1200}) || canceled.Errors == nil {
		t.Fatalf("cancel of a queued job: %+v", canceled)
	}
	wantStatus(t, f.add(f.owner, f.group, groupBody("free", "free@example.com")), 201)
	q.Drain()
	if logins := f.logins(f.group); !slices.Equal(logins, []string{"free"}) {
		t.Errorf("a canceled job's chunks added participants: %d", len(logins))
	}
	if got := f.job(f.group, job.ImportID); got.Status != "CANCELED" || got.Counts != canceled.Counts {
		t.Errorf("after its chunks came: %+v", got)
	}
	wantStatus(t, f.do(f.owner, "2.0", cancelFn, "DELETE", path, "", ""), 200)

	done := f.accepted(f.group, f.importRows(f.group, importBody(groupRows(5000, 2)...)))
	q.Drain()
	wantMessage(t, f.do(f.owner, "2.0", cancelFn, "DELETE", importsURL(f.group)+"/"+done.ImportID, "", ""), 409,
		"The import has finished; it can no longer be canceled.")
	if got := f.job(f.group, done.ImportID); got.Status != "COMPLETED" {
		t.Errorf("a refused cancel changed the job: %+v", got)
	}
	for _, p := range []string{
		importsURL(f.group) + "/" + jobs.NewID(), importsURL(f.group) + "/not-a-job", importsURL(f.inviteOnly) + "/" + done.ImportID,
	} {
		wantMessage(t, f.do(f.owner, "2.0", cancelFn, "DELETE", p, "", ""), 404, "Import not found.")
	}
	wantMessage(t, f.do(f.owner, "2.0", cancelFn, "DELETE", path, "force=true", ""), 400, "The query parameter 'force' is not recognised.")
}

// TestImportResults: one result per row, paged by progress tokens (pages that cross from the
// first chunk's results to the second's), filtered by outcome, as JSON and as CSV; bad
// parameters are 400s that name them.
func TestImportResults(t *testing.T) {
	f := newFixture(t)
	q := f.env.EnableImports()
	f.mixedRoster()
	const n = jobs.MaxChunkRows + 100
	job := f.accepted(f.group, f.importRows(f.group, importBody(mixedRows(n)...)))
	q.Drain()
	checkMixed(t, f.allResults(f.group, job.ImportID, 400, ""), n)
	for outcome, want := range map[string]int{"created": n, "unchanged": 1, "failed": 2, "skipped": 0} {
		got := f.allResults(f.group, job.ImportID, 300, outcome)
		if len(got) != want {
			t.Errorf("outcome %s: %d results, want %d", outcome, len(got), want)
		}
		for _, r := range got {
			if r.Outcome != outcome {
				t.Errorf("outcome %s: %+v", outcome, r)
			}
		}
	}
	failed, _ := f.resultsPage(f.group, job.ImportID, "outcome=FAILED")
	if len(failed.Results) != 2 || failed.Results[0].Row != n+1 || deref(failed.Results[1].Message) != emailTaken {
		t.Errorf("failed rows %+v", failed.Results)
	}

	// Tokens belong to their listing.
	first, _ := f.resultsPage(f.group, job.ImportID, "maxResults=10")
	filtered, _ := f.resultsPage(f.group, job.ImportID, "maxResults=1&outcome=created")
	other := f.accepted(f.group, f.importRows(f.group, importBody(groupRows(0, 1)...)))
	q.Drain()
	otherPage, _ := f.resultsPage(f.group, other.ImportID, "maxResults=1")
	next, _ := f.resultsPage(f.group, job.ImportID, "maxResults=10&startingFrom="+first.Progress)
	if len(next.Results) != 10 || next.Results[0].Row != 10 {
		t.Errorf("the second page starts at row %d", next.Results[0].Row)
	}
	results := importsURL(f.group) + "/" + job.ImportID + "/results"
	badToken := "The query parameter 'startingFrom' must be 0 or a progress token returned by an earlier call."
	for _, tc := range []struct{ query, message string }{
		{"startingFrom=garbage", badToken},
		{"startingFrom=" + filtered.Progress, badToken},             // another filter's
		{"startingFrom=" + otherPage.Progress, badToken},            // another job's
		{"outcome=failed&startingFrom=" + first.Progress, badToken}, // the unfiltered listing's
		{"maxResults=0", "The query parameter 'maxResults' must be a whole number from 1 to 5000."},
		{"maxResults=5001", "The query parameter 'maxResults' must be a whole number from 1 to 5000."},
		{"outcome=updated", "The query parameter 'outcome' must be one of created, unchanged, failed, skipped."},
		{"page=2", "The query parameter 'page' is not recognised."},
	} {
		wantMessage(t, f.do(f.owner, "2.0", resultsFn, "GET", results, tc.query, ""), 400, tc.message)
	}
	wantMessage(t, f.do(f.owner, "2.0", resultsFn, "GET", importsURL(f.group)+"/"+jobs.NewID()+"/results", "", ""), 404, "Import not found.")
	wantMessage(t, f.do(f.owner, "2.0", resultsFn, "GET", importsURL(f.inviteOnly)+"/"+job.ImportID+"/results", "", ""), 404, "Import not found.")

	// CSV: the participant's fields by dotted name, then outcome and error.
	csvOf := func(accept, query string) testkit.Response {
		h := f.owner.headers("2.0")
		h["accept"] = accept
		return f.env.Invoke(resultsFn, testkit.Event("GET", results, query, h, ""))
	}
	r := csvOf("text/csv", "outcome=failed")
	wantStatus(t, r, 200)
	if ct := r.Headers["Content-Type"]; ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	must(t, err)
	if len(lines) != 3 {
		t.Fatalf("CSV of %d lines, want a header and 2 rows:\n%s", len(lines), r.Body)
	}
	header := lines[0]
	col := func(name string) int {
		i := slices.Index(header, name)
		if i < 0 {
			t.Fatalf("no column %q in %v", name, header)
		}
		return i
	}
	if n := len(header); header[n-2] != "outcome" || header[n-1] != "error" || !slices.IsSorted(header[:n-2]) {
		t.Errorf("header %v: want the fields sorted, then outcome and error", header)
	}
	for i, want := range []struct{ login, email, message string }{{"holder", "other@example.com", loginTaken}, {"newcomer", "mail@example.com", emailTaken}} {
		line := lines[i+1]
		if line[col("loginSection.login")] != want.login || line[col("invitationSection.emailAddress")] != want.email ||
			line[col("invitationSection.inviteSeeding.Forenames")] != "A" || line[col("enabled")] != "true" ||
			line[col("outcome")] != "failed" || line[col("error")] != want.message {
			t.Errorf("CSV row %d: %v", i, line)
		}
		var subjects []map[string]any
		if err := json.Unmarshal([]byte(line[col("loginSection.subjects")]), &subjects); err != nil || len(subjects) != 1 || subjects[0]["subjectName"] != "L1" {
			t.Errorf("CSV row %d subjects %q: %v", i, line[col("loginSection.subjects")], err)
		}
	}
	paged := csvOf("text/csv", "maxResults=2")
	if lines, err := csv.NewReader(strings.NewReader(paged.Body)).ReadAll(); err != nil || len(lines) != 3 || !strings.Contains(paged.Headers["Link"], `rel="next"`) {
		t.Errorf("a CSV page of 2: %d lines (%v), Link %q", len(lines), err, paged.Headers["Link"])
	}
	for accept, wantCSV := range map[string]bool{
		"application/json, text/csv": false, "text/csv;q=0.5, application/json": false, "*/*": false, "": false,
		"application/json;q=0.5, text/csv": true, "text/csv, */*": true, "text/*, text/csv;q=0.9": true,
	} {
		got := strings.HasPrefix(csvOf(accept, "maxResults=1").Headers["Content-Type"], "text/csv")
		if got != wantCSV {
			t.Errorf("Accept %q: CSV %v, want %v", accept, got, wantCSV)
		}
	}
}

type importList struct {
	Imports  []jobView `json:"imports"`
	Progress string    `json:"progress"`
	UpToDate bool      `json:"upToDate"`
}

func (f *fixture) listImports(surveyID, query string) importList {
	f.t.Helper()
	r := f.do(f.owner, "2.0", listFn, "GET", importsURL(surveyID), query, "")
	wantStatus(f.t, r, 200)
	var l importList
	r.JSON(&l)
	if l.UpToDate == (r.Headers["Link"] != "") {
		f.t.Errorf("upToDate %v, Link %q", l.UpToDate, r.Headers["Link"])
	}
	return l
}

func importIDs(l importList) []string {
	out := make([]string, len(l.Imports))
	for i, j := range l.Imports {
		out[i] = j.ImportID
	}
	return out
}

// TestImportList: a survey's jobs newest first, by status, paged; another survey's jobs are
// not listed, and items leave the row errors to Get Participant Import.
func TestImportList(t *testing.T) {
	f := newFixture(t)
	q := f.env.EnableImports()
	done := f.accepted(f.group, f.importRows(f.group, importBody(groupRows(0, 2)...)))
	q.Drain()
	dry := f.accepted(f.group, f.do(f.owner, "2.0", importFn, "POST", importsURL(f.group), "dryRun=true", importBody(groupRows(100, 1200)...)))
	canceled := f.accepted(f.group, f.importRows(f.group, importBody(groupRows(2000, 3)...))) // the dry run holds nothing
	wantStatus(t, f.do(f.owner, "2.0", cancelFn, "DELETE", importsURL(f.group)+"/"+canceled.ImportID, "", ""), 200)
	solo := `{"loginSection": {"login": "solo", "subjects": [{"subjectName": "", "questionnaireSeeding": {}}]}}`
	elsewhere := f.accepted(f.loginOnly, f.importRows(f.loginOnly, importBody(solo)))
	q.Drain()

	all := f.listImports(f.group, "")
	if ids := importIDs(all); !slices.Equal(ids, []string{canceled.ImportID, dry.ImportID, done.ImportID}) || !all.UpToDate {
		t.Fatalf("imports %v, want newest first: %s %s %s", ids, canceled.ImportID, dry.ImportID, done.ImportID)
	}
	for _, j := range all.Imports {
		if j.Errors != nil || j.ExpiresAt == "" {
			t.Errorf("list item %+v: want no errors and an expiry", j)
		}
	}
	if j := all.Imports[1]; !j.DryRun || j.Status != "COMPLETED" {
		t.Errorf("the dry run's item %+v", j)
	}
	for status, want := range map[string][]string{
		"CANCELED": {canceled.ImportID}, "completed": {dry.ImportID, done.ImportID}, "RUNNING": {},
	} {
		if ids := importIDs(f.listImports(f.group, "status="+status)); !slices.Equal(ids, want) {
			t.Errorf("status %s: %v, want %v", status, ids, want)
		}
	}
	if ids := importIDs(f.listImports(f.loginOnly, "")); !slices.Equal(ids, []string{elsewhere.ImportID}) {
		t.Errorf("the other survey's imports: %v", ids)
	}

	// One at a time: three pages, then up to date.
	var paged []string
	token := "0"
	for range 3 {
		page := f.listImports(f.group, "maxImports=1&startingFrom="+token)
		paged = append(paged, importIDs(page)...)
		token = page.Progress
		if page.UpToDate != (len(paged) == 3) {
			t.Fatalf("after %d: upToDate %v", len(paged), page.UpToDate)
		}
	}
	if !slices.Equal(paged, importIDs(all)) {
		t.Errorf("paged %v, want %v", paged, importIDs(all))
	}
	filtered := f.listImports(f.group, "maxImports=1&status=COMPLETED")
	badToken := "The query parameter 'startingFrom' must be 0 or a progress token returned by an earlier call."
	for _, tc := range []struct{ survey, query, message string }{
		{f.group, "startingFrom=" + filtered.Progress, badToken}, // the filtered listing's
		{f.loginOnly, "startingFrom=" + token, badToken},         // another survey's
		{f.group, "maxImports=x", "The query parameter 'maxImports' must be a whole number from 1 to 5000."},
		{f.group, "status=DONE", "The query parameter 'status' must be one of QUEUED, RUNNING, CANCELING, COMPLETED, FAILED, CANCELED."},
	} {
		wantMessage(t, f.do(f.owner, "2.0", listFn, "GET", importsURL(tc.survey), tc.query, ""), 400, tc.message)
	}
	other := fixtureIn(t, f.env)
	wantMessage(t, other.do(other.owner, "2.0", listFn, "GET", importsURL(f.group), "", ""), 401,
		"The survey does not exist or you do not have access to it.")
}
