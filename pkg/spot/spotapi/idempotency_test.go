package spotapi_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/idempotency"
	"github.com/participant-roster/roster/pkg/platform/idempotency/idemstore"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
)

const importPath = "/screener-participants-import"

// importWithKey posts an import with an Idempotency-Key (and Prefer: respond-async when async).
func (c *client) importWithKey(key string, async bool, body string) testkit.Response {
	c.t.Helper()
	h := map[string]string{"idempotency-key": key}
	if async {
		h["prefer"] = "respond-async"
	}
	return c.call("ImportScreenerParticipantsFunction", "POST", importPath, "", body, h)
}

// jobCount is how many import jobs the client's workspace has (jobstore's access pattern 19).
func (c *client) jobCount() int {
	c.t.Helper()
	items, err := c.env.App.Table.QueryAll(context.Background(), ddb.Partition{PK: ddb.WS(c.tenant.WorkspaceID) + "#IMPORT"})
	if err != nil {
		c.t.Fatal(err)
	}
	return len(items)
}

// keyOf is the record's name for a key the client sends to the import.
func (c *client) keyOf(key string) idempotency.Key {
	route, _ := spotapi.Routes.Lookup("ImportScreenerParticipantsFunction")
	return idempotency.Key{Scope: idempotency.Scope{Workspace: c.tenant.WorkspaceID, Credential: c.tenant.KeyID, Route: route.Pattern()}, Value: key}
}

func wantReplay(t *testing.T, first, again testkit.Response) {
	t.Helper()
	if again.StatusCode != first.StatusCode || again.Body != first.Body {
		t.Fatalf("replay %d %s, first %d %s", again.StatusCode, again.Body, first.StatusCode, first.Body)
	}
	for _, h := range idempotency.ReplayedHeaders {
		if again.Headers[h] != first.Headers[h] {
			t.Errorf("replayed %s %q, first %q", h, again.Headers[h], first.Headers[h])
		}
	}
	if again.Headers[idempotency.ReplayedHeader] != "true" || first.Headers[idempotency.ReplayedHeader] != "" {
		t.Errorf("%s: first %q, replay %q", idempotency.ReplayedHeader, first.Headers[idempotency.ReplayedHeader], again.Headers[idempotency.ReplayedHeader])
	}
	if again.Headers[spotapi.HeaderVersion] == "" {
		t.Errorf("the replay has no %s header", spotapi.HeaderVersion)
	}
}

// TestImportKeyConcurrent: five identical imports at once with one key make one job; every
// answer is that job (the first, or its replay) or 409 IDEMPOTENCY_KEY_IN_USE.
func TestImportKeyConcurrent(t *testing.T) {
	a := newAsyncEnv(t)
	body := importBody(a.screener("S"), "", rows(3, "C")...)
	answers := testkit.AtOnce(5, func() testkit.Response { return a.importWithKey("crm-sync-1", true, body) })
	if n := a.jobCount(); n != 1 {
		t.Fatalf("%d jobs, want 1", n)
	}
	locations := map[string]bool{}
	for _, r := range answers {
		switch r.StatusCode {
		case 202:
			locations[r.Headers["Location"]] = true
		case 409:
			wantProblem(t, r, 409, spotapi.CodeIdempotencyKeyInUse)
		default:
			t.Fatalf("answer %d %s", r.StatusCode, r.Body)
		}
	}
	if len(locations) != 1 {
		t.Fatalf("202s name %d jobs: %v", len(locations), locations)
	}
}

// TestImportKeyReplay: the first answer lost, the retry gets the same job (body, Location,
// Preference-Applied) marked as a replay, and no second job is made; another body with the key
// is 422; another API key of the workspace has keys of its own; the record expires through
// the table's TTL attribute.
func TestImportKeyReplay(t *testing.T) {
	a := newAsyncEnv(t)
	scr := a.screener("S")
	body := importBody(scr, "", rows(2, "R")...)
	first := a.importWithKey("k-1", true, body)
	job := a.accepted(first)
	again := a.importWithKey("k-1", true, body)
	wantReplay(t, first, again)
	if again.Headers["Preference-Applied"] != "respond-async" {
		t.Errorf("Preference-Applied not replayed: %v", again.Headers)
	}
	if n := a.jobCount(); n != 1 {
		t.Fatalf("%d jobs after the retry, want 1 (%s)", n, job.ID)
	}
	wantProblem(t, a.importWithKey("k-1", true, importBody(scr, "", rows(3, "R")...)), 422, spotapi.CodeIdempotencyKeyReused)
	// The fingerprint is method, path, query and body: a retry that drops Prefer is the same
	// request, and gets the job.
	wantReplay(t, first, a.importWithKey("k-1", false, body))
	if n := a.jobCount(); n != 1 {
		t.Fatalf("%d jobs after refusals, want 1", n)
	}

	// Another API key of the same workspace: its own key space.
	other := *a.client
	keyID, secret, hash := auth.NewSecret()
	if err := a.env.App.Store.PutKey(context.Background(), auth.Key{ID: keyID, WorkspaceID: a.tenant.WorkspaceID, Name: "second", SecretHash: hash, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	other.tenant.KeyID, other.tenant.Secret = keyID, secret
	if r := other.importWithKey("k-1", true, body); r.Headers[idempotency.ReplayedHeader] != "" || a.accepted(r).ID == job.ID {
		t.Fatalf("another API key's k-1 answered k-1's job: %s", r.Body)
	}
	if n := a.jobCount(); n != 2 {
		t.Fatalf("%d jobs, want 2", n)
	}

	// The record carries the TTL attribute at about 24 h from now.
	var it map[string]types.AttributeValue
	items, err := a.env.App.Table.QueryAll(context.Background(), ddb.Partition{PK: ddb.WS(a.tenant.WorkspaceID) + "#IDEM"})
	if err != nil || len(items) != 2 {
		t.Fatalf("%d records, %v", len(items), err)
	}
	it = items[0]
	ttl, ok := it[ddb.TTLAttribute].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("record without %s: %v", ddb.TTLAttribute, it)
	}
	sec, _ := strconv.ParseInt(ttl.Value, 10, 64)
	if d := time.Until(time.Unix(sec, 0)); d < idempotency.Retention-time.Minute || d > idempotency.Retention {
		t.Errorf("ttl in %v, want about %v", d, idempotency.Retention)
	}
}

// TestImportKeySync: a synchronous import with a key is answered once and replayed; without
// the header nothing is kept.
func TestImportKeySync(t *testing.T) {
	env := testkit.NewEnv(t)
	c := newClient(t, env)
	body := importBody(c.screener("S"), "", rows(2, "Y")...)
	first := c.importWithKey("sync-1", false, body)
	wantStatus(t, first, 200)
	wantReplay(t, first, c.importWithKey("sync-1", false, body))
	plain := c.call("ImportScreenerParticipantsFunction", "POST", importPath, "", body, nil)
	wantStatus(t, plain, 200)
	if plain.Headers[idempotency.ReplayedHeader] != "" {
		t.Error("a request without the header was replayed")
	}
	wantProblem(t, c.importWithKey("sync-1", false, body+" "), 422, spotapi.CodeIdempotencyKeyReused)
	p := wantProblem(t, c.importWithKey("", false, body), 400, spotapi.CodeInvalidIdempotencyKey)
	if len(p.Errors) != 1 || p.Errors[0].Field != idempotency.Header {
		t.Errorf("field errors %+v", p.Errors)
	}
}

// TestImportKeyInProgress: while the key's first request runs, the same request is 409; a
// record past its expiry (TTL not yet run) is ignored.
func TestImportKeyInProgress(t *testing.T) {
	env := testkit.NewEnv(t)
	c := newClient(t, env)
	store := idemstore.New(env.App.Table)
	body := importBody(c.screener("S"), "", rows(1, "P")...)
	now := time.Now()
	fp := idempotency.Fingerprint("POST", importPath, "", []byte(body))
	running := idempotency.Record{Status: idempotency.InProgress, Fingerprint: fp, Token: "t", LockedUntil: now.Add(time.Minute), ExpiresAt: now.Add(time.Hour)}
	if _, taken, err := store.Begin(context.Background(), c.keyOf("busy"), running, now); err != nil || !taken {
		t.Fatalf("begin: %v %v", taken, err)
	}
	wantProblem(t, c.importWithKey("busy", false, body), 409, spotapi.CodeIdempotencyKeyInUse)

	stale := idempotency.Record{Status: idempotency.Completed, Fingerprint: fp, Token: "t", ExpiresAt: now.Add(-time.Second),
		Answer: idempotency.Answer{Status: 299, Body: []byte("stale")}}
	if _, taken, err := store.Begin(context.Background(), c.keyOf("old"), stale, now.Add(-time.Hour)); err != nil || !taken {
		t.Fatalf("begin: %v %v", taken, err)
	}
	r := c.importWithKey("old", false, body)
	wantStatus(t, r, 200)
	if r.Headers[idempotency.ReplayedHeader] != "" {
		t.Fatalf("an expired record was replayed: %s", r.Body)
	}
}

// failingQueue refuses every chunk, so an async import answers 500.
type failingQueue struct{}

func (failingQueue) Send(context.Context, []jobs.Message) error { return errors.New("queue down") }

// TestImportKeyReleasedOn5xx: an import that fails on our side frees its key: the retry runs
// and makes the job.
func TestImportKeyReleasedOn5xx(t *testing.T) {
	a := newAsyncEnv(t)
	body := importBody(a.screener("S"), "", rows(2, "F")...)
	working := a.env.App.Spot.Imports.Queue
	a.env.App.Spot.Imports.Queue = failingQueue{}
	wantProblem(t, a.importWithKey("k", true, body), 500, spotapi.CodeInternal)
	a.env.App.Spot.Imports.Queue = working
	r := a.importWithKey("k", true, body)
	a.accepted(r)
	if r.Headers[idempotency.ReplayedHeader] != "" {
		t.Fatal("the 500 was kept")
	}
}
