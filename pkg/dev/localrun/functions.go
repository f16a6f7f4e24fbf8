package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/localapi"
	"github.com/participant-roster/roster/pkg/dev/localenv"
	"github.com/participant-roster/roster/pkg/dev/localstack"
	"github.com/participant-roster/roster/pkg/dev/poller"
	"github.com/participant-roster/roster/pkg/dev/rie"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/wiring/snapwire"
)

// Local import queue: like template.yaml's ImportQueue (redrive after 5 receives) with a
// shorter visibility timeout, and a poller standing in for the worker's SQS event source.
const (
	localWorkerTimeout    = 60 * time.Second
	localVisibility       = 6 * localWorkerTimeout
	localMaxReceiveCount  = 5
	localWorkerConcurrent = 2
	pollerBatchSize       = 10
	pollerWait            = 5 * time.Second
)

// queue is the local SQS (moto_server) with the import queue and its DLQ.
type queue struct {
	client        *sqs.Client
	url, endpoint string
	stop          func()
}

// startQueue starts moto_server as the local SQS, creates the import queue and its DLQ, and
// sends the app's large imports there. moto keeps its queues in memory: chunks still queued
// when local-api stops are lost, and their jobs stay QUEUED or RUNNING until the next start
// ends them (endLostJobs).
func startQueue(ctx context.Context, a *app.App, port int, msg func(string, ...any)) (*queue, error) {
	msg("starting the local SQS (moto_server) for large imports...")
	port, moved := freeOrAny(port)
	mq, err := localstack.StartSQS(ctx, localstack.SQSOptions{Port: port})
	if err != nil {
		return nil, fmt.Errorf("local SQS: %w", err)
	}
	if moved {
		msg("the local SQS's port is busy, so it listens on %s instead", mq.Endpoint)
	}
	sc, err := jobqueue.NewClient(ctx, mq.Endpoint)
	var url string
	if err == nil {
		url, _, err = poller.CreateQueues(ctx, sc, localenv.ImportQueue, localVisibility, localMaxReceiveCount)
	}
	stop := func() {
		if err := mq.Stop(); err != nil {
			msg("stopping moto_server: %v", err)
		}
	}
	if err != nil {
		stop()
		return nil, err
	}
	a.EnableImports(sc, url)
	msg("import jobs (Spot above 1,000 rows, every Snap bulk import) go to %s (SQS at %s), worked by a local poller;\n"+
		"  make invoke sends them there with IMPORT_QUEUE_URL=%s SQS_ENDPOINT=%s", url, mq.Endpoint, url, mq.Endpoint)
	return &queue{client: sc, url: url, endpoint: mq.Endpoint, stop: stop}, nil
}

// worker is what the poller feeds: the handler, and how it runs as Lambda would run it.
type worker struct {
	handler     jobqueue.Handler
	timeout     time.Duration // each batch's deadline, the function's timeout
	concurrency int           // batches at once, the event source's MaximumConcurrency
}

// startPoller runs a poller that feeds the queue to the worker as Lambda's SQS event source
// would (batches of 10, partial batch failures, redelivery after the visibility timeout), and
// returns what stops it, once the batches in flight are done.
func startPoller(q *queue, w worker, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	p := &poller.Poller{
		Client: q.client, QueueURL: q.url, Handler: w.handler,
		BatchSize: pollerBatchSize, Wait: pollerWait, Timeout: w.timeout, Concurrency: w.concurrency, Log: log,
	}
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("import poller stopped", slog.Any("error", err))
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// functions are the routes' invoker and the worker, in one of the modes.
type functions struct {
	invoker localapi.Invoker
	worker  worker
	stop    func()
}

type functionsConfig struct {
	root        string
	tpl         *samtemplate.Template
	app         *app.App
	routes      []samtemplate.HTTPRoute
	queue       *queue
	table       string
	ddbEndpoint string
	log         *slog.Logger
	msg         func(string, ...any)
}

func (o Options) startFunctions(ctx context.Context, c functionsConfig) (functions, error) {
	if o.Lambda == Emulator {
		return o.emulated(ctx, c)
	}
	return inProcess(c)
}

// inProcess calls the handlers in this process; the worker hands back to the queue what a
// batch has no time for, as the deployed worker does.
func inProcess(c functionsConfig) (functions, error) {
	inv, err := localapi.NewInProcess(c.app, c.routes)
	if err != nil {
		return functions{}, err
	}
	handler := jobqueue.HandlerFor(c.app.PolledImportWorker(localMaxReceiveCount, localWorkerConcurrent),
		jobqueue.HandBack{Client: c.queue.client, QueueURL: c.queue.url})
	return functions{
		invoker: inv,
		worker:  worker{handler: handler, timeout: localWorkerTimeout, concurrency: localWorkerConcurrent},
		stop:    func() {},
	}, nil
}

// emulated runs every function's bootstrap under its own warm emulator. The worker's one
// emulator takes one batch at a time, so the poller runs one at a time, under the worker's
// template timeout; the bootstrap itself hands back what it has no time for (its
// IMPORT_QUEUE_URL is the local queue).
func (o Options) emulated(ctx context.Context, c functionsConfig) (functions, error) {
	buildDir := o.BuildDir
	if buildDir == "" {
		buildDir = filepath.Join(c.root, BuildSubdir)
	}
	fn, err := queueWorker(c.tpl)
	if err != nil {
		return functions{}, err
	}
	workerID := fn.LogicalID
	stack := rie.Stack{
		Table: c.table, DynamoDBEndpoint: c.ddbEndpoint, QueueURL: c.queue.url, SQSEndpoint: c.queue.endpoint,
		Set: snapwire.EnvOf(o.SnapLimits),
	}
	pool := rie.NewPool(rie.NewBuilder(c.root, buildDir), c.tpl, stack, o.Log)
	if o.WarmEager {
		began := time.Now()
		c.msg("building every function for this machine into %s and starting its emulator...", buildDir)
		if err := pool.Start(ctx, functionIDs(c.routes, workerID)...); err != nil {
			pool.Stop()
			return functions{}, err
		}
		c.msg("%d emulators started in %v", pool.Started(), time.Since(began).Round(100*time.Millisecond))
	} else {
		c.msg("each function is built into %s and its emulator started on its first request", buildDir)
	}
	return functions{
		invoker: localapi.Emulated{Functions: pool},
		worker: worker{
			handler: emulatedWorker(pool, workerID), timeout: time.Duration(fn.Timeout) * time.Second, concurrency: 1,
		},
		stop: pool.Stop,
	}, nil
}

// queueWorker is the function template.yaml feeds from a queue: the import worker.
func queueWorker(tpl *samtemplate.Template) (samtemplate.Function, error) {
	var found []samtemplate.Function
	for _, id := range tpl.Functions() {
		fn, _ := tpl.Function(id)
		for _, ev := range fn.Events {
			if ev.Type == "SQS" {
				found = append(found, fn)
				break
			}
		}
	}
	if len(found) != 1 {
		return samtemplate.Function{}, fmt.Errorf("template.yaml has %d functions with an SQS event; the local poller feeds exactly one", len(found))
	}
	return found[0], nil
}

// functionIDs are the routes' functions and the worker, each once.
func functionIDs(rs []samtemplate.HTTPRoute, workerID string) []string {
	seen := map[string]bool{}
	var ids []string
	for _, r := range rs {
		if !seen[r.LogicalID] {
			seen[r.LogicalID] = true
			ids = append(ids, r.LogicalID)
		}
	}
	return append(ids, workerID)
}

// emulatedWorker hands each batch to the worker's bootstrap. The invocation is not cut short
// by the poller's deadline: the emulator gives the function the same timeout, as Lambda's
// does, and answers when it ends.
func emulatedWorker(pool *rie.Pool, workerID string) jobqueue.Handler {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		event, err := json.Marshal(ev)
		if err != nil {
			return resp, err
		}
		answer, err := pool.Invoke(context.WithoutCancel(ctx), workerID, event)
		if err != nil {
			return resp, err
		}
		if err := json.Unmarshal(answer, &resp); err != nil {
			return resp, fmt.Errorf("%s answered what is not an SQS batch response: %w: %.200s", workerID, err, answer)
		}
		return resp, nil
	}
}
