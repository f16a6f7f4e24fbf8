package screening

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/participant-roster/roster/pkg/platform/backoff"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/vocab"
)

// ImportMode says whether an import also removes screener participants absent from it.
type ImportMode string

const (
	UpdatesOnly ImportMode = "UPDATES_ONLY"
	FullSync    ImportMode = "FULL_SYNC"
)

// ImportRequest is a decoded, not yet validated import.
type ImportRequest struct {
	ScreenerID string
	Mode       ImportMode
	Rows       []ImportRow
	// DryRun plans the import exactly as a real one and writes nothing.
	DryRun bool
	// MaxRemovals, when set, is the most screener participants a FULL_SYNC may remove: one
	// that would remove more is refused whole (a *TooManyRemovalsError) and writes nothing.
	MaxRemovals *int
	// Chunk, for one chunk of an import job, names the chunk the same on every delivery: its
	// new participants are then written each on its own (Store.ApplyChunk), at half the cost
	// of a transaction, and a later delivery finishes what an interrupted one left.
	Chunk *ChunkID
}

// ChunkID names one chunk of an import job.
type ChunkID struct {
	Job string
	N   int
}

// ImportRow is one participant of an import.
type ImportRow struct {
	ExternalUID *string
	Email       string
	Name        string
}

// Import brings a screener's roster in line with the rows (see RunImport) and returns one
// screener participant per row, in row order.
func (s *Service) Import(ctx context.Context, ws string, actor vocab.Actor, req ImportRequest) ([]ScreenerParticipant, error) {
	report, err := s.RunImport(ctx, ws, actor, req)
	if err != nil {
		return nil, err
	}
	return report.ScreenerParticipants(), nil
}

// MaxConflictRetries bounds how often an import plans again after vocab.ErrConflict: another
// import (or another delivery of the same chunk) changed the records it planned against, and
// planning again against what they are now converges without the client.
const MaxConflictRetries = 8

// IsConflict reports whether an import's error is a lost race that planning again resolves.
func IsConflict(err error) bool { return errors.Is(err, vocab.ErrConflict) }

// RunImport plans an import (PlanImport) and, unless it is a dry run, applies it
// (ApplyImport): a dry run and a real import take the very same path up to the write. A lost
// race (vocab.ErrConflict) plans again, up to MaxConflictRetries times. The report says what
// each row did (or would do) and what a FULL_SYNC removed (or would remove).
func (s *Service) RunImport(ctx context.Context, ws string, actor vocab.Actor, req ImportRequest) (ImportReport, error) {
	var report ImportReport
	err := backoff.Retry(ctx, backoff.Queue, MaxConflictRetries, IsConflict, func() error {
		plan, err := s.PlanImport(ctx, ws, actor, req)
		if err != nil {
			return err
		}
		if !req.DryRun {
			if err := s.ApplyImport(ctx, plan); err != nil {
				return err
			}
		}
		report = plan.Report
		return nil
	})
	return report, err
}

// PlanImport decides what an import changes without writing anything: it validates every
// row, matches each row to a tenant participant (external uid first, then email), works out
// what to create, update and link, and in FULL_SYNC which screener participants no row names
// and are to be removed. Any invalid row rejects the whole request (*ValidationError); a
// FULL_SYNC that would remove more than req.MaxRemovals is a *TooManyRemovalsError. Rows that
// change nothing plan no change, so they cost no write.
func (s *Service) PlanImport(ctx context.Context, ws string, actor vocab.Actor, req ImportRequest) (*ImportPlan, error) {
	if req.Chunk == nil { // a job's screener was found when the job was made; screeners stay
		if _, err := s.Store.GetScreener(ctx, ws, req.ScreenerID); err != nil {
			return nil, err
		}
	}
	p := &importPlan{svc: s, ws: ws, actor: actor, req: req}
	if err := p.match(ctx); err != nil {
		return nil, err
	}
	if len(p.errs) > 0 {
		return nil, invalidImport(p.errs)
	}
	plan, err := p.build(ctx)
	if err != nil {
		return nil, err
	}
	if m := req.MaxRemovals; m != nil && len(plan.Report.Removed) > *m {
		return nil, &TooManyRemovalsError{Removals: len(plan.Report.Removed), Max: *m}
	}
	return plan, nil
}

// ApplyImport writes a plan's changes. A plan whose records moved since it was made fails with
// vocab.ErrConflict; each row's change is atomic on its own.
func (s *Service) ApplyImport(ctx context.Context, plan *ImportPlan) error {
	if len(plan.changes) == 0 {
		return nil
	}
	if plan.chunk != nil {
		return s.Store.ApplyChunk(ctx, plan.ws, plan.screenerID, *plan.chunk, plan.changes)
	}
	return s.Store.Apply(ctx, plan.ws, plan.screenerID, plan.changes)
}

func invalidImport(errs []FieldError) error {
	sort.SliceStable(errs, func(i, j int) bool { return *errs[i].Row < *errs[j].Row })
	rows := map[int]bool{}
	for _, e := range errs {
		rows[*e.Row] = true
	}
	return &ValidationError{
		Message: fmt.Sprintf("The import has %d invalid row(s); nothing was written.", len(rows)),
		Fields:  errs,
	}
}

// importPlan holds what an import learned about its rows while matching them.
type importPlan struct {
	svc   *Service
	ws    string
	actor vocab.Actor
	req   ImportRequest

	errs         []FieldError
	matched      []string // participant id per row; "" for a new participant
	adopted      []string // per row: the id a new participant takes over from its markers, or ""
	participants map[string]Participant
}

// match validates each row and finds the participant it names. It reads external-uid markers
// first, then those participants, and an email marker only for a row whose email is not
// already its participant's: an unchanged re-import reads one marker and one record a row.
// A marker naming a participant that does not exist is a create that an interrupted write
// left half done: the row creates that participant, under the same id.
func (p *importPlan) match(ctx context.Context) error {
	rows := p.req.Rows
	p.errs = checkDuplicates(rows)
	valid := make([]bool, len(rows))
	var uids []string
	for i, r := range rows {
		rowErrs := checkRow(i, r)
		p.errs = append(p.errs, rowErrs...)
		valid[i] = len(rowErrs) == 0
		if valid[i] && r.ExternalUID != nil {
			uids = append(uids, *r.ExternalUID)
		}
	}
	byUID, _, err := p.svc.Store.FindParticipantIDs(ctx, p.ws, uids, nil)
	if err != nil {
		return err
	}
	if p.participants, err = p.svc.Store.GetParticipants(ctx, p.ws, slices.Collect(maps.Values(byUID))); err != nil {
		return err
	}
	var emails []string
	for i, r := range rows {
		if valid[i] && !p.ownsEmail(byUID, r) {
			emails = append(emails, NormalizeEmail(r.Email))
		}
	}
	_, byEmail, err := p.svc.Store.FindParticipantIDs(ctx, p.ws, nil, emails)
	if err != nil {
		return err
	}
	if err := p.readMore(ctx, slices.Collect(maps.Values(byEmail))); err != nil {
		return err
	}
	p.matched, p.adopted = make([]string, len(rows)), make([]string, len(rows))
	claimedBy := map[string]int{}
	for i, r := range rows {
		if !valid[i] {
			continue
		}
		id := p.matchRow(i, r, byUID, byEmail)
		if id == "" {
			continue
		}
		if first, dup := claimedBy[id]; dup {
			p.errs = append(p.errs, rowError(i, "email", CodeDuplicateInPayload,
				fmt.Sprintf("this row names the same participant as row %d", first)))
			continue
		}
		claimedBy[id] = i
		part, ok := p.participants[id]
		if !ok {
			p.adopted[i] = id // its markers name it, its record was never written
			continue
		}
		p.matched[i] = id
		if uid := r.ExternalUID; uid != nil && part.ExternalUID != "" && part.ExternalUID != *uid {
			p.errs = append(p.errs, rowError(i, "externalUid", CodeExternalUIDConflict,
				fmt.Sprintf("email belongs to participant %s, whose externalUid is %q", id, part.ExternalUID)))
		}
	}
	return nil
}

// ownsEmail reports whether the participant a row's external uid names already has the row's
// email: that email's marker names it, so it need not be read.
func (p *importPlan) ownsEmail(byUID map[string]string, r ImportRow) bool {
	if r.ExternalUID == nil {
		return false
	}
	part, ok := p.participants[byUID[*r.ExternalUID]]
	return ok && NormalizeEmail(part.Email) == NormalizeEmail(r.Email)
}

// readMore reads the participants among ids not read yet.
func (p *importPlan) readMore(ctx context.Context, ids []string) error {
	var missing []string
	for _, id := range ids {
		if _, ok := p.participants[id]; !ok {
			missing = append(missing, id)
		}
	}
	more, err := p.svc.Store.GetParticipants(ctx, p.ws, missing)
	maps.Copy(p.participants, more)
	return err
}

// matchRow returns the id of the participant a row names, "" for a new one. It records an
// error when the row's email belongs to a different participant than its external uid.
func (p *importPlan) matchRow(i int, r ImportRow, byUID, byEmail map[string]string) string {
	emailOwner, read := byEmail[NormalizeEmail(r.Email)]
	if !read && p.ownsEmail(byUID, r) {
		emailOwner = byUID[*r.ExternalUID]
	}
	if r.ExternalUID != nil {
		if id, ok := byUID[*r.ExternalUID]; ok {
			if emailOwner != "" && emailOwner != id {
				p.errs = append(p.errs, rowError(i, "email", CodeEmailTaken,
					fmt.Sprintf("email belongs to another participant (%s)", emailOwner)))
				return ""
			}
			return id
		}
	}
	return emailOwner
}

// build turns matched rows into changes and the report of what each row does.
func (p *importPlan) build(ctx context.Context) (*ImportPlan, error) {
	scr := p.req.ScreenerID
	linked, err := p.svc.Store.GetScreenerParticipants(ctx, p.ws, p.linkIDs())
	if err != nil {
		return nil, err
	}
	now := p.svc.Now().UTC()
	plan := &ImportPlan{ws: p.ws, screenerID: scr, chunk: p.req.Chunk, Report: ImportReport{DryRun: p.req.DryRun, Rows: make([]RowResult, len(p.req.Rows))}}
	for i, r := range p.req.Rows {
		var c *Change
		var sp ScreenerParticipant
		if p.matched[i] == "" {
			c, sp = p.create(r, p.adopted[i], now)
		} else {
			before := p.participants[p.matched[i]]
			old, ok := linked[before.Links[scr]]
			c, sp = p.update(before, old, ok, r, now)
		}
		plan.Report.Rows[i] = rowResult(c, sp, p.req.DryRun)
		if c != nil {
			plan.changes = append(plan.changes, *c)
		}
	}
	if p.req.Mode == FullSync {
		removals, gone, err := p.removals(ctx)
		if err != nil {
			return nil, err
		}
		plan.changes = append(plan.changes, removals...)
		plan.Report.Removed = gone
	}
	return plan, nil
}

func (p *importPlan) linkIDs() []string {
	var out []string
	for _, id := range nonEmpty(p.matched) {
		if sp, ok := p.participants[id].Links[p.req.ScreenerID]; ok {
			out = append(out, sp)
		}
	}
	return out
}

// create makes a new participant of a row, under id when its markers already name one.
func (p *importPlan) create(r ImportRow, id string, now time.Time) (*Change, ScreenerParticipant) {
	actor := p.actor
	if id == "" {
		id = p.svc.NewID(ids.Participant)
	}
	part := Participant{
		ID: id, Email: r.Email, Name: r.Name,
		CreatedBy: &actor, CreatedAt: now, UpdatedBy: &actor, UpdatedAt: now,
	}
	if r.ExternalUID != nil {
		part.ExternalUID = *r.ExternalUID
	}
	sp := p.newLink(part, now)
	part.Links = map[string]string{p.req.ScreenerID: sp.ID}
	return &Change{Create: &part, Link: &sp}, sp
}

// update applies a row to an existing participant; it returns no change when nothing differs.
func (p *importPlan) update(before Participant, sp ScreenerParticipant, linked bool, r ImportRow, now time.Time) (*Change, ScreenerParticipant) {
	after := before
	after.Links = maps.Clone(before.Links)
	after.Name, after.Email = r.Name, r.Email
	if r.ExternalUID != nil {
		after.ExternalUID = *r.ExternalUID
	}
	changed := after.Name != before.Name || after.Email != before.Email || after.ExternalUID != before.ExternalUID
	if !changed && linked {
		return nil, sp
	}
	c := &Change{Before: &before, After: &after}
	if changed {
		actor := p.actor
		after.UpdatedBy, after.UpdatedAt = &actor, now
		c.Copies = slices.Sorted(maps.Values(before.Links))
	}
	if !linked {
		sp = p.newLink(after, now)
		if id := before.Links[p.req.ScreenerID]; id != "" {
			// The participant names a link the read did not find (a write interrupted between
			// the two, or a read behind): write that one, whose put fails if it exists.
			sp.ID = id
		}
		after.Links[p.req.ScreenerID] = sp.ID
		c.Link = &sp
		return c, sp
	}
	sp.Name, sp.Email, sp.ExternalUID = after.Name, after.Email, after.ExternalUID
	return c, sp
}

func (p *importPlan) newLink(part Participant, now time.Time) ScreenerParticipant {
	return ScreenerParticipant{
		ID: p.svc.NewID(ids.ScreenerParticipant), ScreenerID: p.req.ScreenerID, ParticipantID: part.ID,
		ExternalUID: part.ExternalUID, Name: part.Name, Email: part.Email, CreatedAt: now,
	}
}

// removals unlinks the screener's participants that no row names; it returns the changes and
// the screener participants they remove.
func (p *importPlan) removals(ctx context.Context) ([]Change, []ScreenerParticipant, error) {
	roster, err := p.svc.Store.Roster(ctx, p.ws, p.req.ScreenerID)
	if err != nil {
		return nil, nil, err
	}
	keep := map[string]bool{}
	for _, id := range p.matched {
		keep[id] = true
	}
	var gone []ScreenerParticipant
	var owners []string
	for _, sp := range roster {
		if !keep[sp.ParticipantID] {
			gone = append(gone, sp)
			owners = append(owners, sp.ParticipantID)
		}
	}
	parts, err := p.svc.Store.GetParticipants(ctx, p.ws, owners)
	if err != nil {
		return nil, nil, err
	}
	changes := make([]Change, 0, len(gone))
	for _, sp := range gone {
		part, ok := parts[sp.ParticipantID]
		if !ok {
			return nil, nil, vocab.ErrConflict
		}
		changes = append(changes, unlink(part, sp))
	}
	return changes, gone, nil
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
