package survey_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/snap/survey"
)

// storedGroup is a stored participant of inviteLoginGrp with two subjects, one completed.
func storedGroup() *survey.Participant {
	return &survey.Participant{
		Enabled:    true,
		Invitation: &survey.Invitation{EmailAddress: "a@example.com", InviteSeeding: map[string]string{}},
		Login: &survey.Login{
			Login:  ptr("A"),
			Status: survey.Started,
			Subjects: []survey.Subject{
				{Name: "L1", QuestionnaireSeeding: map[string]string{}, Status: survey.Completed},
				{Name: "L2", QuestionnaireSeeding: map[string]string{}, Status: survey.NotStarted},
			},
		},
	}
}

func storedLogin(login string) *survey.Participant {
	return &survey.Participant{Enabled: true, Login: &survey.Login{Login: ptr(login), Status: survey.NotStarted,
		Subjects: []survey.Subject{{Name: "", QuestionnaireSeeding: map[string]string{}, Status: survey.NotStarted}}}}
}

func storedSOI(interviewer *string) *survey.Participant {
	p := storedLogin("A")
	p.Login.Interviewer = interviewer
	return p
}

// loginBody is a login-only, non-group body with the given subjects JSON and extra properties.
func loginBody(extra, subjects string) string {
	return `{"loginSection":{"login":"A"` + extra + `,"subjects":` + subjects + `}}`
}

func groupBody(subjects string) string {
	return `{"invitationSection":{"emailAddress":"a@example.com"},"loginSection":{"login":"A","subjects":` + subjects + `}}`
}

func seedBody(seeding string) string {
	return loginBody("", `[{"subjectName":"","questionnaireSeeding":`+seeding+`}]`)
}

// TestSeedMessages produces every seed message ValidateParticipant gives from the situation it
// describes. The store-side ones (login taken, email taken, import lock) are only exported.
func TestSeedMessages(t *testing.T) {
	one := `[{"subjectName":""}]`
	tests := []struct {
		name string
		ctx  survey.Context
		body string
		want string
	}{
		{"survey without participant feature", add(noParticipants, ownerID), `{"enabled":true}`, survey.MsgParticipantsNotSupported},
		{"survey without participant feature, any sections", add(noParticipants, ownerID), seedExampleBody, survey.MsgParticipantsNotSupported},

		{"logged-on survey, no login section", add(loginOnly, ownerID), `{"enabled":true}`, survey.MsgLoginSectionRequired},
		{"logged-on survey, null login section", add(loginOnly, ownerID), `{"loginSection":null}`, survey.MsgLoginSectionRequired},
		{"invite+login survey, only invitation", add(inviteLogin, ownerID), `{"invitationSection":{"emailAddress":"a@example.com"}}`, survey.MsgLoginSectionRequired},
		{"invite-only survey, login section", add(inviteOnly, ownerID), `{"invitationSection":{"emailAddress":"a@example.com"},"loginSection":{"login":"A"}}`, survey.MsgLoginSectionNotAllowed},
		{"invited survey, no invitation section", add(inviteOnly, ownerID), `{}`, survey.MsgInvitationSectionRequired},
		{"invite+login survey, only login", add(inviteLogin, ownerID), loginBody("", one), survey.MsgInvitationSectionRequired},
		{"login-only survey, invitation section", add(loginOnly, ownerID), `{"invitationSection":{},"loginSection":{"login":"A","subjects":[{"subjectName":""}]}}`, survey.MsgInvitationSectionNotAllowed},

		{"login absent", add(loginOnly, ownerID), `{"loginSection":{"subjects":[{"subjectName":""}]}}`, survey.MsgLoginNameRequired},
		{"login null", add(loginOnly, ownerID), `{"loginSection":{"login":null,"subjects":[{"subjectName":""}]}}`, survey.MsgLoginNameRequired},
		{"login empty", add(loginOnly, ownerID), `{"loginSection":{"login":"","subjects":[{"subjectName":""}]}}`, survey.MsgLoginNameRequired},
		{"login blank", add(loginOnly, ownerID), `{"loginSection":{"login":"  \t","subjects":[{"subjectName":""}]}}`, survey.MsgLoginNameRequired},

		{"invite-only, email absent", add(inviteOnly, ownerID), `{"invitationSection":{}}`, survey.MsgValidEmailRequired},
		{"invite-only, email null", add(inviteOnly, ownerID), `{"invitationSection":{"emailAddress":null}}`, survey.MsgValidEmailRequired},
		{"invite-only, email invalid", add(inviteOnly, ownerID), `{"invitationSection":{"emailAddress":"not-an-email"}}`, survey.MsgValidEmailRequired},
		{"invite-only, email with double dot", add(inviteOnly, ownerID), `{"invitationSection":{"emailAddress":"a..b@example.com"}}`, survey.MsgValidEmailRequired},
		{"invite+login, email invalid", add(inviteLogin, ownerID), `{"invitationSection":{"emailAddress":"a@b"},"loginSection":{"login":"A","subjects":[{"subjectName":""}]}}`, survey.MsgEmailInvalid},

		{"update, URL id is another login", update(loginOnly, ownerID, "B", storedLogin("B")), loginBody("", one), survey.MsgUniqueIDMismatch},
		{"update, URL id is another email", update(inviteOnly, ownerID, "b@example.com", nil), `{"invitationSection":{"emailAddress":"a@example.com"}}`, survey.MsgUniqueIDMismatch},
		{"update, no stored participant", update(loginOnly, ownerID, "a", nil), loginBody("", one), survey.MsgParticipantToUpdateNotFound},

		{"opted out and sending invitations", add(inviteOnly, ownerID), `{"invitationSection":{"emailAddress":"a@example.com","optedOut":true,"sendInvitations":true}}`, survey.MsgOptedOutAndSendInvitations},

		{"interviewer on a survey without SOI", add(loginOnly, ownerID), loginBody(`,"interviewer":"interviewer@example.com"`, one), survey.MsgInterviewerNotAllowed},
		{"empty interviewer on a survey without SOI", add(loginOnly, ownerID), loginBody(`,"interviewer":""`, one), survey.MsgInterviewerNotAllowed},
		{"interviewer by a user who may not manage SOI", add(soi, otherID), loginBody(`,"interviewer":"interviewer@example.com"`, one), survey.MsgInterviewerNotAllowed},
		{"SOI manager, interviewer absent", add(soi, managerID), loginBody("", one), survey.MsgInterviewerRequired},
		{"SOI owner, interviewer null", add(soi, ownerID), loginBody(`,"interviewer":null`, one), survey.MsgInterviewerRequired},
		{"SOI, interviewer without access", add(soi, ownerID), loginBody(`,"interviewer":"nobody@example.com"`, one), survey.MsgInterviewerNoAccess},

		{"non-group, no subjects", add(loginOnly, ownerID), loginBody("", `[]`), survey.MsgOneSubjectRequired},
		{"non-group, subjects absent", add(loginOnly, ownerID), `{"loginSection":{"login":"A"}}`, survey.MsgOneSubjectRequired},
		{"non-group, two subjects", add(loginOnly, ownerID), loginBody("", `[{"subjectName":""},{"subjectName":""}]`), survey.MsgOnlyOneUnnamedSubject},
		{"non-group, named subject", add(loginOnly, ownerID), loginBody("", `[{"subjectName":"L1"}]`), survey.MsgOnlyOneUnnamedSubject},
		{"group, no subjects", add(inviteLoginGrp, ownerID), groupBody(`[]`), survey.MsgAtLeastOneSubject},
		{"group, blank subject name", add(inviteLoginGrp, ownerID), groupBody(`[{"subjectName":"L1"},{"subjectName":" "}]`), survey.MsgSubjectNameBlank},
		{"group, null subject name", add(inviteLoginGrp, ownerID), groupBody(`[{"subjectName":null}]`), survey.MsgSubjectNameBlank},
		{"group, subjects alike ignoring case", add(inviteLoginGrp, ownerID), groupBody(`[{"subjectName":"L1"},{"subjectName":"l1 "}]`), survey.MsgSubjectsNotUnique},
		{"update, a subject added", update(inviteLoginGrp, ownerID, "A", storedGroup()), groupBody(`[{"subjectName":"L1"},{"subjectName":"L2"},{"subjectName":"L3"}]`), survey.MsgSubjectsDoNotMatch},
		{"update, a subject removed", update(inviteLoginGrp, ownerID, "A", storedGroup()), groupBody(`[{"subjectName":"L1"}]`), survey.MsgSubjectsDoNotMatch},
		{"update, a subject renamed", update(inviteLoginGrp, ownerID, "A", storedGroup()), groupBody(`[{"subjectName":"L1"},{"subjectName":"L9"}]`), survey.MsgSubjectsDoNotMatch},

		{"invite seeding key the survey lacks", add(inviteOnly, ownerID), `{"invitationSection":{"emailAddress":"a@example.com","invitationSeeding":{"forenames":"A","nickname":"x"}}}`, survey.MsgInviteSeedingNoProperty("nickname")},
		{"questionnaire seeding of a variable not for seeding", add(loginOnly, ownerID), seedBody(`{"v60":"1"}`), survey.MsgQuestionnaireSeedingNoProperty("v60")},
		{"questionnaire seeding of no variable", add(loginOnly, ownerID), seedBody(`{"v46":"1","v99":"1"}`), survey.MsgNoSuchVariable("v99")},
		{"single choice with two values", add(loginOnly, ownerID), seedBody(`{"v46":"1;2"}`), survey.MsgSingleChoice("v46")},
		{"multiple choice repeating a value", add(loginOnly, ownerID), seedBody(`{"V48":"2;3;2"}`), survey.MsgDuplicateCodeValues("V48")},
		{"single choice, value not a code", add(loginOnly, ownerID), seedBody(`{"v46":"9"}`), survey.MsgNoSuchCodeValue("v46", "9")},
		{"multiple choice, value not a code", add(loginOnly, ownerID), seedBody(`{"v48":"1;7"}`), survey.MsgNoSuchCodeValue("v48", "7")},
		{"group, second subject's seeding", add(inviteLoginGrp, ownerID), groupBody(`[{"subjectName":"L1","questionnaireSeeding":{"v46":"1"}},{"subjectName":"L2","questionnaireSeeding":{"v46":"x"}}]`), survey.MsgNoSuchCodeValue("v46", "x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := validate(t, tt.ctx, tt.body)
			if err == nil {
				t.Fatalf("accepted, want %q", tt.want)
			}
			if got := message(t, err); got != tt.want {
				t.Errorf("message\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestCheckOrder pins the documented order where a body breaks several rules at once.
func TestCheckOrder(t *testing.T) {
	tests := []struct {
		name string
		ctx  survey.Context
		body string
		want string
	}{
		{"support before sections", add(noParticipants, ownerID), `{}`, survey.MsgParticipantsNotSupported},
		{"login section before invitation section", add(loginOnly, ownerID), `{"invitationSection":{}}`, survey.MsgLoginSectionRequired},
		{"sections before login name", add(inviteLogin, ownerID), `{"loginSection":{}}`, survey.MsgInvitationSectionRequired},
		{"login name before email", add(inviteLogin, ownerID), `{"invitationSection":{"emailAddress":"bad"},"loginSection":{}}`, survey.MsgLoginNameRequired},
		{"email before URL id", update(inviteOnly, ownerID, "x@example.com", nil), `{"invitationSection":{"emailAddress":"bad"}}`, survey.MsgValidEmailRequired},
		{"URL id before existence", update(loginOnly, ownerID, "B", nil), loginBody("", `[]`), survey.MsgUniqueIDMismatch},
		{"existence before subjects", update(loginOnly, ownerID, "A", nil), loginBody("", `[]`), survey.MsgParticipantToUpdateNotFound},
		{"opted out before interviewer and subjects", add(inviteLogin, ownerID), `{"invitationSection":{"optedOut":true,"sendInvitations":true},"loginSection":{"login":"A","interviewer":"x"}}`, survey.MsgOptedOutAndSendInvitations},
		{"interviewer before subjects", add(soi, ownerID), `{"loginSection":{"login":"A"}}`, survey.MsgInterviewerRequired},
		{"subjects before invite seeding", add(inviteLoginGrp, ownerID), `{"invitationSection":{"inviteSeeding":{"x":"1"}},"loginSection":{"login":"A","subjects":[]}}`, survey.MsgAtLeastOneSubject},
		{"subject shape before stored match", update(inviteLoginGrp, ownerID, "A", storedGroup()), groupBody(`[{"subjectName":"L1"},{"subjectName":"l1"}]`), survey.MsgSubjectsNotUnique},
		{"invite seeding before questionnaire seeding", add(inviteLoginGrp, ownerID), `{"invitationSection":{"inviteSeeding":{"x":"1"}},"loginSection":{"login":"A","subjects":[{"subjectName":"L1","questionnaireSeeding":{"v99":"1"}}]}}`, survey.MsgInviteSeedingNoProperty("x")},
		{"seeding keys in the client's order", add(loginOnly, ownerID), seedBody(`{"v98":"1","v60":"1","v99":"1"}`), survey.MsgNoSuchVariable("v98")},
		{"variable before seedability", add(loginOnly, ownerID), seedBody(`{"v60":"1;2","v99":"1"}`), survey.MsgQuestionnaireSeedingNoProperty("v60")},
		{"duplicates before unknown codes", add(loginOnly, ownerID), seedBody(`{"v48":"9;9"}`), survey.MsgDuplicateCodeValues("v48")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := validate(t, tt.ctx, tt.body)
			if err == nil {
				t.Fatalf("accepted, want %q", tt.want)
			}
			if got := message(t, err); got != tt.want {
				t.Errorf("message\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestValidParticipants(t *testing.T) {
	tests := []struct {
		name string
		ctx  survey.Context
		body string
		want survey.Participant
	}{
		{
			name: "invite-only",
			ctx:  add(inviteOnly, ownerID),
			body: `{"invitationSection":{"optedOut":false,"sendInvitations":true,"emailAddress":" a@example.com ","invitationSeeding":{"forenames":"A","SURNAME":""}},"enabled":false}`,
			want: survey.Participant{Enabled: false, Invitation: &survey.Invitation{SendInvitations: true, EmailAddress: "a@example.com",
				InviteSeeding: map[string]string{"Forenames": "A", "Surname": ""}}},
		},
		{
			name: "invite-only, opted out, no seeding, enabled absent",
			ctx:  add(inviteOnly, otherID),
			body: `{"invitationSection":{"optedOut":true,"emailAddress":"b.c+d@example.co.uk"}}`,
			want: survey.Participant{Enabled: true, Invitation: &survey.Invitation{OptedOut: true, EmailAddress: "b.c+d@example.co.uk", InviteSeeding: map[string]string{}}},
		},
		{
			name: "login-only non-group",
			ctx:  add(loginOnly, ownerID),
			body: `{"loginSection":{"login":" A ","password":"secret","interviewer":null,"subjects":[{"subjectName":null,"questionnaireSeeding":{"v46":"4","v48":"2; 3","v50":"free text; with ;","v51":"12","v55":"2024-01-02","v53":""}}]}}`,
			want: survey.Participant{Enabled: true, Login: &survey.Login{Login: ptr("A"), Password: ptr("secret"), Status: survey.NotStarted,
				Subjects: []survey.Subject{{Name: "", Status: survey.NotStarted, QuestionnaireSeeding: map[string]string{
					"V46": "4", "V48": "2; 3", "V50": "free text; with ;", "V51": "12", "V55": "2024-01-02", "V53": ""}}}}},
		},
		{
			name: "invite+login group: the seed page's example",
			ctx:  add(inviteLoginGrp, ownerID),
			body: seedExampleBody,
			want: survey.Participant{Enabled: true,
				Invitation: &survey.Invitation{SendInvitations: true, EmailAddress: "a@example.com", InviteSeeding: map[string]string{"Forenames": "A", "Surname": "A"}},
				Login: &survey.Login{Login: ptr("A"), Status: survey.NotStarted, Subjects: []survey.Subject{{Name: "L1", Status: survey.NotStarted,
					QuestionnaireSeeding: map[string]string{"V53": "L1", "V48": "2;3", "V50": "A", "V51": "A", "V46": "4"}}}}},
		},
		{
			name: "invite+login group, no email, two subjects",
			ctx:  add(inviteLoginGrp, ownerID),
			body: `{"invitationSection":{"emailAddress":""},"loginSection":{"login":"B","subjects":[{"subjectName":" Mum "},{"subjectName":"Dad","status":"Completed"}]}}`,
			want: survey.Participant{Enabled: true,
				Invitation: &survey.Invitation{InviteSeeding: map[string]string{}},
				Login: &survey.Login{Login: ptr("B"), Status: survey.NotStarted, Subjects: []survey.Subject{
					{Name: "Mum", Status: survey.NotStarted, QuestionnaireSeeding: map[string]string{}},
					{Name: "Dad", Status: survey.NotStarted, QuestionnaireSeeding: map[string]string{}}}}},
		},
		{
			name: "SOI manager names an interviewer (survey's spelling kept)",
			ctx:  add(soi, managerID),
			body: loginBody(`,"interviewer":"interviewer@example.COM"`, `[{"subjectName":""}]`),
			want: survey.Participant{Enabled: true, Login: &survey.Login{Login: ptr("A"), Interviewer: ptr("Interviewer@Example.com"), Status: survey.NotStarted,
				Subjects: []survey.Subject{{Name: "", Status: survey.NotStarted, QuestionnaireSeeding: map[string]string{}}}}},
		},
		{
			name: "SOI owner gives all interviewers",
			ctx:  add(soi, ownerID),
			body: loginBody(`,"interviewer":""`, `[{"subjectName":""}]`),
			want: survey.Participant{Enabled: true, Login: &survey.Login{Login: ptr("A"), Interviewer: ptr(""), Status: survey.NotStarted,
				Subjects: []survey.Subject{{Name: "", Status: survey.NotStarted, QuestionnaireSeeding: map[string]string{}}}}},
		},
		{
			name: "SOI, user who may not manage leaves the interviewer null",
			ctx:  add(soi, otherID),
			body: loginBody(`,"interviewer":null`, `[{"subjectName":""}]`),
			want: survey.Participant{Enabled: true, Login: &survey.Login{Login: ptr("A"), Status: survey.NotStarted,
				Subjects: []survey.Subject{{Name: "", Status: survey.NotStarted, QuestionnaireSeeding: map[string]string{}}}}},
		},
		{
			name: "update SOI by a user who may not manage keeps the stored interviewer",
			ctx:  update(soi, otherID, "a", storedSOI(ptr("second@example.com"))),
			body: loginBody("", `[{"subjectName":""}]`),
			want: survey.Participant{Enabled: true, Login: &survey.Login{Login: ptr("A"), Interviewer: ptr("second@example.com"), Status: survey.NotStarted,
				Subjects: []survey.Subject{{Name: "", Status: survey.NotStarted, QuestionnaireSeeding: map[string]string{}}}}},
		},
		{
			name: "update SOI by a manager replaces the interviewer",
			ctx:  update(soi, managerID, "A", storedSOI(ptr("second@example.com"))),
			body: loginBody(`,"interviewer":""`, `[{"subjectName":""}]`),
			want: survey.Participant{Enabled: true, Login: &survey.Login{Login: ptr("A"), Interviewer: ptr(""), Status: survey.NotStarted,
				Subjects: []survey.Subject{{Name: "", Status: survey.NotStarted, QuestionnaireSeeding: map[string]string{}}}}},
		},
		{
			name: "update invite-only, URL id differs only in case",
			ctx:  update(inviteOnly, ownerID, "A@EXAMPLE.com", &survey.Participant{Enabled: true, Invitation: &survey.Invitation{EmailAddress: "a@example.com"}}),
			body: `{"invitationSection":{"emailAddress":"a@example.com","inviteSeeding":{"surname":"S"}}}`,
			want: survey.Participant{Enabled: true, Invitation: &survey.Invitation{EmailAddress: "a@example.com", InviteSeeding: map[string]string{"Surname": "S"}}},
		},
		{
			name: "update group keeps stored statuses and names, body's order",
			ctx:  update(inviteLoginGrp, ownerID, "a", storedGroup()),
			body: `{"invitationSection":{"emailAddress":"new@example.com","inviteSeeding":{"Forenames":"F"}},"loginSection":{"login":"A","status":"NotStarted","subjects":[{"subjectName":"l2","status":"Completed","questionnaireSeeding":{"v46":"1"}},{"subjectName":"L1","status":"NotStarted"}]}}`,
			want: survey.Participant{Enabled: true,
				Invitation: &survey.Invitation{EmailAddress: "new@example.com", InviteSeeding: map[string]string{"Forenames": "F"}},
				Login: &survey.Login{Login: ptr("A"), Status: survey.Started, Subjects: []survey.Subject{
					{Name: "L2", Status: survey.NotStarted, QuestionnaireSeeding: map[string]string{"V46": "1"}},
					{Name: "L1", Status: survey.Completed, QuestionnaireSeeding: map[string]string{}}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := validate(t, tt.ctx, tt.body)
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("participant\n got %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

// TestStatusInputIgnored: statuses anywhere in the body, even of the wrong type, change nothing.
func TestStatusInputIgnored(t *testing.T) {
	plain := `{"loginSection":{"login":"A","subjects":[{"subjectName":""}]}}`
	withStatus := `{"status":"Completed","loginSection":{"login":"A","status":"Completed","subjects":[{"subjectName":"","status":42}]}}`
	for _, ctx := range []survey.Context{add(loginOnly, ownerID), update(loginOnly, ownerID, "A", storedLogin("A"))} {
		want, err := validate(t, ctx, plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := validate(t, ctx, withStatus)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || got.Status() != survey.NotStarted {
			t.Errorf("op %v: with statuses %s, without %s", ctx.Op, dump(got), dump(want))
		}
	}
	// On update, the stored statuses survive whatever the body says.
	stored := storedLogin("A")
	stored.Login.Subjects[0].Status = survey.Partial
	stored.Login.Status = survey.Partial
	got, err := validate(t, update(loginOnly, ownerID, "A", stored), withStatus)
	if err != nil {
		t.Fatal(err)
	}
	if got.Login.Status != survey.Partial || got.Login.Subjects[0].Status != survey.Partial {
		t.Errorf("stored status lost: %s", dump(got))
	}
}

func TestInviteSeedingSpellings(t *testing.T) {
	want := map[string]string{"Forenames": "A", "Surname": "B"}
	for _, body := range []string{
		`{"invitationSection":{"emailAddress":"a@example.com","invitationSeeding":{"forenames":"A","surname":"B"}}}`,
		`{"invitationSection":{"emailAddress":"a@example.com","inviteSeeding":{"forenames":"A","surname":"B"}}}`,
		`{"invitationSection":{"emailAddress":"a@example.com","inviteSeeding":{"surname":"B","forenames":"A"},"invitationSeeding":{"forenames":"A","surname":"B"}}}`,
		`{"invitationSection":{"emailAddress":"a@example.com","inviteSeeding":null,"invitationSeeding":{"forenames":"A","surname":"B"}}}`,
	} {
		got, err := validate(t, add(inviteOnly, ownerID), body)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if !reflect.DeepEqual(got.Invitation.InviteSeeding, want) {
			t.Errorf("%s: seeding %v, want %v", body, got.Invitation.InviteSeeding, want)
		}
	}
	_, err := survey.DecodeParticipant([]byte(`{"invitationSection":{"inviteSeeding":{"forenames":"A"},"invitationSeeding":{"forenames":"B"}}}`))
	if got := message(t, err); got != survey.MsgSeedingSpellingsDiffer {
		t.Errorf("differing spellings: %q", got)
	}
}

func TestSeedingRepeatedKey(t *testing.T) {
	_, err := validate(t, add(loginOnly, ownerID), seedBody(`{"v46":"1","V46":"2"}`))
	if got, want := message(t, err), survey.MsgSeedingKeyRepeated("questionnaire seeding", "V46"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = validate(t, add(inviteOnly, ownerID), `{"invitationSection":{"emailAddress":"a@example.com","inviteSeeding":{"surname":"A","Surname":"B"}}}`)
	if got, want := message(t, err), survey.MsgSeedingKeyRepeated("invite seeding", "Surname"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestQuestionnaireSeedingValues(t *testing.T) {
	tests := []struct {
		key, value string
		want       string // "" accepted
	}{
		{"v46", "", ""},
		{"v46", "3", ""},
		{"v46", " 3 ", ""},
		{"v46", "3;", survey.MsgSingleChoice("v46")},
		{"v46", "03", survey.MsgNoSuchCodeValue("v46", "03")},
		{"v48", "1;2;3", ""},
		{"v48", "3", ""},
		{"v48", "1; 1", survey.MsgDuplicateCodeValues("v48")},
		{"v48", "1;", survey.MsgNoSuchCodeValue("v48", "")},
		{"v48", "1; 4", survey.MsgNoSuchCodeValue("v48", " 4")},
		{"v50", "anything;at;all;all", ""},
		{"v51", "not a number", ""},
		{"v55", "whenever", ""},
	}
	for _, tt := range tests {
		_, err := validate(t, add(loginOnly, ownerID), seedBody(`{"`+tt.key+`":"`+tt.value+`"}`))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s=%q rejected: %v", tt.key, tt.value, err)
		case tt.want != "" && err == nil:
			t.Errorf("%s=%q accepted, want %q", tt.key, tt.value, tt.want)
		case tt.want != "":
			if got := message(t, err); got != tt.want {
				t.Errorf("%s=%q: %q, want %q", tt.key, tt.value, got, tt.want)
			}
		}
	}
}

// TestValidateDoesNotAlias: the stored participant an Update starts from is not changed.
func TestValidateDoesNotAlias(t *testing.T) {
	stored := storedSOI(ptr("second@example.com"))
	before := dump(*stored)
	got, err := validate(t, update(soi, otherID, "A", stored), loginBody("", `[{"subjectName":""}]`))
	if err != nil {
		t.Fatal(err)
	}
	*got.Login.Interviewer = "changed"
	got.Login.Subjects[0].Status = survey.Completed
	if after := dump(*stored); after != before {
		t.Errorf("stored participant changed:\n%s\n%s", before, after)
	}
}

// TestLoginLength: a login is at most MaxLoginLen characters (runes) once trimmed.
func TestLoginLength(t *testing.T) {
	longest := strings.Repeat("é", survey.MaxLoginLen)
	got, err := validate(t, add(loginOnly, ownerID), `{"loginSection":{"login":"  `+longest+`  ","subjects":[{"subjectName":""}]}}`)
	if err != nil {
		t.Fatalf("login of %d characters rejected: %v", survey.MaxLoginLen, err)
	}
	if *got.Login.Login != longest {
		t.Errorf("login %q, want it trimmed", *got.Login.Login)
	}
	_, err = validate(t, add(loginOnly, ownerID), `{"loginSection":{"login":"`+longest+`e","subjects":[{"subjectName":""}]}}`)
	if err == nil || message(t, err) != survey.MsgLoginTooLong {
		t.Errorf("login of %d characters: %v, want %q", survey.MaxLoginLen+1, err, survey.MsgLoginTooLong)
	}
}

// TestEmailShapes: the invite-only survey requires a valid email, a survey that also logs on
// takes none or a valid one; both use the same shape and the MaxEmailLen limit.
func TestEmailShapes(t *testing.T) {
	longest := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com"
	if len(longest) != survey.MaxEmailLen {
		t.Fatalf("test email is %d characters", len(longest))
	}
	valid := []string{"a@example.com", "O'Brien+tag@Mail.Example.co.uk", "a_b-c@x1-y.io", longest}
	invalid := []string{"a", "a@b", "a@example.c", ".a@example.com", "a..b@example.com", "a.@example.com",
		"a@-example.com", "a b@example.com", "ä@example.com", "a" + longest}
	inviteLoginBody := func(email string) string {
		return `{"invitationSection":{"emailAddress":"` + email + `"},"loginSection":{"login":"A","subjects":[{"subjectName":""}]}}`
	}
	for _, e := range valid {
		if _, err := validate(t, add(inviteOnly, ownerID), `{"invitationSection":{"emailAddress":"`+e+`"}}`); err != nil {
			t.Errorf("invite-only, %q rejected: %v", e, err)
		}
		if _, err := validate(t, add(inviteLogin, ownerID), inviteLoginBody(e)); err != nil {
			t.Errorf("invite+login, %q rejected: %v", e, err)
		}
	}
	for _, e := range invalid {
		_, err := validate(t, add(inviteOnly, ownerID), `{"invitationSection":{"emailAddress":"`+e+`"}}`)
		if err == nil || message(t, err) != survey.MsgValidEmailRequired {
			t.Errorf("invite-only, %q: %v, want %q", e, err, survey.MsgValidEmailRequired)
		}
		_, err = validate(t, add(inviteLogin, ownerID), inviteLoginBody(e))
		if err == nil || message(t, err) != survey.MsgEmailInvalid {
			t.Errorf("invite+login, %q: %v, want %q", e, err, survey.MsgEmailInvalid)
		}
	}
	for _, blank := range []string{"", "  "} {
		if _, err := validate(t, add(inviteLogin, ownerID), inviteLoginBody(blank)); err != nil {
			t.Errorf("invite+login, email %q rejected: %v", blank, err)
		}
	}
}

// TestUpdateRules covers Update rules beyond the seed messages' situations.
func TestUpdateRules(t *testing.T) {
	one := loginBody("", `[{"subjectName":""}]`)
	plain := survey.Participant{Enabled: true, Login: &survey.Login{Login: ptr("A"), Status: survey.NotStarted,
		Subjects: []survey.Subject{{Name: "", Status: survey.NotStarted, QuestionnaireSeeding: map[string]string{}}}}}
	stored := storedLogin("A")
	stored.Invitation = &survey.Invitation{EmailAddress: "a@example.com"}

	// On a survey that invites and logs on, the id in the URL is the login, not the email.
	_, err := validate(t, update(inviteLogin, ownerID, "a@example.com", stored),
		`{"invitationSection":{"emailAddress":"a@example.com"},"loginSection":{"login":"A","subjects":[{"subjectName":""}]}}`)
	if err == nil || message(t, err) != survey.MsgUniqueIDMismatch {
		t.Errorf("URL id is the email: %v, want %q", err, survey.MsgUniqueIDMismatch)
	}
	// The URL id is compared trimmed.
	if got, err := validate(t, update(loginOnly, ownerID, " a ", storedLogin("A")), one); err != nil || !reflect.DeepEqual(got, plain) {
		t.Errorf("URL id with spaces: %s, %v", dump(got), err)
	}
	// A stored participant without a login section has no subjects to match.
	_, err = validate(t, update(loginOnly, ownerID, "A", &survey.Participant{Enabled: true}), one)
	if err == nil || message(t, err) != survey.MsgSubjectsDoNotMatch {
		t.Errorf("stored without login: %v, want %q", err, survey.MsgSubjectsDoNotMatch)
	}
	// A survey that does not allow SOI keeps no interviewer, even one stored earlier.
	if got, err := validate(t, update(loginOnly, ownerID, "A", storedSOI(ptr("second@example.com"))), one); err != nil || got.Login.Interviewer != nil {
		t.Errorf("update without SOI: %s, %v; want no interviewer", dump(got), err)
	}
}

// TestInterviewerSpelling: an SOI manager's interviewer is trimmed; blank means all
// interviewers, anything else is stored in the survey's spelling of that user.
func TestInterviewerSpelling(t *testing.T) {
	for given, want := range map[string]string{"   ": "", " SECOND@example.com ": "second@example.com", "interviewer@example.com": "Interviewer@Example.com"} {
		got, err := validate(t, add(soi, managerID), loginBody(`,"interviewer":"`+given+`"`, `[{"subjectName":""}]`))
		if err != nil {
			t.Errorf("interviewer %q rejected: %v", given, err)
			continue
		}
		if got.Login.Interviewer == nil || *got.Login.Interviewer != want {
			t.Errorf("interviewer %q stored as %v, want %q", given, got.Login.Interviewer, want)
		}
	}
}

// TestSeedValueResponseTypeIgnoresCase: a variable's response type decides the value rules
// however the survey spells it.
func TestSeedValueResponseTypeIgnoresCase(t *testing.T) {
	s := newSurvey(survey.Settings{Logins: true})
	s.Variables = []survey.Variable{
		{ID: "V1", ResponseType: "SINGLE", Seeding: true, Codes: codes("1", "2")},
		{ID: "V2", ResponseType: "multiple", Seeding: true, Codes: codes("1", "2")},
	}
	for seeding, want := range map[string]string{
		`{"v1":"1;2"}`: survey.MsgSingleChoice("v1"),
		`{"v1":"3"}`:   survey.MsgNoSuchCodeValue("v1", "3"),
		`{"v2":"1;1"}`: survey.MsgDuplicateCodeValues("v2"),
		`{"v2":"1;3"}`: survey.MsgNoSuchCodeValue("v2", "3"),
	} {
		_, err := validate(t, add(s, ownerID), seedBody(seeding))
		if err == nil || message(t, err) != want {
			t.Errorf("%s: %v, want %q", seeding, err, want)
		}
	}
	if _, err := validate(t, add(s, ownerID), seedBody(`{"v1":"2","v2":"2;1"}`)); err != nil {
		t.Errorf("valid codes rejected: %v", err)
	}
}
