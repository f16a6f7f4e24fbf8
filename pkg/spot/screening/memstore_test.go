package screening_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// memStore is an in-memory screening.AdminStore for the domain's rules. It keeps the contract
// documented on screening.Store as the DynamoDB adapter does: records are scoped to a
// workspace, reads hand out copies, each change of an Apply is atomic, and a change whose
// records moved since they were read (the participant's version, an email or external uid
// marker someone else holds, a screener participant created or deleted meanwhile) fails with
// vocab.ErrConflict. It proves nothing about storage; the handlers' tests against DynamoDB Local
// do (pkg/spot/spotapi). The list reads are the handlers' business, not the domain's: they are left to the
// embedded nil Store, so calling one panics.
type memStore struct {
	screening.Store

	screeners    map[key]screening.Screener
	participants map[key]screening.Participant
	links        map[key]screening.ScreenerParticipant
	sessions     map[key]screening.Session
	emails       map[key]string // normalized email -> participant id
	uids         map[key]string // external uid -> participant id

	// applied holds every Apply call's changes, in call order.
	applied [][]screening.Change
	// beforeApply, when set, runs as Apply starts: a writer that got in between the reads and
	// the writes.
	beforeApply func()
}

// key is a record's id (or a marker's value) within its workspace.
type key struct{ ws, id string }

// errContract: the domain asked for a write the store contract does not allow.
var errContract = errors.New("memStore: change breaks the store contract")

func newMemStore() *memStore {
	return &memStore{
		screeners: map[key]screening.Screener{}, participants: map[key]screening.Participant{},
		links: map[key]screening.ScreenerParticipant{}, sessions: map[key]screening.Session{},
		emails: map[key]string{}, uids: map[key]string{},
	}
}

func get[T any](m map[key]T, ws, id string) (T, error) {
	v, ok := m[key{ws, id}]
	if !ok {
		return v, vocab.ErrNotFound
	}
	return v, nil
}

func (m *memStore) GetScreener(_ context.Context, ws, id string) (screening.Screener, error) {
	return get(m.screeners, ws, id)
}

func (m *memStore) GetParticipant(_ context.Context, ws, id string) (screening.Participant, error) {
	p, err := get(m.participants, ws, id)
	p.Links = maps.Clone(p.Links)
	return p, err
}

func (m *memStore) GetScreenerParticipant(_ context.Context, ws, id string) (screening.ScreenerParticipant, error) {
	return get(m.links, ws, id)
}

func (m *memStore) GetSession(_ context.Context, ws, id string) (screening.Session, error) {
	return get(m.sessions, ws, id)
}

func (m *memStore) FindParticipantIDs(_ context.Context, ws string, externalUIDs, emails []string) (map[string]string, map[string]string, error) {
	byUID, byEmail := map[string]string{}, map[string]string{}
	for _, u := range externalUIDs {
		if id, ok := m.uids[key{ws, u}]; ok {
			byUID[u] = id
		}
	}
	for _, e := range emails {
		if id, ok := m.emails[key{ws, e}]; ok {
			byEmail[e] = id
		}
	}
	return byUID, byEmail, nil
}

func (m *memStore) GetParticipants(ctx context.Context, ws string, ids []string) (map[string]screening.Participant, error) {
	out := map[string]screening.Participant{}
	for _, id := range ids {
		if p, err := m.GetParticipant(ctx, ws, id); err == nil {
			out[id] = p
		}
	}
	return out, nil
}

func (m *memStore) GetScreenerParticipants(_ context.Context, ws string, ids []string) (map[string]screening.ScreenerParticipant, error) {
	out := map[string]screening.ScreenerParticipant{}
	for _, id := range ids {
		if sp, ok := m.links[key{ws, id}]; ok {
			out[id] = sp
		}
	}
	return out, nil
}

// Roster lists in id order, which is creation order.
func (m *memStore) Roster(_ context.Context, ws, screenerID string) ([]screening.ScreenerParticipant, error) {
	var out []screening.ScreenerParticipant
	for k, sp := range m.links {
		if k.ws == ws && sp.ScreenerID == screenerID {
			out = append(out, sp)
		}
	}
	slices.SortFunc(out, func(a, b screening.ScreenerParticipant) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// ApplyChunk writes as Apply does: the memory store has no transactions to save.
func (m *memStore) ApplyChunk(ctx context.Context, ws, scr string, _ screening.ChunkID, changes []screening.Change) error {
	return m.Apply(ctx, ws, scr, changes)
}

// SettleJob has nothing to count: Apply counts as it writes.
func (m *memStore) SettleJob(context.Context, string, string, string) error { return nil }

// Apply checks and writes one change at a time; a change that fails its check writes nothing,
// and the ones before it stay written.
func (m *memStore) Apply(_ context.Context, ws, scr string, changes []screening.Change) error {
	if m.beforeApply != nil {
		m.beforeApply()
	}
	m.applied = append(m.applied, changes)
	for _, c := range changes {
		if err := m.check(ws, scr, c); err != nil {
			return err
		}
		m.write(ws, scr, c)
	}
	return nil
}

func (m *memStore) check(ws, scr string, c screening.Change) error {
	if (c.Create == nil) == (c.Before == nil) || (c.Before == nil) != (c.After == nil) {
		return fmt.Errorf("%w: exactly one of Create and Before/After", errContract)
	}
	if _, ok := m.screeners[key{ws, scr}]; !ok && (c.Link != nil || c.Unlink != nil) {
		return vocab.ErrConflict
	}
	if c.Create != nil {
		if err := m.checkCreate(ws, *c.Create); err != nil {
			return err
		}
	} else if err := m.checkUpdate(ws, *c.Before, *c.After); err != nil {
		return err
	}
	if c.Link != nil && m.hasLink(ws, c.Link.ID) || c.Unlink != nil && !m.hasLink(ws, c.Unlink.ID) {
		return vocab.ErrConflict
	}
	for _, id := range c.Copies {
		if !m.hasLink(ws, id) {
			return vocab.ErrConflict
		}
	}
	return nil
}

func (m *memStore) checkCreate(ws string, p screening.Participant) error {
	_, exists := m.participants[key{ws, p.ID}]
	if exists || m.takenFrom(m.emails, ws, screening.NormalizeEmail(p.Email), p.ID) ||
		p.ExternalUID != "" && m.takenFrom(m.uids, ws, p.ExternalUID, p.ID) {
		return vocab.ErrConflict
	}
	return nil
}

// takenFrom reports whether a marker names another participant than id (a marker that already
// names id is claimed again, as the store's conditional put allows).
func (m *memStore) takenFrom(markers map[key]string, ws, value, id string) bool {
	owner, ok := markers[key{ws, value}]
	return ok && owner != id
}

func (m *memStore) checkUpdate(ws string, before, after screening.Participant) error {
	if before.ID != after.ID || before.ExternalUID != "" && after.ExternalUID != before.ExternalUID {
		return fmt.Errorf("%w: a participant keeps its id and its external uid once set", errContract)
	}
	stored, ok := m.participants[key{ws, before.ID}]
	if !ok || stored.Version != before.Version {
		return vocab.ErrConflict
	}
	oldEmail, newEmail := screening.NormalizeEmail(before.Email), screening.NormalizeEmail(after.Email)
	if oldEmail != newEmail {
		_, taken := m.emails[key{ws, newEmail}]
		if m.emails[key{ws, oldEmail}] != before.ID || taken {
			return vocab.ErrConflict
		}
	}
	if _, taken := m.uids[key{ws, after.ExternalUID}]; before.ExternalUID == "" && after.ExternalUID != "" && taken {
		return vocab.ErrConflict
	}
	return nil
}

func (m *memStore) hasLink(ws, id string) bool {
	_, ok := m.links[key{ws, id}]
	return ok
}

// write stores a checked change the way the adapter does: an update writes the participant's
// fields only when they changed, and its links only through Link and Unlink.
func (m *memStore) write(ws, scr string, c screening.Change) {
	if c.Create != nil {
		p := *c.Create
		p.Links, p.Version = maps.Clone(p.Links), 1
		m.participants[key{ws, p.ID}] = p
		m.emails[key{ws, screening.NormalizeEmail(p.Email)}] = p.ID
		if p.ExternalUID != "" {
			m.uids[key{ws, p.ExternalUID}] = p.ID
		}
	} else {
		m.writeUpdate(ws, scr, c)
	}
	if c.Link != nil {
		m.links[key{ws, c.Link.ID}] = *c.Link
	}
	if c.Unlink != nil {
		delete(m.links, key{ws, c.Unlink.ID})
	}
	for _, id := range c.Copies {
		sp := m.links[key{ws, id}]
		sp.Name, sp.Email = c.After.Name, c.After.Email
		if c.After.ExternalUID != "" {
			sp.ExternalUID = c.After.ExternalUID
		}
		m.links[key{ws, id}] = sp
	}
}

func (m *memStore) writeUpdate(ws, scr string, c screening.Change) {
	before, after := *c.Before, *c.After
	p := m.participants[key{ws, before.ID}]
	if before.Name != after.Name || before.Email != after.Email || before.ExternalUID != after.ExternalUID {
		p.Name, p.Email, p.ExternalUID, p.UpdatedBy, p.UpdatedAt = after.Name, after.Email, after.ExternalUID, after.UpdatedBy, after.UpdatedAt
	}
	p.Links = maps.Clone(p.Links)
	if c.Link != nil {
		if p.Links == nil {
			p.Links = map[string]string{}
		}
		p.Links[scr] = c.Link.ID
	}
	if c.Unlink != nil {
		delete(p.Links, scr)
	}
	p.Version++
	m.participants[key{ws, p.ID}] = p
	if oldEmail, newEmail := screening.NormalizeEmail(before.Email), screening.NormalizeEmail(after.Email); oldEmail != newEmail {
		delete(m.emails, key{ws, oldEmail})
		m.emails[key{ws, newEmail}] = p.ID
	}
	if before.ExternalUID == "" && after.ExternalUID != "" {
		m.uids[key{ws, after.ExternalUID}] = p.ID
	}
}

func (m *memStore) CreateScreener(_ context.Context, ws string, s screening.Screener) error {
	if _, ok := m.screeners[key{ws, s.ID}]; ok {
		return vocab.ErrConflict
	}
	m.screeners[key{ws, s.ID}] = s
	return nil
}

// StartSession stores the session and makes it its screener participant's latest.
func (m *memStore) StartSession(_ context.Context, ws string, s screening.Session) error {
	sp, ok := m.links[key{ws, s.ScreenerParticipantID}]
	if _, exists := m.sessions[key{ws, s.ID}]; exists || !ok {
		return vocab.ErrConflict
	}
	m.sessions[key{ws, s.ID}] = s
	sp.Latest = &screening.LatestSession{ID: s.ID, State: s.State, Outcome: s.Outcome}
	m.links[key{ws, sp.ID}] = sp
	return nil
}

// FinishSession stores a session in progress as finished, and, when isLatest, the screener
// participant's status with it; isLatest on a session that is not the latest is a conflict.
func (m *memStore) FinishSession(_ context.Context, ws string, s screening.Session, isLatest bool) error {
	stored, ok := m.sessions[key{ws, s.ID}]
	if !ok || stored.State != screening.SessionInProgress {
		return vocab.ErrConflict
	}
	sp, ok := m.links[key{ws, s.ScreenerParticipantID}]
	if isLatest && (!ok || sp.CurrentSessionID() != s.ID) {
		return vocab.ErrConflict
	}
	m.sessions[key{ws, s.ID}] = s
	if isLatest {
		sp.Latest = &screening.LatestSession{ID: s.ID, State: s.State, Outcome: s.Outcome}
		m.links[key{ws, sp.ID}] = sp
	}
	return nil
}
