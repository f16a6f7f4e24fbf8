package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/dev/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// demoTable points TABLE_NAME and DYNAMODB_ENDPOINT at a fresh table seeded with the demo.
func demoTable(t *testing.T) {
	env := testkit.NewEnv(t)
	if _, err := demo.Seed(context.Background(), env.App); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TABLE_NAME", env.Table)
	t.Setenv("DYNAMODB_ENDPOINT", aws.ToString(env.Client.Options().BaseEndpoint))
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
