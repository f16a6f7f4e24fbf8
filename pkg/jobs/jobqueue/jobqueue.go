// Package jobqueue is the jobs engine's SQS adapter: it sends a job's chunk messages with
// SendMessageBatch (jobs.Queue), and turns the SQS events Lambda delivers into the worker's
// deliveries, answering with partial batch failures.
package jobqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

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

// HandlerFor is the worker's Lambda handler (SQS event source with ReportBatchItemFailures):
// each record, one chunk, runs on its own, in order, and exactly the records that failed are
// reported in BatchItemFailures, for SQS to deliver again (or move to the DLQ). It fails the
// whole batch only when a record that failed has no message id to report it by.
func HandlerFor(w *jobs.Worker) Handler {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
		for _, rec := range ev.Records {
			if err := w.Handle(ctx, delivery(rec)); err != nil {
				if rec.MessageId == "" {
					return events.SQSEventResponse{}, fmt.Errorf("jobqueue: a record without a messageId failed: %w", err)
				}
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			}
		}
		return resp, nil
	}
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
