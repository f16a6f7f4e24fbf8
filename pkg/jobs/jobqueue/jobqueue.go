// Package jobqueue is the jobs engine's SQS adapter: it sends a job's chunk messages with
// SendMessageBatch (jobs.Queue), and turns the SQS events Lambda delivers into the worker's
// deliveries, answering with partial batch failures; the records a batch has no time left to
// run it hands back to the queue at once (HandlerFor).
package jobqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/backoff"
)

// SendMessageBatch limits: 10 entries, and (classic SQS) 256 KiB for the whole batch and for
// one message, which Send refuses before anything is sent.
const (
	maxBatchEntries = 10
	maxBatchBytes   = 256 << 10
	maxSendAttempts = 8
	MaxMessageBytes = 256 << 10
)

// Sender is the part of the SQS client Send needs (*sqs.Client has it).
type Sender interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// SQS sends chunk messages to one queue (jobs.Queue).
type SQS struct {
	Client   Sender
	QueueURL string
}

var _ jobs.Queue = (*SQS)(nil)

// NewClient returns an SQS client: on AWS (endpoint "") from the ordinary configuration; on
// a local endpoint (moto_server) with static dummy credentials, region us-east-1 and nothing
// read from the developer's AWS configuration, so local runs can never reach AWS.
func NewClient(ctx context.Context, endpoint string) (*sqs.Client, error) {
	if endpoint != "" {
		return sqs.New(sqs.Options{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
			BaseEndpoint: aws.String(endpoint),
		}), nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return sqs.NewFromConfig(cfg), nil
}

// send sends one message per chunk, with SendMessageBatch: at most 10 entries and 256 KiB per
// call. Entries the response lists as failed are sent again with backoff; one that fails by the
// sender's fault (a message SQS refuses) is an error at once. Each message is checked against
// MaxMessageBytes before anything is sent.
func (q *SQS) Send(ctx context.Context, msgs []jobs.Message) error {
	entries := make([]types.SendMessageBatchRequestEntry, len(msgs))
	sizes := make([]int, len(msgs))
	for i, m := range msgs {
		var err error
		if entries[i], sizes[i], err = entryFor(i, m); err != nil {
			return err
		}
	}
	start, bytes := 0, 0
	for i := range entries {
		if i > start && (i-start == maxBatchEntries || bytes+sizes[i] > maxBatchBytes) {
			if err := q.sendBatch(ctx, entries[start:i]); err != nil {
				return err
			}
			start, bytes = i, 0
		}
		bytes += sizes[i]
	}
	if start < len(entries) {
		return q.sendBatch(ctx, entries[start:])
	}
	return nil
}

// entryFor encodes a chunk's message and returns its size as SQS counts it (body and message
// attributes).
func entryFor(i int, m jobs.Message) (types.SendMessageBatchRequestEntry, int, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return types.SendMessageBatchRequestEntry{}, 0, fmt.Errorf("jobqueue: encode chunk %d: %w", m.Chunk, err)
	}
	attrs := map[string]types.MessageAttributeValue{}
	for _, a := range m.Attributes() {
		kind := "String"
		if a.Number {
			kind = "Number"
		}
		attrs[a.Name] = types.MessageAttributeValue{DataType: aws.String(kind), StringValue: aws.String(a.Value)}
	}
	size := len(body)
	for name, v := range attrs {
		size += len(name) + len(*v.DataType) + len(*v.StringValue)
	}
	if size > MaxMessageBytes {
		return types.SendMessageBatchRequestEntry{}, 0, fmt.Errorf("jobqueue: chunk %d is a %d-byte message, over the %d-byte limit", m.Chunk, size, MaxMessageBytes)
	}
	return types.SendMessageBatchRequestEntry{
		Id: aws.String("c" + strconv.Itoa(i)), MessageBody: aws.String(string(body)), MessageAttributes: attrs,
	}, size, nil
}

// sendBatch sends entries (at most 10) until SQS has accepted every one.
func (q *SQS) sendBatch(ctx context.Context, entries []types.SendMessageBatchRequestEntry) error {
	pending := entries
	var lastErr error
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if attempt >= maxSendAttempts {
				return fmt.Errorf("jobqueue: %d message(s) not accepted after %d attempts: %v", len(pending), attempt, lastErr)
			}
			if err := backoff.Queue.Wait(ctx, attempt); err != nil {
				return err
			}
		}
		out, err := q.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.QueueURL), Entries: pending})
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
				return fmt.Errorf("jobqueue: SQS refused message %s: %s %s", aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message))
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

// Handler is an SQS-triggered Lambda handler with partial batch responses.
type Handler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// StartShare sets the time a chunk may take: the handler starts a record only while at least
// 1/StartShare of its invocation's time is left (20 s of ImportWorkerFunction's 60 s timeout,
// and of the local poller's 60 s deadline; a 500-row chunk takes a few seconds). It is the one
// margin of the handback; tests and `make run` derive theirs from their own deadlines.
const StartShare = 3

// handBackShare is the end of the invocation kept for handing records back: the chunks run
// under a deadline that much earlier than the invocation's (2 s of 60 s), so that a chunk that
// overran still leaves time to hand back the records after it.
const handBackShare = 30

// VisibilityChanger is the part of the SQS client a handback needs (*sqs.Client has it).
type VisibilityChanger interface {
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// HandBack is the queue the handler's records came from, for handing back the records it has
// no time left to run (ChangeMessageVisibilityBatch to 0 on their receipt handles).
type HandBack struct {
	Client   VisibilityChanger
	QueueURL string
}

// HandlerFor is the worker's Lambda handler (SQS event source with ReportBatchItemFailures):
// each record, one chunk, runs on its own, one after the other, and exactly the records that
// failed are reported in BatchItemFailures, for SQS to deliver again (or move to the DLQ). It
// fails the whole batch only when a record that failed has no message id to report it by.
//
// No chunk waits out the visibility timeout because the batch ran out of time. Before each
// record the handler checks the invocation's remaining time (its context's deadline): with less
// than 1/StartShare of the invocation's time left it does not start the record but hands it,
// and every later one, back to the queue (hb: visibility 0, so they are received again at once)
// and reports them as failed, so Lambda does not delete them. A chunk that overran (its rows'
// context ended before the invocation's) is handed back too. Without hb (a nil Client) the
// records not run are still reported failed, and come back after the visibility timeout.
//
// A handback costs a receive: SQS counts every receive in ApproximateReceiveCount, which the
// worker's poison limit and the queue's redrive policy read. So that this never makes a
// healthy chunk poison or sends it to the DLQ unrun:
//   - the records run in order of their receive count, highest first (the queue is not
//     ordered): a chunk handed back heads its next batch;
//   - the first record of an invocation always runs (it has the whole timeout);
//   - a record on its last receive (jobs.Worker.LastReceive) is never handed back while its
//     invocation has time: it runs.
//
// A healthy chunk thus always runs by its last receive. What a handback still costs is
// retries: a chunk handed back k times and then failing (a throttle storm, say) has k fewer
// retries before it is recorded poison and its job ends FAILED (and can be submitted again: a
// chunk is idempotent). The margin keeps handbacks rare: only a batch whose chunks took more
// than two thirds of the timeout hands any back. The records handed back together come back
// together, so an invocation that fits k chunks hands the tail of a full batch back about
// 10/k - 1 times: at the deployed 60 s and chunks of 6 s (the slow case the issue measured),
// k is 7 and a chunk is handed back once at most; with k at 2 or less a chunk may reach its
// last receive without having run, and then runs there (see above).
func HandlerFor(w *jobs.Worker, hb ...HandBack) Handler {
	var back HandBack
	if len(hb) > 0 {
		back = hb[0]
	}
	return handlerFor(w.Handle, w.LastReceive, back, w.Log)
}

// handlerFor is HandlerFor over the worker's Handle and LastReceive.
func handlerFor(handle func(context.Context, jobs.Delivery) error, lastReceive func(jobs.Delivery) bool, back HandBack, log *slog.Logger) Handler {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
		runCtx := ctx
		deadline, timed := ctx.Deadline()
		var margin time.Duration
		if timed {
			total := time.Until(deadline)
			margin = total / StartShare
			var cancel context.CancelFunc
			runCtx, cancel = context.WithDeadline(ctx, deadline.Add(-total/handBackShare))
			defer cancel()
		}
		var handBack []events.SQSMessage
		for i, rec := range byReceiveCount(ev.Records) {
			d := delivery(rec)
			if timed && i > 0 && (runCtx.Err() != nil || (time.Until(deadline) < margin && !lastReceive(d))) {
				handBack = append(handBack, rec)
				continue
			}
			err := handle(runCtx, d)
			if err == nil {
				continue
			}
			if rec.MessageId == "" {
				return events.SQSEventResponse{}, fmt.Errorf("jobqueue: a record without a messageId failed: %w", err)
			}
			if timed && runCtx.Err() != nil && ctx.Err() == nil && !lastReceive(d) {
				handBack = append(handBack, rec) // it overran: its next receive is at once
				continue
			}
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
		if len(handBack) == 0 {
			return resp, nil
		}
		for _, rec := range handBack {
			if rec.MessageId == "" {
				return events.SQSEventResponse{}, errors.New("jobqueue: a record without a messageId could not run in time")
			}
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
		back.handBack(ctx, deadline, handBack, log)
		return resp, nil
	}
}

// byReceiveCount is the records, those received most often first (a stable sort: otherwise in
// the batch's order).
func byReceiveCount(recs []events.SQSMessage) []events.SQSMessage {
	out := slices.Clone(recs)
	slices.SortStableFunc(out, func(a, b events.SQSMessage) int {
		return delivery(b).ReceiveCount - delivery(a).ReceiveCount
	})
	return out
}

// handBack makes recs visible again at once. It runs after the chunks' deadline, until the
// invocation's. A record it cannot hand back comes back after the visibility timeout.
func (hb HandBack) handBack(ctx context.Context, deadline time.Time, recs []events.SQSMessage, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if hb.Client == nil {
		log.Warn("import batch: records not run in time, left for the visibility timeout (no queue to hand them back to)", "records", len(recs))
		return
	}
	entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, 0, len(recs))
	for i, rec := range recs {
		entries = append(entries, types.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String("h" + strconv.Itoa(i)), ReceiptHandle: aws.String(rec.ReceiptHandle), VisibilityTimeout: 0,
		})
	}
	cctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	for start := 0; start < len(entries); start += maxBatchEntries {
		batch := entries[start:min(start+maxBatchEntries, len(entries))]
		out, err := hb.Client.ChangeMessageVisibilityBatch(cctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(hb.QueueURL), Entries: batch})
		if err != nil {
			log.Warn("import batch: hand back failed, records left for the visibility timeout", "records", len(batch), "error", err.Error())
			continue
		}
		for _, f := range out.Failed {
			log.Warn("import batch: hand back failed for a record", "id", aws.ToString(f.Id), "code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
		}
	}
	log.Info("import batch: handed back the records there was no time left for", "records", len(recs), "left", time.Until(deadline).Round(time.Millisecond).String())
}

// delivery is a record as the worker takes it. A record without a readable receive count is
// taken as its first receive.
func delivery(rec events.SQSMessage) jobs.Delivery {
	n, err := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	if err != nil {
		n = 1
	}
	attrs := map[string]string{}
	for name, v := range rec.MessageAttributes {
		if v.StringValue != nil {
			attrs[name] = *v.StringValue
		}
	}
	return jobs.Delivery{ID: rec.MessageId, Body: rec.Body, ReceiveCount: n, Attributes: attrs}
}
