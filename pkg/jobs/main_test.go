package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/localstack"
	"github.com/participant-roster/roster/pkg/dev/poller"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/platform/ddb"

	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
	"github.com/participant-roster/roster/pkg/vocab"
)

var sqsEndpoint string

// TestMain shares one DynamoDB Local (testkit.Main) and one moto_server: the ones `make test`
// started (DYNAMODB_ENDPOINT, SQS_ENDPOINT), or private ones. testkit.Main exits the process, so
// a private moto is not stopped here: it gets SIGTERM when this process dies (Pdeathsig, see
// localstack.StartSQS).
func TestMain(m *testing.M) {
	ep, _, err := localstack.SQSEndpoint(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "imports tests: local SQS:", err)
		os.Exit(1)
	}
	sqsEndpoint = ep
	testkit.Main(m)
}

// fixture is one fresh table with a tenant and a screener, and one fresh queue with its DLQ.
// Nothing is shared between fixtures, so most tests that make one run in parallel: much of
// their time is spent waiting (redeliveries, a slowed table), which another test fills.
type fixture struct {
	t          *testing.T
	ctx        context.Context
	env        *testkit.Env
	ws, scr    string
	sqs        *sqs.Client
	queue, dlq string
	worker     *jobs.Worker
	handler    jobqueue.Handler
	poller     *poller.Poller
}

type fixtureOptions struct {
	visibility      time.Duration // 0: 180 s
	maxReceiveCount int           // 0: 5
	batchSize       int           // 0: 10
	// storeOption, if set, is added to the worker's DynamoDB client (fault injection).
	storeOption func(*dynamodb.Options)
}

func newFixture(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	ctx := context.Background()
	env := testkit.NewEnv(t)
	tn := env.NewTenant()
	scr, err := env.App.Admin.CreateScreener(ctx, tn.WorkspaceID, vocab.Actor{Type: "SystemActor"}, "Imports", nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.visibility == 0 {
		o.visibility = 180 * time.Second // a 5,000-row batch under a loaded machine takes tens of seconds
	}
	if o.maxReceiveCount == 0 {
		o.maxReceiveCount = 5
	}
	client, err := jobqueue.NewClient(ctx, sqsEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	queue, dlq, err := poller.CreateQueues(ctx, client, localstack.UniqueQueueName("imp"), o.visibility, o.maxReceiveCount)
	if err != nil {
		t.Fatal(err)
	}
	st := env.App.Table
	if o.storeOption != nil {
		st = ddb.New(dynamodb.New(env.Client.Options(), o.storeOption), env.Table)
	}
	// Failures and poison chunks are logged (to stderr, shown with -v or on failure).
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	w := app.WorkerOver(st, o.maxReceiveCount, log)
	h := jobqueue.HandlerFor(w, jobqueue.HandBack{Client: client, QueueURL: queue})
	f := &fixture{
		t: t, ctx: ctx, env: env, ws: tn.WorkspaceID, scr: scr.ID, sqs: client, queue: queue, dlq: dlq, worker: w, handler: h,
		// A batch's deadline stays well inside the visibility timeout, as the template keeps the
		// worker's timeout at a sixth of it: a batch still running is never delivered again.
		poller: &poller.Poller{Client: client, QueueURL: queue, Handler: h, BatchSize: o.batchSize, Timeout: o.visibility * 2 / 3},
	}
	return f
}

// rows returns rows from..to-1: email p<i>@example.com, name "Person <i>", an external uid on
// even rows.
func rows(from, to int) []screening.ImportRow {
	out := make([]screening.ImportRow, 0, to-from)
	for i := from; i < to; i++ {
		r := screening.ImportRow{Email: fmt.Sprintf("p%05d@example.com", i), Name: fmt.Sprintf("Person %d", i)}
		if i%2 == 0 {
			uid := fmt.Sprintf("crm-%05d", i)
			r.ExternalUID = &uid
		}
		out = append(out, r)
	}
	return out
}

// submit does what the API will: plan, store the job, send its chunks.
func (f *fixture) submit(mode screening.ImportMode, rs []screening.ImportRow, p jobs.Planner) jobs.Job {
	f.t.Helper()
	job, err := spotjobs.Submit(f.ctx, f.submitter(f.env.App.Jobs, p), f.ws, actor, screening.ImportRequest{ScreenerID: f.scr, Mode: mode, Rows: rs})
	if err != nil {
		f.t.Fatal(err)
	}
	return job
}

// submitter makes jobs in st and sends them to the fixture's queue.
func (f *fixture) submitter(st jobs.Store, p jobs.Planner) *jobs.Submitter {
	return &jobs.Submitter{Store: st, Queue: &jobqueue.SQS{Client: f.sqs, QueueURL: f.queue}, Planner: p}
}

// handle runs a batch through the worker's Lambda handler.
func (f *fixture) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return f.handler(ctx, ev)
}

func (f *fixture) drain(idle time.Duration) poller.PollStats {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, 2*time.Minute)
	defer cancel()
	s, err := f.poller.Drain(ctx, idle)
	if err != nil {
		f.t.Fatalf("drain: %v (stats %+v)", err, s)
	}
	return s
}

func (f *fixture) job(id string) (jobs.Job, []jobs.RowError) {
	f.t.Helper()
	j, errs, err := f.env.App.Jobs.Get(f.ctx, f.ws, id, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return j, errs
}

func (f *fixture) rosterTotal() int {
	f.t.Helper()
	l, err := f.env.App.Store.ListScreenerParticipants(f.ctx, f.ws, f.scr, screening.Page{Limit: 1})
	if err != nil {
		f.t.Fatal(err)
	}
	return l.Total
}

// rosterEmails returns the emails of the screener's participants, sorted.
func (f *fixture) rosterEmails() []string {
	f.t.Helper()
	roster, err := f.env.App.Store.Roster(f.ctx, f.ws, f.scr)
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]string, len(roster))
	for i, sp := range roster {
		out[i] = sp.Email
	}
	sort.Strings(out)
	return out
}

func emailsOf(rs []screening.ImportRow) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Email
	}
	sort.Strings(out)
	return out
}

// snapshot returns every item of the table as JSON by key; items of import partitions are left
// out when withJobs is false.
func (f *fixture) snapshot(withJobs bool) map[string]string {
	f.t.Helper()
	out := map[string]string{}
	in := &dynamodb.ScanInput{TableName: aws.String(f.env.Table), ConsistentRead: aws.Bool(true)}
	for {
		res, err := f.env.Client.Scan(f.ctx, in)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, it := range res.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				f.t.Fatal(err)
			}
			k := fmt.Sprint(m["pk"], "|", m["sk"])
			if !withJobs && strings.Contains(fmt.Sprint(m["pk"]), "#IMPORT") {
				continue
			}
			b, _ := json.Marshal(m)
			out[k] = string(b)
		}
		if res.LastEvaluatedKey == nil {
			return out
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func sameSnapshot(t *testing.T, what string, a, b map[string]string) {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("%s: %d items, then %d", what, len(a), len(b))
	}
	n := 0
	for k, v := range a {
		if b[k] != v && n < 5 {
			n++
			t.Errorf("%s: item %s changed:\n  before %s\n  after  %s", what, k, v, b[k])
		}
	}
}

// receiveAll receives n messages from a queue (without deleting them) and returns the event
// Lambda would build from them, in batches of at most 10.
func (f *fixture) receiveAll(n int) []events.SQSEvent {
	f.t.Helper()
	attrs, err := f.sqs.GetQueueAttributes(f.ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(f.queue), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	arn := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	var batches []events.SQSEvent
	got := 0
	deadline := time.Now().Add(30 * time.Second)
	for got < n {
		if time.Now().After(deadline) {
			f.t.Fatalf("received %d of %d messages", got, n)
		}
		out, err := f.sqs.ReceiveMessage(f.ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(f.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			f.t.Fatal(err)
		}
		if len(out.Messages) > 0 {
			batches = append(batches, poller.SQSEvent(arn, "us-east-1", out.Messages))
			got += len(out.Messages)
		}
	}
	return batches
}

func checkCounts(t *testing.T, j jobs.Job, status string, want jobs.Counts) {
	t.Helper()
	if j.Status != status || j.Counts != want || j.ChunksDone != j.Chunks {
		t.Errorf("job %s: status %s, counts %+v, chunks %d/%d (reason %q); want %s, %+v, all chunks done",
			j.ID, j.Status, j.Counts, j.ChunksDone, j.Chunks, j.Reason, status, want)
	}
	if j.Status == jobs.Completed && (j.StartedAt == nil || j.FinishedAt == nil || j.FinishedAt.Before(*j.StartedAt)) {
		t.Errorf("job %s: startedAt %v, finishedAt %v", j.ID, j.StartedAt, j.FinishedAt)
	}
}
