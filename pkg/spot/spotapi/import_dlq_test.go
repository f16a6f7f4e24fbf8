package spotapi_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
)

// poisonEmail is the row the worker's DynamoDB client can never read.
const poisonEmail = "poison@example.com"

// poisonOption fails every BatchGetItem that reads the poison row's email marker (sort key: the
// email), as a chunk that can never succeed would; hits counts them.
func poisonOption(hits *atomic.Int32) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("InjectPoison",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if get, ok := in.Parameters.(*dynamodb.BatchGetItemInput); ok {
						for _, ka := range get.RequestItems {
							for _, k := range ka.Keys {
								if sk, ok := k["sk"].(*types.AttributeValueMemberS); ok && sk.Value == poisonEmail {
									hits.Add(1)
									return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("injected fault: poison row")
								}
							}
						}
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}
}

// TestPoisonChunkThroughTheAPI: an import posted to the API whose second chunk always fails in
// the worker. After maxReceiveCount receives the chunk's message is in the DLQ, and the job,
// read through its route, is FAILED with a reason naming the chunk, that chunk's rows failed
// and the other chunks' rows created.
func TestPoisonChunkThroughTheAPI(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	const maxReceives = 3
	// Redeliveries after 1 s. One chunk a batch: the poison chunk's batch then fails at once,
	// well within the visibility timeout, instead of waiting behind a chunk of 500 new rows.
	a := newQueuedEnv(t, queueOptions{
		visibility: time.Second, maxReceiveCount: maxReceives, batchSize: 1, concurrency: 2, timeout: 30 * time.Second,
		workerOption: poisonOption(&hits),
	})
	scr := a.screener("Poison")
	payload := rows(1100, "dlq") // above the synchronous limit: chunks of 500, 500 and 100 rows
	const poisonRow = 700        // in chunk 1, rows 500 to 999
	payload[poisonRow].Email = poisonEmail
	job := a.accepted(a.importRows(scr, "UPDATES_ONLY", payload...))
	if job.Counts.Total != 1100 {
		t.Fatalf("accepted job %+v", job)
	}
	start := time.Now()
	stats := a.drainWithin(2*time.Minute, 10*time.Second)
	t.Logf("poison run: %v, %+v, %d poisoned reads", time.Since(start).Round(time.Millisecond), stats, hits.Load())

	// The job, as the API reports it.
	done := a.job(job.ID)
	c := done.Counts
	if done.Status != "FAILED" || c.Total != 1100 || c.Processed != 1100 || c.Created != 600 || c.Failed != 500 ||
		c.Updated != 0 || c.Unchanged != 0 || c.Removed != 0 || done.FinishedAt == nil {
		t.Errorf("job %s: status %s, counts %+v, finishedAt %v; want FAILED with 1,100 processed, 600 created, 500 failed",
			done.ID, done.Status, c, done.FinishedAt)
	}
	wantReason := fmt.Sprintf("chunk 1 (rows 500 to 999) failed %d times", maxReceives)
	if done.Reason == nil || !strings.Contains(*done.Reason, wantReason) || !strings.Contains(*done.Reason, "injected fault: poison row") {
		t.Errorf("job reason %v, want it to say %q and why", done.Reason, wantReason)
	}
	want := map[string]string{}
	for i, r := range payload {
		if i < 500 || i >= 1000 {
			want[r.Email] = r.Name
		}
	}
	a.checkRoster("after the poison chunk", scr, want, 600) // the rows of chunks 0 and 2
	if got := int(hits.Load()); got != maxReceives {
		t.Errorf("the poison row was read %d times, want once per receive (%d)", got, maxReceives)
	}

	// The chunk's message, in the DLQ after its last receive.
	out, err := a.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(a.dlq), MaxNumberOfMessages: 10, WaitTimeSeconds: 2,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("the DLQ holds %d messages, want the poison chunk's", len(out.Messages))
	}
	m, err := jobs.DecodeMessage(aws.ToString(out.Messages[0].Body))
	if err != nil {
		t.Fatalf("DLQ message: %v", err)
	}
	rows, err := jobs.DecodeRows[spotjobs.Row](m.Rows)
	if err != nil {
		t.Fatalf("DLQ message rows: %v", err)
	}
	if m.JobID != job.ID || m.WorkspaceID != a.tenant.WorkspaceID || m.Chunk != 1 || m.FirstRow != 500 || len(rows) != 500 ||
		rows[poisonRow-500].Email != poisonEmail {
		t.Errorf("DLQ message: job %s, workspace %s, chunk %d, first row %d, %d rows; want chunk 1 of job %s, rows 500 to 999 with the poison row",
			m.JobID, m.WorkspaceID, m.Chunk, m.FirstRow, len(m.Rows), job.ID)
	}
	if n := out.Messages[0].Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]; n == "" {
		t.Errorf("DLQ message without a receive count")
	}
	if n := a.queued(); n != 0 {
		t.Errorf("%d messages are left in the import queue", n)
	}
}
