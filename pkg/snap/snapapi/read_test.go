package snapapi_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

type participantPage struct {
	SurveyID     string `json:"surveyId"`
	StartingFrom string `json:"startingFrom"`
	Progress     string `json:"progress"`
	UpToDate     bool   `json:"upToDate"`
	Participants []struct {
		Login struct {
			Login string `json:"login"`
		} `json:"loginSection"`
	} `json:"participants"`
}

func TestParticipantListProgressTokens(t *testing.T) {
	f := newFixture(t)
	addSolo := func(login string) {
		body := `{"loginSection":{"login":"` + login + `","interviewer":null,"subjects":[{"subjectName":""}]}}`
		wantStatus(t, f.add(f.owner, f.loginOnly, body), 201)
	}
	for i := 0; i < 7; i++ {
		addSolo(fmt.Sprintf("p%d", i))
	}
	page := func(from string, max string) participantPage {
		t.Helper()
		q := url.Values{"startingFrom": {from}}
		if max != "" {
			q.Set("maxParticipants", max)
		}
		r := f.do(f.owner, "2.0", "SnapListParticipantsFunction", "GET", base+f.loginOnly+"/participants", q.Encode(), "")
		wantStatus(t, r, 200)
		var p participantPage
		r.JSON(&p)
		return p
	}
	logins := func(p participantPage) string {
		var out []string
		for _, x := range p.Participants {
			out = append(out, x.Login.Login)
		}
		return strings.Join(out, ",")
	}
	p1 := page("0", "3")
	if logins(p1) != "p0,p1,p2" || p1.UpToDate || p1.StartingFrom != "0" || p1.SurveyID != f.loginOnly {
		t.Fatalf("page 1: %+v", p1)
	}
	p2 := page(p1.Progress, "3")
	if logins(p2) != "p3,p4,p5" || p2.UpToDate {
		t.Fatalf("page 2: %+v", p2)
	}
	// Participants added now appear after the token's position; deleting one does not break it.
	addSolo("p7")
	wantStatus(t, f.do(f.owner, "2.0", "SnapDeleteParticipantFunction", "DELETE", base+f.loginOnly+"/participants/p5", "", ""), 200)
	p3 := page(p2.Progress, "3")
	if logins(p3) != "p6,p7" || !p3.UpToDate {
		t.Fatalf("page 3: %+v", p3)
	}
	p4 := page(p3.Progress, "")
	if len(p4.Participants) != 0 || !p4.UpToDate || p4.Progress != p3.Progress {
		t.Fatalf("an up-to-date token: %+v", p4)
	}
	if all := page("0", ""); len(all.Participants) != 7 || !all.UpToDate {
		t.Fatalf("default page: %+v", all)
	}
	for _, q := range []string{"startingFrom=garbage", "startingFrom=cDE6eA", "maxParticipants=0", "maxParticipants=5001", "maxParticipants=ten", "unknown=1", "maxParticipants=1&maxParticipants=2"} {
		r := f.do(f.owner, "2.0", "SnapListParticipantsFunction", "GET", base+f.loginOnly+"/participants", q, "")
		if r.StatusCode != 400 {
			t.Fatalf("%s: %d %s", q, r.StatusCode, r.Body)
		}
	}
}

func TestSubjects(t *testing.T) {
	f := newFixture(t)
	wantStatus(t, f.add(f.owner, f.group, groupBody("alice", "alice@example.com", "L1")), 201)
	path := base + f.group + "/participants/alice/subjects"
	subject := func(name, v46 string) string {
		return `{"subjectName":"` + name + `","questionnaireSeeding":{"V46":"` + v46 + `"},"status":"Completed"}`
	}
	r := f.do(f.owner, "2.0", "SnapAddParticipantSubjectFunction", "POST", path, "", subject("L2", "2"))
	wantStatus(t, r, 201)
	if !strings.HasSuffix(r.Headers["Location"], path+"/L2") {
		t.Fatalf("Location %q", r.Headers["Location"])
	}
	wantMessage(t, f.do(f.owner, "2.0", "SnapAddParticipantSubjectFunction", "POST", path, "", subject("l2", "2")), 400, "Participants for this survey must have unique subjects.")
	wantMessage(t, f.do(f.owner, "2.0", "SnapAddParticipantSubjectFunction", "POST", path, "", subject("", "2")), 400, "Subject name cannot be blank for a group questionnaire.")
	wantMessage(t, f.do(f.owner, "2.0", "SnapAddParticipantSubjectFunction", "POST", path, "", subject("L3", "7")), 400, "Survey variable 'V46' does not contain code value '7'.")

	var subjects []struct {
		SubjectName          string            `json:"subjectName"`
		QuestionnaireSeeding map[string]string `json:"questionnaireSeeding"`
		Status               string            `json:"status"`
	}
	f.do(f.owner, "2.0", "SnapListParticipantSubjectsFunction", "GET", path, "", "").JSON(&subjects)
	if len(subjects) != 2 || subjects[1].SubjectName != "L2" || subjects[1].Status != "NotStarted" {
		t.Fatalf("subjects %+v", subjects)
	}
	r = f.do(f.owner, "2.0", "SnapUpdateParticipantSubjectFunction", "PUT", path+"/L2", "", subject("L2", "5"))
	wantStatus(t, r, 200)
	f.do(f.owner, "2.0", "SnapGetParticipantSubjectFunction", "GET", path+"/L2", "", "").JSON(&subjects[0])
	if subjects[0].QuestionnaireSeeding["V46"] != "5" {
		t.Fatalf("update did not stick: %+v", subjects[0])
	}
	r = f.do(f.owner, "2.0", "SnapUpdateParticipantSubjectFunction", "PUT", path+"/L2", "", subject("L9", "5"))
	if r.StatusCode != 400 {
		t.Fatalf("a rename was accepted: %d", r.StatusCode)
	}
	wantMessage(t, f.do(f.owner, "2.0", "SnapGetParticipantSubjectFunction", "GET", path+"/L9", "", ""), 404, "Subject not found.")
	wantMessage(t, f.do(f.owner, "2.0", "SnapUpdateParticipantSubjectFunction", "PUT", path+"/L9", "", subject("L9", "1")), 404, "Subject not found.")
	wantStatus(t, f.do(f.owner, "2.0", "SnapDeleteParticipantSubjectFunction", "DELETE", path+"/L1", "", ""), 200)
	wantMessage(t, f.do(f.owner, "2.0", "SnapDeleteParticipantSubjectFunction", "DELETE", path+"/L2", "", ""), 400, "Participants for this survey must have at least one subject.")
	wantMessage(t, f.do(f.owner, "2.0", "SnapDeleteParticipantSubjectFunction", "DELETE", path+"/L1", "", ""), 404, "Subject not found.")
	wantMessage(t, f.do(f.owner, "2.0", "SnapListParticipantSubjectsFunction", "GET", base+f.group+"/participants/nobody/subjects", "", ""), 404, "Participant not found.")

	// A non-group questionnaire names its one subject "null" in the path; it cannot be deleted.
	wantStatus(t, f.add(f.owner, f.loginOnly, `{"loginSection":{"login":"solo","interviewer":null,"subjects":[{"subjectName":""}]}}`), 201)
	solo := base + f.loginOnly + "/participants/solo/subjects"
	wantStatus(t, f.do(f.owner, "2.0", "SnapGetParticipantSubjectFunction", "GET", solo+"/null", "", ""), 200)
	wantStatus(t, f.do(f.owner, "2.0", "SnapUpdateParticipantSubjectFunction", "PUT", solo+"/null", "", `{"subjectName":"","questionnaireSeeding":{"V50":"York"}}`), 200)
	if r := f.do(f.owner, "2.0", "SnapDeleteParticipantSubjectFunction", "DELETE", solo+"/null", "", ""); r.StatusCode != 400 {
		t.Fatalf("deleting a non-group subject: %d", r.StatusCode)
	}
	if r := f.do(f.owner, "2.0", "SnapAddParticipantSubjectFunction", "POST", solo, "", subject("X", "1")); r.StatusCode != 400 {
		t.Fatalf("adding a subject on a non-group survey: %d", r.StatusCode)
	}
}

func TestAccessAndVersions(t *testing.T) {
	f := newFixture(t)
	other := fixtureIn(t, f.env) // another workspace in the same table
	surveys := base[:len(base)-1]
	for name, h := range map[string]map[string]string{
		"none":         {},
		"no key":       {"x-username": f.owner.Username},
		"wrong key":    {"x-username": f.owner.Username, "x-api-key": f.owner.key + "x"},
		"someone else": {"x-username": f.owner.Username, "x-api-key": f.colleague.key},
		"unknown user": {"x-username": "ghost@example.com", "x-api-key": f.owner.key},
	} {
		r := f.env.Invoke("SnapListSurveysFunction", testkit.Event("GET", surveys, "", h, ""))
		wantMessage(t, r, 401, "Authorization has been denied for this request.")
		_ = name
	}
	must(t, f.env.App.SnapStore.SetSnapUserKey(context.Background(), f.ws, f.outs.Username, "", true))
	wantMessage(t, f.do(f.outs, "2.0", "SnapListSurveysFunction", "GET", surveys, "", ""), 401, "Authorization has been denied for this request.")

	for _, v := range []string{"3", "2.1", "latest"} {
		wantMessage(t, f.do(f.owner, v, "SnapListSurveysFunction", "GET", surveys, "", ""), 400, "Unsupported X-VERSION. Supported versions: 1.0, 2.0.")
	}
	var list []struct {
		ID                string `json:"id"`
		InterviewingState string `json:"interviewingState"`
	}
	f.do(f.owner, "2", "SnapListSurveysFunction", "GET", surveys, "", "").JSON(&list)
	if len(list) != 4 || list[0].InterviewingState != "Started" {
		t.Fatalf("v2 surveys %+v", list)
	}
	f.do(f.owner, "", "SnapListSurveysFunction", "GET", surveys, "", "").JSON(&list)
	if list[0].InterviewingState != "Live" {
		t.Fatalf("v1 says Live where v2 says Started: %+v", list[0])
	}
	// The colleague sees the shared surveys; a user of another workspace sees none of ours.
	f.do(f.colleague, "2.0", "SnapListSurveysFunction", "GET", surveys, "", "").JSON(&list)
	if len(list) != 4 {
		t.Fatalf("colleague sees %d", len(list))
	}
	// A survey of another workspace, one not shared, one that does not exist, one not a GUID: 401.
	for _, tc := range []struct {
		u      user
		survey string
	}{{other.owner, f.group}, {f.owner, other.group}, {f.owner, "00000000-0000-4000-8000-000000000000"}, {f.owner, "not-a-guid"}} {
		wantMessage(t, f.do(tc.u, "2.0", "SnapGetSurveyFunction", "GET", base+tc.survey, "", ""), 401, "The survey does not exist or you do not have access to it.")
		wantMessage(t, f.add(tc.u, tc.survey, groupBody("intruder", "intruder@example.com")), 401, "The survey does not exist or you do not have access to it.")
	}
	outsider := f.user("outsider2") // f.outs was revoked above
	wantMessage(t, f.do(outsider, "2.0", "SnapGetSurveyFunction", "GET", base+f.group, "", ""), 401, "The survey does not exist or you do not have access to it.")
	var none []any
	f.do(outsider, "2.0", "SnapListSurveysFunction", "GET", surveys, "", "").JSON(&none)
	if len(none) != 0 {
		t.Fatalf("an outsider sees %d surveys", len(none))
	}
	var page participantPage
	f.do(f.owner, "2.0", "SnapListParticipantsFunction", "GET", base+f.group+"/participants", "", "").JSON(&page)
	if len(page.Participants) != 0 {
		t.Fatal("an intruder's add landed")
	}
	var me struct{ Username, Fullname, EmailAddress string }
	r := f.do(f.owner, "2.0", "SnapGetUserInfoFunction", "GET", "/snaponline/api/account", "", "")
	wantStatus(t, r, 200)
	r.JSON(&me)
	if me.Username != f.owner.Username || me.EmailAddress != f.owner.Username || me.Fullname != "Owner" {
		t.Fatalf("account %+v", me)
	}
}

func TestVariablesAndResponses(t *testing.T) {
	f := newFixture(t)
	vars := base + f.group + "/variables"
	var v struct {
		SurveyID  string `json:"surveyId"`
		Variables []struct {
			VariableID string `json:"variableId"`
			CodeCount  int    `json:"codeCount"`
			Codes      []any  `json:"codes"`
		} `json:"variables"`
	}
	f.do(f.owner, "2.0", "SnapListSurveyVariablesFunction", "GET", vars, "", "").JSON(&v)
	if len(v.Variables) != 4 || v.Variables[0].CodeCount != 5 || len(v.Variables[0].Codes) != 5 {
		t.Fatalf("variables %+v", v)
	}
	v.Variables = nil
	f.do(f.owner, "2.0", "SnapListSurveyVariablesFunction", "GET", vars, "includeCodes=false", "").JSON(&v)
	if v.Variables[0].Codes != nil || v.Variables[0].CodeCount != 5 {
		t.Fatalf("includeCodes=false %+v", v.Variables[0])
	}
	wantStatus(t, f.do(f.owner, "2.0", "SnapListSurveyVariablesFunction", "GET", vars, "includeCodes=maybe", ""), 400)
	wantStatus(t, f.do(f.owner, "2.0", "SnapGetSurveyVariableFunction", "GET", vars+"/v48", "", ""), 200)
	wantMessage(t, f.do(f.owner, "2.0", "SnapGetSurveyVariableFunction", "GET", vars+"/V99", "", ""), 404, "Variable not found.")

	ctx := context.Background()
	for _, values := range []map[string]string{
		{"V46": "1", "V48": "1;2", "V50": "Leeds"}, {"V46": "2", "V48": "3"}, {"V46": "1", "V48": "2;4", "V50": "York"},
	} {
		_, err := f.env.App.SnapStore.AddResponse(ctx, f.ws, f.group, survey.Response{Status: "Completed", Values: values})
		must(t, err)
	}
	resp := base + f.group + "/responses"
	type v2page struct {
		Progress  string  `json:"progress"`
		UpToDate  bool    `json:"upToDate"`
		Filter    *string `json:"filter"`
		Responses []struct {
			CaseID *int   `json:"caseId"`
			S      string `json:"s"`
			Values []struct {
				ID string `json:"id"`
				V  string `json:"v"`
			} `json:"values"`
		} `json:"responses"`
	}
	var p v2page
	f.do(f.owner, "2.0", "SnapListSurveyResponsesFunction", "GET", resp, "maxResponses=2&returnCaseIds=true", "").JSON(&p)
	if len(p.Responses) != 2 || p.UpToDate || *p.Responses[0].CaseID != 1 || p.Responses[0].S != "Completed" || len(p.Responses[0].Values) != 4 {
		t.Fatalf("v2 page 1: %+v", p)
	}
	from := p.Progress
	p = v2page{}
	f.do(f.owner, "2.0", "SnapListSurveyResponsesFunction", "GET", resp, url.Values{"startingFrom": {from}}.Encode(), "").JSON(&p)
	if len(p.Responses) != 1 || !p.UpToDate || p.Responses[0].CaseID != nil {
		t.Fatalf("v2 page 2: %+v", p)
	}
	q := url.Values{"filter": {"V48:2"}, "variables": {"V46,v48"}, "useCodeLabels": {"true"}}.Encode()
	p = v2page{}
	f.do(f.owner, "2.0", "SnapListSurveyResponsesFunction", "GET", resp, q, "").JSON(&p)
	if len(p.Responses) != 2 || *p.Filter != "V48:2" || len(p.Responses[0].Values) != 2 ||
		p.Responses[0].Values[0].V != "Label 1" || p.Responses[1].Values[1].V != "Label 2;Label 4" {
		t.Fatalf("filtered, labelled: %+v", p)
	}
	var p1 struct {
		Responses []struct {
			Status string `json:"status"`
			Values []struct {
				VariableID string `json:"variableId"`
				Value      string `json:"value"`
			} `json:"values"`
		} `json:"responses"`
	}
	r := f.do(f.owner, "", "SnapListSurveyResponsesFunction", "GET", resp, "variables=V50", "")
	wantStatus(t, r, 200)
	r.JSON(&p1)
	if strings.Contains(r.Body, `"filter"`) || p1.Responses[0].Status != "Completed" || p1.Responses[0].Values[0].VariableID != "V50" || p1.Responses[0].Values[0].Value != "Leeds" {
		t.Fatalf("v1 shape: %s", r.Body)
	}
	for _, bad := range []string{"filter=V99:1", "filter=V46", "variables=V46,V99", "startingFrom=xyz", "maxResponses=0", "returnCaseIds=yes"} {
		if r := f.do(f.owner, "", "SnapListSurveyResponsesFunction", "GET", resp, bad, ""); r.StatusCode != 400 {
			t.Fatalf("%s: %d (v1 answers 400 too: nothing a client sends is a 5xx)", bad, r.StatusCode)
		}
	}
}

// TestEveryRouteRejectsBadCredentials: every Snap route answers 401 with the same body to a
// missing or wrong credential, before it looks at anything else.
func TestEveryRouteRejectsBadCredentials(t *testing.T) {
	f := newFixture(t)
	fill := strings.NewReplacer("{surveyId}", f.group, "{variableId}", "V46", "{participantUniqueId}", "alice", "{subjectName}", "L1")
	for _, r := range snapapi.Routes.Routes() {
		for _, h := range []map[string]string{{}, {"x-username": f.owner.Username, "x-api-key": "wrong"}} {
			resp := f.env.Invoke(r.LogicalID, testkit.Event(r.Method, fill.Replace(r.Path), "", h, `{}`))
			wantMessage(t, resp, 401, "Authorization has been denied for this request.")
		}
	}
}
