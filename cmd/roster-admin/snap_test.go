package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

// exampleDefinition is the survey definition the README points at.
func exampleDefinition(t *testing.T) string {
	t.Helper()
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "examples", "survey-definition.json")
}

// writeFile writes a file in the test's temporary directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// verifies reports whether the Snap credential check accepts the username and key now.
func verifies(t *testing.T, a *admin, username, key string) (auth.Principal, bool) {
	t.Helper()
	p, err := auth.NewVerifier(a.env.App.SnapStore.SnapKeys(), 0).Verify(context.Background(), username, key)
	return p, err == nil
}

func TestSnapFullFlow(t *testing.T) {
	a := newAdmin(t)
	ctx := context.Background()
	ws := strings.TrimSpace(a.ok("workspace", "create", "-name", "Snap Lab"))

	// Plain output: the user id and the key, each on its own line.
	out := a.ok("snap-user", "create", "-workspace", ws, "-username", "researcher@example.com", "-fullname", "Demo Researcher")
	researcherID, key := field(t, out, "user id"), field(t, out, "api key")
	if !ids.Valid(ids.SnapUser, researcherID) || !strings.HasPrefix(key, "snap_") || field(t, out, "username") != "researcher@example.com" {
		t.Fatalf("snap-user create printed\n%s", out)
	}
	var colleague struct {
		UserID, APIKey, Username string
		Headers                  map[string]string
	}
	a.okJSON(&colleague, "snap-user", "create", "-workspace", ws, "-username", "colleague@example.com", "-fullname", "Demo Colleague")
	if !ids.Valid(ids.SnapUser, colleague.UserID) || colleague.Headers["X-USERNAME"] != "colleague@example.com" || colleague.Headers["X-API-KEY"] != colleague.APIKey {
		t.Fatalf("snap-user create -json = %+v", colleague)
	}
	if p, ok := verifies(t, a, "Researcher@Example.com", key); !ok || p.KeyID != researcherID || p.WorkspaceID != ws {
		t.Fatalf("the researcher's key does not verify: %+v", p)
	}
	checkNoSecretStored(t, a.env, researcherID, key)

	// The example definition makes the demo's group survey, owned by the researcher.
	guid := strings.TrimSpace(a.ok("survey", "create", "-workspace", ws, "-owner", "researcher@example.com", "-file", exampleDefinition(t)))
	if canon, ok := survey.ParseSurveyID(guid); !ok || canon != guid {
		t.Fatalf("survey create printed %q, want a lower-case GUID alone", guid)
	}
	sv, _, err := a.env.App.SnapStore.GetSurvey(ctx, ws, guid)
	if err != nil {
		t.Fatal(err)
	}
	want := demo.SnapSurveys()[0]
	want.Settings.SOIManagers = []string{researcherID}
	if !reflect.DeepEqual(sv.Variables, want.Variables) || !reflect.DeepEqual(sv.Settings, want.Settings) ||
		sv.Name != want.Name || sv.Title != want.Title || !reflect.DeepEqual(sv.Path, want.Path) || sv.InterviewingState != "Started" {
		t.Errorf("survey from examples/survey-definition.json\n got %+v\nwant %+v", sv, want)
	}
	if sv.OwnerID != researcherID || sv.OwnerName != "Demo Researcher" || sv.CanAccess(colleague.UserID) {
		t.Errorf("owner %s (%s), shared with %v", sv.OwnerID, sv.OwnerName, sv.SharedWith)
	}

	if out := strings.TrimSpace(a.ok("survey", "share", "-workspace", ws, "-survey", strings.ToUpper(guid), "-username", "colleague@example.com")); out != "shared "+guid+" with colleague@example.com" {
		t.Fatalf("survey share printed %q", out)
	}
	if out := a.ok("survey", "share", "-workspace", ws, "-survey", guid, "-username", "colleague@example.com"); !strings.Contains(out, "already shared") {
		t.Fatalf("sharing twice printed %q", out)
	}
	if sv, _, _ = a.env.App.SnapStore.GetSurvey(ctx, ws, guid); !reflect.DeepEqual(sv.SharedWith, []string{colleague.UserID}) {
		t.Fatalf("shared with %v", sv.SharedWith)
	}

	// Responses: -values (a comma inside text is kept) and -file.
	out = a.ok("response", "add", "-workspace", ws, "-survey", guid, "-values", "v46=2,V48=1; 3,V50=Night Owls, Tuesdays,V60=3")
	if field(t, out, "case id") != "1" || field(t, out, "status") != "Completed" {
		t.Fatalf("response add printed\n%s", out)
	}
	values := writeFile(t, "values.json", `{"V46": "5", "V48": "", "V53": "L2"}`)
	var added struct {
		CaseID int
		Status string
	}
	a.okJSON(&added, "response", "add", "-workspace", ws, "-survey", guid, "-status", "partial", "-file", values)
	if added.CaseID != 2 || added.Status != "Partial" {
		t.Fatalf("response add -file -json = %+v", added)
	}
	rs, _, err := a.env.App.SnapStore.ListResponses(ctx, ws, guid, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	wantValues := []map[string]string{
		{"V46": "2", "V48": "1;3", "V50": "Night Owls, Tuesdays", "V60": "3"},
		{"V46": "5", "V48": "", "V53": "L2"},
	}
	if len(rs) != 2 || !reflect.DeepEqual(rs[0].Values, wantValues[0]) || !reflect.DeepEqual(rs[1].Values, wantValues[1]) || rs[1].Status != "Partial" {
		t.Fatalf("stored responses %+v", rs)
	}

	// What the API shows the colleague with the issued key.
	h := map[string]string{"x-username": colleague.Username, "x-api-key": colleague.APIKey, "x-version": "2.0"}
	resp := a.env.InvokeUnchecked(ctx, "SnapListSurveysFunction", testkit.Event("GET", "/snaponline/api/surveys", "", h, ""))
	var surveys []struct{ ID, Name, OwnerID string }
	if resp.StatusCode != 200 {
		t.Fatalf("GET /snaponline/api/surveys as the colleague: %d %s", resp.StatusCode, resp.Body)
	}
	resp.JSON(&surveys)
	if len(surveys) != 1 || surveys[0].ID != guid || surveys[0].OwnerID != researcherID {
		t.Fatalf("GET /snaponline/api/surveys as the colleague: %s", resp.Body)
	}

	// A new key replaces the old one; revoking stops it.
	newKey := field(t, a.ok("snap-user", "key", "-username", "RESEARCHER@example.com"), "api key")
	if _, ok := verifies(t, a, "researcher@example.com", key); ok {
		t.Errorf("the replaced key still verifies")
	}
	if _, ok := verifies(t, a, "researcher@example.com", newKey); !ok || newKey == key {
		t.Fatalf("the new key does not verify")
	}
	if out := strings.TrimSpace(a.ok("snap-user", "revoke", "-username", "researcher@example.com")); out != "revoked researcher@example.com" {
		t.Fatalf("snap-user revoke printed %q", out)
	}
	if _, ok := verifies(t, a, "researcher@example.com", newKey); ok {
		t.Errorf("a revoked key verifies")
	}
	if _, ok := verifies(t, a, "colleague@example.com", colleague.APIKey); !ok {
		t.Errorf("revoking the researcher stopped the colleague's key")
	}
}

func TestSnapErrors(t *testing.T) {
	a := newAdmin(t)
	ws := strings.TrimSpace(a.ok("workspace", "create", "-name", "Snap errors"))
	other := strings.TrimSpace(a.ok("workspace", "create", "-name", "Elsewhere"))
	a.ok("snap-user", "create", "-workspace", ws, "-username", "researcher@example.com", "-fullname", "R")
	a.ok("snap-user", "create", "-workspace", other, "-username", "outsider@example.com", "-fullname", "O")
	guid := strings.TrimSpace(a.ok("survey", "create", "-workspace", ws, "-owner", "researcher@example.com", "-file", exampleDefinition(t)))

	def := func(mutate string) string {
		return writeFile(t, "definition.json", `{"name": "S", "settings": {"invites": true, "inviteKeys": ["Forenames"]},
			"variables": [{"id": "V1", "name": "Q1", "responseType": "Single", "codes": [{"value": "1", "label": "Yes"}]}]`+mutate+`}`)
	}
	badDef := func(body string) string { return writeFile(t, "definition.json", body) }
	create := func(file string) []string {
		return []string{"survey", "create", "-workspace", ws, "-owner", "researcher@example.com", "-file", file}
	}
	cases := []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"username not an email", []string{"snap-user", "create", "-workspace", ws, "-username", "researcher", "-fullname", "R"}, 2, "-username must be an email address"},
		{"username too long", []string{"snap-user", "create", "-workspace", ws, "-username", strings.Repeat("a", 60) + "@example.com", "-fullname", "R"}, 2, "at most 64"},
		{"username taken", []string{"snap-user", "create", "-workspace", ws, "-username", "Researcher@example.com", "-fullname", "R"}, 1, "username Researcher@example.com is taken"},
		{"missing fullname", []string{"snap-user", "create", "-workspace", ws, "-username", "x@example.com"}, 2, "missing -fullname"},
		{"user of no workspace", []string{"snap-user", "create", "-workspace", "ws_01jd3m00000000000000000000", "-username", "x@example.com", "-fullname", "X"}, 1, "workspace ws_01jd3m00000000000000000000 not found"},
		{"key for unknown user", []string{"snap-user", "key", "-username", "nobody@example.com"}, 1, "snap user nobody@example.com not found"},
		{"revoke unknown user", []string{"snap-user", "revoke", "-username", "nobody@example.com"}, 1, "snap user nobody@example.com not found"},

		{"unknown owner", []string{"survey", "create", "-workspace", ws, "-owner", "nobody@example.com", "-file", exampleDefinition(t)}, 1, `-owner: no snap user "nobody@example.com" in workspace`},
		{"owner of another workspace", []string{"survey", "create", "-workspace", ws, "-owner", "outsider@example.com", "-file", exampleDefinition(t)}, 1, `no snap user "outsider@example.com"`},
		{"no definition file", create(filepath.Join(t.TempDir(), "missing.json")), 1, "no such file"},
		{"definition not JSON", create(badDef(`{"name": `)), 1, "is not a survey definition"},
		{"unknown field", create(def(`, "colour": "red"`)), 1, `unknown field "colour"`},
		{"misspelt setting", create(badDef(`{"name": "S", "settings": {"invite": true}, "variables": []}`)), 1, `unknown field "invite"`},
		{"no name", create(badDef(`{"variables": [{"id": "V1", "name": "Q1", "responseType": "Text"}]}`)), 1, "name: required"},
		{"no variables", create(badDef(`{"name": "S"}`)), 1, "variables: at least one variable"},
		{"bad GUID", create(def(`, "id": "not-a-guid"`)), 1, `id: "not-a-guid" is not a GUID`},
		{"GUID taken", create(def(`, "id": "` + strings.ToUpper(guid) + `"`)), 1, "already exists"},
		{"bad state", create(def(`, "interviewingState": "in progress"`)), 1, "interviewingState"},
		{"group without logins", create(badDef(`{"name": "S", "settings": {"invites": true, "group": true}, "variables": [{"id": "V1", "name": "Q1", "responseType": "Text"}]}`)), 1, "settings.group: a group questionnaire needs settings.logins"},
		{"SOI users without SOI", create(badDef(`{"name": "S", "settings": {"logins": true, "soiUsers": ["i@example.com"]}, "variables": [{"id": "V1", "name": "Q1", "responseType": "Text"}]}`)), 1, "settings.soiUsers: given, but settings.soiAllowed is false"},
		{"SOI user not an email", create(badDef(`{"name": "S", "settings": {"logins": true, "soiAllowed": true, "soiUsers": ["interviewer"]}, "variables": [{"id": "V1", "name": "Q1", "responseType": "Text"}]}`)), 1, `settings.soiUsers[0]: "interviewer" is not an email address`},
		{"unknown SOI manager", create(badDef(`{"name": "S", "settings": {"logins": true, "soiAllowed": true, "soiManagers": ["researcher@example.com", "outsider@example.com"]}, "variables": [{"id": "V1", "name": "Q1", "responseType": "Text"}]}`)), 1, `settings.soiManagers[1]: no snap user "outsider@example.com" in workspace`},
		{"invite keys without invites", create(badDef(`{"name": "S", "settings": {"logins": true, "inviteKeys": ["A"]}, "variables": [{"id": "V1", "name": "Q1", "responseType": "Text"}]}`)), 1, "settings.inviteKeys: given, but settings.invites is false"},
		{"repeated invite key", create(badDef(`{"name": "S", "settings": {"invites": true, "inviteKeys": ["Surname", "surname"]}, "variables": [{"id": "V1", "name": "Q1", "responseType": "Text"}]}`)), 1, "settings.inviteKeys[1]: surname is listed twice"},
		{"bad variable id", create(badDef(`{"name": "S", "variables": [{"id": "Q1", "name": "Q1", "responseType": "Text"}]}`)), 1, `variables[0]: id: "Q1" is not a variable id`},
		{"repeated variable id", create(badDef(`{"name": "S", "variables": [{"id": "V1", "name": "Q1", "responseType": "Text"}, {"id": "v1", "name": "Q2", "responseType": "Text"}]}`)), 1, "variables[1]: id V1 is used twice"},
		{"variable without name", create(badDef(`{"name": "S", "variables": [{"id": "V1", "responseType": "Text"}]}`)), 1, "variables[0]: name: required"},
		{"bad response type", create(badDef(`{"name": "S", "variables": [{"id": "V1", "name": "Q1", "responseType": "Essay"}]}`)), 1, `variables[0]: responseType: "Essay" is not one of Single, Multiple, Numeric, Text, Date`},
		{"choice without codes", create(badDef(`{"name": "S", "variables": [{"id": "V1", "name": "Q1", "responseType": "Multiple"}]}`)), 1, "variables[0]: codes: a Multiple choice variable needs at least one code"},
		{"text with codes", create(badDef(`{"name": "S", "variables": [{"id": "V1", "name": "Q1", "responseType": "Text", "codes": [{"value": "1"}]}]}`)), 1, "only Single and Multiple variables have codes"},
		{"repeated code", create(badDef(`{"name": "S", "variables": [{"id": "V1", "name": "Q1", "responseType": "Single", "codes": [{"value": "1"}, {"value": " 1"}]}]}`)), 1, "variables[0]: codes[1].value: 1 is used twice"},
		{"code with ;", create(badDef(`{"name": "S", "variables": [{"id": "V1", "name": "Q1", "responseType": "Single", "codes": [{"value": "1;2"}]}]}`)), 1, "holds ';'"},

		{"share: bad GUID", []string{"survey", "share", "-workspace", ws, "-survey", "42", "-username", "researcher@example.com"}, 2, `-survey must be a survey GUID, not "42"`},
		{"share: unknown survey", []string{"survey", "share", "-workspace", ws, "-survey", "00000000-0000-4000-8000-000000000000", "-username", "researcher@example.com"}, 1, "survey 00000000-0000-4000-8000-000000000000 in workspace " + ws + " not found"},
		{"share: with the owner", []string{"survey", "share", "-workspace", ws, "-survey", guid, "-username", "researcher@example.com"}, 1, "owns survey"},
		{"share: user of another workspace", []string{"survey", "share", "-workspace", ws, "-survey", guid, "-username", "outsider@example.com"}, 1, `-username: no snap user "outsider@example.com" in workspace`},

		{"response: no values", []string{"response", "add", "-workspace", ws, "-survey", guid}, 2, "exactly one of -values and -file"},
		{"response: both", []string{"response", "add", "-workspace", ws, "-survey", guid, "-values", "V46=1", "-file", "x.json"}, 2, "exactly one of -values and -file"},
		{"response: bad status", []string{"response", "add", "-workspace", ws, "-survey", guid, "-status", "Done", "-values", "V46=1"}, 2, "-status must be Completed, Partial, Saved or Submitted"},
		{"response: not a pair", []string{"response", "add", "-workspace", ws, "-survey", guid, "-values", "V46"}, 2, `-values: "V46" is not <variable>=<value>`},
		{"response: unknown variable", []string{"response", "add", "-workspace", ws, "-survey", guid, "-values", "V46=1,V99=x"}, 1, "has no variable V99"},
		{"response: repeated variable", []string{"response", "add", "-workspace", ws, "-survey", guid, "-values", "V46=1,v46=2"}, 1, "variable V46 is given twice"},
		{"response: not a code", []string{"response", "add", "-workspace", ws, "-survey", guid, "-values", "V46=9"}, 1, `V46: "9" is not one of its codes (1, 2, 3, 4, 5)`},
		{"response: single with two codes", []string{"response", "add", "-workspace", ws, "-survey", guid, "-values", "V46=1;2"}, 1, "V46 is single choice"},
		{"response: repeated code", []string{"response", "add", "-workspace", ws, "-survey", guid, "-values", "V48=1;1"}, 1, "V48: code 1 is given twice"},
		{"response: file not an object", []string{"response", "add", "-workspace", ws, "-survey", guid, "-file", badDef(`["V46"]`)}, 1, "want a JSON object"},
		{"response: file value not a string", []string{"response", "add", "-workspace", ws, "-survey", guid, "-file", badDef(`{"V46": 2}`)}, 1, `the value of "V46" must be a string`},
		{"response: unknown survey", []string{"response", "add", "-workspace", ws, "-survey", "00000000-0000-4000-8000-000000000000", "-values", "V46=1"}, 1, "not found"},
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

	// Nothing above wrote a survey or a response.
	surveys, err := a.env.App.SnapStore.ListSurveys(context.Background(), ws)
	if err != nil || len(surveys) != 1 {
		t.Fatalf("%d surveys (%v), want the one created", len(surveys), err)
	}
	if rs, _, err := a.env.App.SnapStore.ListResponses(context.Background(), ws, guid, "", 10); err != nil || len(rs) != 0 {
		t.Fatalf("%d responses (%v), want none", len(rs), err)
	}
}

// The example definition is valid JSON for anyone copying it (the test above decodes it the
// way the command does).
func TestExampleDefinitionDecodes(t *testing.T) {
	d, err := readDefinition(exampleDefinition(t))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(d); len(d.Variables) != 6 || len(d.Settings.SOIManagers) != 1 {
		t.Fatalf("example definition: %s", b)
	}
}
