// Package survey is the Snap XMP Online domain: surveys, their variables and the participants
// invited to them or allowed to log on to them. It knows nothing of HTTP or DynamoDB: it decodes
// and validates what a client sends, and its Service runs the API's use cases over the Store it
// defines (service.go), which an adapter implements.
//
// The vendor's contract is its list of 400 messages (messages.go); every rejection here is an
// *Error whose Message is one of them, or, for situations the vendor's list does not cover
// (malformed JSON, the subject calls), a clear message of our own, also in messages.go.
package survey

import (
	"errors"
	"strings"
	"time"
)

// Sentinel errors the API layer maps to statuses.
var (
	// ErrBadJSON: the body is not the JSON the call takes (not an object, a field of the wrong
	// type). Errors wrapping it are also *Error, so the API layer can answer 400 with Message.
	ErrBadJSON = errors.New("survey: bad JSON")
	// ErrSubjectNotFound: the subject named in the path is not one of the participant's (404).
	ErrSubjectNotFound = errors.New("survey: subject not found")
	// ErrRosterLocked: an import holds the survey's roster, so its participants cannot change
	// (MsgImportInProgress) until the import ends.
	ErrRosterLocked = errors.New("survey: roster locked by an import")
	// ErrLoginTaken: another participant of the survey has the login (MsgLoginTaken).
	ErrLoginTaken = errors.New("survey: login taken")
	// ErrEmailTaken: another participant of the survey has the email (MsgEmailTaken).
	ErrEmailTaken = errors.New("survey: email taken")
	// ErrSurveyChanged: since the survey a participant write was made under was read, it
	// changed (another version), was deleted, or an import took its roster; nothing was written.
	ErrSurveyChanged = errors.New("survey: the survey changed since it was read")
	// ErrNoSurveyAccess: the survey does not exist (any more) or the caller may not access it;
	// the vendor answers both 401 (MsgNoSurveyAccess in the API layer).
	ErrNoSurveyAccess = errors.New("survey: no such survey for the caller")
)

// Error is a 400 whose Message is what the client is told, word for word.
type Error struct {
	Message string
	// Err, when set, is the sentinel the error also matches (ErrBadJSON for decoding failures).
	Err error
}

func (e *Error) Error() string { return e.Message }

// Unwrap lets errors.Is(err, ErrBadJSON) pick out decoding failures.
func (e *Error) Unwrap() error { return e.Err }

func reject(msg string) error { return &Error{Message: msg} }

// Response types of a survey variable, as the vendor spells them.
const (
	ResponseSingle   = "Single"
	ResponseMultiple = "Multiple"
	ResponseText     = "Text"
	ResponseNumeric  = "Numeric"
	ResponseDate     = "Date"
)

// Participant and subject statuses. They are derived from interviewing, never taken from input.
const (
	NotStarted = "NotStarted"
	Started    = "Started"
	Partial    = "Partial"
	Saved      = "Saved"
	Completed  = "Completed"
	Submitted  = "Submitted"
)

// Settings are a survey's participant feature switches.
type Settings struct {
	Invites bool // participants are invited by email
	Logins  bool // participants log on to see the questionnaire
	Group   bool // group questionnaire: one or more named subjects per participant
	// SOIAllowed: participants may be synchronised to SOI and given an interviewer.
	SOIAllowed bool
	// SOIUsers are the emails of the users with SOI access: the valid interviewers.
	SOIUsers []string
	// SOIManagers are the ids of the users allowed to "Manage participants for SOI".
	SOIManagers []string
	// InviteKeys are the invite seeding properties the survey defines.
	InviteKeys []string
}

// SupportsParticipants reports whether the survey has a participant feature at all.
func (s Settings) SupportsParticipants() bool { return s.Invites || s.Logins }

// Code is one answer code of a single or multiple choice variable.
type Code struct {
	Index int
	Value string
	Label string
}

// Variable is one survey variable (question).
type Variable struct {
	ID             string // "V46"
	Order          int
	Name           string // "Q1"
	Label          string
	QuestionText   string
	VariableTypeID int
	ResponseTypeID int
	VariableType   string // "Question"
	ResponseType   string // ResponseSingle, ResponseMultiple, ...
	// Seeding: the variable may be seeded from a participant's questionnaire seeding.
	Seeding bool
	Codes   []Code
}

// hasCode reports whether v is one of the variable's code values.
func (v Variable) hasCode(value string) bool {
	for _, c := range v.Codes {
		if c.Value == value {
			return true
		}
	}
	return false
}

// Survey is one Snap XMP Online survey.
type Survey struct {
	ID                string // GUID, lower-case canonical (see ParseSurveyID)
	OwnerID           string
	OwnerName         string
	Name              string
	Title             string
	Path              []string // folder names
	InterviewingState string
	Settings
	Variables  []Variable
	SharedWith []string // ids of the users the owner shared the survey with
	CreatedAt  time.Time
	// Version is the store's count of the survey's changes, as it was read: every participant
	// write is made under it, and fails (ErrSurveyChanged) once the survey has moved on. It is
	// the store's to set, never part of a definition.
	Version int64 `dynamodbav:"-" json:"-"`
}

// CanAccess reports whether the user owns the survey or has it shared with them. The vendor
// answers 401, not 404, for a survey the user cannot access.
func (s Survey) CanAccess(userID string) bool {
	return userID != "" && (strings.EqualFold(userID, s.OwnerID) || containsFold(s.SharedWith, userID))
}

// Variable finds a variable by id, ignoring case: clients write "v46" for "V46".
func (s Survey) Variable(id string) (Variable, bool) {
	for _, v := range s.Variables {
		if strings.EqualFold(v.ID, id) {
			return v, true
		}
	}
	return Variable{}, false
}

// CanManageSOI reports whether the user may see and set interviewers: the survey allows SOI and
// the user owns it or holds "Manage participants for SOI". For anyone else a participant's
// interviewer reads as null.
func (s Survey) CanManageSOI(userID string) bool {
	return s.SOIAllowed && userID != "" && (strings.EqualFold(userID, s.OwnerID) || containsFold(s.SOIManagers, userID))
}

// ParseSurveyID returns the canonical (lower-case, hyphenated) form of a survey GUID, accepting
// upper case and surrounding braces, or false when s is not a GUID. A path id that is not a
// GUID can never name a survey.
func ParseSurveyID(s string) (string, bool) {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) != 36 {
		return "", false
	}
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return "", false
			}
		}
	}
	return string(b), true
}

// Participant is a survey participant as stored. Invitation is set iff the survey invites,
// Login iff it tracks logins.
type Participant struct {
	Enabled    bool
	Invitation *Invitation
	Login      *Login
}

// Invitation is the invitation section of an invited participant.
type Invitation struct {
	OptedOut        bool
	SendInvitations bool
	EmailAddress    string // "" when none was given (allowed only when the survey also logs on)
	// InviteSeeding maps the survey's invite keys, in the survey's spelling, to values.
	InviteSeeding map[string]string
}

// Login is the login section of a logged-on participant.
type Login struct {
	Login *string
	// Password is nil or "" when none is required.
	Password *string
	// Interviewer is nil when the survey does not allow SOI, "" for all interviewers, else the
	// email of a user with SOI access (in the survey's spelling).
	Interviewer *string
	// Status is the overall status (OverallStatus), derived and read-only.
	Status   string
	Subjects []Subject
}

// Subject is one questionnaire of a logged-on participant: the only one, named "", on a
// non-group questionnaire; one of several, each named, on a group questionnaire.
type Subject struct {
	Name string
	// QuestionnaireSeeding maps variable ids, in the survey's spelling ("V46"), to values.
	QuestionnaireSeeding map[string]string
	Status               string // derived and read-only
}

// UniqueKeys are the participant's login and email address as a survey keeps them unique: in
// lower case, "" for none. Two participants of a survey never share a non-empty one.
func (p Participant) UniqueKeys() (login, email string) {
	if p.Login != nil && p.Login.Login != nil {
		login = strings.ToLower(*p.Login.Login)
	}
	if p.Invitation != nil {
		email = strings.ToLower(p.Invitation.EmailAddress)
	}
	return login, email
}

// UniqueID is the participant's id in URLs: the login on a logged-on survey, else the email.
func (p Participant) UniqueID(s Settings) string {
	if s.Logins {
		if p.Login == nil || p.Login.Login == nil {
			return ""
		}
		return *p.Login.Login
	}
	if p.Invitation == nil {
		return ""
	}
	return p.Invitation.EmailAddress
}

// Status is the participant's overall status, or "" (JSON null) on an invite-only survey,
// which does not track interviewing per participant.
func (p Participant) Status() string {
	if p.Login == nil {
		return ""
	}
	return p.Login.Status
}

// OverallStatus derives a logged-on participant's status from its subjects. A non-group
// participant has the status of its one subject. A group participant is NotStarted until a
// subject starts, Completed once every subject is completed (a researcher's submitted partial
// counts), else Started.
func OverallStatus(group bool, subjects []Subject) string {
	if len(subjects) == 0 {
		return NotStarted
	}
	if !group {
		return subjectStatus(subjects[0])
	}
	started, done := false, 0
	for _, sub := range subjects {
		switch subjectStatus(sub) {
		case NotStarted:
		case Completed, Submitted:
			started = true
			done++
		default:
			started = true
		}
	}
	switch {
	case done == len(subjects):
		return Completed
	case started:
		return Started
	}
	return NotStarted
}

// subjectStatus reads an unset status as NotStarted: a subject nobody has touched.
func subjectStatus(sub Subject) string {
	if sub.Status == "" {
		return NotStarted
	}
	return sub.Status
}

// PutSubject returns a copy of p with sub replacing the subject of the same name (ignoring
// case), or added when there is none, and the overall status derived again. p is not changed.
func (p Participant) PutSubject(s Settings, sub Subject) Participant {
	if p.Login == nil {
		return p
	}
	login := *p.Login
	login.Subjects = make([]Subject, 0, len(p.Login.Subjects)+1)
	replaced := false
	for _, old := range p.Login.Subjects {
		if strings.EqualFold(old.Name, sub.Name) && !replaced {
			login.Subjects = append(login.Subjects, sub)
			replaced = true
			continue
		}
		login.Subjects = append(login.Subjects, old)
	}
	if !replaced {
		login.Subjects = append(login.Subjects, sub)
	}
	login.Status = OverallStatus(s.Group, login.Subjects)
	p.Login = &login
	return p
}

func containsFold(list []string, s string) bool {
	_, ok := findFold(list, s)
	return ok
}

// findFold returns the element of list equal to s ignoring case, in the list's spelling.
func findFold(list []string, s string) (string, bool) {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return x, true
		}
	}
	return "", false
}
