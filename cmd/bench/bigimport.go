package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/localstack"
	"github.com/participant-roster/roster/pkg/dev/poller"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/jobs/jobstore"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/lambdahttp"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
	"github.com/participant-roster/roster/pkg/vocab"
)

// The worker's event source, function and queue as template.yaml declares them
// (ImportWorkerFunction, ImportQueue).
const (
	workerBatchSize   = 10               // Events.ImportQueue.BatchSize
	workerConcurrency = 2                // ScalingConfig.MaximumConcurrency
	workerTimeout     = 60 * time.Second // Timeout
	queueVisibility   = 360 * time.Second
	queueMaxReceives  = 5
	// lambdaPayloadMax is Lambda's limit on a synchronous invocation's request payload (6 MB,
	// 6,291,456 bytes); the API's own body limit (spotapi.MaxBodyBytes) is the same figure.
	lambdaPayloadMax = 6 << 20
	rawWriters       = 2 // measure 7: concurrent BatchWriteItem callers, as many as the workers
	// rawInsertCallers: measure 7's concurrent callers of conditional inserts, as many calls
	// as the import's workers keep in flight (8 groups each, spotstore.ApplyChunk).
	rawInsertCallers = workerConcurrency * 8
	bigImportTarget  = 0.5
	bigWarmUpRows    = 1000 // two chunks: one for each worker
	// awsPartitionWCU is what one partition of a DynamoDB table or index takes per second.
	awsPartitionWCU = 1000
)

// bigStack is measure 7's (and 9's) own service: a fresh table, the app over a traced client, import
// jobs sent to a fresh queue (with its DLQ), and the worker.
type bigStack struct {
	table        string
	app          *app.App
	post, get    lambdahttp.Handler
	results      lambdahttp.Handler // the job's results (ListScreenerParticipantImportResultsFunction)
	worker       jobqueue.Handler
	sqs          *sqs.Client
	untracedSQS  *sqs.Client // the bench's own look at the queues, left out of the trace
	queue, dlq   string
	ws, screener string
	trace        *callTrace
	// The job and the roster, read by the bench through the adapters on its own client
	// (untraced, unmetered).
	jobs     *jobstore.Store
	roster   *spotstore.Store
	log      *slog.Logger
	warnings *warnLog
}

// bigPhase is one import through the stack, from the POST to the job's end.
type bigPhase struct {
	accepted time.Duration // POST in, 202 out
	took     time.Duration // POST in to the job's finishedAt
	job      jobs.Job
	post     metered
	bookR    float64 // the job's bookkeeping (worker calls outside the rows' meter)
	bookW    float64
	bookN    int
	batches  []batchRun
	samples  []jobSample
	trace    *tracePhase
}

type batchRun struct {
	d               time.Duration
	records, failed int
}

type jobSample struct {
	at        time.Duration // since the POST
	processed int
	rowWrite  float64
}

// bigResult is what measure 7 found.
type bigResult struct {
	rows, serialRows      int
	bodyBytes, eventBytes int
	items                 int     // items the import writes (and raw writes) for the rows
	rawAWS                float64 // what raw's items cost on AWS
	raw1, raw2            metered // raw BatchWriteItem: 1 writer (serialRows rows), rawWriters writers (all rows)
	rawIns                metered // raw conditional inserts, rawInsertCallers callers (serialRows rows)
	imp, re               bigPhase
	dry                   bigPhase // the same import as a dry run, before the import
	walkJSON, walkCSV     resultsWalk
}

// measureBigImport is measure 7: n rows through the Spot import handler (202, a job), SQS and
// the worker fed by a poller configured like the template's event source, until the job is
// COMPLETED; against raw BatchWriteItem of the same items (rawWriters writers; and one writer,
// for the first serialRows rows); then the same import again, unchanged.
func (b *bench) measureBigImport(n, serialRows int) (section, error) {
	if n < 1 {
		return section{}, fmt.Errorf("big import of %d rows", n)
	}
	if serialRows <= 0 || serialRows > n {
		serialRows = n
	}
	s, done, err := b.openBigStack()
	if err != nil {
		return section{}, err
	}
	defer done()

	r := bigResult{rows: n, serialRows: serialRows}
	rs := rows("b", n)
	body, err := importBody(s.screener, rs)
	if err != nil {
		return section{}, err
	}
	ev := b.bigEvent(body, n)
	if r.bodyBytes, r.eventBytes, err = payloadSizes(ev, n); err != nil {
		return section{}, err
	}

	if err := b.bigWarmUp(s, min(n, bigWarmUpRows)); err != nil {
		return section{}, fmt.Errorf("warm-up: %w", err)
	}

	// Raw first, each into a fresh table of its own, dropped afterwards.
	progress("measure 7: raw BatchWriteItem of %s rows' items, %d writers", thousands(n), rawWriters)
	var items []map[string]types.AttributeValue
	if r.raw2, items, r.rawAWS, err = b.bigRaw(s.screener, rs, b.rawBatchWrite(rawWriters)); err != nil {
		return section{}, fmt.Errorf("raw BatchWriteItem, %d writers: %w", rawWriters, err)
	}
	r.items = len(items)
	progress("measure 7: raw BatchWriteItem of %s rows' items, 1 writer", thousands(serialRows))
	if r.raw1, _, _, err = b.bigRaw(s.screener, rs[:serialRows], b.rawBatchWrite(1)); err != nil {
		return section{}, fmt.Errorf("raw BatchWriteItem, 1 writer: %w", err)
	}
	progress("measure 7: raw conditional inserts of %s rows' items, %d callers", thousands(serialRows), rawInsertCallers)
	if r.rawIns, _, _, err = b.bigRaw(s.screener, rs[:serialRows], b.rawInserts(rawInsertCallers)); err != nil {
		return section{}, fmt.Errorf("raw conditional inserts: %w", err)
	}

	progress("measure 7: dry run of the import of %s new rows", thousands(n))
	dryEv := b.bigEvent(body, n)
	dryEv.RawQueryString, dryEv.QueryStringParameters = "dryRun=true", map[string]string{"dryRun": "true"}
	if r.dry, err = b.bigImportPhase(s, dryEv, n, jobs.Counts{Processed: n, Created: n}); err != nil {
		return section{}, fmt.Errorf("dry run: %w", err)
	}
	if !r.dry.job.DryRun || r.dry.job.RowWriteUnits != 0 {
		return section{}, fmt.Errorf("dry run: job dryRun %v, row write units %.1f, want a dry run that wrote nothing", r.dry.job.DryRun, r.dry.job.RowWriteUnits)
	}
	if total, err := b.rosterTotal(s); err != nil {
		return section{}, err
	} else if total != 0 {
		return section{}, fmt.Errorf("dry run: the screener has %d participants after it, want 0", total)
	}
	progress("measure 7: dry run took %s; import of %s new rows (%.2f MiB body)", secs(r.dry.took), thousands(n), float64(len(body))/(1<<20))
	if r.imp, err = b.bigImportPhase(s, ev, n, jobs.Counts{Processed: n, Created: n}); err != nil {
		return section{}, fmt.Errorf("import: %w", err)
	}
	if total, err := b.rosterTotal(s); err != nil {
		return section{}, err
	} else if total != n {
		return section{}, fmt.Errorf("import: the screener has %d participants after the import, want %d", total, n)
	}
	progress("measure 7: import took %s (%.0f rows/s); walking its results, JSON then CSV", secs(r.imp.took), rate(n, r.imp.took))
	for _, walk := range []struct {
		csv bool
		to  *resultsWalk
	}{{false, &r.walkJSON}, {true, &r.walkCSV}} {
		if *walk.to, err = b.walkResults(s, r.imp.job.ID, n, walk.csv); err != nil {
			return section{}, fmt.Errorf("results walk (CSV %v): %w", walk.csv, err)
		}
	}
	progress("measure 7: re-import of the same rows")
	if r.re, err = b.bigImportPhase(s, b.bigEvent(body, n), n, jobs.Counts{Processed: n, Unchanged: n}); err != nil {
		return section{}, fmt.Errorf("re-import: %w", err)
	}
	progress("measure 7: re-import took %s", secs(r.re.took))
	if w := s.warnings.count.Load(); w > 0 {
		progress("measure 7: the worker or poller logged %d warnings or errors (above)", w)
	}
	return bigImportSection(r, s), nil
}

// bigWarmUp runs, untimed, what the measure times, on n other rows: raw writes from
// rawWriters writers into a throwaway table, and an import through the stack into a screener of
// its own; so that neither timed side pays for DynamoDB Local's or moto's first calls. Then it
// checks that the worker wrote a row's items as the raw side writes them.
func (b *bench) bigWarmUp(s *bigStack, n int) error {
	progress("measure 7: warm-up, %s rows (raw and import, untimed)", thousands(n))
	scr, err := s.app.Admin.CreateScreener(b.ctx, b.ws, vocab.Actor{Type: "SystemActor", ID: "bench", Name: "bench"}, "Warm-up", nil)
	if err != nil {
		return err
	}
	rs := rows("w", n)
	for _, write := range []rawWrite{b.rawBatchWrite(rawWriters), b.rawInserts(rawInsertCallers)} {
		if _, _, _, err := b.bigRaw(scr.ID, rs, write); err != nil {
			return err
		}
	}
	body, err := importBody(scr.ID, rs)
	if err != nil {
		return err
	}
	ev := b.bigEvent(body, n)
	ev.Headers["prefer"] = "respond-async"
	if _, err = b.bigImportPhase(s, ev, n, jobs.Counts{Processed: n, Created: n}); err != nil {
		return err
	}
	if err := b.checkRawImportRow(s.table, scr.ID, rs[0], true); err != nil {
		return fmt.Errorf("raw items: %w", err)
	}
	return nil
}

// payloadSizes are the sizes of an n-row import's body and of its whole event, which must both
// fit Lambda's request payload.
func payloadSizes(ev events.APIGatewayV2HTTPRequest, n int) (body, event int, err error) {
	evJSON, err := json.Marshal(ev)
	if err != nil {
		return 0, 0, err
	}
	body, event = len(ev.Body), len(evJSON)
	if body > lambdaPayloadMax || event > lambdaPayloadMax {
		return body, event, fmt.Errorf("the %d-row import is a %d-byte body (%d-byte event), over Lambda's %d-byte payload limit",
			n, body, event, lambdaPayloadMax)
	}
	return body, event, nil
}

func (b *bench) bigEvent(body string, n int) events.APIGatewayV2HTTPRequest {
	ev := b.event("POST", "/screener-participants-import", "", body)
	if n <= spotapi.MaxSyncRows && len(body) <= spotapi.MaxSyncBytes {
		ev.Headers["prefer"] = "respond-async" // a small (quick) run is a job too
	}
	return ev
}

// openBigStack starts a local SQS and a bigStack on it; done drops the stack's table and
// queues and stops the SQS.
func (b *bench) openBigStack() (s *bigStack, done func(), err error) {
	sqsEndpoint, stopSQS, err := localstack.SQSEndpoint(b.ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("local SQS: %w", err)
	}
	if s, err = b.newBigStack(sqsEndpoint); err != nil {
		stopSQS()
		return nil, nil, err
	}
	return s, func() { s.close(b); stopSQS() }, nil
}

func (b *bench) newBigStack(sqsEndpoint string) (*bigStack, error) {
	ctx := b.ctx
	s := &bigStack{ws: b.ws, trace: newCallTrace(), warnings: &warnLog{}}
	// As deployed, JSON log lines are formatted; these are dropped, but warnings and errors
	// (a failed chunk, a failed delete) are shown on stderr.
	s.log = slog.New(slog.NewJSONHandler(s.warnings, nil))
	client := dynamodb.New(b.client.Options(), s.trace.dynamoOption)
	s.table = localstack.UniqueTableName("bench-import")
	if err := testkit.CreateTable(ctx, client, s.table); err != nil {
		return nil, err
	}
	s.app = app.New(client, s.table, app.DefaultAuthCacheTTL, s.log)
	untraced := ddb.New(b.client, s.table)
	s.jobs, s.roster = jobstore.New(untraced), spotstore.New(untraced)
	// The bench's workspace and key, in this table too: same ids, same items.
	if err := s.app.Store.CreateWorkspace(ctx, b.ws, "bench workspace", time.Now()); err != nil {
		return nil, err
	}
	key := auth.Key{ID: b.keyID, WorkspaceID: b.ws, Name: b.keyName, SecretHash: auth.HashSecret(b.secret), CreatedAt: time.Now()}
	if err := s.app.Store.PutKey(ctx, key); err != nil {
		return nil, err
	}
	scr, err := s.app.Admin.CreateScreener(ctx, b.ws, vocab.Actor{Type: "SystemActor", ID: "bench", Name: "bench"}, "Big import", nil)
	if err != nil {
		return nil, err
	}
	s.screener = scr.ID
	// Items already there (workspace, key, screener) and the indexes they sit in.
	scan, err := b.client.Scan(ctx, &dynamodb.ScanInput{TableName: &s.table, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	s.trace.see(scan.Items)

	c, err := jobqueue.NewClient(ctx, sqsEndpoint)
	if err != nil {
		return nil, err
	}
	s.sqs, s.untracedSQS = sqs.New(c.Options(), s.trace.sqsOption), c
	if s.queue, s.dlq, err = poller.CreateQueues(ctx, s.sqs, localstack.UniqueQueueName("bench-import"), queueVisibility, queueMaxReceives); err != nil {
		return nil, err
	}
	s.app.EnableImports(s.sqs, s.queue)
	if s.post, err = s.app.LambdaHandler("ImportScreenerParticipantsFunction"); err != nil {
		return nil, err
	}
	if s.get, err = s.app.LambdaHandler("GetScreenerParticipantImportFunction"); err != nil {
		return nil, err
	}
	if s.results, err = s.app.LambdaHandler("ListScreenerParticipantImportResultsFunction"); err != nil {
		return nil, err
	}
	// As deployed: the rows' writes paced per partition key, the one worker standing for the
	// template's MaximumConcurrency instances, each with its own budget.
	w := s.app.PolledImportWorker(queueMaxReceives, workerConcurrency)
	w.Log = s.log
	s.worker = jobqueue.HandlerFor(w, jobqueue.HandBack{Client: s.sqs, QueueURL: s.queue})
	return s, nil
}

// close drops the stack's table and queues (DynamoDB Local and moto keep them in memory).
func (s *bigStack) close(b *bench) {
	ctx := context.WithoutCancel(b.ctx)
	_, _ = b.client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &s.table})
	for _, q := range []string{s.queue, s.dlq} {
		if q != "" {
			_, _ = s.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(q)})
		}
	}
}

// bigRaw writes the items an import of rs into screener writes (built beforehand, outside the
// timing) into a fresh table by BatchWriteItem, 25 a call, from writers goroutines; it returns
// the timed writes, the items, and what they would cost on AWS.
func (b *bench) bigRaw(screener string, rs []importRow, write rawWrite) (metered, []map[string]types.AttributeValue, float64, error) {
	items, err := b.rawImportItems(screener, rs, true)
	if err != nil {
		return metered{}, nil, 0, err
	}
	aws := 0.0
	for _, it := range items {
		aws += awsPutUnits(it)
	}
	table := localstack.UniqueTableName("bench-raw")
	if err := testkit.CreateTable(b.ctx, b.client, table); err != nil {
		return metered{}, nil, 0, err
	}
	defer func() {
		_, _ = b.client.DeleteTable(context.WithoutCancel(b.ctx), &dynamodb.DeleteTableInput{TableName: &table})
		gc()
	}()
	gc()
	m, err := measure(b.ctx, func(ctx context.Context) error { return write(ctx, table, items) })
	return m, items, aws, err
}

// rawWrite writes items to a table, one of the ways measure 7 compares the import with.
type rawWrite func(ctx context.Context, table string, items []map[string]types.AttributeValue) error

func (b *bench) rawBatchWrite(writers int) rawWrite {
	return func(ctx context.Context, table string, items []map[string]types.AttributeValue) error {
		return b.batchWriteParallel(ctx, table, items, writers)
	}
}

// rawInserts writes items with conditional inserts from callers goroutines, as many as the
// import keeps in flight.
func (b *bench) rawInserts(callers int) rawWrite {
	return func(ctx context.Context, table string, items []map[string]types.AttributeValue) error {
		return inParallel(items, callers, func(part []map[string]types.AttributeValue) error { return b.batchInsertTo(ctx, table, part) })
	}
}

// bigImportPhase posts the import and runs the poller until the job ends: the poller starts
// first, as Lambda's event source is always polling.
func (b *bench) bigImportPhase(s *bigStack, ev events.APIGatewayV2HTTPRequest, n int, want jobs.Counts) (bigPhase, error) {
	var p bigPhase
	gc()
	bookCtx, book := capacity.WithMeter(b.ctx)
	postCtx, post := capacity.WithMeter(b.ctx)
	s.trace.begin(post, book)
	traceOpen := true
	defer func() {
		if traceOpen {
			s.trace.end()
		}
	}()

	var mu sync.Mutex
	handler := func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		t := time.Now()
		resp, err := s.worker(ctx, e)
		mu.Lock()
		p.batches = append(p.batches, batchRun{d: time.Since(t), records: len(e.Records), failed: len(resp.BatchItemFailures)})
		mu.Unlock()
		return resp, err
	}
	poller := &poller.Poller{
		Client: s.sqs, QueueURL: s.queue, Handler: handler, BatchSize: workerBatchSize,
		Concurrency: workerConcurrency, Timeout: workerTimeout, Log: s.log,
	}
	pctx, stopPoller := context.WithCancel(bookCtx)
	ran := make(chan error, 1)
	go func() { ran <- poller.Run(pctx) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		stopPoller()
		return <-ran
	}
	defer stop()

	start := time.Now()
	resp, err := s.post(postCtx, ev)
	p.accepted = time.Since(start)
	if err != nil {
		return p, err
	}
	if resp.StatusCode != 202 {
		return p, fmt.Errorf("POST /screener-participants-import: status %d, want 202: %.500s", resp.StatusCode, resp.Body)
	}
	var accepted struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &accepted); err != nil || accepted.ID == "" {
		return p, fmt.Errorf("202 without a job id (%v): %.300s", err, resp.Body)
	}

	// The job, every second, until it ends.
	deadline := start.Add(max(10*time.Minute, time.Duration(n)*20*time.Millisecond))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		<-tick.C
		job, _, err := s.jobs.Get(b.ctx, b.ws, accepted.ID, 0)
		if err != nil {
			return p, err
		}
		p.samples = append(p.samples, jobSample{at: time.Since(start), processed: job.Counts.Processed, rowWrite: job.RowWriteUnits})
		if job.Terminal() {
			p.job = job
			break
		}
		if err := s.failedForGood(b.ctx, job); err != nil {
			return p, err
		}
		if time.Now().After(deadline) {
			return p, fmt.Errorf("job %s still %s after %s: %d of %d chunks, counts %+v",
				job.ID, job.Status, time.Since(start).Round(time.Second), job.ChunksDone, job.Chunks, job.Counts)
		}
	}
	p.took = p.samples[len(p.samples)-1].at
	if p.job.FinishedAt != nil {
		p.took = p.job.FinishedAt.Sub(start)
	}
	if err := stop(); err != nil {
		return p, fmt.Errorf("poller: %w", err)
	}
	p.trace = s.trace.end()
	traceOpen = false
	p.post = metered{d: p.accepted, dynamoDBCall: post.Calls()}
	p.post.read, p.post.write = post.Units()
	p.bookR, p.bookW = book.Units()
	p.bookN = book.Calls()

	// The job as a client sees it, through the GET route.
	got, err := s.get(b.ctx, b.event("GET", "/screener-participants-imports/"+accepted.ID, "", ""))
	if err != nil {
		return p, err
	}
	if got.StatusCode != 200 {
		return p, fmt.Errorf("GET /screener-participants-imports/%s: status %d: %.300s", accepted.ID, got.StatusCode, got.Body)
	}
	var view struct {
		Status string `json:"status"`
		Counts struct {
			Total, Processed, Created, Updated, Unchanged, Removed, Failed int
		} `json:"counts"`
		Reason *string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(got.Body), &view); err != nil {
		return p, err
	}
	c := view.Counts
	if view.Status != jobs.Completed || c.Total != n || c.Processed != want.Processed || c.Created != want.Created ||
		c.Updated != want.Updated || c.Unchanged != want.Unchanged || c.Removed != want.Removed || c.Failed != 0 {
		reason := ""
		if view.Reason != nil {
			reason = *view.Reason
		}
		return p, fmt.Errorf("job %s ended %s with counts %+v (reason %q); want COMPLETED, total %d, %+v",
			accepted.ID, view.Status, c, reason, n, want)
	}
	// Nothing left behind: every chunk deleted from the queue, none in the DLQ.
	for _, q := range []string{s.queue, s.dlq} {
		if left, err := queueDepth(b.ctx, s.sqs, q); err != nil {
			return p, err
		} else if left != 0 {
			return p, fmt.Errorf("queue %s holds %d messages after the job completed", q, left)
		}
	}
	return p, nil
}

// failedForGood stops a phase whose job can no longer complete: a chunk in the DLQ has had
// its last receive, and the job, still running, would wait for the sweeper.
func (s *bigStack) failedForGood(ctx context.Context, job jobs.Job) error {
	dead, err := queueDepth(ctx, s.untracedSQS, s.dlq)
	if err != nil || dead == 0 {
		return err
	}
	last, _ := s.warnings.last.Load().(string)
	return fmt.Errorf("job %s is still %s (%d of %d chunks done) with %d chunk(s) in the DLQ after %d receives; the last warning: %s",
		job.ID, job.Status, job.ChunksDone, job.Chunks, dead, queueMaxReceives, last)
}

func queueDepth(ctx context.Context, c *sqs.Client, url string) (int, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, v := range out.Attributes {
		k, _ := strconv.Atoi(v)
		total += k
	}
	return total, nil
}

func (b *bench) rosterTotal(s *bigStack) (int, error) {
	l, err := s.roster.ListScreenerParticipants(b.ctx, b.ws, s.screener, screening.Page{Limit: 1})
	return l.Total, err
}

// warnLog takes the JSON log lines of the worker and poller: it drops them, as the bench drops
// request lines, except warnings and errors, which it shows on stderr and counts.
type warnLog struct {
	count atomic.Int64
	last  atomic.Value // string: the last warning or error
}

func (w *warnLog) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(`"level":"WARN"`)) || bytes.Contains(p, []byte(`"level":"ERROR"`)) {
		w.count.Add(1)
		w.last.Store(string(bytes.TrimSpace(p)))
		os.Stderr.Write(append([]byte("bench: import stack: "), p...))
	}
	return len(p), nil
}

var _ io.Writer = (*warnLog)(nil)

// peakIncrease is the largest increase of f between two consecutive samples (one second apart).
func peakIncrease(ss []jobSample, f func(jobSample) float64) (peak float64, at time.Duration) {
	prev := 0.0
	for _, s := range ss {
		if d := f(s) - prev; d > peak {
			peak, at = d, s.at
		}
		prev = f(s)
	}
	return peak, at
}

// partitionName shows a partition label with the run's ids replaced by their roles.
func partitionName(label, ws, screener string) string {
	kind, pk, _ := strings.Cut(label, " ")
	pk = strings.ReplaceAll(pk, screener, "{screener}")
	pk = strings.ReplaceAll(pk, ws, "{workspace}")
	pk = jobID.ReplaceAllString(pk, "{job}")
	if kind == "table" {
		return "table `" + pk + "`"
	}
	return "index " + kind + " `" + pk + "`"
}

var jobID = regexp.MustCompile(`job_[0-9A-Za-z]+`)

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func perSec(x float64) string { return fmt.Sprintf("%s /s", thousands(int(x+0.5))) }

func perRow(u float64, n int) string { return fmt.Sprintf("%.3f", u/float64(n)) }

func bigImportSection(r bigResult, s *bigStack) section {
	n, imp, re := r.rows, r.imp, r.re
	impRate, raw1Rate, raw2Rate := rate(n, imp.took), rate(r.serialRows, r.raw1.d), rate(n, r.raw2.d)
	batches, received, failed := 0, 0, 0
	var busy, longest time.Duration
	for _, bt := range imp.batches {
		batches++
		received += bt.records
		failed += bt.failed
		busy += bt.d
		longest = max(longest, bt.d)
	}
	for _, bt := range re.batches {
		longest = max(longest, bt.d)
	}
	receives, _ := imp.trace.total(func(k callKey) bool { return k.op == "ReceiveMessage" })
	sends, _ := imp.trace.total(func(k callKey) bool { return k.op == "SendMessageBatch" })
	awsAll := func(m map[string]float64) float64 { return m[callerRows] + m[callerBook] + m[callerRequest] }
	totalW := imp.job.RowWriteUnits + imp.bookW + imp.post.write
	totalR := imp.job.RowReadUnits + imp.bookR + imp.post.read
	reTotalW := re.job.RowWriteUnits + re.bookW + re.post.write
	reTotalR := re.job.RowReadUnits + re.bookR + re.post.read
	pair := func(a, b float64) string { return fmt.Sprintf("%s / %s", perRow(a, n), perRow(b, n)) }

	t := newTable("Figure", "Value", "Target", "Met")
	t.add("Rows (new participants; UPDATES_ONLY; external uid, email and name)", thousands(n), "", "")
	t.add("Request body", mib(int64(r.bodyBytes)), "≤ 6 MB (6,291,456 bytes)", met(r.bodyBytes <= lambdaPayloadMax))
	t.add("… the whole API Gateway v2 event as JSON (Lambda's request payload)", mib(int64(r.eventBytes)), "≤ 6 MB", met(r.eventBytes <= lambdaPayloadMax))
	t.add("POST answered 202 (rows validated, job stored, chunks sent to SQS)", secs(imp.accepted), "", "")
	t.add("Import: POST to COMPLETED", secs(imp.took), "", "")
	t.add("Import: rows per second", perSec(impRate), "", "")
	t.add(fmt.Sprintf("Raw BatchWriteItem of the same %s items, %d writers: time", thousands(r.items), rawWriters), secs(r.raw2.d), "", "")
	t.add(fmt.Sprintf("Raw, %d writers: rows per second", rawWriters), perSec(raw2Rate), "", "")
	t.add(fmt.Sprintf("Raw BatchWriteItem, 1 writer, the first %s rows' items: time", thousands(r.serialRows)), secs(r.raw1.d), "", "")
	t.add("Raw, 1 writer: rows per second", perSec(raw1Rate), "", "")
	t.add(fmt.Sprintf("**Ratio: import ÷ raw with %d writers, rows per second**", rawWriters), fmtTarget(impRate/raw2Rate, bigImportTarget),
		fmt.Sprintf("≥ %.1fx", bigImportTarget), met(impRate/raw2Rate >= bigImportTarget))
	t.add("Ratio: import ÷ raw with 1 writer (for reference)", fmtRatio(impRate/raw1Rate), "", "")
	insRate := rate(r.serialRows, r.rawIns.d)
	t.add(fmt.Sprintf("Raw conditional inserts (PartiQL INSERT, 25 per BatchExecuteStatement, %d callers) of the first %s rows' items: rows per second",
		rawInsertCallers, thousands(r.serialRows)), perSec(insRate), "", "")
	t.add(fmt.Sprintf("… ÷ raw BatchWriteItem with %d writers: what DynamoDB Local allows an import that inserts every item conditionally", rawWriters),
		fmtRatio(insRate/raw2Rate), "", "")
	t.add("Write units per new row, the rows' own: the job's rowWriteUnits ÷ rows (DynamoDB Local's units, see below)", perRow(imp.job.RowWriteUnits, n), "", "")
	t.add("… with the job's bookkeeping and the POST (capacity meters)", perRow(totalW, n), "", "")
	t.add("… priced as on AWS (estimate, see below): the rows' own / with bookkeeping and the POST", pair(imp.trace.awsWrites[callerRows], awsAll(imp.trace.awsWrites)), "", "")
	t.add("Write units per row, raw BatchWriteItem: DynamoDB Local / AWS estimate", fmt.Sprintf("%s / %s", perRow(r.raw2.write, n), perRow(r.rawAWS, n)), "", "")
	t.add("Read units per new row: the rows' own / with bookkeeping and the POST (DynamoDB Local)", pair(imp.job.RowReadUnits, totalR), "", "")
	t.add("… priced as on AWS (estimate): the rows' own / with bookkeeping and the POST", pair(imp.trace.awsReads[callerRows], awsAll(imp.trace.awsReads)), "", "")
	t.add("Chunks (one SQS message each), sent in SendMessageBatch calls", fmt.Sprintf("%d in %d calls", imp.job.Chunks, sends), "", "")
	t.add(fmt.Sprintf("Worker invocations (batches of up to %d messages); messages received; failed", workerBatchSize),
		fmt.Sprintf("%d; %d; %d", batches, received, failed), "", "")
	t.add("ReceiveMessage calls (of them empty)", fmt.Sprintf("%d (%d)", receives, receives-batches), "", "")
	t.add(fmt.Sprintf("Longest worker invocation, import or re-import (the function's timeout: %s)", workerTimeout), secs(longest), "", "")
	t.add("Re-import of the same rows, unchanged: POST to COMPLETED", secs(re.took), "", "")
	t.add("Re-import: rows per second", perSec(rate(n, re.took)), "", "")
	t.add("Re-import: write units of the rows (the job's rowWriteUnits)", units(re.job.RowWriteUnits), "0", met(re.job.RowWriteUnits == 0))
	t.add("Re-import: write units with bookkeeping and the POST (the job's own records)", units(reTotalW), "", "")
	t.add("Re-import: read units per row, the rows' own / with bookkeeping and the POST (DynamoDB Local)", pair(re.job.RowReadUnits, reTotalR), "", "")
	t.add("… priced as on AWS (estimate)", pair(re.trace.awsReads[callerRows], awsAll(re.trace.awsReads)), "", "")
	dry := r.dry
	dryTotalR := dry.job.RowReadUnits + dry.bookR + dry.post.read
	t.add("Dry run of the same import (a job; planned, nothing written): POST to COMPLETED", secs(dry.took), "", "")
	t.add("… its time ÷ the import's", fmtRatio(dry.took.Seconds()/imp.took.Seconds()), "", "")
	t.add("Dry run: write units of the rows (the job's rowWriteUnits)", units(dry.job.RowWriteUnits), "0", met(dry.job.RowWriteUnits == 0))
	t.add("Dry run: read units per row, the rows' own / with bookkeeping and the POST (DynamoDB Local)", pair(dry.job.RowReadUnits, dryTotalR), "", "")
	t.add("… the import's, for comparison", pair(imp.job.RowReadUnits, totalR), "", "")
	for _, w := range []struct {
		name string
		walk resultsWalk
	}{{"JSON", r.walkJSON}, {"CSV (Accept: text/csv)", r.walkCSV}} {
		t.add(fmt.Sprintf("Walk the import's %s results as %s pages of %d: time (pages)", thousands(n), w.name, resultsPageSize),
			fmt.Sprintf("%s (%d)", secs(w.walk.d), w.walk.pages), "", "")
		t.add(fmt.Sprintf("… read units: in all / per row / per page (%s)", w.name),
			fmt.Sprintf("%s / %s / %.1f", units(w.walk.read), perRow(w.walk.read, n), w.walk.read/float64(max(w.walk.pages, 1))), "", "")
	}

	// Per partition.
	peakRows, peakRowsAt := peakIncrease(imp.samples, func(s jobSample) float64 { return float64(s.processed) })
	peakWU, _ := peakIncrease(imp.samples, func(s jobSample) float64 { return s.rowWrite })
	parts := imp.trace.partitions()
	pt := newTable("Partition the import wrote (table or index: partition key)", "Items written", "Write units on AWS, whole import (estimate)",
		"Mean per second, POST to COMPLETED", "Most in one second", "Under 1,000 WCU/s")
	over := 0
	for i, pp := range parts {
		if pp.peak > awsPartitionWCU {
			over++
		}
		if i < 8 {
			pt.add(partitionName(pp.partition, s.ws, s.screener), thousands(pp.items), thousands(int(pp.units+0.5)),
				fmt.Sprintf("%.0f", pp.units/imp.took.Seconds()), fmt.Sprintf("%.0f", pp.peak), met(pp.peak <= awsPartitionWCU))
		}
	}
	for _, kind := range []string{"table", "indexes"} {
		pp := imp.trace.together(kind)
		name := "**the table: all its partition keys together**"
		if kind == "indexes" {
			name = "**the indexes: all their partition keys together**"
		}
		pt.add(name, thousands(pp.items), thousands(int(pp.units+0.5)), fmt.Sprintf("%.0f", pp.units/imp.took.Seconds()),
			fmt.Sprintf("%.0f", pp.peak), "")
	}
	hottest := partitionPeak{}
	if len(parts) > 0 {
		hottest = parts[0]
	}

	// Where the time went.
	prof := newTable("Call (import of new rows)", "Made by", "Calls", "Per chunk", "Time, summed over callers", "Mean",
		"Mean: first / last tenth of the calls", "Failed (reasons)")
	keys, stats := imp.trace.sortedCalls()
	chunks := max(imp.job.Chunks, 1)
	for i, k := range keys {
		st := stats[i]
		reasons := ""
		if st.failed > 0 {
			var rs []string
			for c, k := range st.codes {
				rs = append(rs, fmt.Sprintf("%s %d", c, k))
			}
			reasons = fmt.Sprintf("%d (%s)", st.failed, strings.Join(rs, ", "))
		}
		op := k.service + " " + k.op
		switch k.op {
		case "TransactWriteItems", "BatchGetItem":
			if st.calls > 0 {
				op += fmt.Sprintf(" (%.0f items each)", float64(st.ops)/float64(st.calls))
			}
		case "SendMessageBatch", "DeleteMessageBatch", "ReceiveMessage":
			if st.calls > 0 {
				op += fmt.Sprintf(" (%.1f messages each)", float64(st.ops)/float64(st.calls))
			}
		}
		tenths := ""
		if first, last := st.tenths(); first > 0 {
			tenths = fmt.Sprintf("%s / %s", ms(first), ms(last))
		}
		prof.add(op, k.caller, thousands(st.calls), fmt.Sprintf("%.1f", float64(st.calls)/float64(chunks)),
			secs(st.total), ms(st.total/time.Duration(max(st.calls, 1))), tenths, reasons)
	}
	_, rowsT := imp.trace.total(func(k callKey) bool { return k.caller == callerRows })
	bookN, bookT := imp.trace.total(func(k callKey) bool { return k.caller == callerBook })
	rowIns, rowInsT := imp.trace.total(func(k callKey) bool { return k.caller == callerRows && k.op == "BatchExecuteStatement" })
	rowTx, rowTxT := imp.trace.total(func(k callKey) bool { return k.caller == callerRows && k.op == "TransactWriteItems" })
	rowPut, rowPutT := imp.trace.total(func(k callKey) bool { return k.caller == callerRows && k.op == "BatchWriteItem" })
	rowGet, rowGetT := imp.trace.total(func(k callKey) bool { return k.caller == callerRows && k.op == "BatchGetItem" })
	prof.add("**Worker invocations: busy time, summed**", "", thousands(batches), "", secs(busy), "", "", "")
	prof.add("… in the rows' DynamoDB calls / in the bookkeeping's", "", "", "", fmt.Sprintf("%s / %s", secs(rowsT), secs(bookT)), "", "", "")
	prof.add("… in neither (Go: decoding, planning, encoding)", "", "", "", secs(busy-rowsT-bookT), "", "", "")
	prof.add(fmt.Sprintf("Wall time × %d workers, POST to COMPLETED", workerConcurrency), "", "", "", secs(imp.took*workerConcurrency), "", "", "")

	rowInsOps := 0
	for i, k := range keys {
		if k.caller == callerRows && k.op == "BatchExecuteStatement" {
			rowInsOps += stats[i].ops
		}
	}
	perStatement := rowInsT / time.Duration(max(rowInsOps, 1))
	rawPerItem := r.raw2.d * rawWriters / time.Duration(max(r.items, 1))
	_, reGetT := re.trace.total(func(k callKey) bool { return k.caller == callerRows && k.op == "BatchGetItem" })
	_, reRowsT := re.trace.total(func(k callKey) bool { return k.caller == callerRows })
	_, reBookT := re.trace.total(func(k callKey) bool { return k.caller == callerBook })

	notes := []string{
		fmt.Sprintf("Rows per second is rows ÷ time. The target ratio is met, or not, against raw BatchWriteItem with %d "+
			"concurrent writers, like for like with the import's %d concurrent workers; one writer is shown for reference, on "+
			"the first %s rows only to keep `make bench` short (`-big-import-serial`). Raw writes exactly the items the "+
			"import writes for these rows (participant, email marker, external-uid marker, screener participant; the "+
			"bench's own raw items, checked against what the worker wrote in the warm-up; the same workspace and "+
			"screener ids), 25 per call, each run into a fresh table dropped afterwards; the import has a fresh table too. "+
			"The raw conditional inserts write the same items as the 1-writer run, each statement failing if its key is "+
			"taken (none is), from as many callers as the import's calls in flight: on DynamoDB Local a conditional write "+
			"of any kind (PartiQL INSERT, a conditional PutItem, TransactWriteItems) costs several times a BatchWriteItem "+
			"put, so their ratio to raw BatchWriteItem is roughly what an import could reach that inserted all four of its "+
			"items conditionally (a reference on fewer rows, so it varies from run to run more than the import does). This "+
			"import inserts only the two markers conditionally; a row whose markers it inserted is its own under their "+
			"claim, and its participant and screener participant go in BatchWriteItem (spotstore.ApplyChunk). Order: an untimed warm-up of all three on %s other rows, "+
			"raw with %d writers, raw with 1, raw conditional inserts, import, re-import.",
			rawWriters, workerConcurrency, thousands(r.serialRows), thousands(min(n, bigWarmUpRows)), rawWriters),
		fmt.Sprintf("Where the import's time goes (the table above; the tracing middleware times each call): the %d workers "+
			"were busy %s of %s (wall time × %d). %s of it in the rows' conditional inserts (%s BatchExecuteStatement calls "+
			"of PartiQL INSERTs, %.0f per chunk, %.0f statements each: %s per statement, where raw BatchWriteItem took %s per "+
			"item and writer: a chunk writes its rows in groups of 25, 8 groups at once, and a group inserts its rows' "+
			"markers, then puts their participants and screener participants); %s in the rows' BatchWriteItem (%s calls, "+
			"those puts); %s in the rows' TransactWriteItems (%s calls: each chunk's count of what it wrote, and "+
			"the transactions of rows that update a participant); %s in the rows' BatchGetItem (%s calls: before writing, "+
			"the worker looks up the rows' markers, participants and screener participants, %s per call of up to 100 keys); "+
			"%s in the job's bookkeeping (%.1f calls per chunk); %s in Go. SQS costs the workers nothing inside an "+
			"invocation: the poller receives and deletes outside the handler, and sending the %d chunks took %s of the "+
			"POST's %s. On DynamoDB Local a conditional INSERT costs more than a put in BatchWriteItem, and the reads come on top.",
			workerConcurrency, secs(busy), secs(imp.took*workerConcurrency), workerConcurrency, secs(rowInsT), thousands(rowIns),
			float64(rowIns)/float64(chunks), float64(rowInsOps)/float64(max(rowIns, 1)), ms(perStatement), ms(rawPerItem),
			secs(rowPutT), thousands(rowPut), secs(rowTxT), thousands(rowTx),
			secs(rowGetT), thousands(rowGet), ms(rowGetT/time.Duration(max(rowGet, 1))), secs(bookT),
			float64(bookN)/float64(chunks), secs(busy-rowsT-bookT), imp.job.Chunks, secs(sqsTime(imp.trace, "SendMessageBatch")), secs(imp.accepted)),
		fmt.Sprintf("Write units: the job's %s per new row are DynamoDB Local's; raw BatchWriteItem is reported per item "+
			"and index written (%s per row, what AWS charges too). The AWS "+
			"estimates price the calls "+
			"the stack made from their inputs and outputs as DynamoDB on AWS does: per item written, 2 write units per KB in "+
			"a transaction (1 outside one: a put, a BatchWriteItem put, a PartiQL INSERT, whose key was taken or not), plus 1 per KB for each index it sits in (both indexes project all attributes; "+
			"updates and deletes as items of at most 1 KB, which the counter, marker and job items are); per item read, 1 "+
			"read unit per 4 KB (half when eventually consistent), a key that is not found costing as much as a small item. "+
			"DynamoDB Local reports no read units for keys it does not find, which is why the new rows' reads cost nearly "+
			"nothing in its units. Estimates, not figures any DynamoDB reported.",
			perRow(imp.job.RowWriteUnits, n), perRow(r.raw2.write, n)),
		fmt.Sprintf("Per partition: DynamoDB takes at most 1,000 write units per second on one partition of a table or "+
			"index. All of a workspace's participants share one partition key (`…#PTP`, in the table and in gsi2), as do its "+
			"screener participants (`…#SCPAR`) and a screener's roster (gsi1); the email and external-uid markers are spread over 16 keys each. "+
			"Every new row writes 1 unit to each of the four shared keys, so they bound an import whatever the concurrency. Sampling the job every second, the "+
			"most rows it finished in one second was %s (at %s) and the most of its rowWriteUnits %s (DynamoDB Local's "+
			"units; chunks complete whole, so a second holds none or some whole chunks). From the stack's own writes, "+
			"priced for AWS as above and summed per partition key and second, the busiest was %s: %.0f write units in its "+
			"busiest second, %.0f per second on average; %d partition keys went %s 1,000 in some second. A partition "+
			"holds many keys, and a new table has few partitions: if these keys share one, that partition takes the "+
			"table's total (the bold row). This is the rate this machine's round trips allow (%s per INSERT statement, %d "+
			"workers in flight); the pacer holds each key to IMPORT_PARTITION_WRITE_BUDGET per worker. Above the limit DynamoDB "+
			"throttles (the SDK and the store retry with backoff, so the import slows, it does not fail) until "+
			"adaptive capacity splits a hot key's items across partitions by sort key.",
			thousands(int(peakRows)), secs(peakRowsAt), units(peakWU), partitionName(hottest.partition, s.ws, s.screener), hottest.peak,
			hottest.units/imp.took.Seconds(), over, map[bool]string{true: "over", false: "over (none did)"}[over > 0],
			ms(perStatement), workerConcurrency),
		fmt.Sprintf("The re-import finds every row unchanged and writes no row (rowWriteUnits 0); its write units are the "+
			"job's own records (the job item, a marker per chunk). Its time goes to the reads: summed over the workers, "+
			"%s in the rows' DynamoDB calls (%s of it BatchGetItem: an eventually consistent read of each row's "+
			"external-uid marker, a consistent one of its participant, whose email then needs no marker read, and an "+
			"eventually consistent one of its screener participant: 2 read units a row), %s in bookkeeping.", secs(reRowsT), secs(reGetT), secs(reBookT)),
	}
	if failed > 0 {
		notes = append(notes, fmt.Sprintf("%d messages failed and were delivered again; the counts are exact regardless.", failed))
	}
	return section{
		title: fmt.Sprintf("7. Import of %s rows end to end (API, SQS, worker) vs raw BatchWriteItem, and an unchanged re-import", thousands(n)),
		intro: fmt.Sprintf("One `POST /screener-participants-import` of %s new rows (UPDATES_ONLY; external uid, email and name) "+
			"through the function's Lambda handler with an API Gateway v2 event, answered 202 with a job; its chunks go to a "+
			"fresh queue on moto_server (visibility timeout %s, DLQ after %d receives, as template.yaml), and an "+
			"`poller.Poller` feeds them to `jobs.Worker` (through `jobqueue.HandlerFor`) as ImportWorkerFunction's event source would: batches "+
			"of up to %d, %d concurrent invocations, a %s deadline each, the rows' writes paced per partition key as deployed "+
			"(ddb.Pacer, IMPORT_PARTITION_WRITE_BUDGET per instance). The poller runs before the POST; the time runs from "+
			"the POST to the job's finishedAt (the bench reads the job every second, consistently; once COMPLETED its counts "+
			"are checked through `GET /screener-participants-imports/{id}`, and the queue and DLQ must be empty). Then the "+
			"same body is posted again. Units come from capacity meters on the POST's context and the poller's (the worker "+
			"meters the rows' own calls apart and records them on the job); calls, their times and the AWS estimates from a "+
			"tracing middleware on this stack's DynamoDB and SQS clients. One run of each (`-big-import` sets the rows).",
			thousands(n), queueVisibility, queueMaxReceives, workerBatchSize, workerConcurrency, workerTimeout),
		tables: []*table{t, pt, prof},
		notes:  notes,
	}
}

func sqsTime(p *tracePhase, op string) time.Duration {
	_, d := p.total(func(k callKey) bool { return k.service == "SQS" && k.op == op })
	return d
}
