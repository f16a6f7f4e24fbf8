package screening_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

func TestImportCreatesParticipantsAndLinks(t *testing.T) {
	f := newFixture(t)
	got := f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "Alex@Example.com", "Alex Lee"), row("", "b@example.com", "Bo"))

	if len(got) != 2 || got[0].Email != "Alex@Example.com" || got[1].Email != "b@example.com" {
		t.Fatalf("result %+v, want one screener participant per row in row order", got)
	}
	now := f.now.UTC()
	for i, sp := range got {
		if sp.ScreenerID != scrA || sp.Status() != screening.StatusNotStarted || !sp.CreatedAt.Equal(now) || sp.CreatedAt.Location() != time.UTC {
			t.Errorf("row %d: %+v", i, sp)
		}
		if stored := f.link(sp.ID); !reflect.DeepEqual(stored, sp) {
			t.Errorf("row %d: stored %+v, answered %+v", i, stored, sp)
		}
	}
	alex := f.participant(got[0].ParticipantID)
	want := screening.Participant{
		ID: got[0].ParticipantID, ExternalUID: "crm-1", Email: "Alex@Example.com", Name: "Alex Lee",
		CreatedBy: &crm, CreatedAt: now, UpdatedBy: &crm, UpdatedAt: now,
		Links: map[string]string{scrA: got[0].ID}, Version: 1,
	}
	if !reflect.DeepEqual(alex, want) {
		t.Errorf("participant\n got %+v\nwant %+v", alex, want)
	}
	if got[0].ExternalUID != "crm-1" || got[0].Name != "Alex Lee" || got[1].ExternalUID != "" {
		t.Errorf("copies on the screener participants: %+v", got)
	}
	if byUID, byEmail := f.markerOwner("crm-1", "alex@example.com"); byUID != alex.ID || byEmail != alex.ID {
		t.Errorf("markers name %q and %q, want %s: the email marker is the normalized email", byUID, byEmail, alex.ID)
	}
	if byUID, _ := f.markerOwner("", "b@example.com"); byUID != "" {
		t.Errorf("a participant without external uid holds the empty uid's marker: %s", byUID)
	}
	for i, c := range f.lastChanges() {
		if c.Create == nil || c.Link == nil || c.Before != nil || c.Unlink != nil || len(c.Copies) != 0 {
			t.Errorf("change %d: %+v, want a create with its link", i, c)
		}
	}
}

// TestImportMatchesExistingParticipants: a row names a known participant by external uid first,
// then by email; importing it into a second screener links the same participant there.
func TestImportMatchesExistingParticipants(t *testing.T) {
	tests := []struct {
		name      string
		seed, row screening.ImportRow
		// after is the participant's email and external uid after the import.
		email, externalUID string
	}{
		{"by email, ignoring case", row("", "a@example.com", "A"), row("", "A@EXAMPLE.COM", "A"), "A@EXAMPLE.COM", ""},
		{"by email, which gains the row's external uid", row("", "a@example.com", "A"), row("crm-1", "a@example.com", "A"), "a@example.com", "crm-1"},
		{"by email, a row without external uid keeps the stored one", row("crm-1", "a@example.com", "A"), row("", "a@example.com", "A"), "a@example.com", "crm-1"},
		{"by external uid, with a new email", row("crm-1", "a@example.com", "A"), row("crm-1", "new@example.com", "A"), "new@example.com", "crm-1"},
		{"by external uid and email together", row("crm-1", "a@example.com", "A"), row("crm-1", "a@example.com", "A"), "a@example.com", "crm-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			seeded := f.mustImport(screening.UpdatesOnly, scrA, tt.seed)[0]
			got := f.mustImport(screening.UpdatesOnly, scrB, tt.row)[0]

			if got.ParticipantID != seeded.ParticipantID || got.ScreenerID != scrB || got.ID == seeded.ID {
				t.Fatalf("imported into %s as %+v; seeded %+v", scrB, got, seeded)
			}
			if len(f.store.participants) != 1 {
				t.Errorf("%d participants, want the one", len(f.store.participants))
			}
			p := f.participant(got.ParticipantID)
			if want := map[string]string{scrA: seeded.ID, scrB: got.ID}; !maps.Equal(p.Links, want) {
				t.Errorf("links %v, want %v", p.Links, want)
			}
			if p.Email != tt.email || p.ExternalUID != tt.externalUID || p.Version != 2 {
				t.Errorf("participant %+v, want email %q, external uid %q, version 2", p, tt.email, tt.externalUID)
			}
			for _, sp := range []screening.ScreenerParticipant{got, f.link(seeded.ID)} {
				if sp.Email != tt.email || sp.ExternalUID != tt.externalUID {
					t.Errorf("screener participant in %s shows %q, %q", sp.ScreenerID, sp.Email, sp.ExternalUID)
				}
			}
			byUID, byEmail := f.markerOwner(tt.externalUID, tt.email)
			if byEmail != p.ID || tt.externalUID != "" && byUID != p.ID {
				t.Errorf("markers name %q (uid) and %q (email), want %s", byUID, byEmail, p.ID)
			}
			if _, oldOwner := f.markerOwner("", tt.seed.Email); screening.NormalizeEmail(tt.seed.Email) != screening.NormalizeEmail(tt.email) && oldOwner != "" {
				t.Errorf("the old email %s is still held by %s", tt.seed.Email, oldOwner)
			}
		})
	}
}

func TestImportRenameReachesEveryScreenerCopy(t *testing.T) {
	f := newFixture(t)
	f.actor = operator
	a := f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "a@example.com", "Old Name"))[0]
	b := f.mustImport(screening.UpdatesOnly, scrB, row("crm-1", "a@example.com", "Old Name"))[0]
	created := f.participant(a.ParticipantID)

	f.actor, f.now = crm, f.now.Add(time.Hour)
	got := f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "a@example.com", "New Name"))[0]

	changes := f.lastChanges()
	if len(changes) != 1 || changes[0].Link != nil || !slices.Equal(changes[0].Copies, []string{a.ID, b.ID}) {
		t.Fatalf("changes %+v, want one update copying to %s and %s", changes, a.ID, b.ID)
	}
	p := f.participant(a.ParticipantID)
	if p.Name != "New Name" || !p.UpdatedAt.Equal(f.now) || *p.UpdatedBy != crm || *p.CreatedBy != operator || !p.CreatedAt.Equal(created.CreatedAt) {
		t.Errorf("participant %+v", p)
	}
	if got.ID != a.ID || got.Name != "New Name" || f.link(a.ID).Name != "New Name" || f.link(b.ID).Name != "New Name" {
		t.Errorf("answered %+v; stored copies %q and %q", got, f.link(a.ID).Name, f.link(b.ID).Name)
	}
}

// Emails are stored as the CRM spells them: a change of case is a change, not a new person.
func TestImportEmailCaseChangeUpdatesTheParticipant(t *testing.T) {
	f := newFixture(t)
	first := f.mustImport(screening.UpdatesOnly, scrA, row("", "alex@example.com", "Alex"))[0]
	got := f.mustImport(screening.UpdatesOnly, scrA, row("", "Alex@Example.com", "Alex"))[0]

	if got.ID != first.ID || got.Email != "Alex@Example.com" || f.participant(first.ParticipantID).Email != "Alex@Example.com" {
		t.Errorf("after re-import: %+v, participant %+v", got, f.participant(first.ParticipantID))
	}
	if _, byEmail := f.markerOwner("", "alex@example.com"); byEmail != first.ParticipantID {
		t.Errorf("email marker names %q", byEmail)
	}
}

// An unchanged participant imported into another screener is linked there and nothing else:
// its fields, and who changed them when, stay.
func TestImportLinksUnchangedParticipantWithoutUpdatingIt(t *testing.T) {
	f := newFixture(t)
	f.actor = operator
	a := f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "a@example.com", "A"))[0]
	before := f.participant(a.ParticipantID)

	f.actor, f.now = crm, f.now.Add(time.Hour)
	b := f.mustImport(screening.UpdatesOnly, scrB, row("crm-1", "a@example.com", "A"))[0]

	changes := f.lastChanges()
	if len(changes) != 1 || changes[0].Before == nil || changes[0].Link == nil || len(changes[0].Copies) != 0 {
		t.Fatalf("changes %+v, want one link of the existing participant and no copies", changes)
	}
	after := f.participant(a.ParticipantID)
	if *after.UpdatedBy != operator || !after.UpdatedAt.Equal(before.UpdatedAt) || after.Name != "A" {
		t.Errorf("participant %+v was updated, want only linked", after)
	}
	if !b.CreatedAt.Equal(f.now) || b.ParticipantID != a.ParticipantID {
		t.Errorf("new screener participant %+v", b)
	}
}

// TestUnchangedImportWritesNothing: rows that match what is stored produce no change in either
// mode, and the answer is the stored screener participants.
func TestUnchangedImportWritesNothing(t *testing.T) {
	f := newFixture(t)
	rows := []screening.ImportRow{row("crm-1", "a@example.com", "A"), row("", "b@example.com", "B"), row("crm-3", "c@example.com", "C")}
	first := f.mustImport(screening.FullSync, scrA, rows...)
	f.now = f.now.Add(time.Hour)

	// A row that omits a stored external uid is unchanged too.
	again := slices.Clone(rows)
	again[2] = row("", "c@example.com", "C")
	for _, mode := range []screening.ImportMode{screening.UpdatesOnly, screening.FullSync} {
		for _, payload := range [][]screening.ImportRow{rows, again} {
			snap := f.snapshot()
			got := f.mustImport(mode, scrA, payload...)
			f.wroteNothingSince(snap)
			if !reflect.DeepEqual(got, first) {
				t.Errorf("%s: answered\n%+v\nwant\n%+v", mode, got, first)
			}
		}
	}
}

// TestImportRejectsConflictsWithStoredParticipants: rows that disagree with the stored
// participants reject the whole import, the good rows with them.
func TestImportRejectsConflictsWithStoredParticipants(t *testing.T) {
	f := newFixture(t)
	seeded := f.mustImport(screening.UpdatesOnly, scrA,
		row("crm-1", "one@example.com", "One"), row("", "two@example.com", "Two"), row("crm-3", "three@example.com", "Three"))
	one, two, three := seeded[0].ParticipantID, seeded[1].ParticipantID, seeded[2].ParticipantID

	tests := []struct {
		name string
		rows []screening.ImportRow
		want []fieldIssue
	}{
		{"external uid of one participant, email of another", []screening.ImportRow{row("crm-1", "two@example.com", "One")},
			[]fieldIssue{{0, "participants[0].email", screening.CodeEmailTaken, fmt.Sprintf("email belongs to another participant (%s)", two)}}},
		{"email of a participant whose external uid differs", []screening.ImportRow{row("crm-9", "THREE@example.com", "Three")},
			[]fieldIssue{{0, "participants[0].externalUid", screening.CodeExternalUIDConflict, fmt.Sprintf("email belongs to participant %s, whose externalUid is %q", three, "crm-3")}}},
		{"two rows name one participant", []screening.ImportRow{row("crm-1", "new@example.com", "One"), row("", "one@example.com", "One")},
			[]fieldIssue{{1, "participants[1].email", screening.CodeDuplicateInPayload, "this row names the same participant as row 0"}}},
		{"an invalid row is not matched", []screening.ImportRow{row("crm-1", "two@example.com", "")},
			[]fieldIssue{{0, "participants[0].name", screening.CodeRequired, msgNameEmpty}}},
		{"shape and match errors are listed together", []screening.ImportRow{row("", "bad", "X"), row("crm-3", "one@example.com", "X")},
			[]fieldIssue{
				{0, "participants[0].email", screening.CodeInvalidEmail, msgEmailInvalid},
				{1, "participants[1].email", screening.CodeEmailTaken, fmt.Sprintf("email belongs to another participant (%s)", one)},
			}},
	}
	for _, tt := range tests {
		for _, mode := range []screening.ImportMode{screening.UpdatesOnly, screening.FullSync} {
			t.Run(fmt.Sprintf("%s/%s", tt.name, mode), func(t *testing.T) {
				snap := f.snapshot()
				rows := append(slices.Clone(tt.rows), row("crm-new", "fresh@example.com", "Fresh"))
				_, err := f.importRows(mode, scrA, rows...)
				if got := issues(t, err); !sameIssues(got, tt.want) {
					t.Errorf("field errors\n got %+v\nwant %+v", got, tt.want)
				}
				f.wroteNothingSince(snap)
			})
		}
	}
}

func TestImportErrorCountsInvalidRows(t *testing.T) {
	f := newFixture(t)
	f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "one@example.com", "One"), row("", "two@example.com", "Two"))
	_, err := f.importRows(screening.UpdatesOnly, scrA, row("crm-1", "two@example.com", ""), row("", "ok@example.com", "Ok"), row("", "", "X"))
	if want := "The import has 2 invalid row(s); nothing was written."; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestFullSyncRemovesTheScreenerParticipantsNoRowNames(t *testing.T) {
	f := newFixture(t)
	p := []screening.ImportRow{
		row("crm-1", "p1@example.com", "P1"), row("crm-2", "p2@example.com", "P2"),
		row("crm-3", "p3@example.com", "P3"), row("crm-4", "p4@example.com", "P4"),
	}
	inA := f.mustImport(screening.UpdatesOnly, scrA, p...)
	inB := f.mustImport(screening.UpdatesOnly, scrB, p[0], p[1], row("crm-6", "p6@example.com", "P6"))

	// UPDATES_ONLY never removes.
	f.mustImport(screening.UpdatesOnly, scrA, p[1])
	if got := f.rosterEmails(scrA); len(got) != 4 {
		t.Fatalf("UPDATES_ONLY left %v in %s", got, scrA)
	}

	// FULL_SYNC keeps the named ones (P2 renamed, P4 as is), links P6 and a new P5, and
	// removes P1 and P3 from this screener only.
	sync := []screening.ImportRow{row("crm-2", "p2@example.com", "P2 renamed"), p[3], row("crm-6", "p6@example.com", "P6"), row("crm-5", "p5@example.com", "P5")}
	got := f.mustImport(screening.FullSync, scrA, sync...)
	if len(got) != 4 || got[0].ID != inA[1].ID || got[1].ID != inA[3].ID || got[2].ParticipantID != inB[2].ParticipantID {
		t.Fatalf("result %+v", got)
	}
	if roster, want := f.rosterEmails(scrA), []string{"p2@example.com", "p4@example.com", "p6@example.com", "p5@example.com"}; !slices.Equal(roster, want) {
		t.Errorf("%s roster %v, want %v", scrA, roster, want)
	}
	if roster := f.rosterEmails(scrB); len(roster) != 3 {
		t.Errorf("FULL_SYNC of %s changed %s: %v", scrA, scrB, roster)
	}
	var unlinked []string
	for _, c := range f.lastChanges() {
		if c.Unlink != nil {
			unlinked = append(unlinked, c.Unlink.ID)
			if c.Create != nil || c.Link != nil || len(c.Copies) != 0 || c.Before == nil || c.Before.Version != f.participant(c.Unlink.ParticipantID).Version-1 {
				t.Errorf("removal %+v does more than unlink under the participant's version", c)
			}
		}
	}
	if want := []string{inA[0].ID, inA[2].ID}; !slices.Equal(unlinked, want) {
		t.Errorf("unlinked %v, want %v", unlinked, want)
	}
	p1, p3 := f.participant(inA[0].ParticipantID), f.participant(inA[2].ParticipantID)
	if !maps.Equal(p1.Links, map[string]string{scrB: inB[0].ID}) || len(p3.Links) != 0 {
		t.Errorf("links after removal: P1 %v, P3 %v", p1.Links, p3.Links)
	}
	if len(f.store.participants) != 6 {
		t.Errorf("%d tenant participants, want all 6 kept", len(f.store.participants))
	}

	// The same FULL_SYNC again changes nothing.
	snap := f.snapshot()
	f.mustImport(screening.FullSync, scrA, sync...)
	f.wroteNothingSince(snap)

	// An empty FULL_SYNC empties the roster and keeps the participants.
	if got := f.mustImport(screening.FullSync, scrA); len(got) != 0 {
		t.Errorf("empty FULL_SYNC answered %+v", got)
	}
	if roster := f.rosterEmails(scrA); len(roster) != 0 || len(f.store.participants) != 6 {
		t.Errorf("after empty FULL_SYNC: roster %v, %d participants", roster, len(f.store.participants))
	}
}

// A FULL_SYNC with a rejected row removes nobody: the whole import is rejected.
func TestFullSyncWithRejectedRowRemovesNothing(t *testing.T) {
	f := newFixture(t)
	f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "p1@example.com", "P1"), row("crm-2", "p2@example.com", "P2"))
	for _, bad := range []screening.ImportRow{
		row("crm-2", "p2@example.com", ""),                   // P2's row, invalid
		row("crm-2", "p1@example.com", "P2"),                 // P2's uid with P1's email
		row("crm-1", "p1@example.com", "P1\x00"),             // P1's row, invalid
		row("crm-9", "p9@example.com", " "),                  // a new row, invalid
		row("crm-9", "P9@example.com", "P9 again"),           // repeats a row of the payload
		row("crm-2", "p2@example.com", string([]byte{0xff})), // not UTF-8
	} {
		snap := f.snapshot()
		_, err := f.importRows(screening.FullSync, scrA, row("crm-1", "p1@example.com", "P1"), row("crm-9", "p9@example.com", "P9"), bad)
		if err == nil {
			t.Errorf("FULL_SYNC with %+v accepted", bad)
			continue
		}
		issues(t, err)
		f.wroteNothingSince(snap)
		if roster := f.rosterEmails(scrA); len(roster) != 2 {
			t.Errorf("after the rejected FULL_SYNC with %+v: roster %v", bad, roster)
		}
	}
}

func TestImportNeedsTheScreenerInTheWorkspace(t *testing.T) {
	f := newFixture(t)
	f.store.screeners[key{"ws_other", "scr_other"}] = screening.Screener{ID: "scr_other"}
	for _, scr := range []string{"scr_missing", "scr_other"} {
		for _, mode := range []screening.ImportMode{screening.UpdatesOnly, screening.FullSync} {
			snap := f.snapshot()
			if _, err := f.importRows(mode, scr, row("", "a@example.com", "A")); !errors.Is(err, vocab.ErrNotFound) {
				t.Errorf("%s into %s: %v, want ErrNotFound", mode, scr, err)
			}
			f.wroteNothingSince(snap)
		}
	}
}

// Participants of another workspace are strangers: the same email makes a new participant.
func TestImportMatchesOnlyInItsWorkspace(t *testing.T) {
	f := newFixture(t)
	f.store.screeners[key{"ws_other", scrA}] = screening.Screener{ID: scrA}
	theirs, err := f.svc.Import(context.Background(), "ws_other", crm, screening.ImportRequest{ScreenerID: scrA, Rows: []screening.ImportRow{row("crm-1", "a@example.com", "A")}})
	if err != nil {
		t.Fatal(err)
	}
	ours := f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "a@example.com", "A"))
	if ours[0].ParticipantID == theirs[0].ParticipantID || f.lastChanges()[0].Create == nil {
		t.Errorf("matched the other workspace's participant: %+v", ours[0])
	}
}

// TestImportConflictsWhenRecordsMoved: the import writes under what it read, so a record that
// changed or vanished in between is a conflict to retry, not something to overwrite.
func TestImportConflictsWhenRecordsMoved(t *testing.T) {
	t.Run("participant changed between read and write", func(t *testing.T) {
		f := newFixture(t)
		a := f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "a@example.com", "A"))[0]
		f.store.beforeApply = func() {
			p := f.store.participants[key{ws, a.ParticipantID}]
			p.Name, p.Version = "Renamed meanwhile", p.Version+1
			f.store.participants[key{ws, a.ParticipantID}] = p
		}
		if _, err := f.importRows(screening.UpdatesOnly, scrA, row("crm-1", "a@example.com", "Ours")); !errors.Is(err, vocab.ErrConflict) {
			t.Fatalf("error %v, want ErrConflict", err)
		}
		if got := f.participant(a.ParticipantID).Name; got != "Renamed meanwhile" {
			t.Errorf("name %q: the concurrent change was overwritten", got)
		}
	})
	t.Run("a marker names a participant that was never written", func(t *testing.T) {
		// An import chunk interrupted between its marker puts and its participant's leaves
		// markers naming no participant: the next import creates it, under that id.
		f := newFixture(t)
		a := f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "a@example.com", "A"))[0]
		delete(f.store.participants, key{ws, a.ParticipantID})
		got := f.mustImport(screening.UpdatesOnly, scrB, row("", "a@example.com", "A again"))[0]
		if got.ParticipantID != a.ParticipantID || f.lastChanges()[0].Create == nil {
			t.Fatalf("participant %s (want %s, created)", got.ParticipantID, a.ParticipantID)
		}
		if p := f.participant(a.ParticipantID); p.Name != "A again" {
			t.Fatalf("participant %+v", p)
		}
	})
	t.Run("a FULL_SYNC removal whose participant is gone", func(t *testing.T) {
		f := newFixture(t)
		a := f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "a@example.com", "A"))[0]
		delete(f.store.participants, key{ws, a.ParticipantID})
		snap := f.snapshot()
		if _, err := f.importRows(screening.FullSync, scrA); !errors.Is(err, vocab.ErrConflict) {
			t.Fatalf("error %v, want ErrConflict", err)
		}
		f.wroteNothingSince(snap)
	})
}
