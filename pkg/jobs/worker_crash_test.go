package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/localstack"
	"github.com/participant-roster/roster/pkg/dev/poller"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/platform/ddb"

	"github.com/participant-roster/roster/pkg/spot/screening"
)

// crashChildEnv carries the worker process's configuration (JSON) to TestCrashChildWorker.
const crashChildEnv = "ROSTER_IMPORT_WORKER_CHILD"

// workerConfig is what a worker process needs to run the queue against the table.
type workerConfig struct {
	DynamoDB, SQS, Table, Queue string
	MaxReceiveCount             int
	BatchTimeout                time.Duration
	Lifetime                    time.Duration // a child never outlives this, even if nobody kills it
}

// TestCrashChildWorker is the worker process of TestWorkerKilledMidImport: that test runs this
// test binary again with only this test and crashChildEnv set, and kills it. In any other run
// crashChildEnv is unset and it returns at once (it is a helper, not a test of its own).
func TestCrashChildWorker(t *testing.T) {
	raw := os.Getenv(crashChildEnv)
	if raw == "" {
		return
	}
	var cfg workerConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatalf("%s: %v", crashChildEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Lifetime)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	db, err := app.NewDynamoDBClient(ctx, cfg.DynamoDB)
	if err != nil {
		t.Fatal(err)
	}
	client, err := jobqueue.NewClient(ctx, cfg.SQS)
	if err != nil {
		t.Fatal(err)
	}
	st := ddb.New(db, cfg.Table)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	p := &poller.Poller{
		Client: client, QueueURL: cfg.Queue, Handler: jobqueue.HandlerFor(app.WorkerOver(st, cfg.MaxReceiveCount, log), jobqueue.HandBack{Client: client, QueueURL: cfg.Queue}), BatchSize: 1, Concurrency: 2,
		Timeout: cfg.BatchTimeout, Log: log,
	}
	fmt.Fprintln(os.Stderr, "worker process: polling", cfg.Queue)
	if err := p.Run(ctx); err != nil {
		t.Fatalf("poller: %v", err)
	}
}

// workerProcess is a running worker process.
type workerProcess struct {
	name   string
	cmd    *exec.Cmd
	out    *os.File
	exited chan struct{}
}

// startWorkerProcess runs the test binary as a worker process (TestCrashChildWorker), in its
// own process group, killed when this test ends if it is still running.
func startWorkerProcess(t *testing.T, name string, cfg workerConfig) *workerProcess {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.CreateTemp(t.TempDir(), name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChildWorker$", "-test.count=1", "-test.v")
	// The endpoints as environment too: the child's TestMain then uses them instead of starting
	// a DynamoDB Local and a moto of its own.
	cmd.Env = append(os.Environ(), crashChildEnv+"="+string(raw),
		localstack.EndpointEnv+"="+cfg.DynamoDB, localstack.SQSEndpointEnv+"="+cfg.SQS)
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so a kill reaches all of it; and killed if this test process dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &workerProcess{name: name, cmd: cmd, out: out, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill(t)
		if t.Failed() {
			t.Logf("%s worker process output:\n%s", name, p.tail())
		}
	})
	return p
}

// kill sends SIGKILL to the process group and waits until the process is gone.
func (p *workerProcess) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
		t.Errorf("kill %s worker process: %v", p.name, err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("%s worker process (pid %d) still running 10 s after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

func (p *workerProcess) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// tail is the end of the process's output.
func (p *workerProcess) tail() string {
	b, err := os.ReadFile(p.out.Name())
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// waitJob polls the job until ok says so, the process dies or the timeout passes.
func (f *fixture) waitJob(id string, p *workerProcess, timeout time.Duration, what string, ok func(jobs.Job) bool) jobs.Job {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j, _ := f.job(id)
		if ok(j) {
			return j
		}
		if !p.running() {
			f.t.Fatalf("the %s worker process exited while waiting for %s (job %s, %d/%d chunks); its output:\n%s",
				p.name, what, j.Status, j.ChunksDone, j.Chunks, p.tail())
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("no %s after %v: job %s, %d/%d chunks, counts %+v, reason %q", what, timeout, j.Status, j.ChunksDone, j.Chunks, j.Counts, j.Reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// chunkItems counts a job's chunk plans (a chunk writes its plan just before its first row
// write) and chunk completion markers, from the job's partition (store/jobs.go, patterns 20-21).
func (f *fixture) chunkItems(jobID string) (planned, done int) {
	f.t.Helper()
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(f.env.Table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "WS#" + f.ws + "#IMPORT#" + jobID}},
		ProjectionExpression:      aws.String("sk"),
		ConsistentRead:            aws.Bool(true),
	}
	for {
		res, err := f.env.Client.Query(f.ctx, in)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, it := range res.Items {
			sk, _ := it["sk"].(*types.AttributeValueMemberS)
			switch {
			case sk == nil:
			case strings.HasPrefix(sk.Value, "PLAN#"):
				planned++
			case strings.HasPrefix(sk.Value, "CHUNK#"):
				done++
			}
		}
		if res.LastEvaluatedKey == nil {
			return planned, done
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// killPoint is a moment to kill a worker process at: when says it has come.
type killPoint struct {
	what string
	when func(f *fixture, j jobs.Job) bool
}

var (
	// A quarter of the chunks done, and a chunk writing its rows: it has recorded its plan
	// (which it does just before its first write) but is not done. (Right after a chunk
	// completes, both batches would be between chunks.)
	midChunks = killPoint{"a quarter of the chunks done and one writing", func(f *fixture, j jobs.Job) bool {
		planned, done := f.chunkItems(j.ID)
		return j.ChunksDone >= j.Chunks/4 && planned > done
	}}
	// Every chunk done and the FULL_SYNC's removals planned (the finisher holds the lease and
	// is unlinking the absent participants), the job not finished.
	midFinish = killPoint{"the finisher removing the absent", func(_ *fixture, j jobs.Job) bool {
		return j.ChunksDone == j.Chunks && j.Counts.Removed > 0
	}}
)

// TestWorkerKilledMidImport kills the worker process (SIGKILL, as a Lambda sandbox dies at its
// timeout or out of memory) part-way through an import and starts another: the import
// completes with exact counts and the roster exactly the rows. An UPDATES_ONLY import is
// killed with chunks part-written; a FULL_SYNC, whose keep set must survive, the same way and
// then again while its finisher removes the absent (the next finisher takes over once the
// lease has run out, and removes the rest, counted once).
func TestWorkerKilledMidImport(t *testing.T) {
	// Not in parallel: its batches have 2.5 s deadlines, which another test's load could
	// make a chunk miss five times.
	// The killed process's messages come back after the visibility timeout. Its batch deadline
	// (the finishing lease) is shorter, as deployed.
	f := newFixture(t, fixtureOptions{visibility: 3 * time.Second, maxReceiveCount: 5})
	cfg := workerConfig{
		DynamoDB: aws.ToString(f.env.Client.Options().BaseEndpoint), SQS: sqsEndpoint, Table: f.env.Table, Queue: f.queue,
		MaxReceiveCount: 5, BatchTimeout: 2500 * time.Millisecond, Lifetime: 5 * time.Minute,
	}
	planner := jobs.Planner{MaxRows: 50}
	// 30 chunks, and enough removals that the finisher can be caught at them.
	const n, absent = 1500, 600
	syncRows := slices.Clone(rows(absent, n+absent)) // 900 known, 600 new, 600 absent
	for i := range syncRows[:n-absent] {
		if i%10 == 0 {
			syncRows[i].Name += " (renamed)" // 90 known rows change
		}
	}
	for _, step := range []struct {
		mode         screening.ImportMode
		rows         []screening.ImportRow
		kills        []killPoint
		want         jobs.Counts
		participants int
	}{
		{screening.UpdatesOnly, rows(0, n), []killPoint{midChunks}, jobs.Counts{Processed: n, Created: n}, n},
		{screening.FullSync, syncRows, []killPoint{midChunks, midFinish},
			jobs.Counts{Processed: n, Created: absent, Updated: 90, Unchanged: n - absent - 90, Removed: absent}, n + absent},
	} {
		start := time.Now()
		job := f.submit(step.mode, step.rows, planner)
		for i, kp := range step.kills {
			p := startWorkerProcess(t, fmt.Sprintf("%s-%d", strings.ToLower(string(step.mode)), i+1), cfg)
			at := f.waitJob(job.ID, p, time.Minute, kp.what, func(j jobs.Job) bool { return j.Terminal() || kp.when(f, j) })
			p.kill(t)
			if at.Terminal() {
				t.Fatalf("%s: the job was %s before the worker could be killed at %s", step.mode, at.Status, kp.what)
			}
			after, _ := f.job(job.ID)
			if after.Terminal() {
				t.Fatalf("%s: the job is %s although its worker was killed at %s", step.mode, after.Status, kp.what)
			}
			plans, markers := f.chunkItems(job.ID)
			roster := f.rosterTotal()
			t.Logf("%s: killed worker process %d at %s, %v in: %d of %d chunks done, %d cut short after they began writing; %d on the roster",
				step.mode, i+1, kp.what, time.Since(start).Round(time.Millisecond), after.ChunksDone, after.Chunks, plans-markers, roster)
			if kp.what == midFinish.what {
				t.Logf("%s: %d of the %d planned removals left when the finisher died", step.mode, roster-len(step.rows), after.Counts.Removed)
			}
		}
		killed := time.Now()
		last := startWorkerProcess(t, fmt.Sprintf("%s-%d", strings.ToLower(string(step.mode)), len(step.kills)+1), cfg)
		done := f.waitJob(job.ID, last, 2*time.Minute, "finished job", jobs.Job.Terminal)
		last.kill(t)
		t.Logf("%s: worker process %d finished the job %v after the last kill (%v in all)",
			step.mode, len(step.kills)+1, time.Since(killed).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		checkCounts(t, done, jobs.Completed, step.want)
		if done.FailedChunks != 0 || done.Reason != "" {
			t.Errorf("%s: %d failed chunks, reason %q", step.mode, done.FailedChunks, done.Reason)
		}
		f.checkRosterIs(step.mode, step.rows)
		if total := f.participantTotal(); total != step.participants {
			t.Errorf("%s: the tenant has %d participants, want %d", step.mode, total, step.participants)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}
