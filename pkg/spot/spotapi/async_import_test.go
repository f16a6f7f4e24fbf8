package spotapi_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/participant-roster/roster/pkg/dev/localstack"
	"github.com/participant-roster/roster/pkg/dev/poller"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
)

// asyncEnv is a table whose import function queues large imports on a queue of its own, and a
// poller that feeds that queue to the worker as Lambda's SQS event source would. Nothing is
// shared, so the long import tests run in parallel (after the rest of the package): this
// package is among the last `go test ./...` starts, and two at a time keep both cores busy
// to its end.
type asyncEnv struct {
	*client
	sqs    *sqs.Client
	queue  string
	poller *poller.Poller
}

func newAsyncEnv(t *testing.T) *asyncEnv {
	t.Helper()
	ctx := context.Background()
	env := testkit.NewEnv(t)
	sc, err := jobqueue.NewClient(ctx, sqsEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	// A batch's deadline (the worker's timeout) is generous: under a loaded machine a chunk of
	// 500 new rows on DynamoDB Local takes seconds. The visibility timeout outlasts it.
	queue, _, err := poller.CreateQueues(ctx, sc, localstack.UniqueQueueName("spot"), 180*time.Second, 5)
	if err != nil {
		t.Fatal(err)
	}
	env.App.EnableImports(sc, queue)
	return &asyncEnv{
		client: newClient(t, env), sqs: sc, queue: queue,
		poller: &poller.Poller{Client: sc, QueueURL: queue, Handler: jobqueue.HandlerFor(env.App.PolledImportWorker(5, 2)), BatchSize: 1, Timeout: 120 * time.Second, Concurrency: 2},
	}
}

type importJob struct {
	Type        string       `json:"_type"`
	ID          string       `json:"id"`
	ScreenerID  string       `json:"screenerId"`
	ImportMode  string       `json:"importMode"`
	DryRun      bool         `json:"dryRun"`
	MaxRemovals *int         `json:"maxRemovals"`
	Status      string       `json:"status"`
	Counts      importCounts `json:"counts"`
	Errors      []struct {
		Row   int    `json:"row"`
		Field string `json:"field"`
		Code  string `json:"code"`
	} `json:"errors"`
	Reason            *string `json:"reason"`
	CreatedAt         string  `json:"createdAt"`
	StartedAt         *string `json:"startedAt"`
	FinishedAt        *string `json:"finishedAt"`
	CancelRequestedAt *string `json:"cancelRequestedAt"`
	ExpiresAt         string  `json:"expiresAt"`
}

// accepted checks a 202 and returns its job.
func (a *asyncEnv) accepted(r testkit.Response) importJob {
	a.t.Helper()
	wantStatus(a.t, r, 202)
	var job importJob
	r.JSON(&job)
	if loc := r.Headers["Location"]; loc != "/screener-participants-imports/"+job.ID || !jobs.ValidID(job.ID) {
		a.t.Fatalf("Location %q, job id %q", loc, job.ID)
	}
	if job.Type != "ScreenerParticipantImport" || job.Status != "QUEUED" || job.CreatedAt == "" || job.FinishedAt != nil ||
		job.CancelRequestedAt != nil || job.ExpiresAt <= job.CreatedAt {
		a.t.Fatalf("accepted job %+v", job)
	}
	return job
}

func (a *asyncEnv) drain() {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := a.poller.Drain(ctx, 130*time.Second); err != nil {
		a.t.Fatalf("drain: %v", err)
	}
}

func (a *asyncEnv) job(id string) importJob {
	a.t.Helper()
	r := a.get("GetScreenerParticipantImportFunction", "/screener-participants-imports/"+id, "")
	wantStatus(a.t, r, 200)
	var job importJob
	r.JSON(&job)
	return job
}

// queued is how many messages the queue holds (visible, in flight or delayed).
func (a *asyncEnv) queued() int {
	a.t.Helper()
	out, err := a.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(a.queue), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		a.t.Fatal(err)
	}
	n := 0
	for _, k := range []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"} {
		var v int
		fmt.Sscan(out.Attributes[k], &v)
		n += v
	}
	return n
}

// jobItems counts the workspace's import job records in the table.
func (a *asyncEnv) jobItems() int {
	a.t.Helper()
	out, err := a.env.Client.Scan(context.Background(), &dynamodb.ScanInput{
		TableName:                 aws.String(a.env.Table),
		FilterExpression:          aws.String("begins_with(pk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "WS#" + a.tenant.WorkspaceID + "#IMPORT"}},
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return int(out.Count)
}

// TestLargeImportRunsAsJob: one row over the synchronous limit is a job (two full chunks and
// one of a single row), run by the worker to the end.
func TestLargeImportRunsAsJob(t *testing.T) {
	t.Parallel()
	a := newAsyncEnv(t)
	scr := a.screener("Big")
	const n = spotapi.MaxSyncRows + 1
	job := a.accepted(a.importRows(scr, "", rows(n, "big")...))
	if job.Counts.Total != n || job.ScreenerID != scr || job.ImportMode != "UPDATES_ONLY" || len(job.Errors) != 0 {
		t.Fatalf("accepted job %+v", job)
	}
	if a.queued() == 0 {
		t.Fatal("nothing was queued")
	}
	a.drain()
	done := a.job(job.ID)
	c := done.Counts
	if done.Status != "COMPLETED" || c.Total != n || c.Processed != n || c.Created != n || c.Updated != 0 ||
		c.Unchanged != 0 || c.Removed != 0 || c.Failed != 0 || len(done.Errors) != 0 || done.Reason != nil ||
		done.StartedAt == nil || done.FinishedAt == nil {
		t.Fatalf("finished job %+v", done)
	}
	if got := a.listScreener(scr).Total; got != n {
		t.Fatalf("roster has %d screener participants, want %d", got, n)
	}
}

func TestPreferRespondAsync(t *testing.T) {
	a := newAsyncEnv(t)
	scr := a.screener("Small")
	r := a.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", "",
		importBody(scr, "", rows(3, "pref")...), map[string]string{"prefer": "wait=5, respond-async"})
	job := a.accepted(r)
	if got := r.Headers["Preference-Applied"]; got != "respond-async" {
		t.Fatalf("Preference-Applied = %q, want respond-async", got)
	}
	a.drain()
	if done := a.job(job.ID); done.Status != "COMPLETED" || done.Counts.Created != 3 || done.Counts.Processed != 3 {
		t.Fatalf("finished job %+v", done)
	}
	// An empty import has nothing to queue: it answers synchronously, preference not applied.
	r = a.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", "",
		importBody(scr, "", []row{}...), map[string]string{"prefer": "respond-async"})
	wantStatus(t, r, 200)
	if _, set := r.Headers["Preference-Applied"]; set {
		t.Fatal("an empty import answered synchronously says Preference-Applied")
	}
	// Without the preference a small import stays synchronous.
	r = a.importRows(scr, "", rows(3, "pref")...)
	wantStatus(t, r, 200)
	if _, set := r.Headers["Preference-Applied"]; set {
		t.Fatal("a synchronous answer says Preference-Applied")
	}
}

func TestBadLargeImportIsRejectedWhole(t *testing.T) {
	a := newAsyncEnv(t)
	scr := a.screener("Bad")
	payload := rows(1500, "bad")
	payload[3].Email = "not-an-email"
	payload[700].Name = ""
	payload[1200].Email = payload[5].Email // a duplicate in another chunk
	p := wantProblem(t, a.importRows(scr, "", payload...), 400, "VALIDATION_FAILED")
	var got []string
	for _, e := range p.Errors {
		if e.Row == nil {
			t.Fatalf("error without a row: %+v", e)
		}
		got = append(got, fmt.Sprintf("%d:%s", *e.Row, e.Code))
	}
	sort.Strings(got)
	if want := "1200:DUPLICATE_IN_PAYLOAD,3:INVALID_EMAIL,700:REQUIRED"; strings.Join(got, ",") != want {
		t.Fatalf("errors %v, want %s", got, want)
	}
	if n := a.jobItems(); n != 0 {
		t.Fatalf("a rejected import made %d job records", n)
	}
	if n := a.queued(); n != 0 {
		t.Fatalf("a rejected import queued %d messages", n)
	}
	if n := a.listScreener(scr).Total; n != 0 {
		t.Fatalf("a rejected import wrote %d screener participants", n)
	}
	// An unknown screener is 404, and no job either.
	wantProblem(t, a.importRows("scr_01jd3m00000000000000000000", "", rows(1500, "x")...), 404, "NOT_FOUND")
	if n := a.jobItems(); n != 0 {
		t.Fatalf("an import of an unknown screener made %d job records", n)
	}
}

func TestGetImportJobNotFound(t *testing.T) {
	a := newAsyncEnv(t)
	scr := a.screener("Mine")
	r := a.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", "",
		importBody(scr, "", rows(2, "mine")...), map[string]string{"prefer": "respond-async"})
	job := a.accepted(r)
	other := newClient(t, a.env)
	for name, path := range map[string]string{
		"unknown":   "/screener-participants-imports/" + jobs.NewID(),
		"malformed": "/screener-participants-imports/job_123",
		"other id":  "/screener-participants-imports/scr_01jd3m00000000000000000000",
	} {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, a.get("GetScreenerParticipantImportFunction", path, ""), 404, "NOT_FOUND")
		})
	}
	t.Run("another workspace's job", func(t *testing.T) {
		wantProblem(t, other.get("GetScreenerParticipantImportFunction", "/screener-participants-imports/"+job.ID, ""), 404, "NOT_FOUND")
	})
	if got := a.job(job.ID); got.ID != job.ID {
		t.Fatalf("own job %+v", got)
	}
}
