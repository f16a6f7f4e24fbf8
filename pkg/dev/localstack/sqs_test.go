package localstack_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/participant-roster/roster/pkg/dev/localstack"
)

// visibility is the test queue's visibility timeout: long enough that the steps which must
// finish while messages are hidden do so even on a loaded two-core machine.
const visibility = 3 * time.Second

// newSQSClient returns an SQS client for a local endpoint, built from
// sqs.Options rather than the shared AWS config for the same reason as
// localstack.NewClient: no AWS_PROFILE, AWS_REGION or AWS_ENDPOINT_URL may
// send local tests to real AWS.
func newSQSClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

// TestStartSQS checks the process handling: moto listens on 127.0.0.1 only,
// a busy port is refused, Stop is idempotent and frees the port.
func TestStartSQS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	s, err := localstack.StartSQS(ctx, localstack.SQSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	t.Logf("moto_server at %s, ready in %v", s.Endpoint, time.Since(start).Round(time.Millisecond))

	_, portStr, err := net.SplitHostPort(strings.TrimPrefix(s.Endpoint, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portStr)
	addrs := listenAddrs(t, port)
	if !slices.Equal(addrs, []string{"127.0.0.1"}) {
		t.Errorf("moto listens on %v, want only 127.0.0.1", addrs)
	}

	// The port is ours now: a second moto on it must be refused up front.
	_, err = localstack.StartSQS(ctx, localstack.SQSOptions{Port: port})
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("StartSQS on a busy port: err = %v, want a port-in-use error", err)
	}

	if _, err := newSQSClient(s.Endpoint).ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil {
		t.Fatalf("ListQueues: %v", err)
	}
	stopStart := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %v", time.Since(stopStart).Round(time.Millisecond))
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if addrs := listenAddrs(t, port); len(addrs) != 0 {
		t.Errorf("port %d still listened on (%v) after Stop", port, addrs)
	}
}

// listenAddrs returns the local addresses with a TCP listener on port, from
// /proc/net/tcp{,6} (the package is Linux-only).
func listenAddrs(t *testing.T, port int) []string {
	t.Helper()
	var addrs []string
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			// sl local_address rem_address st ...; local is HEXIP:HEXPORT,
			// the IPv4 address in host (little-endian) byte order.
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] != "0A" { // 0A = LISTEN
				continue
			}
			hexIP, hexPort, _ := strings.Cut(fields[1], ":")
			if p, _ := strconv.ParseUint(hexPort, 16, 16); int(p) != port {
				continue
			}
			addrs = append(addrs, decodeProcIP(hexIP))
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return addrs
}

func decodeProcIP(h string) string {
	if len(h) != 8 {
		return "[" + h + "]" // IPv6: any entry is unexpected; keep it raw
	}
	v, _ := strconv.ParseUint(h, 16, 32)
	return net.IPv4(byte(v), byte(v>>8), byte(v>>16), byte(v>>24)).String()
}

// TestSQSVisibilityAndRedrive documents what moto does with the features the
// import worker relies on: batch send, receive, delete, visibility timeout
// expiry and redrive to a dead-letter queue. Each step asserts moto's actual
// behaviour; where it differs from AWS the comment says so.
func TestSQSVisibilityAndRedrive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	endpoint, stop, err := localstack.SQSEndpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	t.Logf("SQS at %s, ready in %v", endpoint, time.Since(start).Round(time.Millisecond))
	c := newSQSClient(endpoint)

	// Dead-letter queue first: the redrive policy names it by ARN.
	dlqName := localstack.UniqueQueueName("dlq")
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(dlqName)})
	if err != nil {
		t.Fatal(err)
	}
	dlqURL := *dlq.QueueUrl
	dlqArn := queueAttrs(t, ctx, c, dlqURL, types.QueueAttributeNameQueueArn)[string(types.QueueAttributeNameQueueArn)]
	if dlqArn == "" {
		t.Fatal("DLQ has no QueueArn")
	}
	// Queue URLs are built from the request's host.
	if want := endpoint + "/"; !strings.HasPrefix(dlqURL, want) || !strings.HasSuffix(dlqURL, "/"+dlqName) {
		t.Errorf("queue URL %s, want %s<account>/%s", dlqURL, want, dlqName)
	}

	const maxReceiveCount = 2
	policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, dlqArn, maxReceiveCount)
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(localstack.UniqueQueueName("work")),
		Attributes: map[string]string{
			string(types.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(visibility / time.Second)),
			string(types.QueueAttributeNameRedrivePolicy):     policy,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	url := *q.QueueUrl
	attrs := queueAttrs(t, ctx, c, url, types.QueueAttributeNameAll)
	if v := attrs["VisibilityTimeout"]; v != strconv.Itoa(int(visibility/time.Second)) {
		t.Errorf("VisibilityTimeout = %q, want %v", v, visibility)
	}
	var rp struct {
		DeadLetterTargetArn string
		MaxReceiveCount     json.Number // string or number on the wire
	}
	if err := json.Unmarshal([]byte(attrs["RedrivePolicy"]), &rp); err != nil {
		t.Fatalf("RedrivePolicy %q: %v", attrs["RedrivePolicy"], err)
	}
	if rp.DeadLetterTargetArn != dlqArn || rp.MaxReceiveCount.String() != strconv.Itoa(maxReceiveCount) {
		t.Errorf("RedrivePolicy = %s, want target %s and maxReceiveCount %d", attrs["RedrivePolicy"], dlqArn, maxReceiveCount)
	}
	t.Logf("RedrivePolicy as stored: %s", attrs["RedrivePolicy"])

	// SendMessageBatch: 10 entries, the most one batch may hold.
	entries := make([]types.SendMessageBatchRequestEntry, 10)
	for i := range entries {
		entries[i] = types.SendMessageBatchRequestEntry{
			Id:          aws.String("e" + strconv.Itoa(i)),
			MessageBody: aws.String(fmt.Sprintf(`{"chunk":%d}`, i)),
		}
	}
	sent, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	if err != nil {
		t.Fatal(err) // the SDK also checks each MD5OfMessageBody
	}
	if len(sent.Successful) != 10 || len(sent.Failed) != 0 {
		t.Fatalf("SendMessageBatch: %d successful, %d failed (%+v)", len(sent.Successful), len(sent.Failed), sent.Failed)
	}
	bodyByID := map[string]string{} // MessageId -> body
	for _, r := range sent.Successful {
		i, _ := strconv.Atoi(strings.TrimPrefix(*r.Id, "e"))
		bodyByID[*r.MessageId] = *entries[i].MessageBody
	}

	// Receive 1: moto returns all 10 visible messages in one call (AWS may
	// return fewer from a standard queue even when more are available: the
	// worker must loop), each with ApproximateReceiveCount 1.
	recv1Sent := time.Now()
	first := receive(t, ctx, c, url)
	if len(first) != 10 {
		t.Fatalf("first receive returned %d messages, want all 10", len(first))
	}
	firstHandle := map[string]string{}
	for _, m := range first {
		checkMessage(t, m, bodyByID, 1)
		firstHandle[*m.MessageId] = *m.ReceiptHandle
	}
	// moto hid them no earlier than recv1Sent, so they stay hidden at least
	// until hidden1; checks that finish before then are exact.
	hidden1 := recv1Sent.Add(visibility)
	again := receive(t, ctx, c, url)
	if time.Now().Before(hidden1) && len(again) != 0 {
		t.Fatalf("receive during the visibility timeout returned %d messages", len(again))
	}
	checkCountsBefore(t, ctx, c, url, "main queue, all in flight", hidden1, 0, 10)

	// Delete 4 (DeleteMessageBatch); the other 6 are left to time out.
	var del []types.DeleteMessageBatchRequestEntry
	deleted := map[string]bool{}
	for i, m := range first[:4] {
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String("d" + strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		deleted[*m.MessageId] = true
	}
	dres, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: del})
	if err != nil {
		t.Fatal(err)
	}
	if len(dres.Successful) != 4 || len(dres.Failed) != 0 {
		t.Fatalf("DeleteMessageBatch: %d successful, %d failed (%+v)", len(dres.Successful), len(dres.Failed), dres.Failed)
	}
	checkCountsBefore(t, ctx, c, url, "main queue after deleting 4", hidden1, 0, 6)

	// Receive 2: poll until the 6 undeleted messages come back, which must
	// not happen before the visibility timeout, with receive count 2 and
	// a new receipt handle.
	second, rt := pollReceive(t, ctx, c, url, 6, 10*time.Second)
	for _, m := range second {
		if deleted[*m.MessageId] {
			t.Errorf("deleted message %s was delivered again", *m.MessageId)
		}
		checkMessage(t, m, bodyByID, 2)
		if *m.ReceiptHandle == firstHandle[*m.MessageId] {
			t.Errorf("message %s redelivered with the same receipt handle", *m.MessageId)
		}
	}
	if d := rt.firstAt.Sub(recv1Sent); d < visibility {
		t.Errorf("a message was redelivered %v after receive 1 was sent, before the %v visibility timeout", d, visibility)
	}
	t.Logf("visibility timeout %v: the 6 undeleted messages were redelivered %v to %v after receive 1 was sent", visibility,
		rt.firstAt.Sub(recv1Sent).Round(time.Millisecond), rt.lastAt.Sub(recv1Sent).Round(time.Millisecond))
	hidden2 := rt.firstSent.Add(visibility)

	// Stale receipt handle: moto deletes a message given ANY receipt handle
	// it ever had. AWS only promises deletion with the latest handle ("the
	// request succeeds, but the message might not be deleted"), so the
	// worker must delete with the handle of its own, current receive.
	stale := second[0]
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl: aws.String(url), ReceiptHandle: aws.String(firstHandle[*stale.MessageId]),
	}); err != nil {
		t.Fatalf("DeleteMessage with the first-receive handle: %v", err)
	}
	deleted[*stale.MessageId] = true
	checkCountsBefore(t, ctx, c, url, "main queue after the stale-handle delete", hidden2, 0, 5)
	var dlqWant []string
	for _, m := range second[1:] {
		dlqWant = append(dlqWant, *m.MessageId)
	}
	slices.Sort(dlqWant)

	// Redrive is lazy: once the 5 are visible again with receive count 2
	// (= maxReceiveCount) they sit in the main queue, visible, and the DLQ
	// stays empty; GetQueueAttributes does not move them.
	waitCounts(t, ctx, c, url, 5, 0, 10*time.Second)
	checkCounts(t, ctx, c, dlqURL, "DLQ before the next receive", 0, 0)

	// The next receive on the main queue moves them to the DLQ instead of
	// delivering them a third time, and returns nothing.
	if got := receive(t, ctx, c, url); len(got) != 0 {
		t.Fatalf("receive after maxReceiveCount returned %d messages, want 0 (moved to the DLQ)", len(got))
	}
	checkCounts(t, ctx, c, url, "main queue after redrive", 0, 0)
	checkCounts(t, ctx, c, dlqURL, "DLQ after redrive", 5, 0)

	// In the DLQ: same message ids and bodies; moto keeps the message's
	// receive count, so the first DLQ receive reports maxReceiveCount+1.
	inDLQ := receive(t, ctx, c, dlqURL)
	var gotIDs []string
	for _, m := range inDLQ {
		checkMessage(t, m, bodyByID, maxReceiveCount+1)
		gotIDs = append(gotIDs, *m.MessageId)
	}
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, dlqWant) {
		t.Errorf("DLQ holds %v, want the 5 undeleted messages %v", gotIDs, dlqWant)
	}
}

// receive makes one ReceiveMessage call (up to 10, no long polling) asking
// for all system attributes.
func receive(t *testing.T, ctx context.Context, c *sqs.Client, url string) []types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

// receiveTimes records, for the calls of pollReceive that returned messages,
// when the first was sent and when the first and last returned.
type receiveTimes struct{ firstSent, firstAt, lastAt time.Time }

// pollReceive receives every 20 ms until it has n messages or timeout passes.
// It polls rather than long-polls because moto's long poll only rechecks
// messages whose visibility timeout expired once a second.
func pollReceive(t *testing.T, ctx context.Context, c *sqs.Client, url string, n int, timeout time.Duration) ([]types.Message, receiveTimes) {
	t.Helper()
	var got []types.Message
	var rt receiveTimes
	deadline := time.Now().Add(timeout)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("received %d of %d messages within %v", len(got), n, timeout)
		}
		sent := time.Now()
		ms := receive(t, ctx, c, url)
		if len(ms) > 0 {
			now := time.Now()
			if rt.firstAt.IsZero() {
				rt.firstSent, rt.firstAt = sent, now
			}
			rt.lastAt = now
			got = append(got, ms...)
			continue
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(got) != n {
		t.Fatalf("received %d messages, want %d", len(got), n)
	}
	return got, rt
}

// checkMessage asserts the body matches what was sent and the receive count.
func checkMessage(t *testing.T, m types.Message, bodyByID map[string]string, wantCount int) {
	t.Helper()
	want, ok := bodyByID[*m.MessageId]
	if !ok {
		t.Errorf("unknown message id %s", *m.MessageId)
		return
	}
	if *m.Body != want {
		t.Errorf("message %s body %q, want %q", *m.MessageId, *m.Body, want)
	}
	if got := m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]; got != strconv.Itoa(wantCount) {
		t.Errorf("message %s ApproximateReceiveCount = %q, want %d", *m.MessageId, got, wantCount)
	}
}

func queueAttrs(t *testing.T, ctx context.Context, c *sqs.Client, url string, names ...types.QueueAttributeName) map[string]string {
	t.Helper()
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: names})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes
}

// counts returns ApproximateNumberOfMessages (visible) and
// ApproximateNumberOfMessagesNotVisible (in flight); moto computes both
// exactly.
func counts(t *testing.T, ctx context.Context, c *sqs.Client, url string) (visible, inFlight int) {
	t.Helper()
	a := queueAttrs(t, ctx, c, url,
		types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	visible, err1 := strconv.Atoi(a[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	inFlight, err2 := strconv.Atoi(a[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("queue counts %v: %v", a, err)
	}
	return visible, inFlight
}

func checkCounts(t *testing.T, ctx context.Context, c *sqs.Client, url, what string, wantVisible, wantInFlight int) {
	t.Helper()
	if v, f := counts(t, ctx, c, url); v != wantVisible || f != wantInFlight {
		t.Errorf("%s: %d visible, %d in flight; want %d, %d", what, v, f, wantVisible, wantInFlight)
	}
}

// checkCountsBefore is checkCounts for a queue whose in-flight messages
// become visible again at hiddenUntil: if the check finished later (a very
// slow machine) only the total is checked.
func checkCountsBefore(t *testing.T, ctx context.Context, c *sqs.Client, url, what string, hiddenUntil time.Time, wantVisible, wantInFlight int) {
	t.Helper()
	v, f := counts(t, ctx, c, url)
	if time.Now().Before(hiddenUntil) {
		if v != wantVisible || f != wantInFlight {
			t.Errorf("%s: %d visible, %d in flight; want %d, %d", what, v, f, wantVisible, wantInFlight)
		}
		return
	}
	t.Logf("%s: checked after the visibility timeout, comparing totals only", what)
	if v+f != wantVisible+wantInFlight {
		t.Errorf("%s: %d messages, want %d", what, v+f, wantVisible+wantInFlight)
	}
}

// waitCounts polls the queue counts until they match or timeout passes.
func waitCounts(t *testing.T, ctx context.Context, c *sqs.Client, url string, wantVisible, wantInFlight int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, f := counts(t, ctx, c, url)
		if v == wantVisible && f == wantInFlight {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue counts %d visible, %d in flight after %v; want %d, %d", v, f, timeout, wantVisible, wantInFlight)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
