package demo_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

// snapView is what the Snap demo promises to be the same on every run and every table (the
// store makes participants' and responses' internal ids itself, so those are not compared).
type snapView struct {
	Users     []survey.User
	Surveys   []survey.Survey
	Roster    map[string][]survey.Participant
	Responses map[string][]survey.Response
}

func viewOf(d demo.SnapData) snapView {
	v := snapView{Users: []survey.User{d.User, d.Colleague}, Surveys: d.Surveys,
		Roster: map[string][]survey.Participant{}, Responses: map[string][]survey.Response{}}
	for id, ps := range d.Participants {
		for _, p := range ps {
			v.Roster[id] = append(v.Roster[id], p.Participant)
		}
	}
	for id, rs := range d.Responses {
		for _, r := range rs {
			r.ID = ""
			v.Responses[id] = append(v.Responses[id], r)
		}
	}
	return v
}

func TestSnapSeedIsDeterministicAndIdempotent(t *testing.T) {
	ctx := context.Background()
	env := testkit.NewEnv(t)
	a, err := demo.Seed(ctx, env.App)
	if err != nil {
		t.Fatal(err)
	}
	again, err := demo.Seed(ctx, env.App)
	if err != nil {
		t.Fatal(err)
	}
	b, err := demo.Seed(ctx, testkit.NewEnv(t).App)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(viewOf(a.Snap), viewOf(again.Snap)) {
		t.Errorf("a second seed changed the Snap demo")
	}
	if !reflect.DeepEqual(viewOf(a.Snap), viewOf(b.Snap)) {
		t.Errorf("the Snap demo differs between two tables:\n%+v\n%+v", viewOf(a.Snap), viewOf(b.Snap))
	}

	s := a.Snap
	if s.User.ID != demo.SnapUserID || s.User.Username != demo.SnapUsername || s.User.WorkspaceID != demo.WorkspaceID ||
		s.Colleague.ID != demo.SnapColleagueID || !ids.Valid(ids.SnapUser, s.User.ID) || !ids.Valid(ids.SnapUser, s.Colleague.ID) {
		t.Errorf("users %+v, %+v", s.User, s.Colleague)
	}
	if len(s.Surveys) != 2 || s.Surveys[0].ID != demo.GroupSurveyID || s.Surveys[1].ID != demo.FeedbackSurveyID {
		t.Fatalf("surveys %+v", s.Surveys)
	}
	for _, sv := range s.Surveys {
		if canon, ok := survey.ParseSurveyID(sv.ID); !ok || canon != sv.ID {
			t.Errorf("survey id %q is not a canonical GUID", sv.ID)
		}
	}
	group, feedback := s.Surveys[0], s.Surveys[1]
	if !group.CanAccess(demo.SnapColleagueID) || feedback.CanAccess(demo.SnapColleagueID) || !feedback.CanAccess(demo.SnapUserID) {
		t.Errorf("sharing: group %v, feedback %v", group.SharedWith, feedback.SharedWith)
	}
	if !group.CanManageSOI(demo.SnapUserID) || group.CanManageSOI(demo.SnapColleagueID) {
		t.Errorf("SOI managers %v", group.SOIManagers)
	}

	// The roster the sample events name.
	logins := map[string]survey.Participant{}
	for _, p := range s.Participants[demo.GroupSurveyID] {
		logins[p.UniqueID(group.Settings)] = p.Participant
	}
	alice, bob, carol := logins[demo.LoginAlice], logins[demo.LoginBob], logins[demo.LoginCarol]
	if len(logins) != 3 || alice.Login == nil || bob.Login == nil || carol.Login == nil {
		t.Fatalf("group survey roster: %v", logins)
	}
	if len(alice.Login.Subjects) != 2 || alice.Login.Subjects[0].Name != "L1" || alice.Login.Subjects[1].Name != "L2" ||
		alice.Login.Subjects[0].Status != survey.Completed || alice.Login.Status != survey.Started {
		t.Errorf("alice: %+v", alice.Login)
	}
	if bob.Login.Status != survey.Completed || carol.Login.Status != survey.NotStarted {
		t.Errorf("statuses: bob %s, carol %s", bob.Login.Status, carol.Login.Status)
	}
	if alice.Login.Interviewer == nil || *alice.Login.Interviewer != demo.SOIInterviewer {
		t.Errorf("alice's interviewer: %v", alice.Login.Interviewer)
	}
	if n := len(s.Participants[demo.FeedbackSurveyID]); n != 3 {
		t.Errorf("feedback survey has %d participants, want 3", n)
	}
	for _, p := range s.Participants[demo.FeedbackSurveyID] {
		if p.Login != nil || p.Invitation == nil || p.Invitation.EmailAddress == "" || len(p.Invitation.InviteSeeding) != 2 {
			t.Errorf("invite-only participant %+v", p.Participant)
		}
	}
	for _, sv := range s.Surveys {
		rs := s.Responses[sv.ID]
		if len(rs) != 5 {
			t.Errorf("%s: %d responses, want 5", sv.Name, len(rs))
		}
		for i, r := range rs {
			if r.CaseID != i+1 {
				t.Errorf("%s: response %d has case id %d", sv.Name, i, r.CaseID)
			}
			for id, value := range r.Values {
				if _, ok := sv.Variable(id); !ok || (value == "" && id != "V12") {
					t.Errorf("%s case %d: value %s=%q", sv.Name, r.CaseID, id, value)
				}
			}
		}
	}

	// The public keys work, and only their hashes are stored.
	v := auth.NewVerifier(env.App.SnapStore.SnapKeys(), 0)
	for _, c := range []struct{ user, key, id string }{
		{demo.SnapUsername, demo.SnapAPIKey, demo.SnapUserID},
		{demo.SnapColleagueUsername, demo.SnapColleagueAPIKey, demo.SnapColleagueID},
	} {
		p, err := v.Verify(ctx, c.user, c.key)
		if err != nil || p.KeyID != c.id || p.WorkspaceID != demo.WorkspaceID {
			t.Errorf("%s: %+v, %v", c.user, p, err)
		}
		if _, err := v.Verify(ctx, c.user, c.key+"x"); err == nil {
			t.Errorf("%s: a wrong key is accepted", c.user)
		}
	}
}

// A seed cut short (here: the colleague, a survey and a participant already written) is
// finished by the next run without duplicates.
func TestSnapSeedResumes(t *testing.T) {
	ctx := context.Background()
	a := testkit.NewEnv(t).App
	st := a.SnapStore
	// With the workspace there, Seed skips the Spot demo: only the Snap part is under test.
	if err := a.Store.CreateWorkspace(ctx, demo.WorkspaceID, demo.WorkspaceName, time.Now()); err != nil {
		t.Fatal(err)
	}
	group := demo.SnapSurveys()[0]
	if err := st.PutSnapUser(ctx, survey.User{ID: demo.SnapColleagueID, WorkspaceID: demo.WorkspaceID, Username: demo.SnapColleagueUsername}, auth.HashSecret(demo.SnapColleagueAPIKey)); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSurvey(ctx, demo.WorkspaceID, group); err != nil {
		t.Fatal(err)
	}
	login := "alice"
	p := survey.Participant{Enabled: true, Invitation: &survey.Invitation{EmailAddress: "alice@example.com"},
		Login: &survey.Login{Login: &login, Status: survey.NotStarted, Subjects: []survey.Subject{{Name: "L1", Status: survey.NotStarted}}}}
	group.Version = 1 // a new survey's
	if _, err := st.AddSnapParticipant(ctx, demo.WorkspaceID, group, p); err != nil {
		t.Fatal(err)
	}
	// Seed then fails reading the Spot demo, which this table lacks; the Snap part runs first.
	_, _ = demo.Seed(ctx, a)
	got, _, err := st.ListSnapParticipants(ctx, demo.WorkspaceID, group.ID, "", 100)
	if err != nil || len(got) != 3 {
		t.Fatalf("after resuming: %d participants (%v), want 3", len(got), err)
	}
	if _, err := st.GetSnapUser(ctx, demo.SnapUsername); err != nil {
		t.Errorf("the researcher was not written: %v", err)
	}
}
