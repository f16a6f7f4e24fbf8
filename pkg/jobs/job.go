package jobs

import (
	"errors"
	"time"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Job statuses: QUEUED until a chunk starts, RUNNING until the finisher ends it, then
// COMPLETED or FAILED for good.
const (
	Queued    = "QUEUED"
	Running   = "RUNNING"
	Completed = "COMPLETED"
	Failed    = "FAILED"
)

// Errors of the jobs store.
var (
	// ErrClosed: the job is finished (or gone); a chunk can no longer be counted on it.
	ErrClosed = errors.New("jobs: job is finished")
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

// Counts are a job's row counts.
type Counts struct {
	Processed int // rows handled, failed ones included
	Created   int // records the rows created
	Updated   int // records the rows changed
	Unchanged int // rows that changed nothing
	Removed   int // records the finish removed (a full sync's absent rows)
	Failed    int // rows rejected, or rows of a chunk that failed
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
	Actor       *vocab.Actor
	Status      string
	Total       int // rows in the payload
	Chunks      int
	Counts      Counts
	ChunksDone  int
	// FailedChunks counts chunks that failed for good (their rows are counted failed).
	FailedChunks int
	Reason       string // why the job FAILED
	// RowReadUnits and RowWriteUnits are what the rows' own work cost (the bookkeeping of the
	// job is not included): an import of unchanged rows writes 0 units.
	RowReadUnits, RowWriteUnits float64
	CreatedAt                   time.Time
	StartedAt, FinishedAt       *time.Time
}

// Terminal reports whether the job is finished.
func (j Job) Terminal() bool { return j.Status == Completed || j.Status == Failed }

// AllChunksDone reports whether every chunk of the job is counted, so it can be finished.
func (j Job) AllChunksDone() bool { return j.ChunksDone >= j.Chunks }

// ChunkResult is the completion record of one chunk.
type ChunkResult struct {
	N        int
	FirstRow int
	Rows     int
	Counts   Counts // Removed is unused
	// Keep are the keys of the target's records that the chunk's rows name (a family's finish
	// keeps them, e.g. a full sync removes the records no chunk names).
	Keep   []string
	Failed bool // the chunk failed for good: all its rows are counted failed
	Reason string
	// ReadUnits and WriteUnits are what the chunk's rows cost.
	ReadUnits, WriteUnits float64
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
