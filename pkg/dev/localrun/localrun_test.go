package localrun_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/localrun"
	"github.com/participant-roster/roster/pkg/dev/rie"
)

type call struct {
	method, path, body string
	headers            map[string]string
}

func do(t *testing.T, base string, c call) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

func spotHeaders(r localrun.Running) map[string]string {
	return map[string]string{"X-Spot-Api-Key": r.Demo.KeyID, "X-Spot-Api-Secret": r.Demo.Secret, "Content-Type": "application/json"}
}

// TestEmulatorMode: the server in emulator mode answers a Spot and a Snap route through the
// functions' bootstraps (the emulator's START/REPORT lines for them), and a Spot import job
// runs to COMPLETED through the import worker's bootstrap, fed by the local poller.
func TestEmulatorMode(t *testing.T) {
	t.Parallel()
	logs := &localrun.Output{}
	buildDir := t.TempDir()
	r := localrun.Start(t, localrun.Options{Lambda: localrun.Emulator, BuildDir: buildDir, Log: logs})
	if r.Lambda != localrun.Emulator || r.Demo.KeyID != demo.KeyID {
		t.Fatalf("Running = %+v", r)
	}
	screener := r.Demo.Screeners[0].ID
	// env.json's queue URL (what a SAM container is given) is this queue's, seen from a container.
	if local, container := r.QueueURL, rie.ContainerStack().QueueURL; path(t, local) != path(t, container) {
		t.Errorf("the local queue is %s, but env.json names %s", local, container)
	}

	status, _, body := do(t, r.URL, call{method: "GET", path: "/screeners/" + screener, headers: spotHeaders(r)})
	if status != 200 || !strings.Contains(string(body), `"id":"`+screener+`"`) {
		t.Fatalf("GET /screeners/%s: %d %s", screener, status, body)
	}
	snap := map[string]string{"X-USERNAME": r.Demo.Snap.User.Username, "X-API-KEY": r.Demo.Snap.APIKey, "X-VERSION": "2.0"}
	status, header, body := do(t, r.URL, call{method: "GET", path: "/snaponline/api/surveys", headers: snap})
	if status != 200 || !strings.Contains(string(body), demo.GroupSurveyID) || header.Get("Api-Supported-Versions") == "" {
		t.Fatalf("GET /snaponline/api/surveys: %d %v %s", status, header, body)
	}

	rows := `[{"externalUid":"emu-1","email":"emu1@example.com","name":"Emu One"},` +
		`{"externalUid":"emu-2","email":"emu2@example.com","name":"Emu Two"},` +
		`{"externalUid":"emu-3","email":"emu3@example.com","name":"Emu Three"}]`
	headers := spotHeaders(r)
	headers["Prefer"] = "respond-async"
	status, header, body = do(t, r.URL, call{method: "POST", path: "/screener-participants-import", headers: headers,
		body: `{"screenerId":"` + screener + `","participants":` + rows + `}`})
	if status != 202 || header.Get("Location") == "" {
		t.Fatalf("async import: %d %v %s", status, header, body)
	}
	job := waitForJob(t, r, header.Get("Location"))
	if job.Counts["created"] != 3 {
		t.Errorf("the job's counts: %v, want 3 created", job.Counts)
	}

	// Each function that served is warm: its bootstrap, from the build directory, still runs.
	running, err := localrun.ProcessesUnder(buildDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"GetScreenerFunction", "SnapListSurveysFunction", "ImportScreenerParticipantsFunction", "ImportWorkerFunction"} {
		if !strings.Contains(running, filepath.Join(buildDir, fn, "bootstrap")) {
			t.Errorf("%s's bootstrap is not running under the emulator; running under %s:\n%s", fn, buildDir, running)
		}
	}
	if !strings.Contains(logs.String(), "START RequestId") || !strings.Contains(logs.String(), "REPORT RequestId") {
		t.Errorf("no emulator START/REPORT lines: the functions did not run under the emulator")
	}
}

func path(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

type importJob struct {
	Status string         `json:"status"`
	Counts map[string]int `json:"counts"`
}

// waitForJob polls the job until it is finished and fails unless it COMPLETED.
func waitForJob(t *testing.T, r localrun.Running, location string) importJob {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		status, _, body := do(t, r.URL, call{method: "GET", path: location, headers: spotHeaders(r)})
		var job importJob
		if err := json.Unmarshal(body, &job); status != 200 || err != nil {
			t.Fatalf("GET %s: %d %s", location, status, body)
		}
		switch job.Status {
		case "COMPLETED":
			return job
		case "FAILED", "CANCELED":
			t.Fatalf("the job ended %s: %s", job.Status, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job is still %s after 2 minutes: %s", job.Status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
