package jobs

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Job statuses: QUEUED until a chunk starts, RUNNING until the finisher ends it, then
// COMPLETED, FAILED or CANCELED for good. A cancel of a RUNNING job makes it CANCELING: the
// chunks in flight finish and count, the others are skipped, and the finisher ends it CANCELED.
const (
	Queued    = "QUEUED"
	Running   = "RUNNING"
	Canceling = "CANCELING" // a cancel was asked: chunks in flight finish, the others are skipped
	Completed = "COMPLETED"
	Failed    = "FAILED"
	Canceled  = "CANCELED"
)

// Row outcomes: what one row did (or, in a dry run, would do); the words on the wire too.
const (
	OutcomeCreated   = "created"
	OutcomeUpdated   = "updated"
	OutcomeUnchanged = "unchanged"
	OutcomeFailed    = "failed"
	OutcomeSkipped   = "skipped" // the job was canceled (or its chunk lost) before the row ran
	OutcomeRemoved   = "removed" // a record a full sync removed (or, in a dry run, would remove); Row is -1
)

// Outcomes are the row outcomes in the order results and counts list them.
var Outcomes = []string{OutcomeCreated, OutcomeUpdated, OutcomeUnchanged, OutcomeFailed, OutcomeSkipped, OutcomeRemoved}

// ValidOutcome reports whether s is one of the row outcomes (check a filter before the store).
func ValidOutcome(s string) bool {
	for _, o := range Outcomes {
		if o == s {
			return true
		}
	}
	return false
}

// Retention is how long a job and its results are kept from its creation: every item of a job
// carries its ExpiresAt as the table's time to live, and reads treat an expired job as gone.
const Retention = 7 * 24 * time.Hour

// Errors of the jobs store.
var (
	// ErrClosed: the job is finished (or gone); a chunk can no longer be counted on it.
	ErrClosed = errors.New("jobs: job is closed")
	// ErrFinished: a cancel of a job that is COMPLETED or FAILED (or whose full sync's
	// removals have begun: it can no longer be stopped).
	ErrFinished = errors.New("jobs: job is finished")
	// ErrCancelRequested: the store refused to start a job's removals because a cancel was
	// asked (Finishing.PlanRemovals turns it into proceed=false; families never see it).
	ErrCancelRequested = errors.New("jobs: a cancel was asked")
	// ErrLeaseLost: another worker took over finishing the job.
	ErrLeaseLost = errors.New("jobs: finishing lease lost")
	// ErrTargetHeld: another job holds the target (a job that holds its target was asked
	// for while one was running).
	ErrTargetHeld = errors.New("jobs: target held by another job")
	// ErrHoldLost: a family's write found that its job no longer holds the target (the job
	// ended meanwhile).
	ErrHoldLost = errors.New("jobs: job no longer holds its target")
)

// Prefix starts a job id: "job_" and a ULID, like every other id (package ids).
const Prefix ids.Prefix = "job_"

// NewID returns a fresh job id.
func NewID() string { return ids.New(Prefix) }

// ValidID reports whether s can be a job id (check ids in paths before they reach the store).
func ValidID(s string) bool { return ids.Valid(Prefix, s) }

// Counts are a job's row counts. Once a job is terminal, Processed + Skipped == Total.
type Counts struct {
	Processed int // rows handled, failed ones included: Created + Updated + Unchanged + Failed
	Created   int // records the rows created
	Updated   int // records the rows changed
	Unchanged int // rows that changed nothing
	Removed   int // records the finish removed (a full sync's absent rows); not a row count
	Failed    int // rows rejected, or rows of a chunk that failed
	Skipped   int // rows that never ran: the job was canceled, or their chunk was lost
}

// CountRows counts rows by outcome (removals count Removed; they are not rows).
func CountRows(rows []RowResult) Counts {
	var c Counts
	for _, r := range rows {
		switch r.Outcome {
		case OutcomeCreated:
			c.Created++
		case OutcomeUpdated:
			c.Updated++
		case OutcomeUnchanged:
			c.Unchanged++
		case OutcomeFailed:
			c.Failed++
		case OutcomeSkipped:
			c.Skipped++
		case OutcomeRemoved:
			c.Removed++
		}
	}
	c.Processed = c.Created + c.Updated + c.Unchanged + c.Failed
	return c
}

// Of returns the count of one outcome ("" for every row: Processed + Skipped).
func (c Counts) Of(outcome string) int {
	switch outcome {
	case OutcomeCreated:
		return c.Created
	case OutcomeUpdated:
		return c.Updated
	case OutcomeUnchanged:
		return c.Unchanged
	case OutcomeFailed:
		return c.Failed
	case OutcomeSkipped:
		return c.Skipped
	case OutcomeRemoved:
		return c.Removed
	}
	return c.Processed + c.Skipped
}

// Add returns c and d summed.
func (c Counts) Add(d Counts) Counts {
	return Counts{
		Processed: c.Processed + d.Processed, Created: c.Created + d.Created, Updated: c.Updated + d.Updated,
		Unchanged: c.Unchanged + d.Unchanged, Removed: c.Removed + d.Removed, Failed: c.Failed + d.Failed,
		Skipped: c.Skipped + d.Skipped,
	}
}

// RowResult is what one row did (or, in a dry run, would do).
type RowResult struct {
	Row     int               // index in the payload; -1 for a removal
	Outcome string            // one of the Outcome* words
	IDs     map[string]string // ids the row made or touched, by the family's wire names ("participantId": "ptp_…")
	Errors  []FieldError      // why it failed (Outcome failed)
	// Fields is the row as sent, in the family's row encoding (the engine fills it for payload
	// rows from the chunk message); for a removal, the removed record in the family's row
	// encoding.
	Fields json.RawMessage
}

// ListQuery selects a workspace's jobs, newest first; an empty field matches every job.
type ListQuery struct {
	Family, Target, Status string
	Offset, Limit          int
}

// ResultQuery selects a job's results: payload rows in row order, then removals; Outcome ""
// matches every result, and Offset counts matching results only.
type ResultQuery struct {
	Outcome       string
	Offset, Limit int
}

// Job is one asynchronous import: a family's rows against one target, in chunks.
type Job struct {
	ID          string
	WorkspaceID string
	Family      string // the Family.Name() that runs its chunks
	Target      string // what the rows go into (a screener id, a survey id)
	Mode        string // the family's mode (e.g. UPDATES_ONLY, FULL_SYNC, ADD)
	// HoldsTarget: while the job is not finished it holds its target, and nothing else may
	// write the target's records (the store takes and releases the hold with the job).
	HoldsTarget bool
	// DryRun: the rows are planned and nothing is written; a dry run never holds its target.
	DryRun bool
	// MaxRemovals is a full sync's removal guard (nil: none): a finish that would remove more
	// removes nothing and the job ends FAILED.
	MaxRemovals *int
	Actor       *vocab.Actor
	Status      string
	Total       int // rows in the payload
	Chunks      int
	Counts      Counts
	ChunksDone  int
	// FailedChunks counts chunks that failed for good (their rows are counted failed).
	FailedChunks int
	Reason       string // why the job FAILED
	// CancelRequestedAt is when a cancel was asked (nil: never).
	CancelRequestedAt *time.Time
	// RowReadUnits and RowWriteUnits are what the rows' own work cost (the bookkeeping of the
	// job is not included): an import of unchanged rows writes 0 units.
	RowReadUnits, RowWriteUnits float64
	CreatedAt                   time.Time
	StartedAt, FinishedAt       *time.Time
	// ProgressAt is the last time the job made progress (created, started, a chunk counted):
	// the Sweeper ends a job that makes none for too long.
	ProgressAt time.Time
	// ExpiresAt is when the job and its results are deleted (the table's TTL): CreatedAt +
	// Retention. Reads treat a job past it as not found.
	ExpiresAt time.Time
}

// Terminal reports whether the job is finished.
func (j Job) Terminal() bool { return Terminal(j.Status) }

// Terminal reports whether a status is a final one: COMPLETED, FAILED or CANCELED.
func Terminal(status string) bool {
	return status == Completed || status == Failed || status == Canceled
}

// Expired reports whether the job is past its retention at now (a job stored without an
// expiry never is).
func (j Job) Expired(now time.Time) bool { return !j.ExpiresAt.IsZero() && !now.Before(j.ExpiresAt) }

// Unrun is how many rows have neither run nor been skipped yet.
func (j Job) Unrun() int { return max(0, j.Total-j.Counts.Processed-j.Counts.Skipped) }

// AllChunksDone reports whether every chunk of the job is counted, so it can be finished.
func (j Job) AllChunksDone() bool { return j.ChunksDone >= j.Chunks }

// ChunkResult is the completion record of one chunk.
type ChunkResult struct {
	N        int
	FirstRow int
	Rows     int
	Counts   Counts // Removed is unused; Skipped: a chunk delivered after a cancel
	// Keep are the keys of the target's records that the chunk's rows name (a family's finish
	// keeps them, e.g. a full sync removes the records no chunk names).
	Keep   []string
	Failed bool // the chunk failed for good: all its rows are counted failed
	Reason string
	// ReadUnits and WriteUnits are what the chunk's rows cost.
	ReadUnits, WriteUnits float64
	// Attempt names the attempt whose results (Store.PutResults) are the chunk's ("": none
	// stored).
	Attempt string
}

// failedChunk is the record of a chunk that failed for good: every row counts failed.
func failedChunk(n, firstRow, rows int, reason string) ChunkResult {
	return ChunkResult{
		N: n, FirstRow: firstRow, Rows: rows, Counts: Counts{Processed: rows, Failed: rows},
		Failed: true, Reason: truncate(reason),
	}
}

// FieldError is one problem with one field of a row.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

// RowError is a rejected row: its index in the whole payload and its problems.
type RowError struct {
	Row    int
	Errors []FieldError
}
