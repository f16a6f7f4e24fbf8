package screening

import (
	"errors"
	"fmt"
)

// RowOutcome is what an import row did (or, in a dry run, would do) to the screener's roster.
type RowOutcome string

const (
	// RowCreated: the row put its participant on the roster (a new screener participant, and
	// a new tenant participant when none matched).
	RowCreated RowOutcome = "created"
	// RowUpdated: the row changed its participant, already on the roster.
	RowUpdated RowOutcome = "updated"
	// RowUnchanged: the row matched what is stored; it costs no write.
	RowUnchanged RowOutcome = "unchanged"
)

// RowResult is one row's part of an import report.
type RowResult struct {
	Outcome RowOutcome
	// ScreenerParticipant is the row's screener participant as the import leaves it. In a dry
	// run, the ids the import would make are empty (the real import makes new ones): a new
	// participant's ParticipantID, a new screener participant's ID.
	ScreenerParticipant ScreenerParticipant
}

// ImportReport says what an import did, or in a dry run what it would do.
type ImportReport struct {
	DryRun bool
	// Rows has one result per request row, in row order.
	Rows []RowResult
	// Removed are the screener participants a FULL_SYNC removes (or would remove).
	Removed []ScreenerParticipant
}

// ScreenerParticipants returns the rows' screener participants, in row order.
func (r ImportReport) ScreenerParticipants() []ScreenerParticipant {
	out := make([]ScreenerParticipant, len(r.Rows))
	for i, row := range r.Rows {
		out[i] = row.ScreenerParticipant
	}
	return out
}

// Count returns how many rows had the outcome.
func (r ImportReport) Count(o RowOutcome) int {
	n := 0
	for _, row := range r.Rows {
		if row.Outcome == o {
			n++
		}
	}
	return n
}

// rowResult is the outcome of a row's change (nil: none): a change that links the participant
// to the screener creates a screener participant, any other change updates one.
func rowResult(c *Change, sp ScreenerParticipant, dryRun bool) RowResult {
	switch {
	case c == nil:
		return RowResult{Outcome: RowUnchanged, ScreenerParticipant: sp}
	case c.Link == nil:
		return RowResult{Outcome: RowUpdated, ScreenerParticipant: sp}
	}
	if dryRun {
		sp.ID = "" // made by the real import, not this one
		if c.Create != nil {
			sp.ParticipantID = ""
		}
	}
	return RowResult{Outcome: RowCreated, ScreenerParticipant: sp}
}

// ImportPlan is what an import is to write, and its report. Make one with Service.PlanImport
// and write it with Service.ApplyImport.
type ImportPlan struct {
	Report     ImportReport
	ws         string
	screenerID string
	chunk      *ChunkID
	changes    []Change
}

// Writes reports whether applying the plan writes anything.
func (p *ImportPlan) Writes() bool { return len(p.changes) > 0 }

// ErrTooManyRemovals is what a *TooManyRemovalsError is (errors.Is).
var ErrTooManyRemovals = errors.New("screening: the FULL_SYNC would remove more than maxRemovals")

// TooManyRemovalsError refuses a FULL_SYNC that would remove more screener participants than
// the request's MaxRemovals allows. Nothing was written.
type TooManyRemovalsError struct {
	Removals int // how many the FULL_SYNC would remove
	Max      int // the request's MaxRemovals
}

func (e *TooManyRemovalsError) Error() string {
	return fmt.Sprintf("The FULL_SYNC would remove %d screener participant(s), more than maxRemovals %d; nothing was written.", e.Removals, e.Max)
}

func (e *TooManyRemovalsError) Unwrap() error { return ErrTooManyRemovals }
