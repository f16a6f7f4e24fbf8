package screening_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Removing a screener participant severs the one link; the tenant participant and its other
// screeners stay.
func TestRemoveScreenerParticipant(t *testing.T) {
	f := newFixture(t)
	a := f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "a@example.com", "A"))[0]
	b := f.mustImport(screening.UpdatesOnly, scrB, row("crm-1", "a@example.com", "A"))[0]
	ctx := context.Background()

	got, err := f.svc.RemoveScreenerParticipant(ctx, ws, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := a
	want.Removed = true
	if got != want || got.Status() != screening.StatusRemoved {
		t.Errorf("answered %+v, want the removed record %+v", got, want)
	}
	if _, err := f.store.GetScreenerParticipant(ctx, ws, a.ID); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("screener participant still there: %v", err)
	}
	p := f.participant(a.ParticipantID)
	if !maps.Equal(p.Links, map[string]string{scrB: b.ID}) || p.Name != "A" {
		t.Errorf("participant after removal %+v", p)
	}
	if roster := f.rosterEmails(scrB); len(roster) != 1 {
		t.Errorf("%s roster %v", scrB, roster)
	}

	snap := f.snapshot()
	if _, err := f.svc.RemoveScreenerParticipant(ctx, ws, a.ID); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("second removal: %v, want ErrNotFound", err)
	}
	if _, err := f.svc.RemoveScreenerParticipant(ctx, "ws_other", b.ID); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("removal from another workspace: %v, want ErrNotFound", err)
	}
	f.wroteNothingSince(snap)

	// Imported again, the participant gets a new screener participant in the screener.
	again := f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "a@example.com", "A"))[0]
	if again.ID == a.ID || again.ParticipantID != a.ParticipantID || again.Status() != screening.StatusNotStarted {
		t.Errorf("re-import after removal: %+v", again)
	}
}

// The removal writes under the participant's version: a change in between is a conflict.
func TestRemoveScreenerParticipantConflict(t *testing.T) {
	f := newFixture(t)
	a := f.mustImport(screening.UpdatesOnly, scrA, row("crm-1", "a@example.com", "A"))[0]
	f.store.beforeApply = func() {
		p := f.store.participants[key{ws, a.ParticipantID}]
		p.Version++
		f.store.participants[key{ws, a.ParticipantID}] = p
	}
	if _, err := f.svc.RemoveScreenerParticipant(context.Background(), ws, a.ID); !errors.Is(err, vocab.ErrConflict) {
		t.Fatalf("error %v, want ErrConflict", err)
	}
	f.link(a.ID)
}
