package spotapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
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

// scaleRow is row i of the scale test's CRM: external uid, email and name.
func scaleRow(i int, renamed bool) row {
	name := fmt.Sprintf("Person %d", i)
	if renamed {
		name += " (renamed in the CRM)"
	}
	return uidRow(fmt.Sprintf("crm-%05d", i), fmt.Sprintf("p%05d@example.com", i), name)
}

// TestImport20000RowsThroughTheAPI: 20,000 rows posted to the import function (a body of about
// 1.5 MB), run by the worker fed as ImportWorkerFunction's event source feeds it (batches of
// 10 chunks, 2 at a time), the job read back through its route; then a FULL_SYNC of 20,000
// rows that keeps 18,000 (2,000 of them renamed), adds 2,000 and removes the other 2,000.
func TestImport20000RowsThroughTheAPI(t *testing.T) {
	a := newQueuedEnv(t, queueOptions{
		visibility: 180 * time.Second, maxReceiveCount: 5, batchSize: 10, concurrency: 2,
		// A batch of 10 chunks of 500 new rows takes tens of seconds on DynamoDB Local under
		// a loaded machine; the deadline is generous and the visibility timeout outlasts it.
		timeout: 120 * time.Second,
	})
	scr := a.screener("Scale")
	type counts struct{ Total, Processed, Created, Updated, Unchanged, Removed, Failed int }
	first := make([]row, 0, 20000)
	for i := range 20000 {
		first = append(first, scaleRow(i, false))
	}
	second := make([]row, 0, 20000)
	for i := 2000; i < 22000; i++ {
		second = append(second, scaleRow(i, i >= 10000 && i < 12000))
	}
	for _, step := range []struct {
		mode         string
		rows         []row
		want         counts
		participants int // the tenant's: a FULL_SYNC unlinks the absent, it does not delete them
	}{
		{"UPDATES_ONLY", first, counts{Total: 20000, Processed: 20000, Created: 20000}, 20000},
		{"FULL_SYNC", second, counts{Total: 20000, Processed: 20000, Created: 2000, Updated: 2000, Unchanged: 16000, Removed: 2000}, 22000},
	} {
		body := importBody(scr, step.mode, step.rows...)
		if len(body) < 1<<20 || len(body) > 2<<20 {
			t.Fatalf("%s: the body is %d bytes, want 1 to 2 MB", step.mode, len(body))
		}
		start := time.Now()
		r := a.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", "", body, nil)
		job := a.accepted(r)
		posted := time.Since(start)
		if job.Counts.Total != len(step.rows) || job.ImportMode != step.mode || job.ScreenerID != scr {
			t.Fatalf("%s: accepted job %+v", step.mode, job)
		}
		stats := a.drainWithin(5*time.Minute, 150*time.Second)
		ran := time.Since(start)
		done := a.job(job.ID)
		got := counts(done.Counts)
		if done.Status != "COMPLETED" || got != step.want || len(done.Errors) != 0 || done.Reason != nil ||
			done.StartedAt == nil || done.FinishedAt == nil {
			t.Fatalf("%s: job %s is %s with counts %+v, %d errors, reason %v; want COMPLETED with %+v",
				step.mode, done.ID, done.Status, got, len(done.Errors), done.Reason, step.want)
		}
		if stats.Failed != 0 {
			t.Errorf("%s: %d deliveries failed (%+v) without a fault injected", step.mode, stats.Failed, stats)
		}
		want := map[string]string{}
		for _, r := range step.rows {
			want[r.Email] = r.Name
		}
		a.checkRoster(step.mode, scr, want, step.participants)
		t.Logf("%s of %d rows (%d-byte body): 202 in %v, COMPLETED in %v (%d batches, %d chunks), checked in %v",
			step.mode, len(step.rows), len(body), posted.Round(time.Millisecond), ran.Round(time.Millisecond),
			stats.Batches, stats.Received, (time.Since(start) - ran).Round(time.Millisecond))
	}
}
