package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/snap/snapjobs"
)

// snapCall calls the Snap API as the demo user.
func snapCall(t *testing.T, method, url string) (int, []byte) {
	t.Helper()
	return callWith(t, method, url, "", map[string]string{"X-USERNAME": demo.SnapUsername, "X-API-KEY": demo.SnapAPIKey, "X-VERSION": "2.0"})
}

var ddbLine = regexp.MustCompile(`DynamoDB Local: (http://\S+)`)

// TestStartEndsLostJobs: a Snap import an earlier run left QUEUED (its chunks gone with that
// run's in-memory queue), holding the group survey's roster, is ended when the next run
// starts, before it serves: FAILED, the roster free again, and the start says how many jobs it
// ended.
func TestStartEndsLostJobs(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	url, stderr, stop := startCommand(t, dataDir, false)
	if !strings.Contains(stderr.String(), "ended 0 import jobs") {
		t.Errorf("a first start does not say it ended no job:\n%s", stderr)
	}
	m := ddbLine.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no DynamoDB Local endpoint in the banner:\n%s", stderr)
	}
	ctx := context.Background()
	client, err := app.NewDynamoDBClient(ctx, m[1])
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	lost := jobs.Job{
		ID: jobs.NewID(), WorkspaceID: demo.WorkspaceID, Family: snapjobs.Name, Target: demo.GroupSurveyID, Mode: snapjobs.ModeAdd,
		HoldsTarget: true, Status: jobs.Queued, Total: 3, Chunks: 1, CreatedAt: now, ProgressAt: now, ExpiresAt: now.Add(jobs.Retention),
	}
	a := app.New(client, "roster-local", 0, slog.New(slog.DiscardHandler))
	if err := a.Jobs.Create(ctx, lost); err != nil {
		t.Fatal(err)
	}
	participant := url + "/snaponline/api/surveys/" + demo.GroupSurveyID + "/participants/carol"
	if status, body := snapCall(t, "DELETE", participant); status != 400 {
		t.Fatalf("DELETE while the lost job holds the roster: %d %s, want the lock's 400", status, body)
	}
	stop()

	url, stderr, stop = startCommand(t, dataDir, false)
	defer stop()
	if !strings.Contains(stderr.String(), "ended 1 import jobs") {
		t.Errorf("the start does not say it ended the lost job:\n%s", stderr)
	}
	status, body := snapCall(t, "GET", url+"/snaponline/api/surveys/"+demo.GroupSurveyID+"/participant-imports/"+lost.ID)
	var job struct {
		Status string  `json:"status"`
		Reason *string `json:"reason"`
	}
	if err := json.Unmarshal(body, &job); status != 200 || err != nil || job.Status != jobs.Failed || job.Reason == nil {
		t.Fatalf("the lost job after the restart: %d %s", status, body)
	}
	participant = url + "/snaponline/api/surveys/" + demo.GroupSurveyID + "/participants/carol"
	if status, body := snapCall(t, "DELETE", participant); status != 200 {
		t.Fatalf("DELETE after the restart: %d %s, want 200 (the roster free)", status, body)
	}
}
