// Package spotjobs is the Spot family's part of the import engine (package jobs): large
// screener-participant imports, UPDATES_ONLY or FULL_SYNC, submitted as jobs and run chunk by
// chunk through the screening service.
//
// A chunk's rows are planned by screening.Service.PlanImport in UPDATES_ONLY mode (the very
// planning a synchronous import and a dry run take) and written by ApplyImport, which writes
// only what differs: a chunk that already ran finds its rows unchanged and writes nothing, and
// its uniqueness markers make concurrent runs of one chunk converge instead of duplicating
// participants (a lost race is vocab.ErrConflict, and the chunk re-plans). Each row's result
// (created, updated, unchanged or failed, with the ids it made or touched) goes through
// ChunkRun.Plan before the first write; on a dry run Plan says not to write, and nothing is.
//
// Rows are validated per row: the service rejects a whole request when any row is invalid, so
// a chunk records the rows it names as failed with their errors, drops them and plans the
// rest. A bad row never fails its chunk.
//
// A FULL_SYNC chunk keeps the participant ids its rows name, rejected rows' too (so a row that
// failed validation never removes the participant it names); the job's finish announces the
// screener's participants that no chunk keeps (Finishing.PlanRemovals: a dry run, the
// maxRemovals guard and a cancel stop there) and unlinks them. A second identical FULL_SYNC
// removes nothing.
package spotjobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/backoff"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Name is the Spot family's name on jobs and messages.
const Name = "spot"

// Row is an import row as a chunk message carries it, in the API's field names.
type Row struct {
	ExternalUID *string `json:"externalUid,omitempty"`
	Email       string  `json:"email"`
	Name        string  `json:"name"`
}

func toRow(r screening.ImportRow) Row {
	return Row{ExternalUID: r.ExternalUID, Email: r.Email, Name: r.Name}
}

func (r Row) domain() screening.ImportRow {
	return screening.ImportRow{ExternalUID: r.ExternalUID, Email: r.Email, Name: r.Name}
}

// Submit makes a job of a Spot import. The request should already be validated as far as it
// can be without the store (screening.ValidateImportRows).
func Submit(ctx context.Context, s *jobs.Submitter, ws string, actor vocab.Actor, req screening.ImportRequest) (jobs.Job, error) {
	rows := make([]Row, len(req.Rows))
	for i, r := range req.Rows {
		rows[i] = toRow(r)
	}
	raw, err := jobs.EncodeRows(rows)
	if err != nil {
		return jobs.Job{}, err
	}
	mode := req.Mode
	if mode == "" {
		mode = screening.UpdatesOnly
	}
	return s.Submit(ctx, jobs.Request{
		WorkspaceID: ws, Family: Name, Target: req.ScreenerID, Mode: string(mode), Actor: actor, Rows: raw,
		DryRun: req.DryRun, MaxRemovals: req.MaxRemovals,
	})
}

// Family runs Spot chunks (jobs.Family).
type Family struct {
	Service *screening.Service
}

var _ jobs.Family = (*Family)(nil)

func (f *Family) Name() string       { return Name }
func (f *Family) TargetKind() string { return "screener" }

var _ jobs.Settler = (*Family)(nil)

// Settle counts what deliveries of the job's chunks wrote and did not get to count (a delivery
// cut short whose chunk then failed for good or was lost).
func (f *Family) Settle(ctx context.Context, j jobs.Job) error {
	return f.Service.Store.SettleJob(ctx, j.WorkspaceID, j.Target, j.ID)
}

// FailureNote: a failed FULL_SYNC removed nothing.
func (f *Family) FailureNote(j jobs.Job) string {
	if j.Mode == string(screening.FullSync) {
		return " (FULL_SYNC removed nothing)"
	}
	return ""
}

// Ids a row result names, by their wire names.
const (
	IDParticipant         = "participantId"
	IDScreenerParticipant = "screenerParticipantId"
)

// RunChunk plans a chunk's rows in UPDATES_ONLY mode, settles each row's result through
// run.Plan and, unless that says not to (a dry run), applies the plan. Rows the service rejects
// are failed with their errors and dropped, and the rest are planned again; a lost race
// (vocab.ErrConflict) re-plans the chunk.
func (f *Family) RunChunk(ctx context.Context, run *jobs.ChunkRun) (jobs.Outcome, error) {
	decoded, err := jobs.DecodeRows[Row](run.Chunk.Rows)
	if err != nil {
		return jobs.Outcome{}, fmt.Errorf("spotjobs: undecodable rows: %w", err)
	}
	rows := make([]screening.ImportRow, len(decoded))
	for i, r := range decoded {
		rows[i] = r.domain()
	}
	job := run.Job
	actor := vocab.Actor{Type: "SystemActor", ID: job.ID}
	if job.Actor != nil {
		actor = *job.Actor
	}
	c := &chunk{family: f, run: run, actor: actor, rows: rows, errsByRow: map[int][]jobs.FieldError{}}
	for i := range rows {
		c.pending = append(c.pending, i)
	}
	var out jobs.Outcome
	err = backoff.Retry(ctx, backoff.Queue, screening.MaxConflictRetries, screening.IsConflict, func() error {
		var err error
		out, err = c.attempt(ctx)
		return err
	})
	return out, err
}

// chunk is one attempt at a chunk's rows: the rows still pending (chunk-local indexes) and
// the errors of those dropped.
type chunk struct {
	family    *Family
	run       *jobs.ChunkRun
	actor     vocab.Actor
	rows      []screening.ImportRow
	pending   []int
	errsByRow map[int][]jobs.FieldError
}

// attempt plans the pending rows (dropping the rows the service rejects, until the rest
// plan), settles the rows' results and writes the plan if it may.
func (c *chunk) attempt(ctx context.Context) (jobs.Outcome, error) {
	plan, err := c.plan(ctx)
	if err != nil {
		return jobs.Outcome{}, err
	}
	planned := c.results(plan)
	held, mayWrite, err := c.run.Plan(planned, plan != nil && plan.Writes())
	if err != nil {
		return jobs.Outcome{}, err
	}
	if mayWrite && plan != nil {
		if err := c.family.Service.ApplyImport(ctx, plan); err != nil {
			return jobs.Outcome{}, err
		}
		// The outcomes that hold are the first writing attempt's; the ids are what the records
		// are now, which this attempt's plan saw (or just wrote).
		held = withIDs(held, planned)
	}
	out := jobs.Outcome{Rows: held}
	if c.run.Job.Mode == string(screening.FullSync) {
		// A FULL_SYNC keeps every participant a row names, a rejected row's too.
		named, err := namedBy(ctx, c.family.Service.Store, c.run.Job.WorkspaceID, c.rows, c.errsByRow)
		if err != nil {
			return jobs.Outcome{}, err
		}
		out.Keep = append(keptBy(plan), named...)
	}
	return out, nil
}

// plan plans the pending rows; rows the service rejects are recorded and dropped, and the rest
// planned again. It returns nil when no row is left.
func (c *chunk) plan(ctx context.Context) (*screening.ImportPlan, error) {
	job := c.run.Job
	for len(c.pending) > 0 {
		in := make([]screening.ImportRow, len(c.pending))
		for i, local := range c.pending {
			in[i] = c.rows[local]
		}
		plan, err := c.family.Service.PlanImport(ctx, job.WorkspaceID, c.actor, screening.ImportRequest{
			ScreenerID: job.Target, Mode: screening.UpdatesOnly, Rows: in, DryRun: job.DryRun,
			Chunk: &screening.ChunkID{Job: job.ID, N: c.run.Chunk.N},
		})
		var invalid *screening.ValidationError
		if !errors.As(err, &invalid) {
			return plan, err
		}
		dropped := collectRowErrors(invalid, c.pending, c.run.Chunk.FirstRow, c.errsByRow)
		if len(dropped) == 0 {
			return nil, err // not about rows: nothing to drop
		}
		var rest []int
		for _, local := range c.pending {
			if !dropped[local] {
				rest = append(rest, local)
			}
		}
		c.pending = rest
	}
	return nil, nil
}

// results is the chunk's per-row plan: a rejected row failed with its errors, every other row
// what the plan says it does. Fields are left to the engine (the chunk's message has them).
func (c *chunk) results(plan *screening.ImportPlan) []jobs.RowResult {
	out := make([]jobs.RowResult, len(c.rows))
	for local, fe := range c.errsByRow {
		out[local] = jobs.RowResult{Row: c.run.Chunk.FirstRow + local, Outcome: jobs.OutcomeFailed, Errors: fe}
	}
	if plan != nil {
		for k, local := range c.pending {
			out[local] = rowResult(c.run.Chunk.FirstRow+local, plan.Report.Rows[k])
		}
	}
	return out
}

// withIDs gives the held results the ids of this attempt's plan, row by row, where both say
// the row went in.
func withIDs(held, planned []jobs.RowResult) []jobs.RowResult {
	out := make([]jobs.RowResult, len(held))
	for i, h := range held {
		if h.Outcome != jobs.OutcomeFailed && i < len(planned) && planned[i].Outcome != jobs.OutcomeFailed {
			h.IDs = planned[i].IDs
		}
		out[i] = h
	}
	return out
}

// keptBy is the participants a plan's rows name.
func keptBy(plan *screening.ImportPlan) []string {
	if plan == nil {
		return nil
	}
	var out []string
	for _, r := range plan.Report.Rows {
		if id := r.ScreenerParticipant.ParticipantID; id != "" {
			out = append(out, id)
		}
	}
	return out
}

// outcomes maps the domain's row outcomes to the engine's words.
var outcomes = map[screening.RowOutcome]string{
	screening.RowCreated: jobs.OutcomeCreated, screening.RowUpdated: jobs.OutcomeUpdated, screening.RowUnchanged: jobs.OutcomeUnchanged,
}

// rowResult is a planned row's result: its outcome and the ids it made or touched (a dry run
// names only the ids that exist).
func rowResult(row int, r screening.RowResult) jobs.RowResult {
	return jobs.RowResult{Row: row, Outcome: outcomes[r.Outcome], IDs: idsOf(r.ScreenerParticipant)}
}

func idsOf(sp screening.ScreenerParticipant) map[string]string {
	ids := map[string]string{}
	if sp.ParticipantID != "" {
		ids[IDParticipant] = sp.ParticipantID
	}
	if sp.ID != "" {
		ids[IDScreenerParticipant] = sp.ID
	}
	return ids
}

// Results is a synchronous import's report as row results, as a job's would be: one per row in
// row order (Fields: the row as sent), then the removals.
func Results(rows []screening.ImportRow, report screening.ImportReport) []jobs.RowResult {
	out := make([]jobs.RowResult, 0, len(report.Rows)+len(report.Removed))
	for i, r := range report.Rows {
		res := rowResult(i, r)
		res.Fields = encodeRow(toRow(rows[i]))
		out = append(out, res)
	}
	return append(out, removalResults(report.Removed)...)
}

// encodeRow is a row in the chunk messages' encoding.
func encodeRow(r Row) json.RawMessage {
	b, _ := json.Marshal(r) // strings only: cannot fail
	return b
}

var (
	fieldRow   = regexp.MustCompile(`^participants\[(\d+)\]`)
	messageRow = regexp.MustCompile(`\brow (\d+)\b`)
)

// collectRowErrors records a validation error's row errors by chunk-local index and returns
// the rows it names. The service numbers rows as it got them (pending); the records name rows
// by their index in the whole payload, in fields ("participants[i].email") and in messages
// ("email repeats row i") alike.
func collectRowErrors(invalid *screening.ValidationError, pending []int, firstRow int, into map[int][]jobs.FieldError) map[int]bool {
	global := func(i int) (int, bool) {
		if i < 0 || i >= len(pending) {
			return 0, false
		}
		return firstRow + pending[i], true
	}
	renumber := func(re *regexp.Regexp, s, format string) string {
		return re.ReplaceAllStringFunc(s, func(match string) string {
			i, _ := strconv.Atoi(re.FindStringSubmatch(match)[1])
			if g, ok := global(i); ok {
				return fmt.Sprintf(format, g)
			}
			return match
		})
	}
	dropped := map[int]bool{}
	for _, fe := range invalid.Fields {
		if fe.Row == nil {
			continue
		}
		if _, ok := global(*fe.Row); !ok {
			continue
		}
		local := pending[*fe.Row]
		into[local] = append(into[local], jobs.FieldError{
			Field:   renumber(fieldRow, fe.Field, "participants[%d]"),
			Code:    fe.Code,
			Message: renumber(messageRow, fe.Message, "row %d"),
		})
		dropped[local] = true
	}
	return dropped
}

// namedBy returns the participants that the rejected rows name by external uid or email.
func namedBy(ctx context.Context, st screening.Store, ws string, rows []screening.ImportRow, rejected map[int][]jobs.FieldError) ([]string, error) {
	var uids, emails []string
	usable := func(s string) bool { return s != "" && len(s) <= 1024 && utf8.ValidString(s) } // a key DynamoDB takes
	for local := range rejected {
		r := rows[local]
		if r.ExternalUID != nil && usable(*r.ExternalUID) {
			uids = append(uids, *r.ExternalUID)
		}
		if e := screening.NormalizeEmail(r.Email); usable(e) {
			emails = append(emails, e)
		}
	}
	if len(uids)+len(emails) == 0 {
		return nil, nil
	}
	byUID, byEmail, err := st.FindParticipantIDs(ctx, ws, uids, emails)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range []map[string]string{byUID, byEmail} {
		for _, id := range m {
			out = append(out, id)
		}
	}
	return out, nil
}

// removalResults are the screener participants a FULL_SYNC removes, as row results: the
// record as a Row, and its ids.
func removalResults(gone []screening.ScreenerParticipant) []jobs.RowResult {
	out := make([]jobs.RowResult, len(gone))
	for i, sp := range gone {
		row := Row{Email: sp.Email, Name: sp.Name}
		if sp.ExternalUID != "" {
			uid := sp.ExternalUID
			row.ExternalUID = &uid
		}
		out[i] = jobs.RowResult{Row: -1, Outcome: jobs.OutcomeRemoved, IDs: idsOf(sp), Fields: encodeRow(row)}
	}
	return out
}

// Finish unlinks, for a FULL_SYNC, the screener participants whose participant no chunk's rows
// name. It announces them (Finishing.PlanRemovals) before the first removal, so a finisher that
// takes over keeps the first one's count, and removes nothing when that says not to proceed.
func (f *Family) Finish(ctx context.Context, fin *jobs.Finishing) error {
	job := fin.Job
	if job.Mode != string(screening.FullSync) {
		return nil
	}
	st := f.Service.Store
	keep, err := fin.Keep()
	if err != nil {
		return err
	}
	planned := false
	return backoff.Retry(ctx, backoff.Queue, screening.MaxConflictRetries, screening.IsConflict, func() error {
		roster, err := st.Roster(ctx, job.WorkspaceID, job.Target)
		if err != nil {
			return err
		}
		var gone []screening.ScreenerParticipant
		var owners []string
		for _, sp := range roster {
			if !keep[sp.ParticipantID] {
				gone = append(gone, sp)
				owners = append(owners, sp.ParticipantID)
			}
		}
		if !planned {
			proceed, err := fin.PlanRemovals(removalResults(gone))
			if err != nil || !proceed {
				return err // !proceed: a dry run, the removal guard or a cancel: remove nothing
			}
			planned = true
		}
		if len(gone) == 0 {
			return nil
		}
		parts, err := st.GetParticipants(ctx, job.WorkspaceID, owners)
		if err != nil {
			return err
		}
		var changes []screening.Change
		for _, sp := range gone {
			p, ok := parts[sp.ParticipantID]
			if !ok || p.Links[job.Target] != sp.ID {
				continue // the roster index is behind: this one is gone already
			}
			after := p
			changes = append(changes, screening.Change{Before: &p, After: &after, Unlink: &sp})
		}
		if len(changes) == 0 {
			return nil
		}
		return st.Apply(ctx, job.WorkspaceID, job.Target, changes)
	})
}
