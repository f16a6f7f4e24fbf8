package survey_test

import (
	"encoding/json"
	"testing"

	"github.com/participant-roster/roster/pkg/snap/survey"
)

func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestCanAccess(t *testing.T) {
	s := newSurvey(survey.Settings{})
	tests := []struct {
		user string
		want bool
	}{
		{ownerID, true},
		{"OWNER-1", true},
		{managerID, true},
		{otherID, true},
		{"stranger", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := s.CanAccess(tt.user); got != tt.want {
			t.Errorf("CanAccess(%q) = %v, want %v", tt.user, got, tt.want)
		}
	}
}

func TestCanManageSOI(t *testing.T) {
	tests := []struct {
		s    survey.Survey
		user string
		want bool
	}{
		{soi, ownerID, true},
		{soi, managerID, true},
		{soi, otherID, false},
		{soi, "", false},
		{loginOnly, ownerID, false},
	}
	for _, tt := range tests {
		if got := tt.s.CanManageSOI(tt.user); got != tt.want {
			t.Errorf("CanManageSOI(%q) on SOI=%v: %v, want %v", tt.user, tt.s.SOIAllowed, got, tt.want)
		}
	}
}

func TestVariable(t *testing.T) {
	s := newSurvey(survey.Settings{})
	for _, id := range []string{"V46", "v46"} {
		v, ok := s.Variable(id)
		if !ok || v.ID != "V46" || v.Name != "Q1" {
			t.Errorf("Variable(%q) = %+v, %v", id, v, ok)
		}
	}
	if _, ok := s.Variable("V999"); ok {
		t.Error("Variable(V999) found")
	}
}

func TestSupportsParticipants(t *testing.T) {
	for _, tt := range []struct {
		s    survey.Settings
		want bool
	}{
		{survey.Settings{}, false},
		{survey.Settings{Group: true, SOIAllowed: true}, false},
		{survey.Settings{Invites: true}, true},
		{survey.Settings{Logins: true}, true},
		{survey.Settings{Invites: true, Logins: true}, true},
	} {
		if got := tt.s.SupportsParticipants(); got != tt.want {
			t.Errorf("%+v: %v", tt.s, got)
		}
	}
}

func TestUniqueID(t *testing.T) {
	p := survey.Participant{Invitation: &survey.Invitation{EmailAddress: "a@example.com"}, Login: &survey.Login{Login: ptr("A")}}
	if got := p.UniqueID(inviteLogin.Settings); got != "A" {
		t.Errorf("logged-on survey: %q", got)
	}
	if got := p.UniqueID(inviteOnly.Settings); got != "a@example.com" {
		t.Errorf("invite-only survey: %q", got)
	}
	if got := (survey.Participant{}).UniqueID(loginOnly.Settings); got != "" {
		t.Errorf("empty participant: %q", got)
	}
}

func TestOverallStatus(t *testing.T) {
	subs := func(statuses ...string) []survey.Subject {
		out := make([]survey.Subject, len(statuses))
		for i, s := range statuses {
			out[i] = survey.Subject{Name: string(rune('a' + i)), Status: s}
		}
		return out
	}
	tests := []struct {
		group    bool
		subjects []survey.Subject
		want     string
	}{
		{false, nil, survey.NotStarted},
		{false, subs(survey.NotStarted), survey.NotStarted},
		{false, subs(""), survey.NotStarted},
		{false, subs(survey.Partial), survey.Partial},
		{false, subs(survey.Saved), survey.Saved},
		{false, subs(survey.Submitted), survey.Submitted},
		{false, subs(survey.Completed), survey.Completed},
		{true, nil, survey.NotStarted},
		{true, subs(survey.NotStarted, survey.NotStarted), survey.NotStarted},
		{true, subs(survey.NotStarted, survey.Saved), survey.Started},
		{true, subs(survey.Partial, survey.Started), survey.Started},
		{true, subs(survey.Completed, survey.NotStarted), survey.Started},
		{true, subs(survey.Completed, survey.Submitted), survey.Completed},
		{true, subs(survey.Completed), survey.Completed},
	}
	for _, tt := range tests {
		if got := survey.OverallStatus(tt.group, tt.subjects); got != tt.want {
			t.Errorf("OverallStatus(group=%v, %s) = %q, want %q", tt.group, dump(tt.subjects), got, tt.want)
		}
	}
}

func TestParticipantStatus(t *testing.T) {
	if got := (survey.Participant{Invitation: &survey.Invitation{}}).Status(); got != "" {
		t.Errorf("invite-only status %q, want \"\" (null)", got)
	}
	if got := (survey.Participant{Login: &survey.Login{Status: survey.Saved}}).Status(); got != survey.Saved {
		t.Errorf("logged-on status %q", got)
	}
}

func TestParseSurveyID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"20dbe888-ec99-4895-b094-e34084f9408f", "20dbe888-ec99-4895-b094-e34084f9408f", true},
		{"20DBE888-EC99-4895-B094-E34084F9408F", "20dbe888-ec99-4895-b094-e34084f9408f", true},
		{"{20dbe888-ec99-4895-b094-e34084f9408f}", "20dbe888-ec99-4895-b094-e34084f9408f", true},
		{"20dbe888ec994895b094e34084f9408f", "", false},
		{"20dbe888-ec99-4895-b094-e34084f9408g", "", false},
		{"20dbe888-ec99-4895-b094_e34084f9408f", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := survey.ParseSurveyID(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseSurveyID(%q) = %q, %v", tt.in, got, ok)
		}
	}
}

func TestPutSubject(t *testing.T) {
	p := *storedGroup()
	before := dump(p)
	got := p.PutSubject(inviteLoginGrp.Settings, survey.Subject{Name: "L3", Status: survey.NotStarted})
	if n := len(got.Login.Subjects); n != 3 || got.Login.Status != survey.Started {
		t.Errorf("added: %s", dump(got))
	}
	got = p.PutSubject(inviteLoginGrp.Settings, survey.Subject{Name: "L2", Status: survey.Submitted})
	if n := len(got.Login.Subjects); n != 2 || got.Login.Status != survey.Completed {
		t.Errorf("replaced: %s", dump(got))
	}
	if dump(p) != before {
		t.Errorf("PutSubject changed its receiver")
	}
}
