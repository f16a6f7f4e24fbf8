package spotclient

// The Spot import API's wire shapes as api/openapi.yaml documents them (our extensions of the
// vendor's API). The client declares its own copy on purpose: roster-sync is installed on a
// CRM host and talks HTTP only, so it links none of the server's packages; a test in
// cmd/roster-sync checks these words against the server's declarations.

// Header names.
const (
	HeaderKey         = "X-Spot-Api-Key"
	HeaderSecret      = "X-Spot-Api-Secret"
	HeaderIdempotency = "Idempotency-Key"
	HeaderReplayed    = "Idempotent-Replayed"
)

// Import modes.
const (
	ModeUpdatesOnly = "UPDATES_ONLY"
	ModeFullSync    = "FULL_SYNC"
)

// Job statuses.
const (
	StatusQueued    = "QUEUED"
	StatusRunning   = "RUNNING"
	StatusCanceling = "CANCELING"
	StatusCompleted = "COMPLETED"
	StatusFailed    = "FAILED"
	StatusCanceled  = "CANCELED"
)

// Statuses lists every job status, for flag checks and usage text.
var Statuses = []string{StatusQueued, StatusRunning, StatusCanceling, StatusCompleted, StatusFailed, StatusCanceled}

// Row outcomes.
const (
	OutcomeCreated   = "created"
	OutcomeUpdated   = "updated"
	OutcomeUnchanged = "unchanged"
	OutcomeFailed    = "failed"
	OutcomeSkipped   = "skipped"
	OutcomeRemoved   = "removed"
)

// Outcomes lists every row outcome.
var Outcomes = []string{OutcomeCreated, OutcomeUpdated, OutcomeUnchanged, OutcomeFailed, OutcomeSkipped, OutcomeRemoved}

// Problem error codes the client acts on.
const (
	CodeIdempotencyKeyInUse = "IDEMPOTENCY_KEY_IN_USE" // the first request with the key still runs: wait, retry
	CodeConflict            = "CONFLICT"               // records changed while the request ran: retry
	CodeImportFinished      = "IMPORT_FINISHED"        // cancel of a COMPLETED or FAILED job
	CodeTooManyRemovals     = "TOO_MANY_REMOVALS"
)

// Terminal reports whether a job status is final.
func Terminal(status string) bool {
	return status == StatusCompleted || status == StatusFailed || status == StatusCanceled
}

// Counts are a job's (or a plan's) row counts. Processed + Skipped == Total once a job is
// terminal; Removed counts records a FULL_SYNC removed (or would remove), not rows.
type Counts struct {
	Total     int `json:"total"`
	Processed int `json:"processed"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Removed   int `json:"removed"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
}

// Done is how many rows have an outcome: processed or skipped.
func (c Counts) Done() int { return c.Processed + c.Skipped }

// FieldError is one problem with one field (of one row, when Row is set).
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Row     *int   `json:"row,omitempty"`
}

// JobError is one row error in a job's answer (the first ones only).
type JobError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Job is a ScreenerParticipantImport.
type Job struct {
	ID                string     `json:"id"`
	ScreenerID        string     `json:"screenerId"`
	ImportMode        string     `json:"importMode"`
	Status            string     `json:"status"`
	DryRun            bool       `json:"dryRun"`
	MaxRemovals       *int       `json:"maxRemovals"`
	Counts            Counts     `json:"counts"`
	Errors            []JobError `json:"errors"`
	Reason            *string    `json:"reason"`
	CreatedAt         string     `json:"createdAt"`
	StartedAt         *string    `json:"startedAt"`
	FinishedAt        *string    `json:"finishedAt"`
	CancelRequestedAt *string    `json:"cancelRequestedAt"`
	ExpiresAt         string     `json:"expiresAt"`
}

// ReasonText is the job's reason, or "".
func (j Job) ReasonText() string {
	if j.Reason == nil {
		return ""
	}
	return *j.Reason
}

// Plan is a synchronous dry run's answer (ScreenerParticipantImportPlan).
type Plan struct {
	DryRun     bool     `json:"dryRun"`
	ScreenerID string   `json:"screenerId"`
	ImportMode string   `json:"importMode"`
	Counts     Counts   `json:"counts"`
	Results    []Result `json:"results"`
}

// Result is what one row did, or in a dry run would do (ScreenerParticipantImportResult).
// Row is nil for a removal.
type Result struct {
	Row                   *int         `json:"row"`
	Outcome               string       `json:"outcome"`
	ExternalUID           string       `json:"externalUid"`
	Email                 string       `json:"email"`
	Name                  string       `json:"name"`
	ParticipantID         string       `json:"participantId"`
	ScreenerParticipantID string       `json:"screenerParticipantId"`
	Errors                []FieldError `json:"errors"`
}

// Page is one page of a Spot list.
type Page[T any] struct {
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
	Items  []T `json:"items"`
}

// Problem is the family's error envelope.
type Problem struct {
	Status    int          `json:"status"`
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	RequestID string       `json:"requestId"`
	Errors    []FieldError `json:"errors"`
}
