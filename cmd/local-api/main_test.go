package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/localrun"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
)

var apiLine = regexp.MustCompile(`Participant roster API: (http://\S+)`)

// startCommand runs the command's serve (what main runs between signals) on free ports over
// dataDir, waits until it serves, and returns its URL and a stop function that cancels it as
// Ctrl-C would and waits for a clean return. Each serve starts a DynamoDB Local and a moto of
// its own, so tests over different data directories run in parallel: their starts (a JVM's
// mostly) overlap.
func startCommand(t *testing.T, dataDir string, fresh bool) (url string, stderr *localrun.Output, stop func()) {
	t.Helper()
	stderr = &localrun.Output{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	opts := options{port: 0, ddbPort: 0, table: "roster-local", fresh: fresh, dataDir: dataDir}
	go func() { done <- serve(ctx, opts, io.Discard, stderr) }()
	deadline := time.After(90 * time.Second)
	for url == "" {
		if m := apiLine.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve returned before serving: %v\n%s", err, stderr)
		case <-deadline:
			cancel()
			t.Fatalf("not serving after 90s:\n%s", stderr)
		case <-time.After(100 * time.Millisecond):
		}
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve after cancel: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not return after cancel")
		}
		if !strings.Contains(stderr.String(), "DynamoDB Local stopped") {
			t.Errorf("DynamoDB Local was not reported stopped:\n%s", stderr)
		}
	}
	t.Cleanup(stop)
	return url, stderr, stop
}

// call calls the Spot API with the demo key.
func call(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	return callWith(t, method, url, body, map[string]string{"X-Spot-Api-Key": demo.KeyID, "X-Spot-Api-Secret": demo.Secret})
}

func callWith(t *testing.T, method, url, body string, headers map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func total(t *testing.T, url string) int {
	t.Helper()
	status, body := call(t, "GET", url+"/screener-participants", "")
	var p struct{ Total int }
	if err := json.Unmarshal(body, &p); status != 200 || err != nil {
		t.Fatalf("GET /screener-participants: %d %s", status, body)
	}
	return p.Total
}

// The command serves the demo, keeps its data across restarts, and -fresh starts over.
func TestServeKeepsDataAndFreshWipesIt(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")

	url, stderr, stop := startCommand(t, dataDir, false)
	for _, want := range []string{demo.KeyID, demo.Secret, "curl -sg", "filter[screenerId][eq]=scr_", "make invoke",
		demo.SnapUsername, demo.SnapAPIKey, demo.GroupSurveyID, demo.FeedbackSurveyID, "/snaponline/api/surveys'"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, stderr)
		}
	}
	if n := total(t, url); n != len(demo.Rows) {
		t.Fatalf("demo roster has %d screener participants, want %d", n, len(demo.Rows))
	}
	screener := regexp.MustCompile(`scr_[0-9a-z]{26}`).FindString(stderr.String())
	status, body := call(t, "POST", url+"/screener-participants-import",
		`{"screenerId":"`+screener+`","participants":[{"email":"kept@example.com","name":"Kept"}]}`)
	if status != 200 {
		t.Fatalf("import: %d %s", status, body)
	}
	stop()
	if entries, _ := os.ReadDir(dataDir); len(entries) == 0 {
		t.Fatalf("nothing stored in %s", dataDir)
	}

	url, _, stop = startCommand(t, dataDir, false)
	if n := total(t, url); n != len(demo.Rows)+1 {
		t.Fatalf("after a restart: %d screener participants, want the %d demo rows and the imported one", n, len(demo.Rows))
	}
	stop()

	url, stderr, stop = startCommand(t, dataDir, true)
	if n := total(t, url); n != len(demo.Rows) {
		t.Fatalf("after -fresh: %d screener participants, want the %d demo rows", n, len(demo.Rows))
	}
	if !strings.Contains(stderr.String(), "-fresh: wiped") {
		t.Errorf("-fresh did not say it wiped the data:\n%s", stderr)
	}
	stop()
}

func TestFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"-nope"}, 2},
		{[]string{"extra"}, 2},
		{[]string{"-h"}, 0},
		{[]string{"-lambda", "docker"}, 2},
		{[]string{"-lambda", "emulator", "-warm", "hot"}, 2},
		{[]string{"-snap-rate-per-sec", "0"}, 2},
		{[]string{"-snap-rate-per-min", "-1"}, 2},
	} {
		var stderr bytes.Buffer
		if _, code := parseFlags(c.args, &stderr); code != c.code {
			t.Errorf("parseFlags(%v) = exit %d, want %d\n%s", c.args, code, c.code, stderr.String())
		}
	}
	o, code := parseFlags([]string{"-fresh", "-port", "3100", "-ddb-port", "8100", "-table", "t"}, io.Discard)
	if code != -1 || !o.fresh || o.port != 3100 || o.ddbPort != 8100 || o.table != "t" || o.lambda != localrun.InProcess || o.snapLimits != localrun.LocalSnapLimits {
		t.Errorf("parseFlags = %+v, %d", o, code)
	}
	o, code = parseFlags([]string{"-snap-rate-per-sec", "1", "-snap-rate-per-min", "10"}, io.Discard)
	if code != -1 || o.snapLimits != ratelimit.VendorLimits {
		t.Errorf("parseFlags with the vendor's limits = %+v, %d", o.snapLimits, code)
	}
	o, code = parseFlags([]string{"-lambda", "emulator", "-warm", "eager", "-build-dir", "/tmp/b"}, io.Discard)
	if code != -1 || o.lambda != localrun.Emulator || o.warm != warmEager || o.buildDir != "/tmp/b" {
		t.Errorf("parseFlags(-lambda emulator ...) = %+v, %d", o, code)
	}
}
