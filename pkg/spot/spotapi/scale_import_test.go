package spotapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/localstack"
	"github.com/participant-roster/roster/pkg/dev/poller"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/platform/ddb"
)

// queueOptions shape a queuedEnv: the queue's redrive and visibility, and the poller that plays
// the worker function's SQS event source.
type queueOptions struct {
	visibility      time.Duration
	maxReceiveCount int
	batchSize       int           // the event source's BatchSize
	concurrency     int           // its MaximumConcurrency
	timeout         time.Duration // the worker function's timeout
	// workerOption, if set, is added to the worker's DynamoDB client only (fault injection);
	// the API functions keep the app's own client.
	workerOption func(*dynamodb.Options)
}

// queuedEnv is an asyncEnv on a queue of given settings, with its DLQ.
type queuedEnv struct {
	*asyncEnv
	dlq string
}

func newQueuedEnv(t *testing.T, o queueOptions) *queuedEnv {
	t.Helper()
	ctx := context.Background()
	env := testkit.NewEnv(t)
	sc, err := jobqueue.NewClient(ctx, sqsEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	queue, dlq, err := poller.CreateQueues(ctx, sc, localstack.UniqueQueueName("spot"), o.visibility, o.maxReceiveCount)
	if err != nil {
		t.Fatal(err)
	}
	env.App.EnableImports(sc, queue)
	// The app's worker as the poller needs it: paced per partition key with the budget of
	// `concurrency` worker instances together (what MaximumConcurrency Lambdas would have).
	worker := jobqueue.HandlerFor(env.App.PolledImportWorker(o.maxReceiveCount, o.concurrency))
	if o.workerOption != nil {
		st := ddb.New(dynamodb.New(env.Client.Options(), o.workerOption), env.Table)
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		worker = jobqueue.HandlerFor(app.WorkerOver(st, o.maxReceiveCount, log))
	}
	return &queuedEnv{
		asyncEnv: &asyncEnv{
			client: newClient(t, env), sqs: sc, queue: queue,
			poller: &poller.Poller{
				Client: sc, QueueURL: queue, Handler: worker,
				BatchSize: o.batchSize, Concurrency: o.concurrency, Timeout: o.timeout,
			},
		},
		dlq: dlq,
	}
}

// drainWithin feeds the queue to the worker until it is empty, failing the test if that takes
// longer than limit or messages are left after idle without a batch.
func (e *queuedEnv) drainWithin(limit, idle time.Duration) poller.PollStats {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	s, err := e.poller.Drain(ctx, idle)
	if err != nil {
		e.t.Fatalf("drain: %v (stats %+v)", err, s)
	}
	return s
}

// checkRoster checks through the store (consistent reads, no pages) that the screener's roster
// is exactly want (email -> name): each email once, with its name, the roster's counter
// agreeing; and that the tenant has one participant record per email, participants in all.
func (e *queuedEnv) checkRoster(what, scr string, want map[string]string, participants int) {
	e.t.Helper()
	ctx := context.Background()
	roster, err := e.env.App.Store.Roster(ctx, e.tenant.WorkspaceID, scr)
	if err != nil {
		e.t.Fatal(err)
	}
	seen := map[string]int{}
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 5 {
			e.t.Errorf(what+": "+format, args...)
		}
	}
	for _, s := range roster {
		seen[s.Email]++
		name, ok := want[s.Email]
		switch {
		case !ok:
			report("the roster holds %s, which the payload does not name", s.Email)
		case seen[s.Email] > 1:
			report("the roster holds %s %d times", s.Email, seen[s.Email])
		case s.Name != name:
			report("%s is named %q on the roster, want %q", s.Email, s.Name, name)
		}
	}
	for email := range want {
		if seen[email] == 0 {
			report("%s is not on the roster", email)
		}
	}
	if len(roster) != len(want) || bad > 0 {
		e.t.Errorf("%s: the roster has %d screener participants (%d problems), want the payload's %d", what, len(roster), bad, len(want))
	}
	if n := e.listScreener(scr).Total; n != len(want) {
		e.t.Errorf("%s: GET /screener-participants says total %d, want %d", what, n, len(want))
	}

	// The participant records themselves, straight from their partition.
	byEmail := map[string]int{}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(e.env.Table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "WS#" + e.tenant.WorkspaceID + "#PTP"}},
		ConsistentRead:            aws.Bool(true),
	}
	records := 0
	for {
		res, err := e.env.Client.Query(ctx, in)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, it := range res.Items {
			var p struct {
				SK    string `dynamodbav:"sk"`
				Email string `dynamodbav:"email"`
			}
			if err := attributevalue.UnmarshalMap(it, &p); err != nil {
				e.t.Fatal(err)
			}
			if p.SK != "#COUNT" {
				byEmail[p.Email]++
				records++
			}
		}
		if res.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	dups := 0
	for email, n := range byEmail {
		if n > 1 {
			if dups++; dups <= 5 {
				e.t.Errorf("%s: %d participant records for %s", what, n, email)
			}
		}
	}
	if records != participants || dups > 0 {
		e.t.Errorf("%s: %d participant records (%d emails repeated), want %d", what, records, dups, participants)
	}
	var list page[struct{}]
	r := e.get("ListParticipantsFunction", "/participants", q("pagination[limit]", "1"))
	wantStatus(e.t, r, 200)
	r.JSON(&list)
	if list.Total != participants {
		e.t.Errorf("%s: GET /participants says total %d, want %d", what, list.Total, participants)
	}
}

// scaleRows is the scale test's payload size: with scaleName's long names its body is 1 to 2
// MB, so its chunks are cut by MaxChunkBytes (about 250 rows each), two batches of them.
const scaleRows = 5000

// scaleName pads a scale row's name towards MaxNameLen, so that a body of scaleRows rows weighs
// what a body of 20,000 short rows does: the size is what the import function and the planner
// are tested at, the row count only costs time on DynamoDB Local. (No comma or quote: the CSV
// check compares a line as text.)
var scaleName = " of the scale test whose CRM keeps a long display name for every person:" + strings.Repeat(" long name", 10)

// scaleRow is row i of the scale test's CRM: external uid, email and name.
func scaleRow(i int, renamed bool) row {
	name := fmt.Sprintf("Person %d", i) + scaleName
	if renamed {
		name += " (renamed in the CRM)"
	}
	return uidRow(fmt.Sprintf("crm-%05d", i), fmt.Sprintf("p%05d@example.com", i), name)
}

// TestImportMegabytesThroughTheAPI: 5,000 rows with long names posted to the import function
// (a body of about 1.3 MB), run by the worker fed as ImportWorkerFunction's event source feeds
// it (batches of 10 chunks, 2 at a time), the job read back through its route; then a
// FULL_SYNC of 5,000 rows that keeps 4,300 (500 of them renamed), adds 700 and removes the
// other 700 (more removals than one results item holds), run first as a dry run that must
// predict it row by row and write nothing; the FULL_SYNC's results are read back, one per row,
// paged, filtered and as CSV.
func TestImportMegabytesThroughTheAPI(t *testing.T) {
	t.Parallel()
	a := newQueuedEnv(t, queueOptions{
		visibility: 180 * time.Second, maxReceiveCount: 5, batchSize: 10, concurrency: 2,
		// A batch of 10 chunks of 500 new rows takes tens of seconds on DynamoDB Local under
		// a loaded machine; the deadline is generous and the visibility timeout outlasts it.
		timeout: 120 * time.Second,
	})
	scr := a.screener("Scale")
	type counts = importCounts
	const gone, renamedFrom, renamed = 700, 2500, 500
	first := make([]row, 0, scaleRows)
	for i := range scaleRows {
		first = append(first, scaleRow(i, false))
	}
	second := make([]row, 0, scaleRows)
	for i := gone; i < scaleRows+gone; i++ {
		second = append(second, scaleRow(i, i >= renamedFrom && i < renamedFrom+renamed))
	}
	if jobs.MaxRemovalsPerItem >= gone {
		t.Fatalf("%d removals fit one results item (%d): the FULL_SYNC would not cross items", gone, jobs.MaxRemovalsPerItem)
	}
	synced := counts{Total: scaleRows, Processed: scaleRows, Created: gone, Updated: renamed, Unchanged: scaleRows - gone - renamed, Removed: gone}
	var dryResults []importResult
	for _, step := range []struct {
		mode   string
		dryRun bool
		rows   []row
		want   counts
		roster []row // the rows whose people are on the roster after the step
		// participants are the tenant's: a FULL_SYNC unlinks the absent, it does not delete them
		participants int
	}{
		{"UPDATES_ONLY", false, first, counts{Total: scaleRows, Processed: scaleRows, Created: scaleRows}, first, scaleRows},
		{"FULL_SYNC", true, second, synced, first, scaleRows},
		{"FULL_SYNC", false, second, synced, second, scaleRows + gone},
	} {
		what := step.mode
		query := ""
		if step.dryRun {
			what, query = step.mode+" dry run", q("dryRun", "true")
		}
		body := importBody(scr, step.mode, step.rows...)
		if len(body) < 1<<20 || len(body) > 2<<20 {
			t.Fatalf("%s: the body is %d bytes, want 1 to 2 MB", what, len(body))
		}
		start := time.Now()
		r := a.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", query, body, nil)
		job := a.accepted(r)
		posted := time.Since(start)
		if job.Counts.Total != len(step.rows) || job.ImportMode != step.mode || job.ScreenerID != scr || job.DryRun != step.dryRun {
			t.Fatalf("%s: accepted job %+v", what, job)
		}
		stats := a.drainWithin(5*time.Minute, 150*time.Second)
		ran := time.Since(start)
		done := a.job(job.ID)
		got := done.Counts
		if done.Status != "COMPLETED" || got != step.want || len(done.Errors) != 0 || done.Reason != nil ||
			done.StartedAt == nil || done.FinishedAt == nil {
			t.Fatalf("%s: job %s is %s with counts %+v, %d errors, reason %v; want COMPLETED with %+v",
				what, done.ID, done.Status, got, len(done.Errors), done.Reason, step.want)
		}
		if stats.Failed != 0 {
			t.Errorf("%s: %d deliveries failed (%+v) without a fault injected", what, stats.Failed, stats)
		}
		if stats.Batches < 2 {
			t.Errorf("%s: the job ran in %d batch (%+v): too few chunks to run two batches at a time", what, stats.Batches, stats)
		}
		if stored := a.storedJob(job.ID); step.dryRun && stored.RowWriteUnits != 0 {
			t.Errorf("%s: the rows cost %v write units, want 0", what, stored.RowWriteUnits)
		}
		want := map[string]string{}
		for _, r := range step.roster {
			want[r.Email] = r.Name
		}
		a.checkRoster(what, scr, want, step.participants)
		if step.mode == "FULL_SYNC" { // the dry run, then the import it predicted
			results := a.allResults(job.ID, "")
			checkScaleResults(t, what, step.rows, results, step.want)
			if step.dryRun {
				dryResults = results
			} else {
				checkPredicted(t, dryResults, results)
				checkResultFilters(t, a.asyncEnv, job.ID, step.want, scaleRow(renamedFrom+renamed-1, true))
			}
		}
		t.Logf("%s of %d rows (%d-byte body): 202 in %v, COMPLETED in %v (%d batches, %d chunks), checked in %v",
			what, len(step.rows), len(body), posted.Round(time.Millisecond), ran.Round(time.Millisecond),
			stats.Batches, stats.Received, (time.Since(start) - ran).Round(time.Millisecond))
	}
}

// checkScaleResults: one result per payload row, in row order, with the row as sent, then one
// per removal; the outcomes add up to the job's counts.
func checkScaleResults(t *testing.T, what string, payload []row, results []importResult, want importCounts) {
	t.Helper()
	if len(results) != len(payload)+want.Removed {
		t.Fatalf("%s: %d results, want %d rows and %d removals", what, len(results), len(payload), want.Removed)
	}
	var got importCounts
	for i, res := range results {
		if i < len(payload) {
			p := payload[i]
			if res.Row == nil || *res.Row != i || res.Email == nil || *res.Email != p.Email || *res.Name != p.Name ||
				res.ExternalUID == nil || *res.ExternalUID != *p.ExternalUID {
				t.Fatalf("%s: result %d is %+v, want row %d as sent (%+v)", what, i, res, i, p)
			}
		} else if res.Row != nil || res.Outcome != "removed" || res.ScreenerParticipantID == nil || res.Email == nil {
			t.Fatalf("%s: result %d is %+v, want a removal", what, i, res)
		}
		switch res.Outcome {
		case "created":
			got.Created++
		case "updated":
			got.Updated++
		case "unchanged":
			got.Unchanged++
		case "removed":
			got.Removed++
		default:
			t.Fatalf("%s: result %d: outcome %q", what, i, res.Outcome)
		}
	}
	got.Total, got.Processed = len(payload), got.Created+got.Updated+got.Unchanged
	if got != want {
		t.Errorf("%s: the results add up to %+v, the job says %+v", what, got, want)
	}
}

// checkPredicted: the dry run predicted, row by row, the outcome the import reported, the ids
// of the records that were there already, and exactly the removals.
func checkPredicted(t *testing.T, dry, imported []importResult) {
	t.Helper()
	dryRows, dryRemoved := rowsOf(t, dry)
	realRows, realRemoved := rowsOf(t, imported)
	for i := range realRows {
		if dryRows[i] != realRows[i] {
			t.Fatalf("row %d: the dry run predicted %s, the import did %s", i, dryRows[i], realRows[i])
		}
		if realRows[i] != "created" && (dry[i].ScreenerParticipantID == nil || *dry[i].ScreenerParticipantID != *imported[i].ScreenerParticipantID) {
			t.Fatalf("row %d: the dry run named %v, the import %v", i, dry[i].ScreenerParticipantID, *imported[i].ScreenerParticipantID)
		}
		if realRows[i] == "created" && dry[i].ScreenerParticipantID != nil {
			t.Fatalf("row %d: the dry run names the id %s it would make", i, *dry[i].ScreenerParticipantID)
		}
	}
	slices.Sort(dryRemoved)
	slices.Sort(realRemoved)
	if !slices.Equal(dryRemoved, realRemoved) {
		t.Errorf("the dry run would remove %d screener participants, the import removed %d, not the same ones", len(dryRemoved), len(realRemoved))
	}
}

// checkResultFilters: a large job's results filtered by outcome, deep pages, and CSV;
// lastUpdated is the payload's last renamed row.
func checkResultFilters(t *testing.T, a *asyncEnv, id string, want importCounts, lastUpdated row) {
	t.Helper()
	const from, limit = 300, 100
	for outcome, n := range map[string]int{"updated": want.Updated, "removed": want.Removed, "failed": 0} {
		r := a.results(id, q("filter[outcome][eq]", outcome, "pagination[offset]", fmt.Sprint(from), "pagination[limit]", fmt.Sprint(limit)), "")
		wantStatus(t, r, 200)
		var p page[importResult]
		r.JSON(&p)
		if p.Total != n || len(p.Items) != min(limit, max(0, n-from)) {
			t.Errorf("%s results from %d: total %d, %d items; want total %d", outcome, from, p.Total, len(p.Items), n)
		}
		for _, res := range p.Items {
			if res.Outcome != outcome {
				t.Fatalf("filter %s answered %+v", outcome, res)
			}
		}
	}
	// The last updated row is at offset Updated-1 of the updated ones.
	r := a.results(id, q("filter[outcome][eq]", "updated", "pagination[offset]", fmt.Sprint(want.Updated-1)), "text/csv")
	wantStatus(t, r, 200)
	wantLine := *lastUpdated.ExternalUID + "," + lastUpdated.Email + "," + lastUpdated.Name + ",updated,"
	if lines := strings.Split(strings.TrimSpace(r.Body), "\r\n"); len(lines) != 2 || lines[1] != wantLine || r.Headers["Link"] != "" {
		t.Errorf("the last updated row as CSV: %q (Link %q), want %q", r.Body, r.Headers["Link"], wantLine)
	}
}
