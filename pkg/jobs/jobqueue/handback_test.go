package jobqueue

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/participant-roster/roster/pkg/jobs"
)

// changer records the receipt handles handed back.
type changer struct {
	mu      sync.Mutex
	queue   string
	handles []string
	zero    bool // every entry's visibility was 0
}

func (c *changer) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queue = aws.ToString(in.QueueUrl)
	c.zero = true
	for _, e := range in.Entries {
		c.handles = append(c.handles, aws.ToString(e.ReceiptHandle))
		c.zero = c.zero && e.VisibilityTimeout == 0
	}
	return &sqs.ChangeMessageVisibilityBatchOutput{}, nil
}

// records are SQS records m0, m1, ... with the given receive counts (receipt handles rh-m0, ...).
func records(counts ...int) events.SQSEvent {
	var ev events.SQSEvent
	for i, n := range counts {
		id := "m" + strconv.Itoa(i)
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: id, ReceiptHandle: "rh-" + id, Body: "{}",
			Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(n)},
		})
	}
	return ev
}

// slowWorker takes each delivery for took (or until its context ends: then it fails), and notes
// the order it ran them in.
type slowWorker struct {
	took time.Duration
	ran  []string
}

func (s *slowWorker) handle(ctx context.Context, d jobs.Delivery) error {
	s.ran = append(s.ran, d.ID)
	select {
	case <-time.After(s.took):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func lastAt5(d jobs.Delivery) bool { return d.ReceiveCount >= 5 }

// runBatch runs records with the given receive counts through a handler whose chunks take
// took each, in an invocation of within, handing back to a recorded queue "q".
func runBatch(t *testing.T, took, within time.Duration, counts ...int) (*slowWorker, *changer, events.SQSEventResponse, time.Time) {
	t.Helper()
	w := &slowWorker{took: took}
	c := &changer{}
	h := handlerFor(w.handle, lastAt5, HandBack{Client: c, QueueURL: "q"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	deadline, _ := ctx.Deadline()
	resp, err := h(ctx, records(counts...))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(c.handles)
	return w, c, resp, deadline
}

func failures(resp events.SQSEventResponse) []string {
	var out []string
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	slices.Sort(out)
	return out
}

// TestHandBackWhenTimeRunsShort: ten 100 ms chunks in a 600 ms invocation: the handler starts
// a chunk only with a third of that left, hands back every record after the first it did not
// start (visibility 0 on their receipt handles) and reports exactly those as failures.
func TestHandBackWhenTimeRunsShort(t *testing.T) {
	w, c, resp, deadline := runBatch(t, 100*time.Millisecond, 600*time.Millisecond, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	if len(w.ran) == 0 || len(w.ran) >= 10 {
		t.Fatalf("ran %v: want some of the ten, not all", w.ran)
	}
	var back, want []string
	for i := len(w.ran); i < 10; i++ {
		want = append(want, "m"+strconv.Itoa(i))
		back = append(back, "rh-m"+strconv.Itoa(i))
	}
	if !slices.Equal(w.ran, []string{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"}[:len(w.ran)]) {
		t.Errorf("ran %v, want the batch's first records in order", w.ran)
	}
	if !slices.Equal(c.handles, back) || c.queue != "q" || !c.zero {
		t.Errorf("handed back %v to %q (all at visibility 0: %v), want %v to q", c.handles, c.queue, c.zero, back)
	}
	slices.Sort(want)
	if got := failures(resp); !slices.Equal(got, want) {
		t.Errorf("reported %v as failed, want the handed-back %v", got, want)
	}
	if left := time.Until(deadline); left < 50*time.Millisecond {
		t.Errorf("the handler returned with %v left: a chunk ran too late", left)
	}
}

// TestHandBackSparesLastReceives: records run most-received first; one on its last receive
// runs even with less than the margin left (handed back, the queue's redrive policy would move
// it to the DLQ unrun); one that overran its deadline is handed back unless it was on its last
// receive, and once the chunks' deadline has passed the rest are handed back.
func TestHandBackSparesLastReceives(t *testing.T) {
	// m1 (5th receive) runs first and has the time; m2 (also its 5th) runs with 400 ms left,
	// under the 600 ms margin, and overruns: it fails (its last receive: no handback); m0 and
	// m3 are handed back without running.
	w, c, resp, _ := runBatch(t, 1400*time.Millisecond, 1800*time.Millisecond, 2, 5, 5, 1)
	if !slices.Equal(w.ran, []string{"m1", "m2"}) {
		t.Errorf("ran %v, want the two last receives, m1 then m2", w.ran)
	}
	if !slices.Equal(c.handles, []string{"rh-m0", "rh-m3"}) {
		t.Errorf("handed back %v, want rh-m0 and rh-m3", c.handles)
	}
	if got := failures(resp); !slices.Equal(got, []string{"m0", "m2", "m3"}) {
		t.Errorf("reported %v as failed, want m0, m3 (handed back) and m2 (overran on its last receive)", got)
	}
}

// TestHandBackOrderAndOverrun: a chunk handed back before heads its next batch; the first
// record always runs, and one that overruns is handed back (not left for the visibility
// timeout) with the records after it.
func TestHandBackOrderAndOverrun(t *testing.T) {
	w, c, resp, _ := runBatch(t, time.Second, 300*time.Millisecond, 1, 3, 2)
	if !slices.Equal(w.ran, []string{"m1"}) {
		t.Errorf("ran %v, want m1 (received most) alone", w.ran)
	}
	if !slices.Equal(c.handles, []string{"rh-m0", "rh-m1", "rh-m2"}) {
		t.Errorf("handed back %v, want all three", c.handles)
	}
	if got := failures(resp); !slices.Equal(got, []string{"m0", "m1", "m2"}) {
		t.Errorf("reported %v as failed, want all three", got)
	}
}

// TestNoDeadlineNoHandBack: without a deadline every record runs; without a queue to hand
// back to, records not run are still reported failed (they come back after the visibility
// timeout).
func TestNoDeadlineNoHandBack(t *testing.T) {
	w := &slowWorker{took: time.Millisecond}
	resp, err := handlerFor(w.handle, lastAt5, HandBack{}, nil)(context.Background(), records(1, 1, 1))
	if err != nil || len(w.ran) != 3 || len(resp.BatchItemFailures) != 0 {
		t.Errorf("ran %v, failures %v, err %v: want all three run and none failed", w.ran, resp.BatchItemFailures, err)
	}
	w = &slowWorker{took: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 1400*time.Millisecond)
	defer cancel()
	resp, err = handlerFor(w.handle, lastAt5, HandBack{}, nil)(ctx, records(1, 1, 1))
	if err != nil || len(w.ran) != 1 || !slices.Equal(failures(resp), []string{"m1", "m2"}) {
		t.Errorf("ran %v, failures %v, err %v: want m0 run, m1 and m2 failed", w.ran, failures(resp), err)
	}
}
