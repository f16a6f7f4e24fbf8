package survey

import "time"

// User is a Snap API user: a person in a workspace who owns surveys or has them shared.
type User struct {
	ID          string
	WorkspaceID string
	Username    string // the user's email address, sent as X-USERNAME
	Fullname    string
	CreatedAt   time.Time
}

// StoredParticipant is a participant as the store keeps it: its internal id orders the
// participant list, and its version guards read-modify-write.
type StoredParticipant struct {
	ID      string
	Version int64
	Participant
}

// Response is one completed or partial questionnaire response (a case).
type Response struct {
	ID     string
	CaseID int
	Status string            // Completed, Partial, ...
	Values map[string]string // variable id -> code value(s) (";"-separated) or text
}
