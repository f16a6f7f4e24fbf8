package spotstore

import (
	"context"
	"errors"
	"time"

	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Store is the Spot context's adapter over the one table: tenant participants, screeners,
// screener participants, sessions, workspaces and Spot API keys.
type Store struct {
	*ddb.Table
	// ClaimWindow is the longest an import chunk's claim on a new participant's markers holds
	// them (ddb.MarkerClaim): the claim ends at the delivery's deadline, or this long after it
	// is made if that comes first. New sets DefaultClaimWindow.
	ClaimWindow time.Duration
	// Now is the store's clock (New: time.Now), by which claims are made and run out.
	Now func() time.Time
}

// DefaultClaimWindow leaves a chunk 10 s to write a group's new participants after it
// claimed their markers, where it takes well under one.
const DefaultClaimWindow = 10 * time.Second

var (
	_ screening.Store = (*Store)(nil)
	_ auth.KeyStore   = (*Store)(nil)
)

// New returns the Spot store over a table.
func New(t *ddb.Table) *Store {
	return &Store{Table: t, ClaimWindow: DefaultClaimWindow, Now: time.Now}
}

// getOne reads one record and converts it, or returns vocab.ErrNotFound.
func getOne[I any, T any](ctx context.Context, s *Store, k ddb.Key, conv func(I) T) (T, error) {
	var it I
	var zero T
	found, err := s.GetItem(ctx, k, &it)
	if err != nil {
		return zero, err
	}
	if !found {
		return zero, vocab.ErrNotFound
	}
	return conv(it), nil
}

// listPage reads one page and its total: at an offset in one Query that meets the counter
// first, or after a cursor in one Query that starts there plus one of the counter alone.
// Either page carries the cursor of the next one.
func listPage[I any, T any](ctx context.Context, s *Store, part ddb.Partition, page screening.Page, conv func(I) T) (screening.List[T], error) {
	var (
		items []ddb.Item
		n     int
		next  string
		err   error
	)
	if page.Cursor != "" {
		items, next, n, err = s.QueryAfter(ctx, part, page.Cursor, page.Limit)
		if errors.Is(err, ddb.ErrBadCursor) {
			return screening.List[T]{}, screening.ErrInvalidCursor
		}
	} else {
		items, n, err = s.QueryPage(ctx, part, page.Offset, page.Limit)
		if err == nil && len(items) > 0 && page.Offset+len(items) < n {
			next = part.CursorOf(items[len(items)-1])
		}
	}
	if err != nil {
		return screening.List[T]{}, err
	}
	decoded, err := ddb.DecodeAll[I](items)
	if err != nil {
		return screening.List[T]{}, err
	}
	out := screening.List[T]{Total: n, Next: next, Items: make([]T, len(decoded))}
	for i, it := range decoded {
		out.Items[i] = conv(it)
	}
	return out, nil
}
