package imports

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/participant-roster/roster/pkg/store"
)

// SendMessageBatch limits: 10 entries, and (classic SQS) 256 KiB for the whole batch.
const (
	maxBatchEntries = 10
	maxBatchBytes   = 256 << 10
	maxSendAttempts = 8
)

// Message attribute names. They let the worker attribute a message whose body it cannot read
// to its job and chunk (a poison chunk is then recorded on the job).
const (
	attrJobID     = "jobId"
	attrWorkspace = "workspaceId"
	attrChunk     = "chunk"
	attrFirstRow  = "firstRow"
	attrRows      = "rows"
)

// Sender is the part of the SQS client Enqueue needs (*sqs.Client has it).
type Sender interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Enqueue sends one message per chunk of a Spot job; see send.
func Enqueue(ctx context.Context, client Sender, queueURL string, job store.ImportJob, chunks []Chunk) error {
	out := make([]outgoing, len(chunks))
	for i, c := range chunks {
		out[i] = outgoing{n: c.N, firstRow: c.FirstRow, rows: len(c.Rows), body: messageFor(job.WorkspaceID, job.ID, job.Target, job.Mode, c)}
	}
	return send(ctx, client, queueURL, job, out)
}

// outgoing is one chunk's message before it is encoded.
type outgoing struct {
	n, firstRow, rows int
	body              any
}

// send sends one message per chunk, with SendMessageBatch: at most 10 entries and 256 KiB per
// call. Entries the response lists as failed are sent again with backoff; one that fails by the
// sender's fault (a message SQS refuses) is an error at once. Each message is checked against
// MaxMessageBytes before anything is sent.
func send(ctx context.Context, client Sender, queueURL string, job store.ImportJob, chunks []outgoing) error {
	entries := make([]types.SendMessageBatchRequestEntry, len(chunks))
	sizes := make([]int, len(chunks))
	for i, c := range chunks {
		var err error
		if entries[i], sizes[i], err = entryFor(job, c); err != nil {
			return err
		}
	}
	start, bytes := 0, 0
	for i := range entries {
		if i > start && (i-start == maxBatchEntries || bytes+sizes[i] > maxBatchBytes) {
			if err := sendBatch(ctx, client, queueURL, entries[start:i]); err != nil {
				return err
			}
			start, bytes = i, 0
		}
		bytes += sizes[i]
	}
	if start < len(entries) {
		return sendBatch(ctx, client, queueURL, entries[start:])
	}
	return nil
}

// entryFor encodes a chunk's message and returns its size as SQS counts it (body and message
// attributes).
func entryFor(job store.ImportJob, c outgoing) (types.SendMessageBatchRequestEntry, int, error) {
	body, err := json.Marshal(c.body)
	if err != nil {
		return types.SendMessageBatchRequestEntry{}, 0, fmt.Errorf("imports: encode chunk %d: %w", c.n, err)
	}
	attrs := map[string]types.MessageAttributeValue{
		attrJobID:     {DataType: aws.String("String"), StringValue: aws.String(job.ID)},
		attrWorkspace: {DataType: aws.String("String"), StringValue: aws.String(job.WorkspaceID)},
		attrChunk:     {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(c.n))},
		attrFirstRow:  {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(c.firstRow))},
		attrRows:      {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(c.rows))},
	}
	size := len(body)
	for name, v := range attrs {
		size += len(name) + len(*v.DataType) + len(*v.StringValue)
	}
	if size > MaxMessageBytes {
		return types.SendMessageBatchRequestEntry{}, 0, fmt.Errorf("imports: chunk %d is a %d-byte message, over the %d-byte limit", c.n, size, MaxMessageBytes)
	}
	return types.SendMessageBatchRequestEntry{
		Id: aws.String("c" + strconv.Itoa(c.n)), MessageBody: aws.String(string(body)), MessageAttributes: attrs,
	}, size, nil
}

// sendBatch sends entries (at most 10) until SQS has accepted every one.
func sendBatch(ctx context.Context, client Sender, queueURL string, entries []types.SendMessageBatchRequestEntry) error {
	pending := entries
	var lastErr error
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if attempt >= maxSendAttempts {
				return fmt.Errorf("imports: %d message(s) not accepted after %d attempts: %v", len(pending), attempt, lastErr)
			}
			if err := sleep(ctx, attempt); err != nil {
				return err
			}
		}
		out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: pending})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			lastErr = err // the SDK already retried what it deems transient; try the batch again
			continue
		}
		accepted := map[string]bool{}
		for _, ok := range out.Successful {
			accepted[aws.ToString(ok.Id)] = true
		}
		for _, f := range out.Failed {
			if f.SenderFault {
				return fmt.Errorf("imports: SQS refused message %s: %s %s", aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message))
			}
			lastErr = fmt.Errorf("%s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
		}
		var again []types.SendMessageBatchRequestEntry
		for _, e := range pending {
			if !accepted[aws.ToString(e.Id)] {
				again = append(again, e)
			}
		}
		pending = again
	}
	return nil
}

// sleep waits an exponentially growing, jittered time before attempt n (n >= 1).
func sleep(ctx context.Context, n int) error {
	d := min(time.Duration(1<<min(n, 10))*10*time.Millisecond, 2*time.Second)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
