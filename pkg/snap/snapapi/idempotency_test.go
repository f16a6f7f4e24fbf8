package snapapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/idempotency"
	"github.com/participant-roster/roster/pkg/platform/idempotency/idemstore"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
)

// doKey calls a Snap function as a user with an Idempotency-Key.
func (f *fixture) doKey(u user, key, fn, method, path, body string) testkit.Response {
	f.t.Helper()
	h := u.headers("2.0")
	h["idempotency-key"] = key
	h["content-type"] = "application/json"
	return f.env.Invoke(fn, testkit.Event(method, path, "", h, body))
}

func (f *fixture) addWithKey(u user, key, surveyID, body string) testkit.Response {
	f.t.Helper()
	return f.doKey(u, key, "SnapAddParticipantFunction", "POST", base+surveyID+"/participants", body)
}

// wantSnapReplay: the same status, body, Location and Content-Type, marked as a replay, with
// the family's supported-versions header.
func wantSnapReplay(t *testing.T, first, again testkit.Response) {
	t.Helper()
	wantStatus(t, again, first.StatusCode)
	if again.Body != first.Body {
		t.Fatalf("replayed body %s, first %s", again.Body, first.Body)
	}
	for _, h := range []string{"Location", "Content-Type"} {
		if again.Headers[h] == "" || again.Headers[h] != first.Headers[h] {
			t.Errorf("replayed %s %q, first %q", h, again.Headers[h], first.Headers[h])
		}
	}
	if again.Headers[idempotency.ReplayedHeader] != "true" || first.Headers[idempotency.ReplayedHeader] != "" {
		t.Errorf("%s: first %q, replay %q", idempotency.ReplayedHeader, first.Headers[idempotency.ReplayedHeader], again.Headers[idempotency.ReplayedHeader])
	}
}

// TestAddParticipantKeyConcurrent: five identical adds at once with one key add one
// participant; every answer is its 201 (the first or the replay) or 409 "still being
// processed", never the login-taken 400 a second add would get.
func TestAddParticipantKeyConcurrent(t *testing.T) {
	f := newFixture(t)
	body := groupBody("once", "once@example.com")
	answers := testkit.AtOnce(5, func() testkit.Response { return f.addWithKey(f.owner, "add-once", f.group, body) })
	if logins := f.logins(f.group); !slices.Equal(logins, []string{"once"}) {
		t.Fatalf("participants %v, want [once]", logins)
	}
	fresh := 0
	for _, r := range answers {
		switch {
		case r.StatusCode == 201 && r.Headers[idempotency.ReplayedHeader] == "":
			fresh++
		case r.StatusCode == 201:
			wantSnapReplay(t, answers[slices.IndexFunc(answers, func(a testkit.Response) bool {
				return a.StatusCode == 201 && a.Headers[idempotency.ReplayedHeader] == ""
			})], r)
		default:
			wantMessage(t, r, 409, idempotency.ErrKeyInUse.Message)
		}
	}
	if fresh != 1 {
		t.Fatalf("%d adds ran, want 1", fresh)
	}
}

// TestAddParticipantKeyReplay: the first answer lost, the retry gets the same participant
// (Location, body) marked as a replay and adds nothing; another body with the key is 422;
// another user's equal key is theirs; a bad key is 400 before anything runs.
func TestAddParticipantKeyReplay(t *testing.T) {
	f := newFixture(t)
	solo := func(login string) string {
		return `{"loginSection": {"login": "` + login + `", "subjects": [{"subjectName": "", "questionnaireSeeding": {}}]}}`
	}
	first := f.addWithKey(f.owner, "k", f.loginOnly, solo("solo"))
	wantStatus(t, first, 201)
	wantSnapReplay(t, first, f.addWithKey(f.owner, "k", f.loginOnly, solo("solo")))
	wantMessage(t, f.addWithKey(f.owner, "k", f.loginOnly, solo("other")), 422, idempotency.ErrKeyReused.Message)
	mine := f.addWithKey(f.colleague, "k", f.loginOnly, solo("colleagues"))
	wantStatus(t, mine, 201)
	if mine.Headers[idempotency.ReplayedHeader] != "" {
		t.Fatal("the colleague's key answered the owner's add")
	}
	wantMessage(t, f.addWithKey(f.owner, strings.Repeat("k", 256), f.loginOnly, solo("long")), 400, idempotency.ErrKeyInvalid.Message)
	if logins := f.logins(f.loginOnly); !slices.Equal(logins, []string{"colleagues", "solo"}) {
		t.Fatalf("participants %v", logins)
	}
	// A survey the user cannot see is answered before a key is taken: only the owner's and
	// the colleague's records are there.
	wantMessage(t, f.addWithKey(f.outs, "k2", f.loginOnly, solo("x")), 401, snapapi.MsgNoSurveyAccess)
	items, err := f.env.App.Table.QueryAll(context.Background(), ddb.Partition{PK: ddb.WS(f.ws) + "#IDEM"})
	if err != nil || len(items) != 2 {
		t.Fatalf("%d records, want 2: %v", len(items), err)
	}
}

// TestAddSubjectKeyReplay: a subject added with a key is added once.
func TestAddSubjectKeyReplay(t *testing.T) {
	f := newFixture(t)
	wantStatus(t, f.add(f.owner, f.group, groupBody("sub", "sub@example.com")), 201)
	path := base + f.group + "/participants/sub/subjects"
	body := `{"subjectName": "L2", "questionnaireSeeding": {}}`
	first := f.doKey(f.owner, "s", "SnapAddParticipantSubjectFunction", "POST", path, body)
	wantStatus(t, first, 201)
	wantSnapReplay(t, first, f.doKey(f.owner, "s", "SnapAddParticipantSubjectFunction", "POST", path, body))
	r := f.do(f.owner, "2.0", "SnapListParticipantSubjectsFunction", "GET", path, "", "")
	var subjects []struct {
		Name string `json:"subjectName"`
	}
	r.JSON(&subjects)
	if len(subjects) != 2 {
		t.Fatalf("subjects %s, want L1 and L2", r.Body)
	}
}

// TestImportKey: a bulk import with a key makes one job (the retry gets the same job); while
// the key's first request runs the same request is 409; an add refused because an import
// holds the roster frees its key, so the retry after the import ends adds.
func TestImportKey(t *testing.T) {
	f := newFixture(t)
	q := f.env.EnableImports()
	path := base + f.group + "/participant-imports"
	body := importBody(groupRows(0, 3)...)
	first := f.doKey(f.owner, "imp", "SnapImportParticipantsFunction", "POST", path, body)
	job := f.accepted(f.group, first)
	wantSnapReplay(t, first, f.doKey(f.owner, "imp", "SnapImportParticipantsFunction", "POST", path, body))

	add := groupBody("late", "late@example.com")
	wantMessage(t, f.addWithKey(f.owner, "late", f.group, add), 400, lockMessage)
	q.Drain()
	if got := f.importJob(f.group, job.ImportID); got.Status != "COMPLETED" || got.Counts.Created != 3 {
		t.Fatalf("job %+v", got)
	}
	r := f.addWithKey(f.owner, "late", f.group, add)
	wantStatus(t, r, 201)
	if r.Headers[idempotency.ReplayedHeader] != "" {
		t.Fatal("the lock's 400 was kept")
	}

	// In progress: the key's record taken as a running request would.
	route, _ := snapapi.Routes.Lookup("SnapImportParticipantsFunction")
	k := idempotency.Key{Scope: idempotency.Scope{Workspace: f.ws, Credential: f.owner.ID, Route: route.Pattern()}, Value: "busy"}
	now := time.Now()
	running := idempotency.Record{Status: idempotency.InProgress, Fingerprint: idempotency.Fingerprint("POST", path, "", []byte(body)),
		Token: "t", LockedUntil: now.Add(time.Minute), ExpiresAt: now.Add(time.Hour)}
	if _, taken, err := idemstore.New(f.env.App.Table).Begin(context.Background(), k, running, now); err != nil || !taken {
		t.Fatalf("begin: %v %v", taken, err)
	}
	wantMessage(t, f.doKey(f.owner, "busy", "SnapImportParticipantsFunction", "POST", path, body), 409, idempotency.ErrKeyInUse.Message)
}
