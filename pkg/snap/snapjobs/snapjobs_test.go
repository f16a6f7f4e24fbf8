package snapjobs

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

// rosterStore is an in-memory roster: FindOwners answers from its participants, and it counts
// the calls that would write.
type rosterStore struct {
	held   []survey.Participant
	writes int
}

func (s *rosterStore) FindOwners(_ context.Context, _, _ string, ps []survey.Participant) (Owners, error) {
	o := Owners{ByLogin: map[string]survey.StoredParticipant{}, ByEmail: map[string]survey.StoredParticipant{}}
	asked := map[string]bool{}
	for _, p := range ps {
		login, email := p.UniqueKeys()
		asked["l"+login], asked["e"+email] = true, true
	}
	for _, h := range s.held {
		login, email := h.UniqueKeys()
		if login != "" && asked["l"+login] {
			o.ByLogin[login] = survey.StoredParticipant{Participant: h}
		}
		if email != "" && asked["e"+email] {
			o.ByEmail[email] = survey.StoredParticipant{Participant: h}
		}
	}
	return o, nil
}

func (s *rosterStore) AddImported(context.Context, string, string, string, []survey.Participant) error {
	s.writes++
	return nil
}

func str(s string) *string { return &s }

// loggedOn is a participant of a survey that invites and tracks logins.
func loggedOn(login, email string) survey.Participant {
	return survey.Participant{Enabled: true,
		Invitation: &survey.Invitation{SendInvitations: true, EmailAddress: email, InviteSeeding: map[string]string{"Forenames": "A"}},
		Login:      &survey.Login{Login: str(login), Subjects: []survey.Subject{{Name: "L1", Status: "NotStarted"}}},
	}
}

// invited is a participant of an invite-only survey: its email is its id.
func invited(email string) survey.Participant {
	return survey.Participant{Enabled: true, Invitation: &survey.Invitation{EmailAddress: email}}
}

func TestDecideRows(t *testing.T) {
	same := loggedOn("same", "same@example.com")
	moved := loggedOn("same", "same@example.com")
	moved.Login = &survey.Login{Login: str("same"), Status: "Completed", Subjects: []survey.Subject{{Name: "L1", Status: "Completed"}}}
	st := &rosterStore{held: []survey.Participant{
		moved, loggedOn("holder", "held@example.com"), invited("inv@example.com"), invited("other@example.com"),
	}}
	changed := invited("OTHER@example.com")
	changed.Invitation.OptedOut = true
	rows := []survey.Participant{
		loggedOn("new", "new@example.com"),    // created
		same,                                  // unchanged: only statuses differ
		loggedOn("HOLDER", "x@example.com"),   // login held by someone else (case ignored)
		loggedOn("fresh", "held@example.com"), // email held by someone else
		invited("inv@example.com"),            // unchanged: the email is its id
		changed,                               // the email's participant differs
		loggedOn("same2", "SAME@example.com"), // a new login with another's email
	}
	adds, got, err := planRows(context.Background(), st, "ws", "sv", 10, rows)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ outcome, id, message string }{
		{jobs.OutcomeCreated, "new", ""}, {jobs.OutcomeUnchanged, "same", ""}, {jobs.OutcomeFailed, "HOLDER", survey.MsgLoginTaken},
		{jobs.OutcomeFailed, "fresh", survey.MsgEmailTaken}, {jobs.OutcomeUnchanged, "inv@example.com", ""},
		{jobs.OutcomeFailed, "OTHER@example.com", survey.MsgEmailTaken}, {jobs.OutcomeFailed, "same2", survey.MsgEmailTaken},
	}
	for i, w := range want {
		r := got[i]
		msg := ""
		if len(r.Errors) > 0 {
			msg = r.Errors[0].Message
		}
		if r.Row != 10+i || r.Outcome != w.outcome || r.IDs[IDName] != w.id || msg != w.message || len(r.Errors) > 1 {
			t.Errorf("row %d: %+v, want %+v", i, r, w)
		}
	}
	if len(adds) != 1 || *adds[0].Login.Login != "new" {
		t.Errorf("adds %+v, want the one created row", adds)
	}
	if st.writes != 0 {
		t.Errorf("planning wrote %d times", st.writes)
	}
}

// TestDryRunIsTheChunkPlan: the synchronous dry run decides every row as the chunks that would
// carry them decide theirs, carries each row in the family's encoding, and writes nothing.
func TestDryRunIsTheChunkPlan(t *testing.T) {
	st := &rosterStore{held: []survey.Participant{loggedOn("p1", "p1@example.com"), loggedOn("x", "p3@example.com")}}
	var ps []survey.Participant
	for _, l := range []string{"p0", "p1", "p2", "p3", "p4"} {
		ps = append(ps, loggedOn(l, l+"@example.com"))
	}
	ctx := context.Background()
	plan, err := DryRun(ctx, st, "ws", "sv", ps)
	if err != nil {
		t.Fatal(err)
	}
	var chunked []jobs.RowResult
	for _, c := range [][2]int{{0, 2}, {2, 5}} {
		_, rows, err := planRows(ctx, st, "ws", "sv", c[0], ps[c[0]:c[1]])
		if err != nil {
			t.Fatal(err)
		}
		chunked = append(chunked, rows...)
	}
	raw, err := jobs.EncodeRows(ps)
	if err != nil {
		t.Fatal(err)
	}
	for i := range plan {
		if string(plan[i].Fields) != string(raw[i]) {
			t.Errorf("row %d Fields %s, want the row's encoding %s", i, plan[i].Fields, raw[i])
		}
		p, ok := RowParticipant(plan[i])
		if !ok || !reflect.DeepEqual(p, ps[i]) || RowID(plan[i]) != *ps[i].Login.Login {
			t.Errorf("row %d: participant %+v (%v), id %q", i, p, ok, RowID(plan[i]))
		}
		plan[i].Fields = nil
	}
	if !reflect.DeepEqual(plan, chunked) {
		t.Errorf("dry run %+v\nchunks  %+v", plan, chunked)
	}
	if c := jobs.CountRows(plan); c != (jobs.Counts{Processed: 5, Created: 3, Unchanged: 1, Failed: 1}) {
		t.Errorf("counts %+v", c)
	}
	if st.writes != 0 {
		t.Errorf("the dry run wrote %d times", st.writes)
	}
}

func TestRowIDWithoutIDs(t *testing.T) {
	raw, _ := json.Marshal(invited("a@example.com"))
	if id := RowID(jobs.RowResult{Outcome: jobs.OutcomeSkipped, Fields: raw}); id != "a@example.com" {
		t.Errorf("id %q from the row's fields", id)
	}
	if _, ok := RowParticipant(jobs.RowResult{Outcome: jobs.OutcomeSkipped}); ok || RowID(jobs.RowResult{}) != "" {
		t.Error("a result without fields names a participant")
	}
}
