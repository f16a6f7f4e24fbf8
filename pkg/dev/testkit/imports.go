package testkit

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/participant-roster/roster/pkg/dev/localstack"
	"github.com/participant-roster/roster/pkg/dev/poller"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
)

var (
	sqsOnce sync.Once
	sqsEP   string
	sqsErr  error
)

// sqsEndpoint is the moto_server `make test` started ($SQS_ENDPOINT), or a private one started
// on first use. A private one is never stopped here: it gets SIGTERM when the test process
// dies (see localstack.StartSQS).
func sqsEndpoint() (string, error) {
	sqsOnce.Do(func() {
		sqsEP, _, sqsErr = localstack.SQSEndpoint(context.Background())
	})
	return sqsEP, sqsErr
}

// Imports is an Env's import queue with its DLQ, and a poller that feeds the queue to the
// app's import worker as Lambda's SQS event source would (batches of 10, two at a time, like
// ImportWorkerFunction's BatchSize and MaximumConcurrency).
type Imports struct {
	SQS              *sqs.Client
	QueueURL, DLQURL string
	Poller           *poller.Poller
	t                interface {
		Helper()
		Fatalf(string, ...any)
	}
}

// EnableImports gives the Env's app a fresh queue (and DLQ, maxReceiveCount 5), so that jobs
// can be submitted, and returns it. The visibility timeout and each batch's deadline are
// generous: under a loaded machine a chunk of 500 new rows on DynamoDB Local takes seconds.
func (e *Env) EnableImports() *Imports {
	e.T.Helper()
	ctx := context.Background()
	ep, err := sqsEndpoint()
	if err != nil {
		e.T.Fatalf("testkit: local SQS: %v", err)
	}
	client, err := jobqueue.NewClient(ctx, ep)
	if err != nil {
		e.T.Fatalf("testkit: %v", err)
	}
	queue, dlq, err := poller.CreateQueues(ctx, client, localstack.UniqueQueueName("test"), 180*time.Second, jobs.DefaultMaxReceiveCount)
	if err != nil {
		e.T.Fatalf("testkit: %v", err)
	}
	e.App.EnableImports(client, queue)
	return &Imports{
		SQS: client, QueueURL: queue, DLQURL: dlq, t: e.T,
		Poller: &poller.Poller{
			Client: client, QueueURL: queue, Handler: jobqueue.HandlerFor(e.App.PolledImportWorker(jobs.DefaultMaxReceiveCount, 2), jobqueue.HandBack{Client: client, QueueURL: queue}),
			BatchSize: 10, Timeout: 120 * time.Second, Concurrency: 2,
		},
	}
}

// Drain runs the worker until the queue is empty; it fails the test if messages are left.
func (i *Imports) Drain() poller.PollStats {
	i.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := i.Poller.Drain(ctx, 130*time.Second)
	if err != nil {
		i.t.Fatalf("testkit: drain: %v (stats %+v)", err, s)
	}
	return s
}
