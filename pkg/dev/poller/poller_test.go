package poller_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/participant-roster/roster/pkg/dev/localstack"
	"github.com/participant-roster/roster/pkg/dev/poller"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
)

// visibility is the test queue's visibility timeout: longer than any batch here takes (so no
// message comes twice but the one failed on purpose), shorter than Drain's idle wait.
const visibility = 3 * time.Second

// batches records what the handler saw, and makes the first batches wait until two are in hand
// at once.
type batches struct {
	mu       sync.Mutex
	inHand   int
	most     int
	overlap  chan struct{}       // closed when two batches are in hand at once
	receives map[string][]string // ApproximateReceiveCount of each delivery, by body
}

func (b *batches) handle(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	b.mu.Lock()
	b.inHand++
	b.most = max(b.most, b.inHand)
	if b.inHand == 2 {
		select {
		case <-b.overlap:
		default:
			close(b.overlap)
		}
	}
	b.mu.Unlock()
	select {
	case <-b.overlap:
	case <-time.After(visibility / 2):
	}
	resp := events.SQSEventResponse{}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inHand--
	for _, rec := range ev.Records {
		n := rec.Attributes["ApproximateReceiveCount"]
		b.receives[rec.Body] = append(b.receives[rec.Body], n)
		if rec.Body == "m3" && n == "1" {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// TestPollerRunsBatchesConcurrently: with Concurrency 2 the poller has two batches in hand at
// once; it deletes what succeeded and leaves a record reported failed to come back after the
// visibility timeout, and Drain waits for it.
func TestPollerRunsBatchesConcurrently(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	endpoint, stop, err := localstack.SQSEndpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	client, err := jobqueue.NewClient(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	queue, _, err := poller.CreateQueues(ctx, client, localstack.UniqueQueueName("poll"), visibility, 5)
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	entries := make([]types.SendMessageBatchRequestEntry, n)
	for i := range entries {
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(fmt.Sprintf("m%d", i))}
	}
	if _, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queue), Entries: entries}); err != nil {
		t.Fatal(err)
	}

	b := &batches{overlap: make(chan struct{}), receives: map[string][]string{}}
	p := &poller.Poller{Client: client, QueueURL: queue, Handler: b.handle, BatchSize: 2, Concurrency: 2, Timeout: 30 * time.Second}
	stats, err := p.Drain(ctx, visibility+2*time.Second)
	if err != nil {
		t.Fatalf("Drain: %v (stats %+v)", err, stats)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.most != 2 {
		t.Errorf("at most %d batch(es) in hand at once, want 2", b.most)
	}
	for i := range n {
		body := fmt.Sprintf("m%d", i)
		want := "[1]"
		if body == "m3" {
			want = "[1 2]"
		}
		if got := fmt.Sprint(b.receives[body]); got != want {
			t.Errorf("%s: receive counts %s, want %s", body, got, want)
		}
	}
	if stats.Received != n+1 || stats.Deleted != n || stats.Failed != 1 || stats.Batches < 3 {
		t.Errorf("stats %+v, want %d received, %d deleted, 1 failed, in 3 batches or more", stats, n+1, n)
	}
}
