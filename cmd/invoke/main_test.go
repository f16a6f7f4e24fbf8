package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// demoTable points TABLE_NAME and DYNAMODB_ENDPOINT at a fresh table seeded with the demo, as
// `make run` serves it, with no import queue unless withQueue gives one.
func demoTable(t *testing.T) *testkit.Env {
	env := testkit.NewEnv(t)
	if _, err := demo.Seed(context.Background(), env.App); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TABLE_NAME", env.Table)
	t.Setenv("DYNAMODB_ENDPOINT", aws.ToString(env.Client.Options().BaseEndpoint))
	t.Setenv("IMPORT_QUEUE_URL", "")
	t.Setenv("SQS_ENDPOINT", "")
	return env
}

// withQueue points IMPORT_QUEUE_URL and SQS_ENDPOINT at a fresh local queue, as `make run`
// prints them.
func withQueue(t *testing.T, env *testkit.Env) {
	q := env.EnableImports()
	t.Setenv("IMPORT_QUEUE_URL", q.QueueURL)
	t.Setenv("SQS_ENDPOINT", aws.ToString(q.SQS.Options().BaseEndpoint))
}

func eventFile(t *testing.T, name string) string {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "events", name)
}

func invokeCmd(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestInvoke(t *testing.T) {
	demoTable(t)
	out, errOut, code := invokeCmd("-fn", "GetScreenerParticipantFunction", "-event", eventFile(t, "get-screener-participant.json"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("stdout is not the response JSON: %v\n%s", err, out)
	}
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, demo.Rows[0].Email) {
		t.Fatalf("response %+v", resp)
	}
	if !strings.Contains(out, "\n  \"statusCode\": 200") {
		t.Errorf("the response is not indented:\n%s", out)
	}
	if !strings.Contains(errOut, `"function":"GetScreenerParticipantFunction"`) || !strings.Contains(errOut, `"status":200`) {
		t.Errorf("the function's log line is not on stderr:\n%s", errOut)
	}
	// The emulator's own lines: the function ran as a built binary under it, with the template's settings.
	if !strings.Contains(errOut, "REPORT RequestId:") || !strings.Contains(errOut, "Memory Size: 256 MB") {
		t.Errorf("no REPORT line of the emulator with the template's MemorySize on stderr:\n%s", errOut)
	}
}

// TestInvokeWorker runs the import worker's sample event against the demo data, twice: the
// first run stores the job its chunk belongs to and completes it, the second finds it done.
func TestInvokeWorker(t *testing.T) {
	env := demoTable(t)
	withQueue(t, env) // the worker hands back to its queue what a batch has no time for
	event := eventFile(t, "import-worker.json")
	for run := 1; run <= 2; run++ {
		out, errOut, code := invokeCmd("-fn", "ImportWorkerFunction", "-event", event)
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s", run, code, errOut)
		}
		var resp events.SQSEventResponse
		if err := json.Unmarshal([]byte(out), &resp); err != nil || resp.BatchItemFailures == nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("run %d: stdout is not an answer without batchItemFailures (%v):\n%s\nstderr:\n%s", run, err, out, errOut)
		}
		if stored := strings.Contains(errOut, "invoke: stored job job_01jd3m00000000000000000jb2"); stored != (run == 1) {
			t.Errorf("run %d: stored the job: %v, want %v\n%s", run, stored, run == 1, errOut)
		}
	}
	job, _, err := env.App.Jobs.Get(context.Background(), demo.WorkspaceID, "job_01jd3m00000000000000000jb2", 0)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != jobs.Completed || job.Counts.Processed != 3 || job.Counts.Failed != 0 {
		t.Errorf("job after the event: %s, %+v; want COMPLETED with its 3 rows processed", job.Status, job.Counts)
	}
}

// TestInvokeSweeper runs the import sweeper's scheduled event against the demo data: it ends
// a job that made no progress for longer than the default STALE_AFTER.
func TestInvokeSweeper(t *testing.T) {
	env := demoTable(t)
	old := time.Now().Add(-2 * jobs.DefaultStaleAfter)
	stale := jobs.Job{ID: jobs.NewID(), WorkspaceID: demo.WorkspaceID, Family: "spot", Target: "scr_01jd3m00000000000000000000", Mode: "UPDATES_ONLY",
		Status: jobs.Queued, Total: 1, Chunks: 1, CreatedAt: old, ProgressAt: old, ExpiresAt: old.Add(jobs.Retention)}
	if err := env.App.Jobs.Create(context.Background(), stale); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := invokeCmd("-fn", "ImportSweeperFunction", "-event", eventFile(t, "import-sweeper.json"))
	if code != 0 || !strings.Contains(out, `"ended": 1`) {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if job, _, err := env.App.Jobs.Get(context.Background(), demo.WorkspaceID, stale.ID, 0); err != nil || job.Status != jobs.Failed {
		t.Errorf("the stale job after the sweep: %s, %v; want FAILED", job.Status, err)
	}
	_, errOut, code = invokeCmd("-fn", "ImportSweeperFunction", "-event", eventFile(t, "get-screener.json"))
	if code == 0 || !strings.Contains(errOut, "not an EventBridge") {
		t.Errorf("an HTTP event for the sweeper: exit %d\n%s", code, errOut)
	}
}

// TestInvokeImportQueues runs a function that queues jobs with the queue `make run` prints.
func TestInvokeImportQueues(t *testing.T) {
	env := demoTable(t)
	withQueue(t, env)
	out, errOut, code := invokeCmd("-fn", "SnapImportParticipantsFunction", "-event", eventFile(t, "snap-import-participants.json"))
	if code != 0 || !strings.Contains(out, `"statusCode": 202`) {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestInvokeErrors(t *testing.T) {
	demoTable(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"httpMethod":"GET","path":"/screeners"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	good := eventFile(t, "get-screener.json")
	for _, c := range []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"no flags", nil, 2, "-fn and -event are required"},
		{"unknown function", []string{"-fn", "NoSuchFunction", "-event", good}, 1, `unknown function "NoSuchFunction"`},
		{"missing file", []string{"-fn", "GetScreenerFunction", "-event", "/nonexistent/event.json"}, 1, "event file"},
		{"not a v2 event", []string{"-fn", "GetScreenerFunction", "-event", bad}, 1, "not an API Gateway HTTP API v2 event"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := invokeCmd(c.args...)
			if code != c.code || !strings.Contains(errOut, c.message) || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit %d and %q", code, out, errOut, c.code, c.message)
			}
		})
	}

	t.Run("an import function without the queue", func(t *testing.T) {
		out, errOut, code := invokeCmd("-fn", "SnapImportParticipantsFunction", "-event", eventFile(t, "snap-import-participants.json"))
		if code != 1 || out != "" || !strings.Contains(errOut, "IMPORT_QUEUE_URL (ImportQueue in template.yaml)") || !strings.Contains(errOut, "make run") {
			t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, out, errOut)
		}
	})

	t.Run("the worker with an HTTP event", func(t *testing.T) {
		_, errOut, code := invokeCmd("-fn", "ImportWorkerFunction", "-event", good)
		if code != 1 || !strings.Contains(errOut, "is not an SQS event") {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut)
		}
	})

	t.Run("not the local stack", func(t *testing.T) {
		t.Setenv("DYNAMODB_ENDPOINT", "")
		_, errOut, code := invokeCmd("-fn", "GetScreenerFunction", "-event", good)
		if code != 1 || !strings.Contains(errOut, "against the local stack only") {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut)
		}
	})

	t.Run("no such table", func(t *testing.T) {
		t.Setenv("TABLE_NAME", "no-such-table")
		_, errOut, code := invokeCmd("-fn", "GetScreenerFunction", "-event", good)
		if code != 1 || !strings.Contains(errOut, "is `make run` running?") {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut)
		}
	})

	t.Run("event of another route", func(t *testing.T) {
		out, errOut, code := invokeCmd("-fn", "GetScreenerFunction", "-event", eventFile(t, "get-screener-participant.json"))
		if code != 0 || !strings.Contains(errOut, "warning") || !strings.Contains(out, `"statusCode": 404`) {
			t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
	})
}
