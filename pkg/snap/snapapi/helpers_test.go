package snapapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type user struct {
	survey.User
	key string
}

func (u user) headers(version string) map[string]string {
	h := map[string]string{"x-username": u.Username, "x-api-key": u.key}
	if version != "" {
		h["x-version"] = version
	}
	return h
}

// fixture is a workspace with three users and four surveys of different kinds.
type fixture struct {
	t                      *testing.T
	env                    *testkit.Env
	ws                     string
	owner, colleague, outs user
	group, inviteOnly      string // survey ids
	loginOnly, closed      string
}

var surveySeq int

func newGUID() string {
	surveySeq++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, surveySeq)
}

func newFixture(t *testing.T) *fixture { return fixtureIn(t, testkit.NewEnv(t)) }

// fixtureIn makes another workspace's fixture in the same table.
func fixtureIn(t *testing.T, env *testkit.Env) *fixture {
	f := &fixture{t: t, env: env, ws: ids.New(ids.Workspace)}
	ctx := context.Background()
	must(t, env.App.Store.CreateWorkspace(ctx, f.ws, "snap test", time.Now()))
	f.owner, f.colleague, f.outs = f.user("owner"), f.user("colleague"), f.user("outsider")
	codes := func(n int) []survey.Code {
		out := make([]survey.Code, n)
		for i := range out {
			out[i] = survey.Code{Index: i + 1, Value: fmt.Sprint(i + 1), Label: fmt.Sprintf("Label %d", i+1)}
		}
		return out
	}
	vars := []survey.Variable{
		{ID: "V46", Order: 1, Name: "Q1", Label: "Age band", ResponseType: survey.ResponseSingle, VariableType: "Question", Seeding: true, Codes: codes(5)},
		{ID: "V48", Order: 2, Name: "Q2", Label: "Devices", ResponseType: survey.ResponseMultiple, VariableType: "Question", Seeding: true, Codes: codes(4)},
		{ID: "V50", Order: 3, Name: "Q3", Label: "Town", ResponseType: survey.ResponseText, VariableType: "Question", Seeding: true},
		{ID: "V60", Order: 4, Name: "Q6", Label: "Rating", ResponseType: survey.ResponseSingle, VariableType: "Question", Codes: codes(3)},
	}
	mk := func(name string, st survey.Settings) string {
		id := newGUID()
		must(t, env.App.SnapStore.PutSurvey(ctx, f.ws, survey.Survey{
			ID: id, OwnerID: f.owner.ID, OwnerName: f.owner.Fullname, Name: name, Title: name + " title",
			Path: []string{"Tests"}, InterviewingState: "Started", Settings: st, Variables: vars,
			SharedWith: []string{f.colleague.ID}, CreatedAt: time.Now(),
		}))
		return id
	}
	keys := []string{"Forenames", "Surname"}
	f.group = mk("group", survey.Settings{Invites: true, Logins: true, Group: true, SOIAllowed: true,
		SOIUsers: []string{"interviewer@example.com"}, SOIManagers: []string{f.owner.ID}, InviteKeys: keys})
	f.inviteOnly = mk("invite only", survey.Settings{Invites: true, InviteKeys: keys})
	f.loginOnly = mk("login only", survey.Settings{Logins: true})
	f.closed = mk("no participants", survey.Settings{})
	return f
}

func (f *fixture) user(name string) user {
	id, secret, hash := auth.NewSecret()
	_ = id
	u := survey.User{ID: ids.New(ids.SnapUser), WorkspaceID: f.ws, Username: name + "-" + strings.ToLower(ids.New(ids.SnapUser)[4:]) + "@example.com", Fullname: strings.ToUpper(name[:1]) + name[1:], CreatedAt: time.Now()}
	must(f.t, f.env.App.SnapStore.PutSnapUser(context.Background(), u, hash))
	return user{User: u, key: secret}
}

const base = "/snaponline/api/surveys/"

// do calls a Snap function as a user.
func (f *fixture) do(u user, version, fn, method, path, query, body string) testkit.Response {
	f.t.Helper()
	h := u.headers(version)
	if body != "" {
		h["content-type"] = "application/json"
	}
	return f.env.Invoke(fn, testkit.Event(method, path, query, h, body))
}

func (f *fixture) add(u user, surveyID, body string) testkit.Response {
	f.t.Helper()
	return f.do(u, "2.0", "SnapAddParticipantFunction", "POST", base+surveyID+"/participants", "", body)
}

func wantMessage(t *testing.T, r testkit.Response, status int, message string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.StatusCode, status, r.Body)
	}
	var m struct {
		Message string `json:"message"`
	}
	r.JSON(&m)
	if m.Message != message {
		t.Fatalf("message %q, want %q", m.Message, message)
	}
}

func wantStatus(t *testing.T, r testkit.Response, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.StatusCode, status, r.Body)
	}
	if r.Headers["Api-Supported-Versions"] != "1.0, 2.0" && r.Headers["api-supported-versions"] != "1.0, 2.0" {
		t.Fatalf("no api-supported-versions header: %v", r.Headers)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// groupBody is a valid Add body for the group survey.
func groupBody(login, email string, subjects ...string) string {
	if len(subjects) == 0 {
		subjects = []string{"L1"}
	}
	var subs []map[string]any
	for _, s := range subjects {
		subs = append(subs, map[string]any{"subjectName": s, "questionnaireSeeding": map[string]string{"v46": "4", "v48": "2;3", "v50": "Leeds"}, "status": "Completed"})
	}
	return js(map[string]any{
		"invitationSection": map[string]any{"optedOut": false, "sendInvitations": true, "emailAddress": email,
			"invitationSeeding": map[string]string{"forenames": "A", "surname": "B"}},
		"loginSection": map[string]any{"login": login, "password": nil, "interviewer": "", "status": "Completed", "subjects": subs},
		"enabled":      true,
	})
}
