package screening

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/vocab"
)

// ErrSessionNotInProgress: only a session in progress can be completed.
var ErrSessionNotInProgress = errors.New("screening: session is not in progress")

// AdminStore is what operators' tools need beyond Store.
type AdminStore interface {
	Store
	CreateScreener(ctx context.Context, ws string, s Screener) error
	StartSession(ctx context.Context, ws string, s Session) error
	FinishSession(ctx context.Context, ws string, s Session, isLatest bool) error
}

// Admin runs operator actions: creating screeners and moving sessions along.
type Admin struct {
	Store AdminStore
	Now   func() time.Time
	NewID func(ids.Prefix) string
}

// CreateScreener makes a screener with an active publication.
func (a *Admin) CreateScreener(ctx context.Context, ws string, actor vocab.Actor, title string, description *string) (Screener, error) {
	if strings.TrimSpace(title) == "" {
		return Screener{}, &ValidationError{Message: "title must not be empty"}
	}
	now := a.Now().UTC()
	pub := a.NewID(ids.Publication)
	s := Screener{
		ID: a.NewID(ids.Screener), Title: title, Description: description, ActivePublicationID: &pub,
		CreatedBy: &actor, CreatedAt: now, UpdatedBy: &actor, UpdatedAt: now,
	}
	return s, a.Store.CreateScreener(ctx, ws, s)
}

// StartSession opens a new session for a screener participant; it becomes the latest.
func (a *Admin) StartSession(ctx context.Context, ws, screenerParticipantID string) (Session, error) {
	sp, err := a.Store.GetScreenerParticipant(ctx, ws, screenerParticipantID)
	if err != nil {
		return Session{}, err
	}
	scr, err := a.Store.GetScreener(ctx, ws, sp.ScreenerID)
	if err != nil {
		return Session{}, err
	}
	now := a.Now().UTC()
	s := Session{
		ID: a.NewID(ids.ScreenerSession), ScreenerID: sp.ScreenerID, ScreenerParticipantID: sp.ID,
		PublicationID: scr.ActivePublicationID, LinkSlug: slug(), State: SessionInProgress,
		StartedAt: now, LastActiveAt: now,
	}
	return s, a.Store.StartSession(ctx, ws, s)
}

// CompleteSession completes a session in progress as qualified or disqualified.
func (a *Admin) CompleteSession(ctx context.Context, ws, sessionID string, qualified bool) (Session, error) {
	s, err := a.Store.GetSession(ctx, ws, sessionID)
	if err != nil {
		return Session{}, err
	}
	if s.State != SessionInProgress {
		return Session{}, ErrSessionNotInProgress
	}
	isLatest := false
	if sp, err := a.Store.GetScreenerParticipant(ctx, ws, s.ScreenerParticipantID); err == nil {
		isLatest = sp.CurrentSessionID() == s.ID
	} else if !errors.Is(err, vocab.ErrNotFound) {
		return Session{}, err
	}
	now := a.Now().UTC()
	s.State, s.LastActiveAt, s.CompletedAt = SessionCompleted, now, &now
	s.Outcome = OutcomeDisqualified
	if qualified {
		s.Outcome = OutcomeQualified
	}
	return s, a.Store.FinishSession(ctx, ws, s, isLatest)
}

// slug is the random part of a session link.
func slug() string {
	const alphabet = "abcdefghjkmnpqrstvwxyz23456789"
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
