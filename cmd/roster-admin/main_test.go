package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ids"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type admin struct {
	t    *testing.T
	env  *testkit.Env
	base []string
}

func newAdmin(t *testing.T) *admin {
	env := testkit.NewEnv(t)
	endpoint := aws.ToString(env.Client.Options().BaseEndpoint)
	if endpoint == "" {
		t.Fatal("the test client has no endpoint")
	}
	return &admin{t: t, env: env, base: []string{"-table", env.Table, "-endpoint", endpoint}}
}

// run runs the command with the test table's global flags first.
func (a *admin) run(args ...string) (stdout, stderr string, code int) {
	a.t.Helper()
	var out, errOut bytes.Buffer
	code = run(append(append([]string{}, a.base...), args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

// ok runs the command and fails the test unless it exits 0.
func (a *admin) ok(args ...string) string {
	a.t.Helper()
	out, errOut, code := a.run(args...)
	if code != 0 {
		a.t.Fatalf("roster-admin %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// okJSON runs the command with -json and decodes its output.
func (a *admin) okJSON(v any, args ...string) {
	a.t.Helper()
	out := a.ok(append([]string{"-json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		a.t.Fatalf("roster-admin -json %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// get calls GET path as the function would be called by API Gateway, through a new App (so no
// verified key is cached from an earlier call).
func (a *admin) get(fn, path, keyID, secret string) testkit.Response {
	a.t.Helper()
	fresh := &testkit.Env{T: a.t, Client: a.env.Client, Table: a.env.Table,
		App: app.New(a.env.Client, a.env.Table, app.DefaultAuthCacheTTL, slog.New(slog.NewTextHandler(io.Discard, nil)))}
	h := map[string]string{"x-spot-api-key": keyID, "x-spot-api-secret": secret}
	return fresh.Invoke(fn, testkit.Event("GET", path, "", h, ""))
}

func TestFullFlow(t *testing.T) {
	a := newAdmin(t)

	ws := strings.TrimSpace(a.ok("workspace", "create", "-name", "Acme Research"))
	if !ids.Valid(ids.Workspace, ws) {
		t.Fatalf("workspace create printed %q, want a workspace id alone", ws)
	}

	// Plain output: the key id and the secret, each on its own line.
	out := a.ok("key", "issue", "-workspace", ws, "-name", "crm sync")
	keyID, secret := field(t, out, "key id"), field(t, out, "secret")
	if !ids.Valid(ids.SpotKey, keyID) || !strings.HasPrefix(secret, "sk_live_") {
		t.Fatalf("key issue printed key id %q and secret %q\n%s", keyID, secret, out)
	}

	var scr struct{ ID, Title string }
	a.okJSON(&scr, "screener", "create", "-workspace", ws, "-title", "Night owls", "-description", "Who works late")
	if !ids.Valid(ids.Screener, scr.ID) || scr.Title != "Night owls" {
		t.Fatalf("screener create -json = %+v", scr)
	}

	var sp struct {
		ScreenerParticipantID, ParticipantID, Status string
		ExternalUID                                  *string
	}
	a.okJSON(&sp, "participant", "add", "-workspace", ws, "-screener", scr.ID,
		"-email", "Dana@Example.com", "-name", "Dana Scully", "-external-uid", "crm-42")
	if !ids.Valid(ids.ScreenerParticipant, sp.ScreenerParticipantID) || sp.Status != "NOT_STARTED" || sp.ExternalUID == nil || *sp.ExternalUID != "crm-42" {
		t.Fatalf("participant add -json = %+v", sp)
	}

	// Global flags after the command work too.
	out = a.ok("session", "start", "-workspace", ws, "-screener-participant", sp.ScreenerParticipantID, "-table", a.env.Table)
	session := field(t, out, "session")
	if !ids.Valid(ids.ScreenerSession, session) || field(t, out, "state") != "IN_PROGRESS" {
		t.Fatalf("session start printed\n%s", out)
	}
	out = a.ok("session", "complete", "-workspace", ws, "-session", session, "-outcome", "qualified")
	if field(t, out, "outcome") != "QUALIFIED" || field(t, out, "state") != "COMPLETED" {
		t.Fatalf("session complete printed\n%s", out)
	}

	// What the API shows with the issued key.
	resp := a.get("ListScreenerParticipantsFunction", "/screener-participants", keyID, secret)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /screener-participants with the issued key: %d %s", resp.StatusCode, resp.Body)
	}
	var page struct {
		Total int
		Items []struct{ ID, Name, Email, Status, CurrentSessionID string }
	}
	resp.JSON(&page)
	if page.Total != 1 || len(page.Items) != 1 {
		t.Fatalf("GET /screener-participants: %s", resp.Body)
	}
	got := page.Items[0]
	if got.ID != sp.ScreenerParticipantID || got.Status != "QUALIFIED" || got.CurrentSessionID != session || got.Name != "Dana Scully" {
		t.Fatalf("screener participant as the API shows it: %+v", got)
	}

	// The stored key holds the secret's hash and nothing of the secret itself.
	checkNoSecretStored(t, a.env, keyID, secret)
	out = a.ok("key", "list", "-workspace", ws)
	if !strings.Contains(out, keyID) || !strings.Contains(out, "active") || strings.Contains(out, secret) {
		t.Fatalf("key list printed\n%s", out)
	}

	if out := strings.TrimSpace(a.ok("key", "revoke", "-workspace", ws, "-key", keyID)); out != "revoked "+keyID {
		t.Fatalf("key revoke printed %q", out)
	}
	resp = a.get("ListScreenerParticipantsFunction", "/screener-participants", keyID, secret)
	if resp.StatusCode != 401 {
		t.Fatalf("GET with a revoked key: %d %s, want 401", resp.StatusCode, resp.Body)
	}
	var keys []struct {
		KeyID   string
		Revoked bool
	}
	a.okJSON(&keys, "key", "list", "-workspace", ws)
	if len(keys) != 1 || keys[0].KeyID != keyID || !keys[0].Revoked {
		t.Fatalf("key list -json after revoke = %+v", keys)
	}
	if out := a.ok("key", "list", "-workspace", ws); !strings.Contains(out, "revoked") {
		t.Fatalf("key list does not show the revoked key as revoked\n%s", out)
	}
}

// checkNoSecretStored scans the whole table: the key's item must carry the secret's hash, and no
// attribute of any item may contain the secret.
func checkNoSecretStored(t *testing.T, env *testkit.Env, keyID, secret string) {
	t.Helper()
	p := dynamodb.NewScanPaginator(env.Client, &dynamodb.ScanInput{TableName: aws.String(env.Table)})
	hashFound := false
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			for name, v := range item {
				s, ok := v.(*types.AttributeValueMemberS)
				if !ok {
					continue
				}
				if strings.Contains(s.Value, secret) || strings.Contains(s.Value, strings.TrimPrefix(secret, "sk_live_")) {
					t.Errorf("attribute %s of an item holds the secret", name)
				}
				if s.Value == auth.HashSecret(secret) {
					if id, _ := item["id"].(*types.AttributeValueMemberS); id == nil || id.Value != keyID {
						t.Errorf("the secret's hash is stored on an item that is not key %s", keyID)
					}
					hashFound = true
				}
			}
		}
	}
	if !hashFound {
		t.Errorf("no item holds the secret's hash")
	}
}

func TestErrors(t *testing.T) {
	a := newAdmin(t)
	ws := strings.TrimSpace(a.ok("workspace", "create", "-name", "Errors"))
	var scr struct{ ID string }
	a.okJSON(&scr, "screener", "create", "-workspace", ws, "-title", "Once")
	cases := []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"workspace", "delete"}, 2, `unknown command "workspace delete"`},
		{"missing action", []string{"key"}, 2, "needs an action"},
		{"missing flag", []string{"key", "issue", "-workspace", ws}, 2, "missing -name"},
		{"unknown flag", []string{"key", "issue", "-workspace", ws, "-name", "x", "-colour", "red"}, 2, "flag provided but not defined"},
		{"stray argument", []string{"workspace", "create", "-name", "x", "extra"}, 2, `unexpected argument "extra"`},
		{"bad outcome", []string{"session", "complete", "-workspace", ws, "-session", "scses_x", "-outcome", "maybe"}, 2, "-outcome must be"},
		{"unknown workspace", []string{"key", "list", "-workspace", "ws_01jd3m00000000000000000000"}, 1, "workspace ws_01jd3m00000000000000000000 not found"},
		{"unknown key", []string{"key", "revoke", "-workspace", ws, "-key", "acct_01jd3m00000000000000000000"}, 1, "not found"},
		{"unknown screener", []string{"participant", "add", "-workspace", ws, "-screener", "scr_01jd3m00000000000000000000", "-email", "a@example.com", "-name", "A"}, 1, "screener scr_01jd3m00000000000000000000 in workspace"},
		{"invalid email", []string{"participant", "add", "-workspace", ws, "-screener", scr.ID, "-email", "nope", "-name", "A"}, 1, "INVALID_EMAIL"},
		{"unknown session", []string{"session", "complete", "-workspace", ws, "-session", "scses_01jd3m00000000000000000000", "-outcome", "qualified"}, 1, "not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := a.run(c.args...)
			if code != c.code || !strings.Contains(errOut, c.message) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errOut, c.code, c.message)
			}
			if out != "" {
				t.Errorf("stdout should be empty on error, got %q", out)
			}
		})
	}

	// A session completes once.
	var sp struct{ ScreenerParticipantID string }
	a.okJSON(&sp, "participant", "add", "-workspace", ws, "-screener", scr.ID, "-email", "b@example.com", "-name", "B")
	var ses struct{ SessionID string }
	a.okJSON(&ses, "session", "start", "-workspace", ws, "-screener-participant", sp.ScreenerParticipantID)
	a.ok("session", "complete", "-workspace", ws, "-session", ses.SessionID, "-outcome", "disqualified")
	_, errOut, code := a.run("session", "complete", "-workspace", ws, "-session", ses.SessionID, "-outcome", "qualified")
	if code != 1 || !strings.Contains(errOut, "not in progress") {
		t.Fatalf("completing a completed session: exit %d, stderr %s", code, errOut)
	}
}

// field returns the value of a "label  value" line of plain output.
func field(t *testing.T, out, label string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, label+" "); ok {
			return strings.TrimSpace(rest)
		}
	}
	t.Fatalf("no %q line in\n%s", label, out)
	return ""
}
