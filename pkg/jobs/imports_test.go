package jobs_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
	"github.com/participant-roster/roster/pkg/vocab"
)

// TestLargeImportEndToEnd: 1,500 rows in 10 chunks (one full batch) through Plan, Enqueue,
// moto and the worker; then a FULL_SYNC that keeps 900, adds 200 and removes 600 (more than
// one results item holds); then the same FULL_SYNC again, which removes nothing and writes
// nothing. (The default planner's limits are TestPlanAndEnqueueLimits'; the chunk of 500 rows
// runs through the API in the spotapi tests.)
func TestLargeImportEndToEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	// The poller's defaults: one batch of up to 10 messages at a time, as the worker function
	// with batch size 10 and one concurrent invocation.
	const n, kept, added, removed = 1500, 900, 200, 600
	if removed <= jobs.MaxRemovalsPerItem {
		t.Fatalf("%d removals fit one results item (%d)", removed, jobs.MaxRemovalsPerItem)
	}
	planner := jobs.Planner{MaxRows: n / 10}

	start := time.Now()
	all := rows(0, n)
	j1 := f.submit(screening.UpdatesOnly, all, planner)
	if j1.Chunks != 10 {
		t.Fatalf("%d rows planned as %d chunks, want 10", n, j1.Chunks)
	}
	s := f.drain(10 * time.Second)
	got, _ := f.job(j1.ID)
	checkCounts(t, got, jobs.Completed, jobs.Counts{Processed: n, Created: n})
	if total := f.rosterTotal(); total != n {
		t.Errorf("roster total %d after the import, want %d", total, n)
	}
	t.Logf("UPDATES_ONLY %d new rows: %v (%d batches, %d messages), %.0f write units (%.1f a row), %.0f read units",
		n, time.Since(start).Round(time.Millisecond), s.Batches, s.Received, got.RowWriteUnits, got.RowWriteUnits/n, got.RowReadUnits)

	start = time.Now()
	syncRows := rows(removed, n+added) // kept known, added new; 0..removed-1 absent
	j2 := f.submit(screening.FullSync, syncRows, planner)
	f.drain(10 * time.Second)
	got, _ = f.job(j2.ID)
	checkCounts(t, got, jobs.Completed, jobs.Counts{Processed: kept + added, Created: added, Unchanged: kept, Removed: removed})
	if total := f.rosterTotal(); total != kept+added {
		t.Errorf("roster total %d after the FULL_SYNC, want %d", total, kept+added)
	}
	if emails := f.rosterEmails(); !slices.Equal(emails, emailsOf(syncRows)) {
		t.Errorf("the roster is not the FULL_SYNC's rows (%d emails)", len(emails))
	}
	t.Logf("FULL_SYNC %d unchanged + %d new, %d removed: %v, %.0f write units", kept, added, removed, time.Since(start).Round(time.Millisecond), got.RowWriteUnits)

	before := f.snapshot(false)
	start = time.Now()
	j3 := f.submit(screening.FullSync, syncRows, planner)
	f.drain(10 * time.Second)
	got, _ = f.job(j3.ID)
	checkCounts(t, got, jobs.Completed, jobs.Counts{Processed: kept + added, Unchanged: kept + added})
	if got.RowWriteUnits != 0 {
		t.Errorf("the identical FULL_SYNC's rows cost %.1f write units, want 0", got.RowWriteUnits)
	}
	sameSnapshot(t, "records after an identical FULL_SYNC", before, f.snapshot(false))
	t.Logf("identical FULL_SYNC of %d rows: %v, %.0f row write units, %.0f row read units",
		kept+added, time.Since(start).Round(time.Millisecond), got.RowWriteUnits, got.RowReadUnits)
}

// TestReplayChangesNothing delivers every chunk three times at once, then five times more: the
// counts are exact and the table does not change.
func TestReplayChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	planner := jobs.Planner{MaxRows: 25}
	for _, step := range []struct {
		mode  screening.ImportMode
		rows  []screening.ImportRow
		want  jobs.Counts
		total int
	}{
		{screening.UpdatesOnly, rows(0, 300), jobs.Counts{Processed: 300, Created: 300}, 300},
		{screening.FullSync, rows(50, 375), jobs.Counts{Processed: 325, Created: 75, Unchanged: 250, Removed: 50}, 325},
	} {
		job := f.submit(step.mode, step.rows, planner)
		batches := f.receiveAll(job.Chunks)

		// Three deliveries of every chunk at the same time, each in its own order.
		var wg sync.WaitGroup
		for range 3 {
			order := slices.Clone(batches)
			rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			wg.Go(func() {
				for _, ev := range order {
					resp, err := f.handle(f.ctx, ev)
					if err != nil || len(resp.BatchItemFailures) != 0 {
						t.Errorf("concurrent delivery: %v, failures %v", err, resp.BatchItemFailures)
					}
				}
			})
		}
		wg.Wait()
		got, _ := f.job(job.ID)
		checkCounts(t, got, jobs.Completed, step.want)
		if n := f.rosterTotal(); n != step.total {
			t.Errorf("%s: roster total %d, want %d", step.mode, n, step.total)
		}
		if emails := f.rosterEmails(); !slices.Equal(emails, emailsOf(step.rows)) && step.mode == screening.FullSync {
			t.Errorf("%s: the roster is not the rows", step.mode)
		}

		before := f.snapshot(true)
		for range 5 {
			for _, ev := range batches {
				resp, err := f.handle(f.ctx, ev)
				if err != nil || len(resp.BatchItemFailures) != 0 {
					t.Fatalf("replay: %v, failures %v", err, resp.BatchItemFailures)
				}
			}
		}
		sameSnapshot(t, string(step.mode)+" replayed 5 times", before, f.snapshot(true))
	}
}

// poisonEmail is a row every write path of the faulty store refuses.
const poisonEmail = "poison@example.com"

// poisonOption makes every BatchGetItem that reads the poison row's email marker fail, as a
// chunk that can never succeed would.
func poisonOption(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("InjectPoison",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if get, ok := in.Parameters.(*dynamodb.BatchGetItemInput); ok {
					for _, ka := range get.RequestItems {
						for _, k := range ka.Keys {
							if sk, ok := k["sk"].(*types.AttributeValueMemberS); ok && sk.Value == poisonEmail {
								return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("injected fault: poison row")
							}
						}
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	})
}

// TestPoisonChunkGoesToTheDLQ: a chunk that always fails is received maxReceiveCount times,
// recorded on the job (its rows failed, the job FAILED with the reason) and moved to the DLQ;
// the other chunks' rows are all there.
func TestPoisonChunkGoesToTheDLQ(t *testing.T) {
	t.Parallel()
	// One chunk a batch, so the poison chunk's batch fails at once and each of its receives
	// is handled inside the visibility timeout (a receive the worker never saw would move the
	// message to the DLQ unrecorded).
	f := newFixture(t, fixtureOptions{visibility: 3 * time.Second, maxReceiveCount: 3, batchSize: 1, storeOption: poisonOption})

	rs := rows(0, 300)
	rs[150].Email = poisonEmail // chunk 1 of 3
	job := f.submit(screening.UpdatesOnly, rs, jobs.Planner{MaxRows: 100})
	start := time.Now()
	s := f.drain(5 * time.Second)
	t.Logf("poison run: %v, %+v", time.Since(start).Round(time.Millisecond), s)

	got, _ := f.job(job.ID)
	checkCounts(t, got, jobs.Failed, jobs.Counts{Processed: 300, Created: 200, Failed: 100})
	if got.FailedChunks != 1 || !strings.Contains(got.Reason, "injected fault: poison row") || !strings.Contains(got.Reason, "chunk 1 (rows 100 to 199)") {
		t.Errorf("failed chunks %d, reason %q", got.FailedChunks, got.Reason)
	}
	want := emailsOf(slices.Concat(rs[:100], rs[200:]))
	if emails := f.rosterEmails(); !slices.Equal(emails, want) {
		t.Errorf("roster has %d emails, want the 200 rows of chunks 0 and 2", len(emails))
	}

	// SQS moves a message to the DLQ when it is received past maxReceiveCount: a drain that
	// went idle before that receive leaves it on the queue, so receive there until it moves.
	var out *sqs.ReceiveMessageOutput
	for deadline := time.Now().Add(20 * time.Second); ; {
		var err error
		out, err = f.sqs.ReceiveMessage(f.ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(f.dlq), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) > 0 || time.Now().After(deadline) {
			break
		}
		left, err := f.sqs.ReceiveMessage(f.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.queue), WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(left.Messages) > 0 {
			t.Fatalf("the poison chunk was received a %s time from the queue instead of moving to the DLQ",
				left.Messages[0].Attributes["ApproximateReceiveCount"])
		}
	}
	if len(out.Messages) != 1 {
		t.Fatalf("DLQ holds %d messages, want the poison chunk", len(out.Messages))
	}
	m, err := jobs.DecodeMessage(aws.ToString(out.Messages[0].Body))
	if err != nil || m.JobID != job.ID || m.Chunk != 1 || len(m.Rows) != 100 {
		t.Errorf("DLQ message: chunk %d of job %s with %d rows (%v)", m.Chunk, m.JobID, len(m.Rows), err)
	}
	t.Logf("DLQ message receive count %s", out.Messages[0].Attributes["ApproximateReceiveCount"])
}

// capture is a Sender that keeps what it is sent; failOnce makes the first attempt of those
// entry ids fail (as a transient SQS error).
type capture struct {
	mu       sync.Mutex
	calls    [][]sqstypes.SendMessageBatchRequestEntry
	failOnce map[string]bool
	sent     []sqstypes.SendMessageBatchRequestEntry
}

func (c *capture) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, in.Entries)
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if c.failOnce[*e.Id] {
			delete(c.failOnce, *e.Id)
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), SenderFault: false})
			continue
		}
		c.sent = append(c.sent, e)
		out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("msg-" + *e.Id)})
	}
	return out, nil
}

// records turns sent entries into SQS records as Lambda would deliver them.
func records(entries []sqstypes.SendMessageBatchRequestEntry, receiveCount string) []events.SQSMessage {
	out := make([]events.SQSMessage, len(entries))
	for i, e := range entries {
		attrs := map[string]events.SQSMessageAttribute{}
		for k, v := range e.MessageAttributes {
			attrs[k] = events.SQSMessageAttribute{StringValue: v.StringValue, DataType: aws.ToString(v.DataType)}
		}
		out[i] = events.SQSMessage{
			MessageId: "msg-" + *e.Id, ReceiptHandle: "rh-" + *e.Id, Body: *e.MessageBody,
			Attributes: map[string]string{"ApproximateReceiveCount": receiveCount}, MessageAttributes: attrs,
			EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:test", AWSRegion: "us-east-1",
		}
	}
	return out
}

func failedIDs(resp events.SQSEventResponse) []string {
	var out []string
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	slices.Sort(out)
	return out
}

// TestWorkerHandlerReportsExactlyTheFailedRecords: a batch with good chunks, an undecodable body
// and a chunk of a job that does not exist reports exactly the two bad ones; the undecodable
// one, on its last receive, is recorded on its job through its message attributes, and the
// FULL_SYNC job ends FAILED without removing anyone.
func TestWorkerHandlerReportsExactlyTheFailedRecords(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{maxReceiveCount: 3})
	others := rows(100, 110) // on the screener before; a completed FULL_SYNC would remove them
	if _, err := f.env.App.Service.Import(f.ctx, f.ws, vocab.Actor{}, screening.ImportRequest{ScreenerID: f.scr, Rows: others}); err != nil {
		t.Fatal(err)
	}
	rs := rows(0, 30)
	c := &capture{}
	sub := &jobs.Submitter{Store: f.env.App.Jobs, Queue: &jobqueue.SQS{Client: c, QueueURL: "unused"}, Planner: jobs.Planner{MaxRows: 10}}
	job, err := spotjobs.Submit(f.ctx, sub, f.ws, actor, screening.ImportRequest{ScreenerID: f.scr, Mode: screening.FullSync, Rows: rs})
	if err != nil {
		t.Fatal(err)
	}
	recs := records(c.sent, "1")
	garbled := recs[1]
	garbled.MessageId, garbled.Body = "bad-body", `{"family": "spot", "jobId": "`+job.ID+`", "rows": [` // cut short
	stranger := recs[2]
	stranger.MessageId = "bad-job"
	stranger.Body = strings.Replace(stranger.Body, job.ID, jobs.NewID(), 1)

	resp, err := f.handle(f.ctx, events.SQSEvent{Records: []events.SQSMessage{recs[0], garbled, stranger, recs[2]}})
	if err != nil {
		t.Fatal(err)
	}
	if got := failedIDs(resp); !slices.Equal(got, []string{"bad-body", "bad-job"}) {
		t.Errorf("batch item failures %v, want [bad-body bad-job]", got)
	}
	got, _ := f.job(job.ID)
	if got.Status != jobs.Running || got.ChunksDone != 2 || got.Counts.Created != 20 {
		t.Errorf("after 2 of 3 chunks: %s, %d chunks done, %+v", got.Status, got.ChunksDone, got.Counts)
	}

	// The undecodable chunk's last receive: recorded on the job, still reported failed.
	garbled.Attributes = map[string]string{"ApproximateReceiveCount": "3"}
	resp, err = f.handle(f.ctx, events.SQSEvent{Records: []events.SQSMessage{garbled, recs[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if got := failedIDs(resp); !slices.Equal(got, []string{"bad-body"}) {
		t.Errorf("batch item failures %v, want [bad-body]", got)
	}
	got, _ = f.job(job.ID)
	checkCounts(t, got, jobs.Failed, jobs.Counts{Processed: 30, Created: 20, Failed: 10})
	if !strings.Contains(got.Reason, "chunk 1 (rows 10 to 19) failed 3 times") || !strings.Contains(got.Reason, "undecodable") ||
		!strings.Contains(got.Reason, "FULL_SYNC removed nothing") {
		t.Errorf("reason %q", got.Reason)
	}
	if n := f.rosterTotal(); n != 30 {
		t.Errorf("roster total %d, want 30: the 10 there before and the 20 rows of the good chunks", n)
	}

	// A late good copy of the chunk changes nothing: the job is finished.
	before := f.snapshot(true)
	if resp, err := f.handle(f.ctx, events.SQSEvent{Records: []events.SQSMessage{recs[1]}}); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("late copy: %v, %v", err, resp.BatchItemFailures)
	}
	sameSnapshot(t, "after a late copy", before, f.snapshot(true))

	// A failed record without a message id can only fail the whole batch.
	noID := garbled
	noID.MessageId = ""
	if _, err := f.handle(f.ctx, events.SQSEvent{Records: []events.SQSMessage{noID}}); err == nil {
		t.Error("a failed record without a messageId did not fail the batch")
	}
}

// TestRowErrorsAndFullSyncKeep: rejected rows are recorded with their payload index and do not
// fail their chunk; a FULL_SYNC keeps the participant a rejected row names.
func TestRowErrorsAndFullSyncKeep(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	planner := jobs.Planner{MaxRows: 4}
	seed := rows(0, 20)
	f.submit(screening.UpdatesOnly, seed, planner)
	f.drain(5 * time.Second)

	syncRows := slices.Clone(rows(0, 14))
	syncRows[3].Name = ""                    // names p3 by email; rejected
	syncRows[13].Name = "Person 13, renamed" // updated
	dup := syncRows[13]
	dup.ExternalUID, dup.Name = nil, "Dup" // repeats row 13's email, in the same chunk (12..15)
	bad := screening.ImportRow{Email: "not-an-email", Name: "Bad"}
	syncRows = append(syncRows, dup, bad)          // rows 14, 15
	syncRows = append(syncRows, rows(100, 102)...) // rows 16, 17: new
	job := f.submit(screening.FullSync, syncRows, planner)
	f.drain(5 * time.Second)

	got, errs := f.job(job.ID)
	checkCounts(t, got, jobs.Completed, jobs.Counts{Processed: 18, Created: 2, Updated: 1, Unchanged: 12, Failed: 3, Removed: 6})
	var rowsWithErrors []int
	for _, e := range errs {
		rowsWithErrors = append(rowsWithErrors, e.Row)
	}
	if !slices.Equal(rowsWithErrors, []int{3, 14, 15}) {
		t.Fatalf("row errors on rows %v, want [3 14 15]: %+v", rowsWithErrors, errs)
	}
	if e := errs[0].Errors[0]; e.Field != "participants[3].name" || e.Code != screening.CodeRequired {
		t.Errorf("row 3: %+v", e)
	}
	if e := errs[1].Errors[0]; e.Field != "participants[14].email" || e.Code != screening.CodeDuplicateInPayload || e.Message != "email repeats row 13" {
		t.Errorf("row 14: %+v", e)
	}
	if e := errs[2].Errors[0]; e.Field != "participants[15].email" || e.Code != screening.CodeInvalidEmail {
		t.Errorf("row 15: %+v", e)
	}
	// p3 stays (a rejected row names it); p14..p19 are gone; p100, p101 are new.
	want := emailsOf(slices.Concat(rows(0, 14), rows(100, 102)))
	if emails := f.rosterEmails(); !slices.Equal(emails, want) {
		t.Errorf("roster %v, want %v", emails, want)
	}
	if n := f.rosterTotal(); n != 16 {
		t.Errorf("roster total %d, want 16", n)
	}
}
