// Package screening is the Spot Thought domain: tenant participants, screeners, the screener
// participants that link them, and screener sessions. It knows nothing of HTTP or DynamoDB; it
// decides what an import changes and asks a Store to write it.
package screening

import (
	"errors"
	"time"

	"github.com/participant-roster/roster/pkg/vocab"
)

// Participant is a tenant participant: one person in the workspace, unique by email and, when
// set, by external uid.
type Participant struct {
	ID          string
	ExternalUID string // "" when the CRM gave none
	Email       string
	Name        string
	CreatedBy   *vocab.Actor
	CreatedAt   time.Time
	UpdatedBy   *vocab.Actor
	UpdatedAt   time.Time
	// Links maps screener id to the id of this participant's screener participant in it.
	Links map[string]string
	// Version guards read-modify-write: every change checks and bumps it.
	Version int64
}

// Screener is a screening questionnaire that participants are invited to.
type Screener struct {
	ID                  string
	Title               string
	Description         *string
	ActivePublicationID *string
	CreatedBy           *vocab.Actor
	CreatedAt           time.Time
	UpdatedBy           *vocab.Actor
	UpdatedAt           time.Time
}

// SessionState is where a screener session stands.
type SessionState string

const (
	SessionNotStarted SessionState = "NOT_STARTED"
	SessionInProgress SessionState = "IN_PROGRESS"
	SessionCompleted  SessionState = "COMPLETED"
)

// Outcome is a completed session's result.
type Outcome string

const (
	OutcomeNone         Outcome = ""
	OutcomeQualified    Outcome = "QUALIFIED"
	OutcomeDisqualified Outcome = "DISQUALIFIED"
)

// Status of a screener participant, derived from its latest session.
type Status string

const (
	StatusNotStarted   Status = "NOT_STARTED"
	StatusInProgress   Status = "IN_PROGRESS"
	StatusQualified    Status = "QUALIFIED"
	StatusDisqualified Status = "DISQUALIFIED"
	StatusUnknown      Status = "UNKNOWN"
	StatusRemoved      Status = "REMOVED"
)

// LatestSession is the part of a screener participant's latest session its status comes from.
type LatestSession struct {
	ID      string
	State   SessionState
	Outcome Outcome
}

// ScreenerParticipant links a participant to a screener. Name, email and external uid are
// copies of the participant's, kept in step by every change to the participant.
type ScreenerParticipant struct {
	ID            string
	ScreenerID    string
	ParticipantID string
	ExternalUID   string
	Name          string
	Email         string
	Latest        *LatestSession
	CreatedAt     time.Time
	Removed       bool // set only on the record a DELETE returns
	// Seq is the record's place in its screener's roster, given by the store when it is
	// written (zero before): a removal names it, so the store knows which count it leaves.
	Seq int64
}

// Status derives the screening status from the latest session.
func (sp ScreenerParticipant) Status() Status {
	switch {
	case sp.Removed:
		return StatusRemoved
	case sp.Latest == nil:
		return StatusNotStarted
	case sp.Latest.State == SessionInProgress:
		return StatusInProgress
	case sp.Latest.State == SessionCompleted && sp.Latest.Outcome == OutcomeQualified:
		return StatusQualified
	case sp.Latest.State == SessionCompleted && sp.Latest.Outcome == OutcomeDisqualified:
		return StatusDisqualified
	}
	return StatusUnknown
}

// CurrentSessionID is the latest session's id, or "" when none started.
func (sp ScreenerParticipant) CurrentSessionID() string {
	if sp.Latest == nil {
		return ""
	}
	return sp.Latest.ID
}

// Session is one screener session of a screener participant.
type Session struct {
	ID                    string
	ScreenerID            string
	ScreenerParticipantID string
	PublicationID         *string
	LinkSlug              string
	State                 SessionState
	Outcome               Outcome
	StartedAt             time.Time
	LastActiveAt          time.Time
	CompletedAt           *time.Time
}

// Page selects a window of a list in creation order: Limit records from Offset, or, when
// Cursor is set (Offset is then 0), Limit records after the record the cursor names.
type Page struct {
	Offset int
	Limit  int
	// Cursor is opaque: a List's Next, made by the store for this list of this workspace.
	Cursor string
}

// List is one page of a collection and the collection's exact size.
type List[T any] struct {
	Items []T
	Total int
	// Next is the cursor of the page that follows, "" on the last page.
	Next string
}

// MaxCursorLen bounds a Page.Cursor's length, checked where a request enters (the store's
// cursors are far shorter; decoding one is bounded by it).
const MaxCursorLen = 512

// ErrInvalidCursor is a Page.Cursor the store did not make for this list: malformed, or made
// for another list, filter or workspace.
var ErrInvalidCursor = errors.New("screening: invalid cursor")

// ParticipantFilter narrows the participant list; empty fields do not filter.
type ParticipantFilter struct {
	ExternalUID string
	Email       string
}

// SessionFilter narrows the session list; empty fields do not filter.
type SessionFilter struct {
	ScreenerID            string
	ScreenerParticipantID string
}
