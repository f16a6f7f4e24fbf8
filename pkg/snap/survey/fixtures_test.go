package survey_test

import (
	"errors"
	"testing"

	"github.com/participant-roster/roster/pkg/snap/survey"
)

// The seed page's example body: a survey that invites and logs on, group questionnaire.
const seedExampleBody = `{
"invitationSection": {
"optedOut": false,
"sendInvitations": true,
"emailAddress": "a@example.com",
"invitationSeeding": {
"forenames": "A",
"surname": "A"
}
},
"loginSection": {
"login": "A",
"password": null,
"interviewer": null,
"status": "NotStarted",
"subjects": [
{
"subjectName": "L1",
"questionnaireSeeding": {
"v53": "L1",
"v48": "2;3",
"v50": "A",
"v51": "A",
"v46": "4"
},
"status": "NotStarted"
}
]
},
"enabled": true
}`

// The seed page's sample response, which Update clients echo back (inviteSeeding spelling).
const seedExampleResponse = `{
"invitationSection": {
"optedOut": false,
"sendInvitations": true,
"emailAddress": "a@example.com",
"invitationSeeding": {}
},
"loginSection": {
"login": "E",
"password": null,
"interviewer": null,
"status": "NotStarted",
"subjects": [
{
"subjectName": "L1",
"questionnaireSeeding": {
"v48": "2;3",
"v50": "A",
"v53": "L1",
"v51": "A",
"v46": "4"
},
"status": "NotStarted"
}
]
},
"enabled": true
}`

const (
	ownerID   = "owner-1"
	managerID = "manager-1"
	otherID   = "user-2"
)

func codes(values ...string) []survey.Code {
	out := make([]survey.Code, len(values))
	for i, v := range values {
		out[i] = survey.Code{Index: i + 1, Value: v, Label: "Label " + v}
	}
	return out
}

var variables = []survey.Variable{
	{ID: "V46", Order: 1, Name: "Q1", ResponseType: survey.ResponseSingle, Seeding: true, Codes: codes("1", "2", "3", "4")},
	{ID: "V48", Order: 2, Name: "Q2", ResponseType: survey.ResponseMultiple, Seeding: true, Codes: codes("1", "2", "3")},
	{ID: "V50", Order: 3, Name: "Q3", ResponseType: survey.ResponseText, Seeding: true},
	{ID: "V51", Order: 4, Name: "Q4", ResponseType: survey.ResponseNumeric, Seeding: true},
	{ID: "V53", Order: 5, Name: "Q5", ResponseType: survey.ResponseText, Seeding: true},
	{ID: "V55", Order: 6, Name: "Q6", ResponseType: survey.ResponseDate, Seeding: true},
	{ID: "V60", Order: 7, Name: "Q7", ResponseType: survey.ResponseSingle, Seeding: false, Codes: codes("1", "2")},
}

func newSurvey(st survey.Settings) survey.Survey {
	return survey.Survey{
		ID:         "20dbe888-ec99-4895-b094-e34084f9408f",
		OwnerID:    ownerID,
		Name:       "Survey",
		Title:      "Survey",
		Settings:   st,
		Variables:  variables,
		SharedWith: []string{managerID, otherID},
	}
}

var inviteKeys = []string{"Forenames", "Surname"}

// The survey kinds.
var (
	noParticipants = newSurvey(survey.Settings{})
	inviteOnly     = newSurvey(survey.Settings{Invites: true, InviteKeys: inviteKeys})
	loginOnly      = newSurvey(survey.Settings{Logins: true})
	inviteLogin    = newSurvey(survey.Settings{Invites: true, Logins: true, InviteKeys: inviteKeys})
	inviteLoginGrp = newSurvey(survey.Settings{Invites: true, Logins: true, Group: true, InviteKeys: inviteKeys})
	loginGroup     = newSurvey(survey.Settings{Logins: true, Group: true})
	soi            = newSurvey(survey.Settings{Logins: true, SOIAllowed: true,
		SOIUsers: []string{"Interviewer@Example.com", "second@example.com"}, SOIManagers: []string{managerID}})
)

func add(s survey.Survey, user string) survey.Context {
	return survey.Context{Survey: s, UserID: user, Op: survey.Add}
}

func update(s survey.Survey, user, urlID string, existing *survey.Participant) survey.Context {
	return survey.Context{Survey: s, UserID: user, Op: survey.Update, URLUniqueID: urlID, Existing: existing}
}

// validate decodes body and validates it; decoding must succeed.
func validate(t *testing.T, ctx survey.Context, body string) (survey.Participant, error) {
	t.Helper()
	in, err := survey.DecodeParticipant([]byte(body))
	if err != nil {
		t.Fatalf("DecodeParticipant(%s): %v", body, err)
	}
	return survey.ValidateParticipant(ctx, in)
}

// message is the 400 message of err, failing when err is not an *Error.
func message(t *testing.T, err error) string {
	t.Helper()
	var e *survey.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *survey.Error", err, err)
	}
	return e.Message
}

func ptr(s string) *string { return &s }
