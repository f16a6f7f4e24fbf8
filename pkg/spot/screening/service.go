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
