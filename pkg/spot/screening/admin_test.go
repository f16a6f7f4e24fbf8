package screening_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

func (f *fixture) admin() *screening.Admin {
	return &screening.Admin{Store: f.store, Now: f.svc.Now, NewID: f.newID}
}

func TestCreateScreener(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, title := range []string{"", " \t\n"} {
		_, err := f.admin().CreateScreener(ctx, ws, operator, title, nil)
		var ve *screening.ValidationError
		if !errors.As(err, &ve) || ve.Message != "title must not be empty" {
			t.Errorf("title %q: %v, want a ValidationError", title, err)
		}
	}
	if len(f.store.screeners) != 2 {
		t.Fatalf("a rejected screener was stored: %d screeners", len(f.store.screeners))
	}

	desc := "Remote work habits"
	s, err := f.admin().CreateScreener(ctx, ws, operator, "Study 1", &desc)
	if err != nil {
		t.Fatal(err)
	}
	now := f.now.UTC()
	if !strings.HasPrefix(s.ID, "scr_") || s.ActivePublicationID == nil || !strings.HasPrefix(*s.ActivePublicationID, "scpub_") ||
		s.Title != "Study 1" || *s.Description != desc || *s.CreatedBy != operator || *s.UpdatedBy != operator ||
		!s.CreatedAt.Equal(now) || s.CreatedAt.Location() != time.UTC || !s.UpdatedAt.Equal(now) {
		t.Errorf("screener %+v", s)
	}
	if stored, err := f.store.GetScreener(ctx, ws, s.ID); err != nil || !reflect.DeepEqual(stored, s) {
		t.Errorf("stored %+v (%v), answered %+v", stored, err, s)
	}
}

// sessionFixture is a fixture with a screener made by Admin and one participant in it.
func sessionFixture(t *testing.T) (*fixture, screening.Screener, screening.ScreenerParticipant) {
	f := newFixture(t)
	scr, err := f.admin().CreateScreener(context.Background(), ws, operator, "Study", nil)
	if err != nil {
		t.Fatal(err)
	}
	sp := f.mustImport(screening.UpdatesOnly, scr.ID, row("crm-1", "a@example.com", "A"))[0]
	return f, scr, sp
}

func TestStartSession(t *testing.T) {
	f, scr, sp := sessionFixture(t)
	ctx := context.Background()
	f.now = f.now.Add(time.Minute)

	s, err := f.admin().StartSession(ctx, ws, sp.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := f.now.UTC()
	if !strings.HasPrefix(s.ID, "scses_") || s.ScreenerID != scr.ID || s.ScreenerParticipantID != sp.ID ||
		s.PublicationID == nil || *s.PublicationID != *scr.ActivePublicationID || s.State != screening.SessionInProgress ||
		s.Outcome != screening.OutcomeNone || s.CompletedAt != nil || !s.StartedAt.Equal(now) || !s.LastActiveAt.Equal(now) {
		t.Errorf("session %+v", s)
	}
	if len(s.LinkSlug) != 10 || strings.Trim(s.LinkSlug, "abcdefghjkmnpqrstvwxyz23456789") != "" {
		t.Errorf("link slug %q, want 10 characters without look-alikes (0, 1, i, l, o, u)", s.LinkSlug)
	}
	if got := f.link(sp.ID); got.Status() != screening.StatusInProgress || got.CurrentSessionID() != s.ID {
		t.Errorf("screener participant after start: %s, current session %q", got.Status(), got.CurrentSessionID())
	}
	next, err := f.admin().StartSession(ctx, ws, sp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if next.LinkSlug == s.LinkSlug || f.link(sp.ID).CurrentSessionID() != next.ID {
		t.Errorf("second session %+v: same slug, or not the latest", next)
	}

	if _, err := f.admin().StartSession(ctx, ws, "scpar_missing"); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("unknown screener participant: %v, want ErrNotFound", err)
	}
	if _, err := f.admin().StartSession(ctx, "ws_other", sp.ID); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("another workspace's screener participant: %v, want ErrNotFound", err)
	}
	delete(f.store.screeners, key{ws, scr.ID})
	if _, err := f.admin().StartSession(ctx, ws, sp.ID); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("screener gone: %v, want ErrNotFound", err)
	}
	if len(f.store.sessions) != 2 {
		t.Errorf("%d sessions stored, want 2", len(f.store.sessions))
	}
}

func TestCompleteSession(t *testing.T) {
	for _, tt := range []struct {
		qualified bool
		outcome   screening.Outcome
		status    screening.Status
	}{
		{true, screening.OutcomeQualified, screening.StatusQualified},
		{false, screening.OutcomeDisqualified, screening.StatusDisqualified},
	} {
		f, _, sp := sessionFixture(t)
		ctx := context.Background()
		started, err := f.admin().StartSession(ctx, ws, sp.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(time.Hour)

		done, err := f.admin().CompleteSession(ctx, ws, started.ID, tt.qualified)
		if err != nil {
			t.Fatal(err)
		}
		now := f.now.UTC()
		if done.State != screening.SessionCompleted || done.Outcome != tt.outcome || done.CompletedAt == nil ||
			!done.CompletedAt.Equal(now) || !done.LastActiveAt.Equal(now) || !done.StartedAt.Equal(started.StartedAt) {
			t.Errorf("qualified=%v: session %+v", tt.qualified, done)
		}
		if stored := f.store.sessions[key{ws, started.ID}]; !reflect.DeepEqual(stored, done) {
			t.Errorf("stored %+v, answered %+v", stored, done)
		}
		if got := f.link(sp.ID).Status(); got != tt.status {
			t.Errorf("qualified=%v: status %s, want %s", tt.qualified, got, tt.status)
		}
		if _, err := f.admin().CompleteSession(ctx, ws, started.ID, !tt.qualified); !errors.Is(err, screening.ErrSessionNotInProgress) {
			t.Errorf("completing again: %v, want ErrSessionNotInProgress", err)
		}
		if got := f.link(sp.ID).Status(); got != tt.status {
			t.Errorf("status after the refused completion: %s", got)
		}
	}
}

// Completing a session that is no longer the latest finishes it without touching the status,
// which follows the latest session.
func TestCompleteOlderSessionKeepsTheLatestStatus(t *testing.T) {
	f, _, sp := sessionFixture(t)
	ctx := context.Background()
	older, _ := f.admin().StartSession(ctx, ws, sp.ID)
	newer, _ := f.admin().StartSession(ctx, ws, sp.ID)

	done, err := f.admin().CompleteSession(ctx, ws, older.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if done.State != screening.SessionCompleted {
		t.Errorf("older session %+v", done)
	}
	if got := f.link(sp.ID); got.Status() != screening.StatusInProgress || got.CurrentSessionID() != newer.ID {
		t.Errorf("status %s with session %q, want IN_PROGRESS with %s", got.Status(), got.CurrentSessionID(), newer.ID)
	}
}

// A session outlives its screener participant's removal and can still be completed.
func TestCompleteSessionOfRemovedScreenerParticipant(t *testing.T) {
	f, _, sp := sessionFixture(t)
	ctx := context.Background()
	s, _ := f.admin().StartSession(ctx, ws, sp.ID)
	if _, err := f.svc.RemoveScreenerParticipant(ctx, ws, sp.ID); err != nil {
		t.Fatal(err)
	}
	done, err := f.admin().CompleteSession(ctx, ws, s.ID, false)
	if err != nil || done.Outcome != screening.OutcomeDisqualified {
		t.Errorf("completion after removal: %+v, %v", done, err)
	}
	if _, err := f.admin().CompleteSession(ctx, ws, "scses_missing", true); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("unknown session: %v, want ErrNotFound", err)
	}
}
