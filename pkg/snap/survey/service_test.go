package survey_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/vocab"
)

// memStore is an in-memory survey.Store for the service's own rules: one workspace, its
// surveys and their participants, and what it was asked. Storage itself is tested against
// DynamoDB Local through the handlers (pkg/snap/snapapi).
type memStore struct {
	surveys      map[string]survey.Survey
	locked       map[string]bool
	participants map[string][]survey.StoredParticipant // by survey id
	reads        int                                   // participant reads
	surveyReads  int
	writes       int
	failReads    error // returned by every participant read when set
}

func newMemStore(surveys ...survey.Survey) *memStore {
	m := &memStore{surveys: map[string]survey.Survey{}, locked: map[string]bool{}, participants: map[string][]survey.StoredParticipant{}}
	for _, sv := range surveys {
		m.surveys[sv.ID] = sv
	}
	return m
}

func (m *memStore) GetSnapUser(_ context.Context, username string) (survey.User, error) {
	if username != "owner@example.com" {
		return survey.User{}, vocab.ErrNotFound
	}
	return survey.User{ID: ownerID, Username: username}, nil
}

func (m *memStore) ListSurveys(context.Context, string) ([]survey.Survey, error) {
	var out []survey.Survey
	for _, sv := range m.surveys {
		out = append(out, sv)
	}
	return out, nil
}

func (m *memStore) GetSurvey(_ context.Context, _, id string) (survey.Survey, bool, error) {
	m.surveyReads++
	sv, ok := m.surveys[id]
	if !ok {
		return survey.Survey{}, false, vocab.ErrNotFound
	}
	return sv, m.locked[id], nil
}

func (m *memStore) GetSurveyConsistent(ctx context.Context, ws, id string) (survey.Survey, bool, error) {
	return m.GetSurvey(ctx, ws, id)
}

// changeSurvey replaces a survey's definition as the store does: its version moves on.
func (m *memStore) changeSurvey(sv survey.Survey) {
	sv.Version = m.surveys[sv.ID].Version + 1
	m.surveys[sv.ID] = sv
}

func (m *memStore) ListResponses(context.Context, string, string, string, int) ([]survey.Response, bool, error) {
	return nil, false, nil
}

func (m *memStore) ListSnapParticipants(_ context.Context, _, surveyID, _ string, _ int) ([]survey.StoredParticipant, bool, error) {
	return m.participants[surveyID], false, nil
}

func (m *memStore) GetSnapParticipant(_ context.Context, _ string, sv survey.Survey, uniqueID string) (survey.StoredParticipant, error) {
	m.reads++
	if m.failReads != nil {
		return survey.StoredParticipant{}, m.failReads
	}
	for _, p := range m.participants[sv.ID] {
		if strings.EqualFold(p.UniqueID(sv.Settings), uniqueID) {
			return p, nil
		}
	}
	return survey.StoredParticipant{}, vocab.ErrNotFound
}

func (m *memStore) AddSnapParticipant(_ context.Context, _ string, sv survey.Survey, p survey.Participant) (survey.StoredParticipant, error) {
	surveyID := sv.ID
	if err := m.writable(sv, p, ""); err != nil {
		return survey.StoredParticipant{}, err
	}
	m.writes++
	sp := survey.StoredParticipant{ID: "p" + string(rune('a'+len(m.participants[surveyID]))), Version: 1, Participant: p}
	m.participants[surveyID] = append(m.participants[surveyID], sp)
	return sp, nil
}

func (m *memStore) ReplaceSnapParticipant(_ context.Context, _ string, sv survey.Survey, before survey.StoredParticipant, after survey.Participant) error {
	surveyID := sv.ID
	if err := m.writable(sv, after, before.ID); err != nil {
		return err
	}
	for i, p := range m.participants[surveyID] {
		if p.ID == before.ID {
			if p.Version != before.Version {
				return vocab.ErrConflict
			}
			m.writes++
			m.participants[surveyID][i] = survey.StoredParticipant{ID: p.ID, Version: p.Version + 1, Participant: after}
			return nil
		}
	}
	return vocab.ErrConflict
}

func (m *memStore) DeleteSnapParticipant(_ context.Context, _ string, sv survey.Survey, sp survey.StoredParticipant) error {
	surveyID := sv.ID
	if err := m.surveyCheck(sv); err != nil {
		return err
	}
	ps := m.participants[surveyID]
	for i, p := range ps {
		if p.ID == sp.ID {
			m.writes++
			m.participants[surveyID] = append(ps[:i:i], ps[i+1:]...)
			return nil
		}
	}
	return vocab.ErrNotFound
}

// surveyCheck is the check of every participant write: the survey is there at the version
// the write was decided under, and its roster is open.
func (m *memStore) surveyCheck(sv survey.Survey) error {
	if now, ok := m.surveys[sv.ID]; !ok || now.Version != sv.Version || m.locked[sv.ID] {
		return survey.ErrSurveyChanged
	}
	return nil
}

// writable is the store's own part of a write: the survey's check, and unique logins and
// emails.
func (m *memStore) writable(sv survey.Survey, p survey.Participant, self string) error {
	surveyID := sv.ID
	if err := m.surveyCheck(sv); err != nil {
		return err
	}
	login, email := p.UniqueKeys()
	for _, other := range m.participants[surveyID] {
		l, e := other.UniqueKeys()
		switch {
		case other.ID == self:
		case login != "" && l == login:
			return survey.ErrLoginTaken
		case email != "" && e == email:
			return survey.ErrEmailTaken
		}
	}
	return nil
}

var owner = survey.Caller{WorkspaceID: "ws", UserID: ownerID}

// The fixtures' surveys share one id; the store here keeps them apart.
var (
	groupSurvey  = withID(inviteLoginGrp, "5f0c3a4e-0000-4000-8000-000000000001")
	inviteSurvey = withID(inviteOnly, "5f0c3a4e-0000-4000-8000-000000000002")
	loginSurvey  = withID(loginOnly, "5f0c3a4e-0000-4000-8000-000000000003")
)

func withID(sv survey.Survey, id string) survey.Survey {
	sv.ID = id
	return sv
}

// open is a survey as the service finds it for the owner.
func open(t *testing.T, svc *survey.Service, sv survey.Survey) survey.SurveyState {
	t.Helper()
	state, err := svc.Survey(context.Background(), owner, sv.ID)
	if err != nil {
		t.Fatalf("survey %s: %v", sv.ID, err)
	}
	return state
}

const groupAdd = `{"invitationSection":{"emailAddress":"a@example.com"},"loginSection":{"login":"A","subjects":[{"subjectName":"L1"},{"subjectName":"L2"}]}}`

// withGroupParticipant is a store with groupSurvey and its participant A (subjects L1
// Completed, L2 NotStarted), and the service over it.
func withGroupParticipant(t *testing.T) (*memStore, *survey.Service, survey.SurveyState) {
	t.Helper()
	st := newMemStore(groupSurvey, inviteSurvey, loginSurvey)
	st.participants[groupSurvey.ID] = []survey.StoredParticipant{{ID: "pa", Version: 1, Participant: *storedGroup()}}
	svc := survey.NewService(st)
	return st, svc, open(t, svc, groupSurvey)
}

func TestSurveyIsNotFoundUnlessTheCallerMayAccessIt(t *testing.T) {
	ctx := context.Background()
	private := withID(newSurvey(survey.Settings{Invites: true}), "5f0c3a4e-0000-4000-8000-000000000009")
	private.SharedWith = nil
	st := newMemStore(groupSurvey, private)
	st.locked[groupSurvey.ID] = true
	svc := survey.NewService(st)

	got, err := svc.Survey(ctx, owner, "{"+strings.ToUpper(groupSurvey.ID)+"}")
	if err != nil || got.ID != groupSurvey.ID || !got.Locked {
		t.Fatalf("owner's survey by an upper-case, braced id: %+v, %v", got, err)
	}
	for name, tc := range map[string]struct {
		c  survey.Caller
		id string
	}{
		"not a GUID":        {owner, "nope"},
		"no such survey":    {owner, "5f0c3a4e-0000-4000-8000-000000000099"},
		"not shared":        {survey.Caller{WorkspaceID: "ws", UserID: otherID}, private.ID},
		"no user":           {survey.Caller{WorkspaceID: "ws"}, groupSurvey.ID},
		"shared, but other": {survey.Caller{WorkspaceID: "ws", UserID: "stranger"}, groupSurvey.ID},
	} {
		if _, err := svc.Survey(ctx, tc.c, tc.id); !errors.Is(err, vocab.ErrNotFound) {
			t.Errorf("%s: %v, want not found", name, err)
		}
	}
	list, err := svc.Surveys(ctx, survey.Caller{WorkspaceID: "ws", UserID: otherID})
	if err != nil || len(list) != 1 || list[0].ID != groupSurvey.ID {
		t.Fatalf("surveys of a user with one shared: %+v, %v", list, err)
	}
}

func TestAddParticipantStoresTheValidatedParticipant(t *testing.T) {
	st := newMemStore(groupSurvey)
	svc := survey.NewService(st)
	p, _, err := svc.AddParticipant(context.Background(), owner, open(t, svc, groupSurvey), []byte(groupAdd))
	if err != nil {
		t.Fatal(err)
	}
	stored := st.participants[groupSurvey.ID]
	if len(stored) != 1 || dump(stored[0].Participant) != dump(p) || p.Login.Subjects[0].Status != survey.NotStarted {
		t.Fatalf("returned %s, stored %s", dump(p), dump(stored))
	}
	// The store's uniqueness answers come back as they are.
	_, _, err = svc.AddParticipant(context.Background(), owner, open(t, svc, groupSurvey), []byte(groupAdd))
	checkErr(t, err, survey.ErrLoginTaken)
}

func TestParticipantChangesRefusedWhileRosterLocked(t *testing.T) {
	ctx := context.Background()
	st, svc, sv := withGroupParticipant(t)
	sv.Locked = true
	bad := []byte(`{"x":`) // the lock answers before the body is looked at
	for name, call := range map[string]func() error{
		"add":     func() error { _, _, err := svc.AddParticipant(ctx, owner, sv, bad); return err },
		"replace": func() error { _, _, err := svc.ReplaceParticipant(ctx, owner, sv, "A", bad); return err },
		"delete":  func() error { return svc.DeleteParticipant(ctx, owner, sv, "A") },
		"add subject": func() error {
			_, err := svc.AddSubject(ctx, owner, sv, "A", bad)
			return err
		},
		"update subject": func() error {
			_, err := svc.UpdateSubject(ctx, owner, sv, "A", "L1", bad)
			return err
		},
		"delete subject": func() error { return svc.DeleteSubject(ctx, owner, sv, "A", "L2") },
		"import":         func() error { _, err := svc.ValidateImport(owner, sv, bad); return err },
	} {
		checkErr(t, call(), survey.ErrRosterLocked)
		if st.reads != 0 || st.writes != 0 {
			t.Fatalf("%s: %d reads, %d writes while locked", name, st.reads, st.writes)
		}
	}
}

func TestReplaceParticipantKeepsWhatTheCallerCannotChange(t *testing.T) {
	st, svc, sv := withGroupParticipant(t)
	// The body claims statuses and reorders the subjects: the stored statuses stay.
	body := `{"enabled":false,"invitationSection":{"emailAddress":"new@example.com"},"loginSection":{"login":"a","status":"Completed",` +
		`"subjects":[{"subjectName":"l2","status":"Completed"},{"subjectName":"L1","status":"NotStarted"}]}}`
	p, _, err := svc.ReplaceParticipant(context.Background(), owner, sv, "a", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	subs := p.Login.Subjects
	if p.Enabled || p.Invitation.EmailAddress != "new@example.com" || len(subs) != 2 ||
		subs[0].Name != "L2" || subs[0].Status != survey.NotStarted || subs[1].Name != "L1" || subs[1].Status != survey.Completed {
		t.Fatalf("replaced with %s", dump(p))
	}
	stored := st.participants[groupSurvey.ID][0]
	if stored.Version != 2 || dump(stored.Participant) != dump(p) {
		t.Fatalf("stored %s", dump(stored))
	}
}

func TestReplaceParticipantRules(t *testing.T) {
	bodyWith := func(login, subjects string) string {
		return `{"invitationSection":{"emailAddress":"a@example.com"},"loginSection":{"login":"` + login + `","subjects":` + subjects + `}}`
	}
	tests := []struct {
		name, uniqueID, body string
		want                 any
	}{
		{"subjects must be the stored ones", "A", bodyWith("A", `[{"subjectName":"L1"}]`), survey.MsgSubjectsDoNotMatch},
		{"no such participant", "B", bodyWith("B", `[{"subjectName":"L1"}]`), survey.MsgParticipantToUpdateNotFound},
		{"URL and body differ, before not found", "B", bodyWith("C", `[{"subjectName":"L1"}]`), survey.MsgUniqueIDMismatch},
		{"an id no participant can have", strings.Repeat("x", survey.MaxUniqueIDBytes+1), bodyWith("A", `[]`), survey.MsgUniqueIDMismatch},
		{"too large to store", "A", bodyWith("A", `[{"subjectName":"L1","questionnaireSeeding":{"v50":"`+strings.Repeat("x", survey.MaxParticipantBytes)+`"}},{"subjectName":"L2"}]`),
			survey.MsgParticipantTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, svc, sv := withGroupParticipant(t)
			before := dump(st.participants)
			_, _, err := svc.ReplaceParticipant(context.Background(), owner, sv, tt.uniqueID, []byte(tt.body))
			checkErr(t, err, tt.want)
			if st.writes != 0 || dump(st.participants) != before {
				t.Fatal("a refused replace wrote")
			}
		})
	}
}

func TestReplaceParticipantReadsBeforeItDecodes(t *testing.T) {
	st, svc, sv := withGroupParticipant(t)
	failed := errors.New("store down")
	st.failReads = failed
	_, _, err := svc.ReplaceParticipant(context.Background(), owner, sv, "A", []byte(`{"x":`))
	checkErr(t, err, failed)
}

func TestParticipantIDsThatCannotNameOneAreNotRead(t *testing.T) {
	st, svc, sv := withGroupParticipant(t)
	for _, id := range []string{"", strings.Repeat("x", survey.MaxUniqueIDBytes+1), "\xff"} {
		_, err := svc.Participant(context.Background(), owner, sv.Survey, id)
		checkErr(t, err, vocab.ErrNotFound)
	}
	if st.reads != 0 {
		t.Fatalf("%d reads for ids no participant can have", st.reads)
	}
	if _, err := svc.Participant(context.Background(), owner, sv.Survey, strings.Repeat("x", survey.MaxUniqueIDBytes)); !errors.Is(err, vocab.ErrNotFound) || st.reads != 1 {
		t.Fatalf("longest id: %v after %d reads, want a read and not found", err, st.reads)
	}
}

func TestDeleteParticipant(t *testing.T) {
	st, svc, sv := withGroupParticipant(t)
	checkErr(t, svc.DeleteParticipant(context.Background(), owner, sv, "a"), nil)
	if len(st.participants[groupSurvey.ID]) != 0 {
		t.Fatal("participant still stored")
	}
	checkErr(t, svc.DeleteParticipant(context.Background(), owner, sv, "a"), vocab.ErrNotFound)
}

func TestSubjectReads(t *testing.T) {
	ctx := context.Background()
	st, svc, grp := withGroupParticipant(t)
	st.participants[loginSurvey.ID] = []survey.StoredParticipant{{ID: "pb", Version: 1, Participant: *storedLogin("solo")}}
	st.participants[inviteSurvey.ID] = []survey.StoredParticipant{{ID: "pc", Version: 1, Participant: survey.Participant{
		Invitation: &survey.Invitation{EmailAddress: "x@example.com"}}}}

	subs, err := svc.Subjects(ctx, owner, grp.Survey, "A")
	if err != nil || len(subs) != 2 {
		t.Fatalf("subjects %v, %v", subs, err)
	}
	_, err = svc.Subjects(ctx, owner, inviteSurvey, "x@example.com")
	checkErr(t, err, survey.MsgSubjectsNeedLogins)
	_, err = svc.Subjects(ctx, owner, grp.Survey, "nobody")
	checkErr(t, err, vocab.ErrNotFound)

	tests := []struct {
		sv         survey.Survey
		uid, path  string
		want, name string
	}{
		{groupSurvey, "A", " l2 ", "", "L2"},
		{groupSurvey, "A", "L9", "not found", ""},
		{groupSurvey, "A", " ", "not found", ""},
		{loginSurvey, "solo", "null", "", ""},
		{loginSurvey, "solo", "", "", ""},
		{loginSurvey, "solo", "L1", "not found", ""},
	}
	for _, tt := range tests {
		sub, err := svc.Subject(ctx, owner, tt.sv, tt.uid, tt.path)
		switch {
		case tt.want == "not found" && !errors.Is(err, survey.ErrSubjectNotFound):
			t.Errorf("%s %q: %v, want subject not found", tt.sv.Name, tt.path, err)
		case tt.want == "" && (err != nil || sub.Name != tt.name):
			t.Errorf("%s %q: %+v, %v, want %q", tt.sv.Name, tt.path, sub, err, tt.name)
		}
	}
}

func TestAddSubject(t *testing.T) {
	ctx := context.Background()
	st, svc, sv := withGroupParticipant(t)
	added, err := svc.AddSubject(ctx, owner, sv, "A", []byte(`{"subjectName":" L3 ","questionnaireSeeding":{"v46":"2"}}`))
	if err != nil || added.Name != "L3" || added.Status != survey.NotStarted {
		t.Fatalf("added %+v, %v", added, err)
	}
	stored := st.participants[groupSurvey.ID][0]
	if len(stored.Login.Subjects) != 3 || stored.Login.Status != survey.Started || stored.Version != 2 {
		t.Fatalf("stored %s", dump(stored))
	}
	// A participant that is not there answers before a body that is not JSON.
	_, err = svc.AddSubject(ctx, owner, sv, "nobody", []byte(`{"x":`))
	checkErr(t, err, vocab.ErrNotFound)
	_, err = svc.AddSubject(ctx, owner, sv, "A", []byte(`{"subjectName":"l3"}`))
	checkErr(t, err, survey.MsgSubjectsNotUnique)
}

func TestSubjectsAddedOneByOneCannotOutgrowAStoredParticipant(t *testing.T) {
	ctx := context.Background()
	st, svc, sv := withGroupParticipant(t)
	seeded := func(name string) []byte {
		return []byte(`{"subjectName":"` + name + `","questionnaireSeeding":{"v50":"` + strings.Repeat("x", survey.MaxParticipantBytes/2) + `"}}`)
	}
	if _, err := svc.AddSubject(ctx, owner, sv, "A", seeded("L3")); err != nil {
		t.Fatalf("first half: %v", err)
	}
	before := dump(st.participants)
	_, err := svc.AddSubject(ctx, owner, sv, "A", seeded("L4"))
	checkErr(t, err, survey.MsgParticipantTooLarge)
	if dump(st.participants) != before {
		t.Fatal("the participant that does not fit was stored")
	}
}

func TestUpdateSubjectKeepsItsNameAndStatus(t *testing.T) {
	st, svc, sv := withGroupParticipant(t)
	got, err := svc.UpdateSubject(context.Background(), owner, sv, "A", "l1", []byte(`{"subjectName":"L1","questionnaireSeeding":{"v50":"x"}}`))
	if err != nil || got.Name != "L1" || got.Status != survey.Completed || got.QuestionnaireSeeding["V50"] != "x" {
		t.Fatalf("updated %+v, %v", got, err)
	}
	if s := st.participants[groupSurvey.ID][0].Login.Subjects[0]; s.QuestionnaireSeeding["V50"] != "x" {
		t.Fatalf("stored subject %+v", s)
	}
	_, err = svc.UpdateSubject(context.Background(), owner, sv, "A", "L1", []byte(`{"subjectName":"L7"}`))
	checkErr(t, err, survey.MsgSubjectNameMismatch)
}

func TestDeleteSubjectRefusesTheLastOne(t *testing.T) {
	ctx := context.Background()
	st, svc, sv := withGroupParticipant(t)
	checkErr(t, svc.DeleteSubject(ctx, owner, sv, "A", "L2"), nil)
	stored := st.participants[groupSurvey.ID][0]
	if len(stored.Login.Subjects) != 1 || stored.Login.Status != survey.Completed {
		t.Fatalf("stored %s", dump(stored))
	}
	before := dump(st.participants)
	checkErr(t, svc.DeleteSubject(ctx, owner, sv, "A", "L1"), survey.MsgAtLeastOneSubject)
	checkErr(t, svc.DeleteSubject(ctx, owner, sv, "A", "L2"), survey.ErrSubjectNotFound)
	if dump(st.participants) != before {
		t.Fatal("a refused delete wrote")
	}
}

func TestValidateImport(t *testing.T) {
	_, svc, sv := withGroupParticipant(t)
	row := func(login, email string) string {
		return `{"invitationSection":{"emailAddress":"` + email + `"},"loginSection":{"login":"` + login + `","subjects":[{"subjectName":"L1"}]}}`
	}
	payload := func(rows ...string) []byte { return []byte(`{"participants":[` + strings.Join(rows, ",") + `]}`) }

	ps, err := svc.ValidateImport(owner, sv, payload(row("p1", "p1@example.com"), row("p2", "p2@example.com")))
	if err != nil || len(ps) != 2 || *ps[1].Login.Login != "p2" {
		t.Fatalf("valid import: %s, %v", dump(ps), err)
	}
	_, err = svc.ValidateImport(owner, sv, payload())
	checkErr(t, err, survey.ErrNoImportRows)

	huge := `{"invitationSection":{"emailAddress":"h@example.com"},"loginSection":{"login":"h","subjects":[{"subjectName":"L1","questionnaireSeeding":{"v50":"` +
		strings.Repeat("x", survey.MaxParticipantBytes) + `"}}]}}`
	_, err = svc.ValidateImport(owner, sv, payload(row("p1", "p1@example.com"), row("", "blank@example.com"), row("P1", "x@example.com"),
		row("p3", "P1@EXAMPLE.COM"), huge, row("p4", "p4@example.com")))
	var invalid *survey.InvalidImport
	if !errors.As(err, &invalid) {
		t.Fatalf("bad rows: %v, want an InvalidImport", err)
	}
	want := []survey.RowError{{Row: 1, Message: survey.MsgLoginNameRequired}, {Row: 2, Message: survey.MsgLoginTaken},
		{Row: 3, Message: survey.MsgEmailTaken}, {Row: 4, Message: survey.MsgParticipantTooLarge}}
	if invalid.Total != 6 || dump(invalid.Rows) != dump(want) {
		t.Fatalf("invalid import %s, want 6 rows and %s", dump(invalid), dump(want))
	}
}
