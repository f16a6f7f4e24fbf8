// Package spotjobs is the Spot family's part of the import engine (package jobs): large
// screener-participant imports, UPDATES_ONLY or FULL_SYNC, submitted as jobs and run chunk by
// chunk through the screening service.
//
// A chunk's rows run through screening.Service.Import in UPDATES_ONLY mode, which writes only
// what differs: a chunk that already ran finds its rows unchanged and writes nothing, and its
// uniqueness markers make concurrent runs of one chunk converge instead of duplicating
// participants (a lost race is vocab.ErrConflict, and the chunk re-plans). Counts come from the
// changes the service asks its store to apply (planStore sees them): a change with a link is a
// created screener participant, any other change an updated one, a valid row without a change
// is unchanged; each row's result goes through ChunkRun.Plan before the first write. A dry run
// plans the same way and writes nothing; its FULL_SYNC finish announces what it would remove.
//
// Rows are validated per row: the service rejects a whole request when any row is invalid, so
// a chunk records the rows it names as row errors (failed), drops them and runs the rest. A bad
// row never fails its chunk.
//
// A FULL_SYNC chunk keeps the participant ids its rows name, rejected rows' too (so a row that
// failed validation never removes the participant it names); the job's finish unlinks the
// screener's participants that no chunk keeps. A second identical FULL_SYNC removes nothing.
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

// maxConflictRetries bounds how often a chunk re-plans after vocab.ErrConflict (another
// delivery of the same chunk, or another chunk naming the same participant, won a race).
const maxConflictRetries = 8

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
	})
}

// Family runs Spot chunks (jobs.Family).
type Family struct {
	Service *screening.Service
}

var _ jobs.Family = (*Family)(nil)

func (f *Family) Name() string       { return Name }
func (f *Family) TargetKind() string { return "screener" }

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

// RunChunk imports a chunk's rows in UPDATES_ONLY mode. Rows the service rejects are recorded
// and dropped, and the rest run again; a lost race (vocab.ErrConflict) re-plans the chunk. On a
// dry run the rows are planned the same way and nothing is written.
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
	firstRow := run.Chunk.FirstRow
	pending := make([]int, len(rows)) // chunk-local indexes of the rows still to import
	for i := range pending {
		pending[i] = i
	}
	errsByRow := map[int][]jobs.FieldError{} // by chunk-local index
	var results []jobs.RowResult
	var matched []string
	for conflicts := 0; ; {
		if len(pending) == 0 {
			results = planRows(rows, nil, nil, errsByRow)
			break
		}
		in := make([]screening.ImportRow, len(pending))
		for i, local := range pending {
			in[i] = rows[local]
		}
		ps := &planStore{Store: f.Service.Store, run: run, rows: rows, pending: pending, errsByRow: errsByRow}
		svc := &screening.Service{Store: ps, Now: f.Service.Now, NewID: f.Service.NewID}
		result, err := svc.Import(ctx, job.WorkspaceID, actor, screening.ImportRequest{ScreenerID: job.Target, Mode: screening.UpdatesOnly, Rows: in})
		var invalid *screening.ValidationError
		switch {
		case err == nil:
			if ps.held == nil {
				return jobs.Outcome{}, errors.New("spotjobs: the import wrote without planning") // Import always applies
			}
			results = ps.held
			for k, sp := range result {
				matched = append(matched, sp.ParticipantID)
				if r := &results[pending[k]]; !(job.DryRun && r.Outcome == jobs.OutcomeCreated) { // a dry run makes no ids
					r.IDs = map[string]string{IDParticipant: sp.ParticipantID, IDScreenerParticipant: sp.ID}
				}
			}
		case errors.As(err, &invalid):
			dropped := collectRowErrors(invalid, pending, firstRow, errsByRow)
			if len(dropped) == 0 {
				return jobs.Outcome{}, err // not about rows: nothing to drop
			}
			var rest []int
			for _, local := range pending {
				if !dropped[local] {
					rest = append(rest, local)
				}
			}
			pending = rest
			continue
		case errors.Is(err, vocab.ErrConflict) && conflicts < maxConflictRetries:
			conflicts++
			if err := backoff.Queue.Wait(ctx, conflicts); err != nil {
				return jobs.Outcome{}, err
			}
			continue
		default:
			return jobs.Outcome{}, err
		}
		break
	}
	out := jobs.Outcome{Rows: results}
	if job.Mode == string(screening.FullSync) {
		// A FULL_SYNC keeps every participant a row names, a rejected row's too.
		named, err := namedBy(ctx, f.Service.Store, job.WorkspaceID, rows, errsByRow)
		if err != nil {
			return jobs.Outcome{}, err
		}
		out.Keep = append(matched, named...)
	}
	return out, nil
}

// planRows is each chunk row's planned result: a rejected row failed with its errors, a row
// the changes create a link for created, one they change otherwise updated, any other valid
// row unchanged. A change is the row's when it is about the row's email (unique in a chunk).
func planRows(rows []screening.ImportRow, pending []int, changes []screening.Change, errsByRow map[int][]jobs.FieldError) []jobs.RowResult {
	byEmail := map[string]string{}
	for _, ch := range changes {
		p := ch.After
		if ch.Create != nil {
			p = ch.Create
		}
		if p == nil {
			continue
		}
		outcome := jobs.OutcomeUpdated
		if ch.Link != nil {
			outcome = jobs.OutcomeCreated
		}
		byEmail[screening.NormalizeEmail(p.Email)] = outcome
	}
	out := make([]jobs.RowResult, len(rows))
	for local, fe := range errsByRow {
		out[local] = jobs.RowResult{Outcome: jobs.OutcomeFailed, Errors: fe}
	}
	for _, local := range pending {
		outcome, changed := byEmail[screening.NormalizeEmail(rows[local].Email)]
		if !changed {
			outcome = jobs.OutcomeUnchanged
		}
		out[local] = jobs.RowResult{Outcome: outcome}
	}
	return out
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

// planStore is the service's Store for one attempt at one chunk: it sees the changes the
// service plans for the chunk's rows (pending, the rest rejected), plans each row's result
// from them (planRows), and settles them through the chunk's plan before the first write; on a
// dry run it writes nothing.
type planStore struct {
	screening.Store
	run       *jobs.ChunkRun
	rows      []screening.ImportRow
	pending   []int
	errsByRow map[int][]jobs.FieldError
	held      []jobs.RowResult
}

func (p *planStore) Apply(ctx context.Context, ws, scr string, changes []screening.Change) error {
	held, mayWrite, err := p.run.Plan(planRows(p.rows, p.pending, changes, p.errsByRow), len(changes) > 0)
	if err != nil {
		return err
	}
	p.held = held
	if !mayWrite {
		return nil
	}
	return p.Store.Apply(ctx, ws, scr, changes)
}

// removalResults are the screener participants a FULL_SYNC removes, as row results (the
// record in the row encoding).
func removalResults(gone []screening.ScreenerParticipant) []jobs.RowResult {
	out := make([]jobs.RowResult, len(gone))
	for i, sp := range gone {
		row := Row{Email: sp.Email, Name: sp.Name}
		if sp.ExternalUID != "" {
			uid := sp.ExternalUID
			row.ExternalUID = &uid
		}
		fields, _ := json.Marshal(row) // plain strings: cannot fail
		out[i] = jobs.RowResult{
			Row: -1, Outcome: jobs.OutcomeRemoved, Fields: fields,
			IDs: map[string]string{IDParticipant: sp.ParticipantID, IDScreenerParticipant: sp.ID},
		}
	}
	return out
}

// Finish unlinks, for a FULL_SYNC, the screener participants whose participant no chunk's rows
// name. It records how many it removes before the first removal, so a finisher that takes over
// keeps the first one's count.
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
	for conflicts := 0; ; {
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
				return err // !proceed: a dry run, the removal guard, or a cancel
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
		err = st.Apply(ctx, job.WorkspaceID, job.Target, changes)
		if errors.Is(err, vocab.ErrConflict) && conflicts < maxConflictRetries {
			conflicts++
			if err := backoff.Queue.Wait(ctx, conflicts); err != nil {
				return err
			}
			continue
		}
		return err
	}
}
