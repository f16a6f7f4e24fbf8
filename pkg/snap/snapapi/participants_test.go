package snapapi_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/testkit"
)

func TestAddGetUpdateDeleteParticipant(t *testing.T) {
	f := newFixture(t)
	r := f.add(f.owner, f.group, groupBody("E", "e@example.com", "L1", "L2"))
	wantStatus(t, r, 201)
	if loc := r.Headers["Location"]; !strings.HasSuffix(loc, base+f.group+"/participants/E") {
		t.Fatalf("Location %q", loc)
	}
	var p struct {
		Enabled    bool `json:"enabled"`
		Invitation struct {
			EmailAddress  string            `json:"emailAddress"`
			InviteSeeding map[string]string `json:"inviteSeeding"`
		} `json:"invitationSection"`
		Login struct {
			Login       *string `json:"login"`
			Interviewer *string `json:"interviewer"`
			Status      *string `json:"status"`
			Subjects    []struct {
				SubjectName          string            `json:"subjectName"`
				QuestionnaireSeeding map[string]string `json:"questionnaireSeeding"`
				Status               string            `json:"status"`
			} `json:"subjects"`
		} `json:"loginSection"`
	}
	get := f.do(f.owner, "2.0", "SnapGetParticipantFunction", "GET", base+f.group+"/participants/e", "", "")
	wantStatus(t, get, 200)
	get.JSON(&p)
	if !p.Enabled || p.Invitation.EmailAddress != "e@example.com" || p.Invitation.InviteSeeding["Forenames"] != "A" ||
		*p.Login.Login != "E" || *p.Login.Status != "NotStarted" || len(p.Login.Subjects) != 2 ||
		p.Login.Subjects[0].Status != "NotStarted" || p.Login.Subjects[0].QuestionnaireSeeding["V48"] != "2;3" {
		t.Fatalf("stored participant: %s", get.Body)
	}
	if p.Login.Interviewer == nil || *p.Login.Interviewer != "" {
		t.Fatalf("owner (an SOI manager) should see interviewer \"\": %s", get.Body)
	}
	var seen struct {
		Login struct {
			Interviewer *string `json:"interviewer"`
		} `json:"loginSection"`
	}
	f.do(f.colleague, "2.0", "SnapGetParticipantFunction", "GET", base+f.group+"/participants/E", "", "").JSON(&seen)
	if seen.Login.Interviewer != nil {
		t.Fatal("a user without SOI management sees the interviewer")
	}

	// Update: same shape; inviteSeeding spelling accepted; subjects must match.
	upd := strings.Replace(groupBody("E", "e2@example.com", "L1", "L2"), "invitationSeeding", "inviteSeeding", 1)
	r = f.do(f.owner, "2.0", "SnapUpdateParticipantFunction", "PUT", base+f.group+"/participants/E", "", upd)
	wantStatus(t, r, 200)
	// The old email is free again; the new one is taken.
	wantStatus(t, f.add(f.owner, f.group, groupBody("F", "e@example.com")), 201)
	wantMessage(t, f.add(f.owner, f.group, groupBody("G", "E2@example.com")), 400, "Another participant already has this email address.")

	r = f.do(f.owner, "2.0", "SnapDeleteParticipantFunction", "DELETE", base+f.group+"/participants/E", "", "")
	wantStatus(t, r, 200)
	if r.Body != "" {
		t.Fatalf("delete body %q", r.Body)
	}
	wantMessage(t, f.do(f.owner, "2.0", "SnapDeleteParticipantFunction", "DELETE", base+f.group+"/participants/E", "", ""), 404, "Participant not found.")
	wantMessage(t, f.do(f.owner, "2.0", "SnapGetParticipantFunction", "GET", base+f.group+"/participants/E", "", ""), 404, "Participant not found.")
	// Login and email are free again after the delete.
	wantStatus(t, f.add(f.owner, f.group, groupBody("E", "e2@example.com")), 201)
}

// TestEverySeedMessage produces each 400 message of the seed page, word for word, from the
// situation it describes, through the Add and Update Lambda handlers.
func TestEverySeedMessage(t *testing.T) {
	f := newFixture(t)
	wantStatus(t, f.add(f.owner, f.group, groupBody("taken", "taken@example.com", "L1", "L2")), 201)
	drop := func(section string) string {
		return strings.Replace(groupBody("new", "new@example.com"), `"`+section+`"`, `"ignored`+section+`"`, 1)
	}
	swap := func(old, new string) string { return strings.Replace(groupBody("new", "new@example.com"), old, new, 1) }
	inviteOnly := func(email string, extra string) string {
		return `{"invitationSection":{"optedOut":false,"sendInvitations":true,"emailAddress":"` + email + `","invitationSeeding":{}}` + extra + `,"enabled":true}`
	}
	loginOnly := func(subjects string, interviewer string) string {
		return `{"loginSection":{"login":"solo","password":null,"interviewer":` + interviewer + `,"subjects":` + subjects + `},"enabled":true}`
	}
	cases := []struct {
		name, survey, body, message string
		by                          *user
	}{
		{"no login section", f.group, drop("loginSection"), "Participants require a login section.", nil},
		{"no login name", f.group, swap(`"login":"new"`, `"login":""`), "You must provide a login name.", nil},
		{"no invitation section", f.group, drop("invitationSection"), "Participants require an invitation section.", nil},
		{"invitation on login-only", f.loginOnly, `{"invitationSection":{"emailAddress":"x@example.com"},"loginSection":{"login":"x","interviewer":null,"subjects":[{"subjectName":""}]}}`, "Participants should not have an invitation section.", nil},
		{"login on invite-only", f.inviteOnly, inviteOnly("x@example.com", `,"loginSection":{"login":"x"}`), "Participants should not have a login section.", nil},
		{"interviewer where SOI is off", f.loginOnly, loginOnly(`[{"subjectName":""}]`, `"someone@example.com"`), "Not allowed to add, update or delete an interviewer.", nil},
		{"interviewer without SOI permission", f.group, groupBody("new", "new@example.com"), "Not allowed to add, update or delete an interviewer.", &f.colleague},
		{"null interviewer", f.group, swap(`"interviewer":""`, `"interviewer":null`), "Must provide an interviewer property and value cannot be null.", nil},
		{"interviewer without access", f.group, swap(`"interviewer":""`, `"interviewer":"nobody@example.com"`), "Interviewer does not have access to the survey.", nil},
		{"no subject, non-group", f.loginOnly, loginOnly(`[]`, `null`), "Participants for this survey must have one subject.", nil},
		{"named subject, non-group", f.loginOnly, loginOnly(`[{"subjectName":"X"}]`, `null`), "Participants for this survey must only have one subject and the subject name must be an empty string.", nil},
		{"no subject, group", f.group, swap(`"subjects":[{"questionnaireSeeding":{"v46":"4","v48":"2;3","v50":"Leeds"},"status":"Completed","subjectName":"L1"}]`, `"subjects":[]`), "Participants for this survey must have at least one subject.", nil},
		{"blank subject, group", f.group, swap(`"subjectName":"L1"`, `"subjectName":" "`), "Subject name cannot be blank for a group questionnaire.", nil},
		{"opted out and sending", f.group, swap(`"optedOut":false`, `"optedOut":true`), "Participant cannot be opted out and have send invitations enabled at the same time.", nil},
		{"bad email, invite-only", f.inviteOnly, inviteOnly("not-an-email", ""), "You must provide a valid email address.", nil},
		{"bad optional email", f.group, swap(`"emailAddress":"new@example.com"`, `"emailAddress":"not-an-email"`), "If an email address is provided, it must be valid.", nil},
		{"login taken", f.group, groupBody("TAKEN", "other@example.com"), "Another participant already has this login name.", nil},
		{"duplicate subjects", f.group, groupBody("new", "new@example.com", "L1", "l1"), "Participants for this survey must have unique subjects.", nil},
		{"email taken", f.group, groupBody("new", "TAKEN@example.com"), "Another participant already has this email address.", nil},
		{"survey without participants", f.closed, inviteOnly("x@example.com", ""), "Survey does not support participants.", nil},
		{"unknown invite seeding key", f.group, swap(`"surname":"B"`, `"nickname":"B"`), "Participant invite seeding does not have a 'nickname' seeding property.", nil},
		{"not a seeding variable", f.group, swap(`"v50":"Leeds"`, `"v60":"1"`), "Participant questionnaire seeding does not have a 'v60' seeding property.", nil},
		{"no such variable", f.group, swap(`"v50":"Leeds"`, `"v99":"1"`), "Survey does not have a 'v99' variable.", nil},
		{"single choice, many values", f.group, swap(`"v46":"4"`, `"v46":"1;2"`), "Survey variable 'v46' is single choice. Multiple values are not allowed.", nil},
		{"duplicate codes", f.group, swap(`"v48":"2;3"`, `"v48":"2;2"`), "Survey variable 'v48' cannot contain duplicate code values.", nil},
		{"no such code", f.group, swap(`"v46":"4"`, `"v46":"9"`), "Survey variable 'v46' does not contain code value '9'.", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			by := f.owner
			if tc.by != nil {
				by = *tc.by
			}
			wantMessage(t, f.add(by, tc.survey, tc.body), 400, tc.message)
		})
	}
	update := func(urlID, body string) string {
		r := f.do(f.owner, "2.0", "SnapUpdateParticipantFunction", "PUT", base+f.group+"/participants/"+urlID, "", body)
		if r.StatusCode != 400 {
			t.Fatalf("update: %d %s", r.StatusCode, r.Body)
		}
		var m struct{ Message string }
		r.JSON(&m)
		return m.Message
	}
	for _, tc := range []struct{ urlID, body, message string }{
		{"taken", groupBody("someone-else", "taken@example.com", "L1", "L2"), "The unique participant id provided in the URL must be the same as in the request body."},
		{"ghost", groupBody("ghost", "ghost@example.com"), "Participant to update does not exist."},
		{"taken", groupBody("taken", "taken@example.com", "L1", "L3"), "Participant subjects do not match."},
	} {
		if got := update(tc.urlID, tc.body); got != tc.message {
			t.Errorf("update %s: %q, want %q", tc.urlID, got, tc.message)
		}
	}
	// The lock message while an import holds the roster: see TestImportHoldsTheRoster.
}

func TestFiftySimultaneousAddsOfOneLogin(t *testing.T) {
	f := newFixture(t)
	statuses := make([]int, 50)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := groupBody("racer", "racer"+string(rune('a'+i%26))+strings.Repeat("x", i/26)+"@example.com")
			statuses[i] = f.add(f.owner, f.group, body).StatusCode
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 400:
		default:
			t.Fatalf("statuses %v", statuses)
		}
	}
	if created != 1 {
		t.Fatalf("%d adds of one login succeeded: %v", created, statuses)
	}
	var list struct {
		Participants []any `json:"participants"`
	}
	f.do(f.owner, "2.0", "SnapListParticipantsFunction", "GET", base+f.group+"/participants", "", "").JSON(&list)
	if len(list.Participants) != 1 {
		t.Fatalf("%d participants stored", len(list.Participants))
	}
}

// TestLimitsGiveClearErrors: what would not fit DynamoDB's key or item limits is a 4xx, never
// a 500 from the store.
func TestLimitsGiveClearErrors(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("x", 1500)
	wantMessage(t, f.add(f.owner, f.loginOnly, `{"loginSection":{"login":"`+long+`","interviewer":null,"subjects":[{"subjectName":""}]}}`),
		400, "The login name must be at most 128 characters.")
	wantMessage(t, f.do(f.owner, "2.0", "SnapGetParticipantFunction", "GET", base+f.loginOnly+"/participants/"+long, "", ""), 404, "Participant not found.")
	wantMessage(t, f.do(f.owner, "2.0", "SnapUpdateParticipantFunction", "PUT", base+f.loginOnly+"/participants/"+long, "",
		`{"loginSection":{"login":"`+long+`","interviewer":null,"subjects":[{"subjectName":""}]}}`), 400, "The login name must be at most 128 characters.")
	wantMessage(t, f.do(f.owner, "2.0", "SnapDeleteParticipantFunction", "DELETE", base+f.loginOnly+"/participants/"+long, "", ""), 404, "Participant not found.")
	// Subjects added one by one cannot grow a participant past what one item holds.
	wantStatus(t, f.add(f.owner, f.group, groupBody("big", "big@example.com")), 201)
	seeding := strings.Repeat("y", 150<<10)
	path := base + f.group + "/participants/big/subjects"
	var last int
	for i := 0; i < 3; i++ {
		r := f.do(f.owner, "2.0", "SnapAddParticipantSubjectFunction", "POST", path, "", `{"subjectName":"S`+string(rune('0'+i))+`","questionnaireSeeding":{"V50":"`+seeding+`"}}`)
		last = r.StatusCode
		if last == 400 {
			wantMessage(t, r, 400, "The participant is too large to store; send less seeding.")
			break
		}
		wantStatus(t, r, 201)
	}
	if last != 400 {
		t.Fatal("a participant grew past the item limit without a 400")
	}
	wantStatus(t, f.do(f.owner, "2.0", "SnapGetParticipantFunction", "GET", base+f.group+"/participants/big", "", ""), 200)
}

// TestLocationScheme: Location is https, as API Gateway serves, unless the request says it
// came over plain http (the local server's X-Forwarded-Proto).
func TestLocationScheme(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ proto, login, want string }{
		{"", "viahttps", "https://"},
		{"https", "alsohttps", "https://"},
		{"http", "viahttp", "http://"},
	} {
		h := f.owner.headers("2.0")
		h["content-type"] = "application/json"
		if tc.proto != "" {
			h["x-forwarded-proto"] = tc.proto
		}
		r := f.env.Invoke("SnapAddParticipantFunction", testkit.Event("POST", base+f.group+"/participants", "", h, groupBody(tc.login, tc.login+"@example.com")))
		wantStatus(t, r, 201)
		if want := tc.want + "api.example.test" + base + f.group + "/participants/" + tc.login; r.Headers["Location"] != want {
			t.Errorf("X-Forwarded-Proto %q: Location %q, want %q", tc.proto, r.Headers["Location"], want)
		}
	}
}
