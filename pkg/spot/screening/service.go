package screening

import (
	"context"
	"time"

	"github.com/participant-roster/roster/pkg/platform/ids"
)

// Service answers the Spot screener-participant API's questions for one store.
type Service struct {
	Store Store
	Now   func() time.Time
	NewID func(ids.Prefix) string
}

// NewService returns a service over store.
func NewService(store Store) *Service {
	return &Service{Store: store, Now: time.Now, NewID: ids.New}
}

// The reads of the API: each record is scoped to the workspace ws (another's is
// vocab.ErrNotFound), each list is one page and the collection's size.

// Screener reads a screener.
func (s *Service) Screener(ctx context.Context, ws, id string) (Screener, error) {
	return s.Store.GetScreener(ctx, ws, id)
}

// Screeners lists the workspace's screeners.
func (s *Service) Screeners(ctx context.Context, ws string, p Page) (List[Screener], error) {
	return s.Store.ListScreeners(ctx, ws, p)
}

// Participant reads a tenant participant.
func (s *Service) Participant(ctx context.Context, ws, id string) (Participant, error) {
	return s.Store.GetParticipant(ctx, ws, id)
}

// Participants lists the workspace's tenant participants.
func (s *Service) Participants(ctx context.Context, ws string, f ParticipantFilter, p Page) (List[Participant], error) {
	return s.Store.ListParticipants(ctx, ws, f, p)
}

// ScreenerParticipant reads a screener participant.
func (s *Service) ScreenerParticipant(ctx context.Context, ws, id string) (ScreenerParticipant, error) {
	return s.Store.GetScreenerParticipant(ctx, ws, id)
}

// ScreenerParticipants lists a screener's participants ("" for every screener's).
func (s *Service) ScreenerParticipants(ctx context.Context, ws, screenerID string, p Page) (List[ScreenerParticipant], error) {
	return s.Store.ListScreenerParticipants(ctx, ws, screenerID, p)
}

// Session reads a screener session.
func (s *Service) Session(ctx context.Context, ws, id string) (Session, error) {
	return s.Store.GetSession(ctx, ws, id)
}

// Sessions lists the workspace's screener sessions.
func (s *Service) Sessions(ctx context.Context, ws string, f SessionFilter, p Page) (List[Session], error) {
	return s.Store.ListSessions(ctx, ws, f, p)
}

// RemoveScreenerParticipant severs a participant's link to a screener. The tenant participant
// stays; the returned record has status REMOVED.
func (s *Service) RemoveScreenerParticipant(ctx context.Context, ws, id string) (ScreenerParticipant, error) {
	sp, err := s.Store.GetScreenerParticipant(ctx, ws, id)
	if err != nil {
		return ScreenerParticipant{}, err
	}
	p, err := s.Store.GetParticipant(ctx, ws, sp.ParticipantID)
	if err != nil {
		return ScreenerParticipant{}, err
	}
	if err := s.Store.Apply(ctx, ws, sp.ScreenerID, []Change{unlink(p, sp)}); err != nil {
		return ScreenerParticipant{}, err
	}
	sp.Removed = true
	return sp, nil
}

func unlink(p Participant, sp ScreenerParticipant) Change {
	after := p
	return Change{Before: &p, After: &after, Unlink: &sp}
}
