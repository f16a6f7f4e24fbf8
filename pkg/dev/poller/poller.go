// Package poller stands in, for local runs and tests, for what AWS runs around the import
// worker: Lambda's SQS event source (Poller), and the queues template.yaml makes (CreateQueues).
package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/platform/backoff"
)

// Poller feeds a queue's messages to a handler the way Lambda's SQS event source does, for
// local runs and tests: it receives a batch, builds the SQSEvent Lambda would build, calls the
// handler under a deadline (the function's timeout), deletes the records that did not fail with
// the receipt handles of that receive, and leaves the failed ones to come back after the
// visibility timeout (or to go to the DLQ after maxReceiveCount receives). A handler error, or
// a failure it reports by an id that is not in the batch, fails the whole batch, as on Lambda.
// The worker's handler (jobqueue.HandlerFor with a jobqueue.HandBack on this queue) sees the
// deadline as it would on Lambda, and hands back at once the records it has no time left for:
// reported failed, they are not deleted, and are received again without waiting out the
// visibility timeout.
type Poller struct {
	Client   *sqs.Client
	QueueURL string
	Handler  jobqueue.Handler
	// BatchSize is the most messages per batch, 1 to 10 (0: 10).
	BatchSize int
	// Wait is the long poll, in whole seconds, at most 20 (0: 1 s).
	Wait time.Duration
	// Timeout is each batch's deadline, like the worker function's timeout (0: 60 s), passed
	// to the handler as its context's deadline. The queue's visibility timeout should be well
	// above it (AWS advises 6x).
	Timeout time.Duration
	// Concurrency is how many batches run at once, like Lambda's concurrency (0: 1).
	Concurrency int
	// Region goes into each record's awsRegion (""; us-east-1).
	Region string
	// Log gets receive and delete errors; nil logs nothing.
	Log *slog.Logger

	arnMu sync.Mutex
	arn   string
}

// PollStats counts what a poller did.
type PollStats struct {
	Batches, Received, Deleted, Failed int
}

func (p *Poller) batchSize() int32 {
	if p.BatchSize <= 0 || p.BatchSize > 10 {
		return 10
	}
	return int32(p.BatchSize)
}

func (p *Poller) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.New(slog.DiscardHandler)
}

// queueARN reads the queue's ARN once (each record carries it as eventSourceARN).
func (p *Poller) queueARN(ctx context.Context) (string, error) {
	p.arnMu.Lock()
	defer p.arnMu.Unlock()
	if p.arn != "" {
		return p.arn, nil
	}
	out, err := p.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(p.QueueURL), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", fmt.Errorf("imports: queue ARN of %s: %w", p.QueueURL, err)
	}
	p.arn = out.Attributes[string(types.QueueAttributeNameQueueArn)]
	return p.arn, nil
}

// PollOnce receives one batch (long-polling up to Wait), runs the handler on it and deletes
// what succeeded. Once it has started receiving it runs to the end even if ctx ends, so that
// no message is received and then dropped.
func (p *Poller) PollOnce(ctx context.Context) (PollStats, error) {
	return p.pollOnce(ctx, nil)
}

// pollOnce is PollOnce; busy (if not nil) is called with +1 when a batch arrives and -1 when it
// is done with.
func (p *Poller) pollOnce(ctx context.Context, busy func(int)) (PollStats, error) {
	if err := ctx.Err(); err != nil {
		return PollStats{}, err
	}
	arn, err := p.queueARN(ctx)
	if err != nil {
		return PollStats{}, err
	}
	wait := int32(1)
	if p.Wait > 0 {
		wait = int32(min(max(p.Wait.Round(time.Second)/time.Second, 1), 20))
	}
	// A receive is never abandoned: SQS (and moto) would hide the messages it returns to a
	// caller that has gone, until their visibility timeout. Stopping waits for it instead.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(wait)*time.Second+30*time.Second)
	defer rcancel()
	out, err := p.Client.ReceiveMessage(rctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(p.QueueURL), MaxNumberOfMessages: p.batchSize(), WaitTimeSeconds: wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return PollStats{}, fmt.Errorf("imports: receive: %w", err)
	}
	if len(out.Messages) == 0 {
		return PollStats{}, nil
	}
	stats := PollStats{Batches: 1, Received: len(out.Messages)}
	if busy != nil {
		busy(1)
		defer busy(-1)
	}
	region := p.Region
	if region == "" {
		region = "us-east-1"
	}
	ev := SQSEvent(arn, region, out.Messages)
	// A batch in hand runs to its end even if ctx ends, as an invocation would.
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	resp, herr := protectHandler(hctx, p.Handler, ev)
	failed := map[string]bool{}
	wholeBatch := herr != nil
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	inBatch := map[string]bool{}
	for _, m := range out.Messages {
		inBatch[aws.ToString(m.MessageId)] = true
	}
	for id := range failed {
		if !inBatch[id] {
			wholeBatch = true // Lambda: an unknown or empty id fails the whole batch
		}
	}
	if wholeBatch {
		p.log().Warn("import batch failed as a whole", "messages", len(out.Messages), "error", fmt.Sprint(herr))
		stats.Failed = len(out.Messages)
		return stats, nil
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		if failed[aws.ToString(m.MessageId)] {
			stats.Failed++
			continue
		}
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if len(del) > 0 {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		res, err := p.Client.DeleteMessageBatch(dctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: del})
		if err != nil {
			// The messages come back after the visibility timeout and find their chunks done.
			p.log().Warn("import batch: delete failed", "error", err.Error())
		} else {
			stats.Deleted = len(res.Successful)
			for _, f := range res.Failed {
				p.log().Warn("import batch: delete failed", "id", aws.ToString(f.Id), "code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
			}
		}
	}
	return stats, nil
}

func protectHandler(ctx context.Context, h jobqueue.Handler, ev events.SQSEvent) (resp events.SQSEventResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("poller: handler panicked: %v", r)
		}
	}()
	return h(ctx, ev)
}

// SQSEvent builds the event Lambda's SQS event source passes for messages received from the
// queue with the given ARN: every system attribute (ApproximateReceiveCount among them) and
// message attribute as received.
func SQSEvent(queueARN, region string, msgs []types.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	for i, m := range msgs {
		attrs := map[string]events.SQSMessageAttribute{}
		for name, a := range m.MessageAttributes {
			attrs[name] = events.SQSMessageAttribute{
				StringValue: a.StringValue, BinaryValue: a.BinaryValue, StringListValues: a.StringListValues,
				BinaryListValues: a.BinaryListValues, DataType: aws.ToString(a.DataType),
			}
		}
		sys := map[string]string{}
		for k, v := range m.Attributes {
			sys[k] = v
		}
		ev.Records[i] = events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes: sys, MessageAttributes: attrs, EventSourceARN: queueARN, EventSource: "aws:sqs", AWSRegion: region,
		}
	}
	return ev
}

// Run polls until ctx ends, Concurrency batches at a time; a batch in hand is finished first.
func (p *Poller) Run(ctx context.Context) error {
	_, err := p.run(ctx, nil)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// run polls with Concurrency loops until ctx ends or a loop hits an error it cannot pass
// (only the queue's ARN; receive errors are retried). busy sees batches start and end.
func (p *Poller) run(ctx context.Context, busy func(int)) (PollStats, error) {
	n := max(p.Concurrency, 1)
	var mu sync.Mutex
	var total PollStats
	var firstErr error
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for fails := 0; ctx.Err() == nil; {
				s, err := p.pollOnce(ctx, busy)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					fails++
					p.log().Warn("import poller", "error", err.Error())
					if fails >= 10 {
						mu.Lock()
						firstErr = cmpErr(firstErr, err)
						mu.Unlock()
						return
					}
					_ = backoff.Queue.Wait(ctx, fails)
					continue
				}
				fails = 0
				mu.Lock()
				total.Batches += s.Batches
				total.Received += s.Received
				total.Deleted += s.Deleted
				total.Failed += s.Failed
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return total, firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// ErrNotDrained: Drain stopped, after idle without a message, with messages still in the queue
// (in flight, or waiting out a visibility timeout longer than idle).
var ErrNotDrained = errors.New("imports: queue not drained")

// Drain polls until the queue is empty (nothing visible, in flight or delayed; moto counts
// exactly, AWS only approximately) or until no batch was in hand for idle, then waits for the
// batches in hand. It returns ErrNotDrained (wrapped, with the counts) if messages are left.
func (p *Poller) Drain(ctx context.Context, idle time.Duration) (PollStats, error) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last atomic.Int64 // when the last batch arrived or ended
	var inHand atomic.Int32
	last.Store(time.Now().UnixNano())
	type result struct {
		stats PollStats
		err   error
	}
	done := make(chan result, 1)
	go func() {
		s, err := p.run(pctx, func(d int) {
			inHand.Add(int32(d))
			last.Store(time.Now().UnixNano())
		})
		done <- result{s, err}
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var left error
	for stop := false; !stop; {
		select {
		case r := <-done: // a loop gave up
			return r.stats, r.err
		case <-ctx.Done():
			stop, left = true, ctx.Err()
		case <-tick.C:
			visible, hidden, err := p.counts(ctx)
			switch {
			case err != nil:
				stop, left = true, err
			case visible+hidden == 0:
				stop = true
			case inHand.Load() == 0 && time.Since(time.Unix(0, last.Load())) > idle:
				stop, left = true, fmt.Errorf("%w after %v idle: %d visible, %d in flight or delayed", ErrNotDrained, idle, visible, hidden)
			}
		}
	}
	cancel()
	r := <-done
	if left == nil {
		left = r.err
	}
	return r.stats, left
}

// counts returns the queue's visible messages and those in flight or delayed.
func (p *Poller) counts(ctx context.Context) (visible, hidden int, err error) {
	out, err := p.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(p.QueueURL),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return 0, 0, fmt.Errorf("imports: queue counts: %w", err)
	}
	n := func(a types.QueueAttributeName) int {
		v, _ := strconv.Atoi(out.Attributes[string(a)])
		return v
	}
	return n(types.QueueAttributeNameApproximateNumberOfMessages),
		n(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible) + n(types.QueueAttributeNameApproximateNumberOfMessagesDelayed), nil
}
