package survey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/participant-roster/roster/pkg/vocab"
)

// Store is what the survey service needs from persistence. Every method is scoped to one
// workspace; records of other workspaces are vocab.ErrNotFound. Each participant write is made
// under the survey as it was read (its Version), and checks, atomically with the write, that
// the survey is still at that version and that no import holds its roster (ErrSurveyChanged
// when either fails: changed, deleted or held since); it fails with ErrLoginTaken or
// ErrEmailTaken when another participant of the survey has the login or email, and, for a
// participant read before, with vocab.ErrConflict when that participant changed since.
type Store interface {
	GetSnapUser(ctx context.Context, username string) (User, error)
	ListSurveys(ctx context.Context, ws string) ([]Survey, error)
	// GetSurvey also reports whether an import holds the survey's roster (an eventually
	// consistent read); GetSurveyConsistent reads both strongly consistently.
	GetSurvey(ctx context.Context, ws, id string) (Survey, bool, error)
	GetSurveyConsistent(ctx context.Context, ws, id string) (Survey, bool, error)
	// ListResponses and ListSnapParticipants page in creation order after the record with id
	// after ("" for the start); more says whether anything follows the page.
	ListResponses(ctx context.Context, ws, surveyID, after string, max int) (page []Response, more bool, err error)
	ListSnapParticipants(ctx context.Context, ws, surveyID, after string, max int) (page []StoredParticipant, more bool, err error)
	// GetSnapParticipant finds a participant by its unique id (see Participant.UniqueID).
	GetSnapParticipant(ctx context.Context, ws string, sv Survey, uniqueID string) (StoredParticipant, error)
	AddSnapParticipant(ctx context.Context, ws string, sv Survey, p Participant) (StoredParticipant, error)
	// ReplaceSnapParticipant writes after in place of before, guarded by before's version.
	ReplaceSnapParticipant(ctx context.Context, ws string, sv Survey, before StoredParticipant, after Participant) error
	DeleteSnapParticipant(ctx context.Context, ws string, sv Survey, p StoredParticipant) error
}

// A participant is stored as one record, and a record of the store holds at most 400 KB: a
// participant whose encoded form would outgrow MaxParticipantBytes (subjects added one by one
// can) is refused with MsgParticipantTooLarge instead of failing in the store.
const MaxParticipantBytes = 300 << 10

// MaxUniqueIDBytes bounds the unique ids that can name a participant: a unique id is a key of
// the store, which caps keys at 1,024 bytes, and no valid login or email comes near it.
const MaxUniqueIDBytes = 512

// Caller is who makes a call, from its verified credential: the workspace and the API user.
type Caller struct {
	WorkspaceID string
	UserID      string
}

// SurveyState is a survey the caller may access, as the call found it. Locked: an import holds
// the survey's roster, and every participant change is refused until the import ends.
type SurveyState struct {
	Survey
	Locked bool
	cached bool // read from the instance's cache, not from the store by this call
}

// Writable is ErrRosterLocked while an import holds the roster, else nil.
func (sv SurveyState) Writable() error {
	if sv.Locked {
		return ErrRosterLocked
	}
	return nil
}

// Service runs the Snap API's use cases over a store.
type Service struct {
	store   Store
	surveys *surveyCache // for participant writes (SurveyToWrite)
}

// NewService returns the service over store, caching surveys for participant writes for
// SurveyCacheTTL.
func NewService(store Store) *Service {
	return &Service{store: store, surveys: newSurveyCache(SurveyCacheTTL)}
}

// User reads the API user a username (the credential's name) names.
func (s *Service) User(ctx context.Context, username string) (User, error) {
	return s.store.GetSnapUser(ctx, username)
}

// Surveys lists the workspace's surveys the caller may access, in id order.
func (s *Service) Surveys(ctx context.Context, c Caller) ([]Survey, error) {
	all, err := s.store.ListSurveys(ctx, c.WorkspaceID)
	if err != nil {
		return nil, err
	}
	var out []Survey
	for _, sv := range all {
		if sv.CanAccess(c.UserID) {
			out = append(out, sv)
		}
	}
	return out, nil
}

// Survey reads the survey a path's id names (any case, braces allowed; see ParseSurveyID). An
// id that is not a GUID, a survey that does not exist, and one the caller may not access are
// all vocab.ErrNotFound: the vendor tells them apart to nobody.
func (s *Service) Survey(ctx context.Context, c Caller, id string) (SurveyState, error) {
	canon, ok := ParseSurveyID(id)
	if !ok {
		return SurveyState{}, vocab.ErrNotFound
	}
	return s.accessible(ctx, c, canon, s.store.GetSurvey)
}

// SurveyToWrite is Survey for a participant write: the instance's cached copy when it has one
// (no read), which the write's own check against the store keeps exact (see underSurvey).
func (s *Service) SurveyToWrite(ctx context.Context, c Caller, id string) (SurveyState, error) {
	canon, ok := ParseSurveyID(id)
	if !ok {
		return SurveyState{}, vocab.ErrNotFound
	}
	if sv, ok := s.surveys.get(c.WorkspaceID, canon); ok {
		if !sv.CanAccess(c.UserID) {
			return SurveyState{}, vocab.ErrNotFound
		}
		return SurveyState{Survey: sv, cached: true}, nil
	}
	st, err := s.accessible(ctx, c, canon, s.store.GetSurvey)
	if err == nil {
		s.surveys.put(c.WorkspaceID, st)
	}
	return st, err
}

type surveyRead func(ctx context.Context, ws, id string) (Survey, bool, error)

// accessible reads a survey with read and refuses (vocab.ErrNotFound) one the caller may not
// access.
func (s *Service) accessible(ctx context.Context, c Caller, id string, read surveyRead) (SurveyState, error) {
	sv, locked, err := read(ctx, c.WorkspaceID, id)
	if err != nil {
		return SurveyState{}, err
	}
	if !sv.CanAccess(c.UserID) {
		return SurveyState{}, vocab.ErrNotFound
	}
	return SurveyState{Survey: sv, Locked: locked}, nil
}

// underSurvey runs a participant write (its reads, validation and store write) under sv and,
// when that may have been the wrong survey, once more under the survey as it is now: when the
// store's check found the survey changed, deleted or held since sv was read, or when sv came
// from the cache and the write failed in any way (a refusal computed from stale settings
// would be wrong too). The survey is then read again, strongly consistently, into the cache;
// one that is gone or no longer accessible is ErrNoSurveyAccess. It returns the survey the
// write's outcome was decided under.
func (s *Service) underSurvey(ctx context.Context, c Caller, sv SurveyState, write func(SurveyState) error) (SurveyState, error) {
	err := write(sv)
	if err == nil || !(sv.cached || errors.Is(err, ErrSurveyChanged)) {
		return sv, err
	}
	s.surveys.drop(c.WorkspaceID, sv.ID)
	now, readErr := s.accessible(ctx, c, sv.ID, s.store.GetSurveyConsistent)
	switch {
	case errors.Is(readErr, vocab.ErrNotFound):
		return sv, ErrNoSurveyAccess
	case readErr != nil:
		return sv, readErr
	}
	s.surveys.put(c.WorkspaceID, now)
	if !errors.Is(err, ErrSurveyChanged) && now.Version == sv.Version && now.Locked == sv.Locked {
		return now, err // decided under the survey as it is
	}
	return now, write(now)
}

// Responses pages a survey's responses in creation order after response id after.
func (s *Service) Responses(ctx context.Context, c Caller, surveyID, after string, max int) ([]Response, bool, error) {
	return s.store.ListResponses(ctx, c.WorkspaceID, surveyID, after, max)
}

// Participants pages a survey's participants in creation order after participant id after.
func (s *Service) Participants(ctx context.Context, c Caller, surveyID, after string, max int) ([]StoredParticipant, bool, error) {
	return s.store.ListSnapParticipants(ctx, c.WorkspaceID, surveyID, after, max)
}

// Participant finds a survey's participant by its unique id: the login on a logged-on survey,
// else the email. An id that cannot name a participant is vocab.ErrNotFound without a read.
func (s *Service) Participant(ctx context.Context, c Caller, sv Survey, uniqueID string) (StoredParticipant, error) {
	if !couldNameParticipant(uniqueID) {
		return StoredParticipant{}, vocab.ErrNotFound
	}
	return s.store.GetSnapParticipant(ctx, c.WorkspaceID, sv, uniqueID)
}

func couldNameParticipant(uniqueID string) bool {
	return uniqueID != "" && len(uniqueID) <= MaxUniqueIDBytes && utf8.ValidString(uniqueID)
}

// AddParticipant adds the participant an Add Participant body describes, and returns the
// survey it was decided under (see underSurvey).
func (s *Service) AddParticipant(ctx context.Context, c Caller, sv SurveyState, body []byte) (Participant, SurveyState, error) {
	var added Participant
	sv, err := s.underSurvey(ctx, c, sv, func(sv SurveyState) error {
		var err error
		added, err = s.addParticipant(ctx, c, sv, body)
		return err
	})
	return added, sv, err
}

func (s *Service) addParticipant(ctx context.Context, c Caller, sv SurveyState, body []byte) (Participant, error) {
	if err := sv.Writable(); err != nil {
		return Participant{}, err
	}
	p, err := decodeValid(body, Context{Survey: sv.Survey, UserID: c.UserID, Op: Add})
	if err != nil {
		return Participant{}, err
	}
	if !fits(p) {
		return Participant{}, reject(MsgParticipantTooLarge)
	}
	if _, err := s.store.AddSnapParticipant(ctx, c.WorkspaceID, sv.Survey, p); err != nil {
		return Participant{}, err
	}
	return p, nil
}

// ReplaceParticipant replaces the participant uniqueID names with the one an Update Participant
// body describes. The stored participant is read before the body is validated, since
// validation keeps what the caller cannot change (statuses, subjects, an interviewer it may not
// manage); a participant that does not exist is MsgParticipantToUpdateNotFound, after the body's
// own checks. It returns the survey it was decided under (see underSurvey).
func (s *Service) ReplaceParticipant(ctx context.Context, c Caller, sv SurveyState, uniqueID string, body []byte) (Participant, SurveyState, error) {
	var replaced Participant
	sv, err := s.underSurvey(ctx, c, sv, func(sv SurveyState) error {
		var err error
		replaced, err = s.replaceParticipant(ctx, c, sv, uniqueID, body)
		return err
	})
	return replaced, sv, err
}

func (s *Service) replaceParticipant(ctx context.Context, c Caller, sv SurveyState, uniqueID string, body []byte) (Participant, error) {
	if err := sv.Writable(); err != nil {
		return Participant{}, err
	}
	existing, err := s.Participant(ctx, c, sv.Survey, uniqueID)
	var current *Participant
	switch {
	case err == nil:
		current = &existing.Participant
	case !errors.Is(err, vocab.ErrNotFound):
		return Participant{}, err
	}
	p, err := decodeValid(body, Context{Survey: sv.Survey, UserID: c.UserID, Op: Update, URLUniqueID: uniqueID, Existing: current})
	switch {
	case err != nil:
		return Participant{}, err
	case current == nil: // validation names a missing participant; this only guards the store
		return Participant{}, reject(MsgParticipantToUpdateNotFound)
	case !fits(p):
		return Participant{}, reject(MsgParticipantTooLarge)
	}
	if err := s.store.ReplaceSnapParticipant(ctx, c.WorkspaceID, sv.Survey, existing, p); err != nil {
		return Participant{}, err
	}
	return p, nil
}

// DeleteParticipant removes the participant uniqueID names.
func (s *Service) DeleteParticipant(ctx context.Context, c Caller, sv SurveyState, uniqueID string) error {
	_, err := s.underSurvey(ctx, c, sv, func(sv SurveyState) error {
		p, err := s.participantToChange(ctx, c, sv, uniqueID)
		if err != nil {
			return err
		}
		return s.store.DeleteSnapParticipant(ctx, c.WorkspaceID, sv.Survey, p)
	})
	return err
}

// participantToChange finds the participant a write changes, once the roster is writable.
func (s *Service) participantToChange(ctx context.Context, c Caller, sv SurveyState, uniqueID string) (StoredParticipant, error) {
	if err := sv.Writable(); err != nil {
		return StoredParticipant{}, err
	}
	return s.Participant(ctx, c, sv.Survey, uniqueID)
}

// Subjects lists a participant's subjects; a survey without logins has none to ask about
// (MsgSubjectsNeedLogins).
func (s *Service) Subjects(ctx context.Context, c Caller, sv Survey, uniqueID string) ([]Subject, error) {
	p, err := s.Participant(ctx, c, sv, uniqueID)
	if err != nil {
		return nil, err
	}
	if !sv.Logins || p.Login == nil {
		return nil, reject(MsgSubjectsNeedLogins)
	}
	return p.Login.Subjects, nil
}

// Subject reads the subject a path's name names (see subjectAtPath); ErrSubjectNotFound when
// none.
func (s *Service) Subject(ctx context.Context, c Caller, sv Survey, uniqueID, pathName string) (Subject, error) {
	subjects, err := s.Subjects(ctx, c, sv, uniqueID)
	if err != nil {
		return Subject{}, err
	}
	sub, ok := subjectAtPath(sv, subjects, pathName)
	if !ok {
		return Subject{}, ErrSubjectNotFound
	}
	return sub, nil
}

// subjectAtPath resolves a path's subject name: on a non-group questionnaire "null" (or "")
// names the one, empty-named subject.
func subjectAtPath(sv Survey, subjects []Subject, pathName string) (Subject, bool) {
	name := strings.TrimSpace(pathName)
	if !sv.Group {
		if name != NullSubjectPath && name != "" {
			return Subject{}, false
		}
		name = ""
	} else if name == "" {
		return Subject{}, false
	}
	if i, ok := findSubject(subjects, name); ok {
		return subjects[i], true
	}
	return Subject{}, false
}

// AddSubject adds the subject an Add Participant Subject body describes to a participant.
func (s *Service) AddSubject(ctx context.Context, c Caller, sv SurveyState, uniqueID string, body []byte) (Subject, error) {
	var added Subject
	err := s.changeParticipant(ctx, c, sv, uniqueID, func(sv Survey, p StoredParticipant) (Participant, error) {
		in, err := DecodeSubject(body)
		if err == nil {
			added, err = ValidateNewSubject(sv, p.Participant, in)
		}
		if err != nil {
			return Participant{}, err
		}
		return p.PutSubject(sv.Settings, added), nil
	})
	if err != nil {
		return Subject{}, err
	}
	return added, nil
}

// UpdateSubject replaces the seeding of the subject pathName names with an Update Participant
// Subject body's.
func (s *Service) UpdateSubject(ctx context.Context, c Caller, sv SurveyState, uniqueID, pathName string, body []byte) (Subject, error) {
	var updated Subject
	err := s.changeParticipant(ctx, c, sv, uniqueID, func(sv Survey, p StoredParticipant) (Participant, error) {
		in, err := DecodeSubject(body)
		if err == nil {
			updated, err = ValidateSubjectUpdate(sv, p.Participant, pathName, in)
		}
		if err != nil {
			return Participant{}, err
		}
		return p.PutSubject(sv.Settings, updated), nil
	})
	if err != nil {
		return Subject{}, err
	}
	return updated, nil
}

// DeleteSubject removes the subject pathName names from a participant.
func (s *Service) DeleteSubject(ctx context.Context, c Caller, sv SurveyState, uniqueID, pathName string) error {
	return s.changeParticipant(ctx, c, sv, uniqueID, func(sv Survey, p StoredParticipant) (Participant, error) {
		return ValidateSubjectDelete(sv, p.Participant, pathName)
	})
}

// changeParticipant runs a subject write under the survey (see underSurvey): read the
// participant, let change compute its new state from it and the survey, and store it under the
// participant's version. The body is decoded only once the participant is found, so a missing
// participant answers before a bad body.
func (s *Service) changeParticipant(ctx context.Context, c Caller, sv SurveyState, uniqueID string, change func(Survey, StoredParticipant) (Participant, error)) error {
	_, err := s.underSurvey(ctx, c, sv, func(sv SurveyState) error {
		p, err := s.participantToChange(ctx, c, sv, uniqueID)
		if err != nil {
			return err
		}
		after, err := change(sv.Survey, p)
		if err != nil {
			return err
		}
		if !fits(after) {
			return reject(MsgParticipantTooLarge)
		}
		return s.store.ReplaceSnapParticipant(ctx, c.WorkspaceID, sv.Survey, p, after)
	})
	return err
}

// ErrNoImportRows: a bulk import names no participant.
var ErrNoImportRows = errors.New("survey: the import has no participants")

// RowError is a bad row of a bulk import: its index in the payload and the Add Participant
// message it would get.
type RowError struct {
	Row     int
	Message string
}

// InvalidImport is a bulk import with bad rows, every one listed in row order; nothing of it is
// imported.
type InvalidImport struct {
	Total int
	Rows  []RowError
}

func (e *InvalidImport) Error() string {
	return fmt.Sprintf("survey: %d of %d import rows are invalid", len(e.Rows), e.Total)
}

// ValidateImport decodes and validates every row of a bulk import as an Add Participant body
// and returns the participants to add. Rows may not repeat a login or an email (ignoring
// case): an import runs its rows in parts apart, so nothing could tell which of two such rows
// should win. Bad rows make an *InvalidImport; a payload without rows is ErrNoImportRows.
func (s *Service) ValidateImport(c Caller, sv SurveyState, body []byte) ([]Participant, error) {
	if err := sv.Writable(); err != nil {
		return nil, err
	}
	raws, err := DecodeImport(body)
	if err != nil {
		return nil, err
	}
	if len(raws) == 0 {
		return nil, ErrNoImportRows
	}
	ctx := Context{Survey: sv.Survey, UserID: c.UserID, Op: Add}
	ps := make([]Participant, len(raws))
	var bad []RowError
	logins, emails := map[string]bool{}, map[string]bool{}
	for i, raw := range raws {
		p, err := decodeValid(raw, ctx)
		msg := ""
		var invalid *Error
		switch {
		case errors.As(err, &invalid):
			msg = invalid.Message
		case err != nil:
			return nil, err
		case !fits(p):
			msg = MsgParticipantTooLarge
		default:
			msg = repeated(p, logins, emails)
		}
		if msg != "" {
			bad = append(bad, RowError{Row: i, Message: msg})
		}
		ps[i] = p
	}
	if len(bad) > 0 {
		return nil, &InvalidImport{Total: len(raws), Rows: bad}
	}
	return ps, nil
}

// repeated returns the Add Participant message for a row whose login or email an earlier row
// has, and notes the row's.
func repeated(p Participant, logins, emails map[string]bool) string {
	login, email := p.UniqueKeys()
	if login != "" {
		if logins[login] {
			return MsgLoginTaken
		}
		logins[login] = true
	}
	if email != "" {
		if emails[email] {
			return MsgEmailTaken
		}
		emails[email] = true
	}
	return ""
}

func decodeValid(body []byte, ctx Context) (Participant, error) {
	in, err := DecodeParticipant(body)
	if err != nil {
		return Participant{}, err
	}
	return ValidateParticipant(ctx, in)
}

// fits reports whether a participant fits in one stored record.
func fits(p Participant) bool {
	b, err := json.Marshal(p)
	return err == nil && len(b) <= MaxParticipantBytes
}
