package spotstore

import (
	"context"
	"strings"

	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// GetKey looks up a Spot API key (access pattern 1).
func (s *Store) GetKey(ctx context.Context, keyID string) (auth.Key, error) {
	var it keyItem
	found, err := s.GetItem(ctx, spotKeyKey(keyID), &it)
	if err != nil {
		return auth.Key{}, err
	}
	if !found {
		return auth.Key{}, auth.ErrKeyNotFound
	}
	return it.domain(), nil
}

func (s *Store) GetScreener(ctx context.Context, w, id string) (screening.Screener, error) {
	return getOne(ctx, s, screenerKey(w, id), screenerItem.domain)
}

func (s *Store) ListScreeners(ctx context.Context, w string, p screening.Page) (screening.List[screening.Screener], error) {
	return listPage(ctx, s, ddb.Partition{PK: screenersPartition(w), CountAttr: "count"}, p, screenerItem.domain)
}

func (s *Store) GetParticipant(ctx context.Context, w, id string) (screening.Participant, error) {
	return getOne(ctx, s, participantKey(w, id), participantItem.domain)
}

// ListParticipants lists in creation order; a filter on email or external uid resolves through
// the uniqueness markers to at most one participant.
func (s *Store) ListParticipants(ctx context.Context, w string, f screening.ParticipantFilter, p screening.Page) (screening.List[screening.Participant], error) {
	if f == (screening.ParticipantFilter{}) {
		return listPage(ctx, s, participantsListPartition(w), p, participantItem.domain)
	}
	scope := filterScope(participantsPartition(w), f.ExternalUID, f.Email)
	if _, err := scope.ParseCursor(p.Cursor, 1); p.Cursor != "" && err != nil {
		return screening.List[screening.Participant]{}, screening.ErrInvalidCursor
	}
	id, err := s.participantByFilter(ctx, w, f)
	if err != nil || id == "" {
		return screening.List[screening.Participant]{}, err
	}
	part, err := s.GetParticipant(ctx, w, id)
	if err == vocab.ErrNotFound {
		return screening.List[screening.Participant]{}, nil
	}
	if err != nil {
		return screening.List[screening.Participant]{}, err
	}
	return pageOf([]screening.Participant{part}, p, filterScope(participantsPartition(w), f.ExternalUID, f.Email), func(p screening.Participant) string { return p.ID })
}

// participantByFilter returns the one participant both filters name, or "".
func (s *Store) participantByFilter(ctx context.Context, w string, f screening.ParticipantFilter) (string, error) {
	var uids, emails []string
	if f.ExternalUID != "" {
		uids = []string{f.ExternalUID}
	}
	if f.Email != "" {
		emails = []string{screening.NormalizeEmail(f.Email)}
	}
	byUID, byEmail, err := s.FindParticipantIDs(ctx, w, uids, emails)
	if err != nil {
		return "", err
	}
	uidMatch, emailMatch := byUID[f.ExternalUID], byEmail[screening.NormalizeEmail(f.Email)]
	switch {
	case f.ExternalUID != "" && f.Email != "" && uidMatch != emailMatch:
		return "", nil
	case f.ExternalUID != "":
		return uidMatch, nil
	}
	return emailMatch, nil
}

func (s *Store) GetScreenerParticipant(ctx context.Context, w, id string) (screening.ScreenerParticipant, error) {
	return getOne(ctx, s, screenerParticipantKey(w, id), screenerParticipantItem.domain)
}

func (s *Store) ListScreenerParticipants(ctx context.Context, w, screenerID string, p screening.Page) (screening.List[screening.ScreenerParticipant], error) {
	if screenerID == "" {
		return listPage(ctx, s, ddb.Partition{PK: screenerParticipantsPartition(w), CountAttr: "count"}, p, screenerParticipantItem.domain)
	}
	return listPage(ctx, s, rosterPartition(w, screenerID), p, screenerParticipantItem.domain)
}

func (s *Store) GetSession(ctx context.Context, w, id string) (screening.Session, error) {
	return getOne(ctx, s, sessionKey(w, id), sessionItem.domain)
}

// ListSessions lists in creation order. A screener participant has few sessions, so that
// filter reads them all and counts them instead of keeping a counter that would outlive the
// screener participant.
func (s *Store) ListSessions(ctx context.Context, w string, f screening.SessionFilter, p screening.Page) (screening.List[screening.Session], error) {
	switch {
	case f.ScreenerParticipantID != "":
		items, err := s.QueryAll(ctx, ddb.Partition{Index: ddb.IndexGSI1, PK: participantSessionsPartition(w, f.ScreenerParticipantID)})
		if err != nil {
			return screening.List[screening.Session]{}, err
		}
		decoded, err := ddb.DecodeAll[sessionItem](items)
		if err != nil {
			return screening.List[screening.Session]{}, err
		}
		var all []screening.Session
		for _, it := range decoded {
			if f.ScreenerID == "" || it.ScreenerID == f.ScreenerID {
				all = append(all, it.domain())
			}
		}
		return pageOf(all, p, filterScope(participantSessionsPartition(w, f.ScreenerParticipantID), f.ScreenerID), func(s screening.Session) string { return s.ID })
	case f.ScreenerID != "":
		return listPage(ctx, s, ddb.Partition{Index: ddb.IndexGSI2, PK: screenerSessionsPartition(w, f.ScreenerID), CountAttr: "sessionCount", ItemPK: sessionsPartition(w)}, p, sessionItem.domain)
	}
	return listPage(ctx, s, ddb.Partition{PK: sessionsPartition(w), CountAttr: "count"}, p, sessionItem.domain)
}

// pageOf pages a list read whole (a filter's few records, in id order). Its cursors name the
// last record's id under a scope of the workspace and the filter's values, so a cursor of
// another filter or workspace is screening.ErrInvalidCursor.
func pageOf[T any](all []T, p screening.Page, scope ddb.Partition, idOf func(T) string) (screening.List[T], error) {
	start := min(p.Offset, len(all))
	if p.Cursor != "" {
		keys, err := scope.ParseCursor(p.Cursor, 1)
		if err != nil {
			return screening.List[T]{}, screening.ErrInvalidCursor
		}
		start = len(all)
		for i, it := range all {
			if idOf(it) > keys[0] {
				start = i
				break
			}
		}
	}
	end := min(start+p.Limit, len(all))
	out := screening.List[T]{Items: all[start:end], Total: len(all)}
	if end < len(all) && end > start {
		out.Next = scope.Cursor(idOf(all[end-1]))
	}
	return out, nil
}

// filterScope is the cursor scope of a filtered list: its partition and the filter's values.
func filterScope(partition string, values ...string) ddb.Partition {
	return ddb.Partition{PK: partition + "\x00" + strings.Join(values, "\x00")}
}

// FindParticipantIDs resolves external uids and normalized emails through their markers
// (access patterns 5 and 6) in batches. The reads are eventually consistent: a plan only
// routes by markers, and every write it makes is conditioned on the markers and records it
// expects, so a stale marker fails a condition and the plan is made again.
func (s *Store) FindParticipantIDs(ctx context.Context, w string, externalUIDs, emails []string) (map[string]string, map[string]string, error) {
	keys := make([]ddb.Key, 0, len(externalUIDs)+len(emails))
	isUID := map[ddb.Key]bool{}
	for _, u := range externalUIDs {
		k := externalUIDKey(w, u)
		keys = append(keys, k)
		isUID[k] = true
	}
	for _, e := range emails {
		keys = append(keys, emailKey(w, e))
	}
	items, err := s.BatchGetEventual(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	markers, err := ddb.DecodeAll[ddb.Marker](items)
	if err != nil {
		return nil, nil, err
	}
	byUID, byEmail := map[string]string{}, map[string]string{}
	for _, m := range markers {
		if isUID[ddb.Key{PK: m.PK, SK: m.SK}] {
			byUID[m.SK] = m.ParticipantID
		} else {
			byEmail[m.SK] = m.ParticipantID
		}
	}
	return byUID, byEmail, nil
}

// GetParticipants reads consistently: a plan decides on them what to write (or that a row is
// unchanged).
func (s *Store) GetParticipants(ctx context.Context, w string, ids []string) (map[string]screening.Participant, error) {
	return getMany(ctx, s.BatchGet, ids, func(id string) ddb.Key { return participantKey(w, id) },
		participantItem.domain, func(p screening.Participant) string { return p.ID })
}

// GetScreenerParticipants reads eventually consistently: a plan takes from them only what it
// reports (a link's id comes from its participant's links, read consistently), and a link it
// would add for one it did not see is a put conditioned on its absence.
func (s *Store) GetScreenerParticipants(ctx context.Context, w string, ids []string) (map[string]screening.ScreenerParticipant, error) {
	return getMany(ctx, s.BatchGetEventual, ids, func(id string) ddb.Key { return screenerParticipantKey(w, id) },
		screenerParticipantItem.domain, func(sp screening.ScreenerParticipant) string { return sp.ID })
}

func getMany[I any, T any](ctx context.Context, read func(context.Context, []ddb.Key) ([]ddb.Item, error), ids []string,
	keyOf func(string) ddb.Key, conv func(I) T, idOf func(T) string) (map[string]T, error) {
	keys := make([]ddb.Key, len(ids))
	for i, id := range ids {
		keys[i] = keyOf(id)
	}
	raw, err := read(ctx, keys)
	if err != nil {
		return nil, err
	}
	items, err := ddb.DecodeAll[I](raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]T, len(items))
	for _, it := range items {
		t := conv(it)
		out[idOf(t)] = t
	}
	return out, nil
}

// Roster lists every screener participant of a screener (access pattern 9).
func (s *Store) Roster(ctx context.Context, w, screenerID string) ([]screening.ScreenerParticipant, error) {
	items, err := s.QueryAll(ctx, rosterPartition(w, screenerID))
	if err != nil {
		return nil, err
	}
	decoded, err := ddb.DecodeAll[screenerParticipantItem](items)
	if err != nil {
		return nil, err
	}
	out := make([]screening.ScreenerParticipant, len(decoded))
	for i, it := range decoded {
		out[i] = it.domain()
	}
	return out, nil
}

// rosterPartition is a screener's screener participants (gsi1) in roster order, a counted
// list. The screener item still sits at its head (sort key #COUNT, before every place); pages
// start at a place, and whole reads leave it out.
func rosterPartition(w, screenerID string) ddb.Partition {
	return ddb.Partition{Index: ddb.IndexGSI1, PK: screenerRosterPartition(w, screenerID), ItemPK: screenerParticipantsPartition(w), Counted: rosterList(w, screenerID)}
}

// participantsListPartition is a workspace's participants (gsi2) in list order, a counted list.
func participantsListPartition(w string) ddb.Partition {
	return ddb.Partition{Index: ddb.IndexGSI2, PK: participantsPartition(w), ItemPK: participantsPartition(w), Counted: participantsList(w)}
}
