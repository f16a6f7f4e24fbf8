package rie_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/allroutes"
	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/rie"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/snap/snapjobs"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
	"github.com/participant-roster/roster/pkg/wiring/schedwire"
	"github.com/participant-roster/roster/pkg/wiring/snapwire"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// TestFunctionsUnderTheEmulator is the proof that the function binaries are right: every
// function of allroutes.All and routes.Workers is built with its Makefile line (for the host
// architecture) and run under the Lambda Runtime Interface Emulator with template.yaml's
// environment for it, and each of its sample events (events/) gets the same answer from it as
// from the same handler called in this process.
//
// Each function gets twin tables holding the demo: one for the in-process handler, one for the
// emulated binary. Both receive the function's events in the same order, so a write event
// (a delete, an import) changes both alike and each later event meets the same data on both
// sides. The answers are compared as text (see matcher): equal, but for the ids and times the
// call itself made. No header is left out: the only one that could vary, X-Request-Id, is the
// event's own request id.
//
// The worker's event needs its import job stored (demo.StoreJobsOf, on both tables), and
// must be processed whole: no batchItemFailures. The import sweeper's scheduled event meets a
// stale Snap job holding the demo group survey and a fresh Spot job (stored on both tables): it
// must end the stale one (FAILED, the survey's roster free again) and leave the fresh one.
func TestFunctionsUnderTheEmulator(t *testing.T) {
	since := time.Now()
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	samples, err := allroutes.SampleEvents(root)
	if err != nil {
		t.Fatal(err)
	}
	byFunction := map[string][]allroutes.SampleEvent{}
	for _, s := range samples {
		byFunction[s.LogicalID] = append(byFunction[s.LogicalID], s)
	}

	ctx := context.Background()
	builder := rie.NewBuilder(root, t.TempDir())
	// Start every build now, in the order the subtests take them, so the builds (two at a time)
	// overlap the subtests' seeding; the subtests wait for their own.
	var builds sync.WaitGroup
	t.Cleanup(builds.Wait) // before the build directory goes
	builds.Go(func() { _, _ = builder.Emulator(ctx) })
	for _, id := range functionIDs() {
		builds.Go(func() { _, _ = builder.Bootstrap(ctx, id) })
	}

	// One queue for every import function on both sides: nothing polls it, and what is queued
	// is not part of an answer.
	queue := testkit.NewEnv(t).EnableImports()
	endpoints := rie.Stack{QueueURL: queue.QueueURL, SQSEndpoint: aws.ToString(queue.SQS.Options().BaseEndpoint)}

	h := &harness{builder: builder, tpl: tpl, stack: endpoints, matcher: newMatcher(since)}
	t.Run("functions", func(t *testing.T) {
		for _, id := range functionIDs() {
			t.Run(id, func(t *testing.T) {
				t.Parallel()
				h.check(t, id, byFunction[id])
			})
		}
	})
	t.Logf("%d functions, %d events, in %v", len(functionIDs()), len(samples), time.Since(since).Round(100*time.Millisecond))
}

func functionIDs() []string {
	var ids []string
	for _, r := range allroutes.All {
		ids = append(ids, r.LogicalID)
	}
	ids = append(ids, routes.Default.LogicalID)
	for _, w := range routes.Workers {
		ids = append(ids, w.LogicalID)
	}
	for _, sc := range routes.Schedules {
		ids = append(ids, sc.LogicalID)
	}
	return ids
}

type harness struct {
	builder *rie.Builder
	tpl     *samtemplate.Template
	stack   rie.Stack // the queue; each function's tables are its own

	mu      sync.Mutex // the matcher's pairs span every function
	matcher *matcher
}

func (h *harness) check(t *testing.T, id string, samples []allroutes.SampleEvent) {
	if len(samples) == 0 {
		t.Fatalf("%s has no sample event in events/", id)
	}
	ctx := context.Background()
	inProcessSide, emulatedSide := twinTables(t)

	fn, ok := h.tpl.Function(id)
	if !ok {
		t.Fatalf("template.yaml has no function %s", id)
	}
	env, err := rie.Environment(fn, h.stackFor(inProcessSide))
	if err != nil {
		t.Fatal(err)
	}
	roomyLimits(env)
	handler, err := inProcess(ctx, env, id, samples[0])
	if err != nil {
		t.Fatal(err)
	}
	em, err := h.startRoomy(ctx, fn, h.stackFor(emulatedSide))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Stop)

	for _, s := range samples {
		event, err := os.ReadFile(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(s.Path)
		var sweep staleJobs
		switch {
		case s.Worker:
			storeJobs(t, event, inProcessSide, emulatedSide)
		case s.Scheduled:
			sweep = storeStaleJobs(t, inProcessSide, emulatedSide)
		}
		want, err := handler(ctx, event)
		if err != nil {
			t.Fatalf("%s: in process: %v", name, err)
		}
		got, err := em.Invoke(ctx, event)
		if err != nil {
			t.Fatalf("%s: under the emulator: %v", name, err)
		}
		h.compare(t, name, s, want, got, em)
		if s.Scheduled {
			sweep.check(t, name, emulatedSide, got, em)
		}
	}
}

// roomyLimits raises a Snap function's per-user limits (template.yaml's defaults are the
// vendor's 1 a second) far above the calls a function's events make, on both sides alike:
// whether two events fall in one second is the clock's, not the function's. The calls are
// still counted and answered with their rate headers (compared by maskRate).
func roomyLimits(env map[string]string) {
	for _, e := range snapwire.LimitsEnv {
		if _, ok := env[e.Variable]; ok {
			env[e.Variable] = "1000000"
		}
	}
}

// startRoomy starts fn under the emulator as StartFunction does, with roomyLimits.
func (h *harness) startRoomy(ctx context.Context, fn samtemplate.Function, stack rie.Stack) (*rie.Emulator, error) {
	env, err := rie.Environment(fn, stack)
	if err != nil {
		return nil, err
	}
	roomyLimits(env)
	emulator, err := h.builder.Emulator(ctx)
	if err != nil {
		return nil, err
	}
	bootstrap, err := h.builder.Bootstrap(ctx, fn.LogicalID)
	if err != nil {
		return nil, err
	}
	return rie.Start(ctx, rie.Options{Emulator: emulator, Bootstrap: bootstrap, Env: env})
}

func (h *harness) stackFor(env *testkit.Env) rie.Stack {
	s := h.stack
	s.Table = env.Table
	s.DynamoDBEndpoint = aws.ToString(env.Client.Options().BaseEndpoint)
	return s
}

func (h *harness) compare(t *testing.T, name string, s allroutes.SampleEvent, want, got []byte, em *rie.Emulator) {
	t.Helper()
	canon := canonical[events.APIGatewayV2HTTPResponse]
	switch {
	case s.Worker:
		canon = canonical[events.SQSEventResponse]
	case s.Scheduled:
		canon = canonical[schedwire.Result]
	}
	w, err := canon(want)
	if err != nil {
		t.Fatalf("%s: in-process answer: %v", name, err)
	}
	g, err := canon(got)
	if err != nil {
		t.Fatalf("%s: the emulator's answer is not the handler's answer type: %v\noutput:\n%s", name, err, em.Output())
	}
	w, g = maskRate(w), maskRate(g)
	h.mu.Lock()
	ok, difference := h.matcher.same(w, g)
	h.mu.Unlock()
	if !ok {
		t.Errorf("%s: the emulated function's answer differs from the in-process handler's: %s\nin process:\n%s\nemulated:\n%s\noutput:\n%s",
			name, difference, w, g, em.Output())
	}
	if s.Worker {
		var resp events.SQSEventResponse
		if err := json.Unmarshal(got, &resp); err != nil || resp.BatchItemFailures == nil || len(resp.BatchItemFailures) != 0 {
			t.Errorf("%s: the worker answered %s, want an empty batchItemFailures (%v)\noutput:\n%s", name, got, err, em.Output())
		}
	}
}

// twinTables are two fresh tables holding the same items: the demo, seeded into the first and
// copied into the second. Seeding both would not make twins: the demo's session links and Snap
// records get random ids.
func twinTables(t *testing.T) (*testkit.Env, *testkit.Env) {
	t.Helper()
	ctx := context.Background()
	a, b := testkit.NewEnv(t), testkit.NewEnv(t)
	if _, err := demo.Seed(ctx, a.App); err != nil {
		t.Fatal(err)
	}
	if err := copyItems(ctx, a.Client, a.Table, b.Table); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// copyItems writes every item of table from into table to.
func copyItems(ctx context.Context, client *dynamodb.Client, from, to string) error {
	scan := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: &from, ConsistentRead: aws.Bool(true)})
	for scan.HasMorePages() {
		page, err := scan.NextPage(ctx)
		if err != nil {
			return err
		}
		for batch := range slices.Chunk(page.Items, 25) { // BatchWriteItem's limit
			var writes []types.WriteRequest
			for _, item := range batch {
				writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
			}
			pending := map[string][]types.WriteRequest{to: writes}
			for len(pending) > 0 {
				out, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
				if err != nil {
					return err
				}
				pending = out.UnprocessedItems
			}
		}
	}
	return nil
}

// storeJobs stores the jobs a worker event's chunks belong to on both tables.
func storeJobs(t *testing.T, event []byte, envs ...*testkit.Env) {
	t.Helper()
	var ev events.SQSEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		if _, err := demo.StoreJobsOf(context.Background(), env.App.Jobs, ev); err != nil {
			t.Fatal(err)
		}
	}
}

// inProcess is the function's handler wired in this process from the environment its binary
// gets, as its main wires it: the one call into the composition root (pkg/dev/app's
// New/EnableImports/LambdaHandler/WorkerHandler/ScheduledHandler, built on pkg/wiring's
// roots). The worker reads MAX_RECEIVE_COUNT and IMPORT_PARTITION_WRITE_BUDGET from the
// process environment, which the tests leave unset: its defaults are the template's values (5
// and 400); the sweeper's STALE_AFTER is unset in both.
func inProcess(ctx context.Context, env map[string]string, logicalID string, sample allroutes.SampleEvent) (func(context.Context, []byte) ([]byte, error), error) {
	client, err := app.NewDynamoDBClient(ctx, env["DYNAMODB_ENDPOINT"])
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a := app.New(client, env["TABLE_NAME"], app.DefaultAuthCacheTTL, log)
	limits, err := snapwire.LimitsFrom(func(name string) string { return env[name] })
	if err != nil {
		return nil, err
	}
	a.SetSnapLimits(limits)
	if queue := env["IMPORT_QUEUE_URL"]; queue != "" {
		sqsClient, err := jobqueue.NewClient(ctx, env["SQS_ENDPOINT"])
		if err != nil {
			return nil, err
		}
		a.EnableImports(sqsClient, queue)
	}
	switch {
	case sample.Worker:
		h, err := a.WorkerHandler(logicalID)
		return onJSON(h), err
	case sample.Scheduled:
		h, err := a.ScheduledHandler(logicalID)
		return onJSON(h), err
	}
	h, err := a.LambdaHandler(logicalID)
	return onJSON(h), err
}

// onJSON calls a typed handler with a JSON event and returns its answer as JSON, as the
// Lambda runtime does; the event is decoded strictly, so a misspelt field fails.
func onJSON[E, A any](h func(context.Context, E) (A, error)) func(context.Context, []byte) ([]byte, error) {
	return func(ctx context.Context, data []byte) ([]byte, error) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var ev E
		if err := dec.Decode(&ev); err != nil {
			return nil, fmt.Errorf("event: %w", err)
		}
		answer, err := h(ctx, ev)
		if err != nil {
			return nil, err
		}
		return json.Marshal(answer)
	}
}

// staleJobs are the jobs the sweeper's sample event meets: a Snap import that made no progress
// for twice the default STALE_AFTER, holding the demo group survey's roster, and a Spot import
// made just now.
type staleJobs struct{ stale, fresh jobs.Job }

// storeStaleJobs stores the same two jobs on both tables.
func storeStaleJobs(t *testing.T, envs ...*testkit.Env) staleJobs {
	t.Helper()
	old, now := time.Now().Add(-2*jobs.DefaultStaleAfter), time.Now()
	job := func(family, target, mode string, holds bool, at time.Time) jobs.Job {
		return jobs.Job{
			ID: jobs.NewID(), WorkspaceID: demo.WorkspaceID, Family: family, Target: target, Mode: mode, HoldsTarget: holds,
			Status: jobs.Queued, Total: 10, Chunks: 1, CreatedAt: at, ProgressAt: at, ExpiresAt: at.Add(jobs.Retention),
		}
	}
	s := staleJobs{
		stale: job(snapjobs.Name, demo.GroupSurveyID, snapjobs.ModeAdd, true, old),
		fresh: job(spotjobs.Name, "scr_01jd3m00000000000000000000", "UPDATES_ONLY", false, now),
	}
	for _, env := range envs {
		for _, j := range []jobs.Job{s.stale, s.fresh} {
			if err := env.App.Jobs.Create(context.Background(), j); err != nil {
				t.Fatalf("storing job %s: %v", j.ID, err)
			}
		}
		if _, held, err := env.App.SnapStore.GetSurvey(context.Background(), demo.WorkspaceID, demo.GroupSurveyID); err != nil || !held {
			t.Fatalf("the stale job does not hold the group survey: held %v, %v", held, err)
		}
	}
	return s
}

// check: the sweep answered that it ended one job, the stale one, which is FAILED with its
// rows skipped and no longer holds the survey; the fresh one is untouched.
func (s staleJobs) check(t *testing.T, name string, env *testkit.Env, answer []byte, em *rie.Emulator) {
	t.Helper()
	ctx := context.Background()
	var res schedwire.Result
	if err := json.Unmarshal(answer, &res); err != nil || res.Ended != 1 {
		t.Errorf("%s: the sweeper answered %s, want {\"ended\":1} (%v)\noutput:\n%s", name, answer, err, em.Output())
	}
	stale, _, err := env.App.Jobs.Get(ctx, demo.WorkspaceID, s.stale.ID, 0)
	if err != nil || stale.Status != jobs.Failed || stale.Reason == "" || stale.Counts.Skipped != stale.Total || stale.FinishedAt == nil {
		t.Errorf("%s: the stale job after the sweep: %+v, %v; want FAILED with a reason and its %d rows skipped", name, stale, err, s.stale.Total)
	}
	if _, held, err := env.App.SnapStore.GetSurvey(ctx, demo.WorkspaceID, demo.GroupSurveyID); err != nil || held {
		t.Errorf("%s: the group survey is still held after the sweep (%v)", name, err)
	}
	if fresh, _, err := env.App.Jobs.Get(ctx, demo.WorkspaceID, s.fresh.ID, 0); err != nil || fresh.Status != jobs.Queued {
		t.Errorf("%s: the fresh job after the sweep: %s, %v; want it QUEUED still", name, fresh.Status, err)
	}
}
