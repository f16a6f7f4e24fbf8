package snapapi_test

import (
	"encoding/base64"
	"maps"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/platform/strictbody/strictbodytest"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

// bodyRoute is how a route that takes a body is called: its path, a body it accepts, and the
// status and query of that body's call (sent after the refusals, so it proves they differ
// from an accepted body only by what strictbody refuses).
type bodyRoute struct {
	path, valid, query string
	status             int
}

// TestEveryBodyRouteRefusesRepeatedKeysAndInvalidUTF8: every Snap route that takes a body (from
// the route table: a new one fails here until it has a case) answers a key repeated at every
// depth and invalid UTF-8 anywhere with 400 and {"message"} naming the problem, in Snap's
// words for malformed JSON, and writes nothing.
func TestEveryBodyRouteRefusesRepeatedKeysAndInvalidUTF8(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	wantStatus(t, f.add(f.owner, f.group, groupBody("p1", "p1@example.com")), 201)
	participant := base + f.group + "/participants/p1"
	cases := map[string]bodyRoute{
		"SnapAddParticipantFunction":    {path: base + f.group + "/participants", valid: groupBody("p2", "p2@example.com"), status: 201},
		"SnapUpdateParticipantFunction": {path: participant, valid: groupBody("p1", "p1.new@example.com"), status: 200},
		"SnapAddParticipantSubjectFunction": {path: participant + "/subjects", status: 201,
			valid: `{"subjectName":"L2","questionnaireSeeding":{"v46":"4","v50":"York"},"status":"Completed"}`},
		"SnapUpdateParticipantSubjectFunction": {path: participant + "/subjects/L1", status: 200,
			valid: `{"subjectName":"L1","questionnaireSeeding":{"v46":"3","v50":"Hull"}}`},
		"SnapImportParticipantsFunction": {path: base + f.group + "/participant-imports", query: "dryRun=true", status: 200,
			valid: `{"participants":[` + groupBody("p3", "p3@example.com") + `]}`},
	}
	strictbodytest.ForEachBodyRoute(t, snapapi.Routes.Routes(), cases, func(t *testing.T, d routes.Route, rt bodyRoute) {
		refusals, err := strictbodytest.Refusals(rt.valid)
		if err != nil {
			t.Fatal(err)
		}
		before := f.records()
		for _, rf := range refusals {
			r := f.send(d.LogicalID, d.Method, rt.path, "", rf.Body)
			wantStatus(t, r, 400)
			if m := message(r); !strings.HasPrefix(m, strings.TrimSuffix(survey.MsgBadJSON(""), ": .")) || !strings.Contains(m, rf.Names) {
				t.Errorf("%s: message %q, want Snap's malformed-JSON message naming %s", rf.Name, m, rf.Names)
			}
		}
		if after := f.records(); !maps.Equal(before, after) {
			t.Errorf("refused bodies wrote: %d records before, %d after", len(before), len(after))
		}
		if l := f.listImports(f.group, ""); len(l.Imports) != 0 {
			t.Errorf("refused bodies made %d import jobs", len(l.Imports))
		}
		wantStatus(t, f.send(d.LogicalID, d.Method, rt.path, rt.query, rt.valid), rt.status)
	})
}

// TestAddWithTwoLoginsOrABrokenLogin is the case: a lenient reader stored the second
// login, or "\xc3(" as "\ufffd(". Both are 400 now, and the survey has no such participant.
func TestAddWithTwoLoginsOrABrokenLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	before := f.records()
	twice := `{"loginSection":{"login":"first","password":"pw","login":"second"}}`
	r := f.send("SnapAddParticipantFunction", "POST", base+f.loginOnly+"/participants", "", twice)
	wantMessage(t, r, 400, survey.MsgBadJSON(`duplicate key "login" in loginSection`))
	broken := "{\"loginSection\":{\"login\":\"\xc3(\"}}"
	r = f.send("SnapAddParticipantFunction", "POST", base+f.loginOnly+"/participants", "", broken)
	wantMessage(t, r, 400, survey.MsgBadJSON("invalid UTF-8 in the body at byte 26"))
	escaped := `{"loginSection":{"login":"\ud800("}}`
	r = f.send("SnapAddParticipantFunction", "POST", base+f.loginOnly+"/participants", "", escaped)
	wantStatus(t, r, 400)
	if m := message(r); !strings.Contains(m, "invalid Unicode in the body") {
		t.Errorf("lone surrogate: %q", m)
	}
	if after := f.records(); !maps.Equal(before, after) {
		t.Errorf("refused bodies wrote: %d records before, %d after", len(before), len(after))
	}
}

// send calls a function as the owner with a JSON body; a body that is not UTF-8 goes base64
// encoded, as API Gateway sends a body that is not text.
func (f *fixture) send(fn, method, path, query, body string) testkit.Response {
	f.t.Helper()
	h := f.owner.headers("2.0")
	h["content-type"] = "application/json"
	ev := testkit.Event(method, path, query, h, body)
	if !utf8.ValidString(body) {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
	}
	return f.env.Invoke(fn, ev)
}

func message(r testkit.Response) string {
	var m struct {
		Message string `json:"message"`
	}
	r.JSON(&m)
	return m.Message
}
