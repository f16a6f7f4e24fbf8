package rie_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/rie"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
)

// startProbe runs testdata/probe (a function that answers with its environment, sleeps or
// fails, as asked) under the emulator with env.
func startProbe(t *testing.T, env map[string]string) *rie.Emulator {
	t.Helper()
	ctx := context.Background()
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	emulator, err := rie.NewBuilder(root, t.TempDir()).Emulator(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bootstrap := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-o", bootstrap, "./testdata/probe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the probe: %v\n%s", err, out)
	}
	em, err := rie.Start(ctx, rie.Options{Emulator: emulator, Bootstrap: bootstrap, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Stop)
	return em
}

func invokeProbe(t *testing.T, em *rie.Emulator, request string) (map[string]string, error) {
	t.Helper()
	out, err := em.Invoke(context.Background(), []byte(request))
	if err != nil {
		return nil, err
	}
	var answer map[string]string
	if err := json.Unmarshal(out, &answer); err != nil {
		t.Fatalf("probe answered %s: %v", out, err)
	}
	return answer, nil
}

func TestEmulator(t *testing.T) {
	t.Setenv("RIE_TEST_CALLER_ONLY", "must not reach the function")
	given := map[string]string{"TABLE_NAME": "twin-b", "WITH_EQUALS": "a=b", "AWS_LAMBDA_FUNCTION_TIMEOUT": "1"}
	em := startProbe(t, given)

	t.Run("the function gets the environment given and nothing of the caller's", func(t *testing.T) {
		env, err := invokeProbe(t, em, `{"action":"env"}`)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range given {
			if env[k] != v {
				t.Errorf("%s = %q, want %q", k, env[k], v)
			}
		}
		for k := range env {
			if k == "RIE_TEST_CALLER_ONLY" || k == "PATH" || k == "HOME" {
				t.Errorf("the function sees the caller's %s", k)
			}
		}
		if env["AWS_LAMBDA_RUNTIME_API"] == "" {
			t.Errorf("no AWS_LAMBDA_RUNTIME_API: not run by the emulator? %v", env)
		}
	})

	t.Run("a failure is an error, not an answer", func(t *testing.T) {
		_, err := invokeProbe(t, em, `{"action":"fail"}`)
		var fe *rie.FunctionError
		if !errors.As(err, &fe) || fe.Message != "probe failed as asked" {
			t.Fatalf("err = %v, want the function's error", err)
		}
	})

	t.Run("concurrent invokes are served one at a time", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { _, errs[i] = invokeProbe(t, em, `{"action":"sleep","sleep":200000000}`) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent invokes: %v\noutput:\n%s", err, em.Output())
		}
	})

	t.Run("a timeout is ErrTimeout, and the next invoke is served", func(t *testing.T) {
		_, err := invokeProbe(t, em, `{"action":"sleep","sleep":3000000000}`)
		if !errors.Is(err, rie.ErrTimeout) || !strings.Contains(err.Error(), "Task timed out after 1.00 seconds") {
			t.Fatalf("err = %v, want ErrTimeout with the emulator's message", err)
		}
		if _, err := invokeProbe(t, em, `{"action":"env"}`); err != nil {
			t.Fatalf("after a timeout: %v\noutput:\n%s", err, em.Output())
		}
	})
}

func TestEnvironment(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stack := rie.Stack{Table: "local-table", QueueURL: "http://sqs.local/q", DynamoDBEndpoint: "http://ddb.local", SQSEndpoint: "http://sqs.local"}
	always := []string{"DYNAMODB_ENDPOINT", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_TIMEOUT", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"}
	queued := 0
	for _, id := range functionIDs() {
		fn, ok := tpl.Function(id)
		if !ok {
			t.Fatalf("template.yaml has no function %s", id)
		}
		env, err := rie.Environment(fn, stack)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Concat(slices.Collect(maps.Keys(fn.Environment)), always)
		if env["TABLE_NAME"] != stack.Table || env["DYNAMODB_ENDPOINT"] != stack.DynamoDBEndpoint || env["AWS_LAMBDA_FUNCTION_NAME"] != id {
			t.Errorf("%s: %v", id, env)
		}
		if _, ok := fn.Environment["IMPORT_QUEUE_URL"]; ok {
			queued++
			want = append(want, "SQS_ENDPOINT")
			if env["IMPORT_QUEUE_URL"] != stack.QueueURL || env["SQS_ENDPOINT"] != stack.SQSEndpoint {
				t.Errorf("%s: IMPORT_QUEUE_URL %q, SQS_ENDPOINT %q, want the local queue", id, env["IMPORT_QUEUE_URL"], env["SQS_ENDPOINT"])
			}
		}
		want = slices.Compact(slices.Sorted(slices.Values(want)))
		if got := slices.Sorted(maps.Keys(env)); !slices.Equal(got, want) {
			t.Errorf("%s: variables %v, want %v", id, got, want)
		}
		if env["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "" || env["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "0" {
			t.Errorf("%s: no timeout from the template", id)
		}
	}
	if queued < 2 {
		t.Errorf("%d functions have IMPORT_QUEUE_URL, want both import functions", queued)
	}
	if worker, _ := tpl.Function("ImportWorkerFunction"); worker.Environment["MAX_RECEIVE_COUNT"] == "" {
		t.Error("the worker's own variables are missing")
	}

	t.Run("a value the local stack lacks is an error naming the variable", func(t *testing.T) {
		for _, c := range []struct {
			fn    samtemplate.Function
			stack rie.Stack
			want  string
		}{
			{samtemplate.Function{LogicalID: "F", Environment: map[string]string{"BUCKET": "Uploads"}, StackValues: map[string]string{"BUCKET": "Uploads"}},
				stack, "F: BUCKET (Uploads in template.yaml): the local stack has no value for it"},
			{samtemplate.Function{LogicalID: "F", Environment: map[string]string{"Q": ""}, StackValues: map[string]string{"Q": `{"Fn::GetAtt":"ImportQueue.Arn"}`}},
				stack, "F: Q ("},
			{samtemplate.Function{LogicalID: "F", Environment: map[string]string{"Q": "ImportQueue"}, StackValues: map[string]string{"Q": "ImportQueue"}},
				rie.Stack{Table: "t"}, "no local queue was given"},
			{samtemplate.Function{LogicalID: "F", Environment: map[string]string{"Q": "ImportQueue"}, StackValues: map[string]string{"Q": "ImportQueue"}},
				rie.Stack{Table: "t", QueueURL: "http://sqs.local/q"}, "no local queue was given"},
		} {
			if _, err := rie.Environment(c.fn, c.stack); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Environment(%v) = %v, want an error with %q", c.fn.StackValues, err, c.want)
			}
		}
	})
}
