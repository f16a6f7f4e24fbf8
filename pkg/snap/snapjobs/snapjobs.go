// Package snapjobs is the Snap family's part of the import engine (package jobs): bulk
// participant imports of a survey, which add the participants that are new, submitted as jobs
// that hold the survey's roster until they end (a dry run's job holds nothing).
//
// A chunk's participants were validated by the API against the survey. The chunk reads,
// consistently, who holds their logins and emails: a participant already there as the row says
// (statuses aside) is unchanged, a login or email another participant holds fails the row with
// Add Participant's message, and the rest are added, many per transaction, each transaction
// checking that this job still holds the roster. Another delivery of the same chunk then finds
// them unchanged, and a lost race for a marker re-reads and re-plans; the results come from the
// chunk's plan (jobs.ChunkRun.Plan). A dry run decides its rows by the same step (planRows),
// in chunks or, synchronously, all at once (DryRun), and writes nothing.
package snapjobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/backoff"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Name is the Snap family's name on jobs and messages.
const Name = "snap"

// ModeAdd is the one mode of Snap imports: add the participants that are new; a row whose
// participant is already there as the row says is unchanged; a row whose login or email another
// participant holds fails with Add Participant's message.
const ModeAdd = "ADD"

// maxConflictRetries bounds how often a chunk re-plans after losing a race for a login or email.
const maxConflictRetries = 8

// Owners are the stored participants that hold logins and emails of a survey, by the login or
// email in lower case.
type Owners struct {
	ByLogin, ByEmail map[string]survey.StoredParticipant
}

// Store is what a Snap chunk needs from persistence.
type Store interface {
	// FindOwners reads, consistently, who holds each login and email the participants name.
	FindOwners(ctx context.Context, ws, surveyID string, ps []survey.Participant) (Owners, error)
	// AddImported adds new participants for a job that holds the survey's roster, many per
	// write. jobs.ErrHoldLost: the job no longer holds the roster. vocab.ErrConflict: a login
	// or email was taken meanwhile; the writes before stay, so the caller re-reads and
	// re-plans.
	AddImported(ctx context.Context, ws, surveyID, jobID string, ps []survey.Participant) error
}

// IDName is the wire name of the id each row's result carries: the participant's unique id
// (the login on a survey that tracks logins, else the email), as the row names it.
const IDName = "participantUniqueId"

// Import is a validated Snap bulk import to submit as a job.
type Import struct {
	SurveyID     string
	Participants []survey.Participant
	// DryRun plans every row against the roster and writes nothing; a dry-run job does not
	// hold the roster.
	DryRun bool
}

// Submit makes a job of a Snap import of validated participants; a real import's job holds
// the survey's roster from now until it ends (jobs.ErrTargetHeld if another import holds it).
func Submit(ctx context.Context, s *jobs.Submitter, ws string, actor vocab.Actor, imp Import) (jobs.Job, error) {
	raw, err := jobs.EncodeRows(imp.Participants)
	if err != nil {
		return jobs.Job{}, err
	}
	return s.Submit(ctx, jobs.Request{
		WorkspaceID: ws, Family: Name, Target: imp.SurveyID, Mode: ModeAdd, HoldsTarget: true, DryRun: imp.DryRun,
		Actor: actor, Rows: raw,
	})
}

// DryRun decides every row of a whole import at once, exactly as the chunks of a real import
// decide theirs (planRows), and writes nothing: the synchronous dry run. Each result's Fields
// is the row in the family's row encoding, as a job's results carry it.
func DryRun(ctx context.Context, st Store, ws, surveyID string, ps []survey.Participant) ([]jobs.RowResult, error) {
	_, rows, err := planRows(ctx, st, ws, surveyID, 0, ps)
	if err != nil {
		return nil, err
	}
	raw, err := jobs.EncodeRows(ps)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].Fields = raw[i]
	}
	return rows, nil
}

// Family runs Snap chunks (jobs.Family).
type Family struct {
	Store Store
}

var _ jobs.Family = (*Family)(nil)

func (f *Family) Name() string                { return Name }
func (f *Family) TargetKind() string          { return "survey" }
func (f *Family) FailureNote(jobs.Job) string { return "" }

// Finish has nothing to do: the engine frees the roster as the job ends.
func (f *Family) Finish(context.Context, *jobs.Finishing) error { return nil }

// RunChunk adds a chunk's new participants. Rows are decided by what the survey holds (see
// planRows); the results come from the chunk's plan when an earlier attempt wrote one (its
// own additions now look unchanged). A dry run stops at the plan. A lost race for a login or
// email (another delivery of this chunk, at the same time) re-reads and re-plans.
func (f *Family) RunChunk(ctx context.Context, run *jobs.ChunkRun) (jobs.Outcome, error) {
	if _, ok := survey.ParseSurveyID(run.Job.Target); !ok {
		return jobs.Outcome{}, fmt.Errorf("snapjobs: job target %q is not a survey id", run.Job.Target)
	}
	ps, err := jobs.DecodeRows[survey.Participant](run.Chunk.Rows)
	if err != nil {
		return jobs.Outcome{}, fmt.Errorf("snapjobs: undecodable participants: %w", err)
	}
	job := run.Job
	for conflicts := 0; ; {
		adds, rows, err := planRows(ctx, f.Store, job.WorkspaceID, job.Target, run.Chunk.FirstRow, ps)
		if err != nil {
			return jobs.Outcome{}, err
		}
		held, mayWrite, err := run.Plan(rows, len(adds) > 0)
		if err != nil {
			return jobs.Outcome{}, err
		}
		if !mayWrite || len(adds) == 0 {
			return jobs.Outcome{Rows: held}, nil
		}
		err = f.Store.AddImported(ctx, job.WorkspaceID, job.Target, job.ID, adds)
		if errors.Is(err, vocab.ErrConflict) && conflicts < maxConflictRetries {
			conflicts++
			if err := backoff.Queue.Wait(ctx, conflicts); err != nil {
				return jobs.Outcome{}, err
			}
			continue
		}
		if err != nil {
			return jobs.Outcome{}, err
		}
		return jobs.Outcome{Rows: held}, nil
	}
}

// planRows reads, consistently, who holds the rows' logins and emails and decides each row
// against them (decideRows): the one planning step of a chunk and of a synchronous dry run.
func planRows(ctx context.Context, st Store, ws, surveyID string, firstRow int, ps []survey.Participant) ([]survey.Participant, []jobs.RowResult, error) {
	owners, err := st.FindOwners(ctx, ws, surveyID, ps)
	if err != nil {
		return nil, nil, err
	}
	adds, rows := decideRows(firstRow, ps, owners)
	return adds, rows, nil
}

// decideRows decides each row against the survey's current holders of logins and emails: a
// row whose participant is there as it says is unchanged, one whose login or email another
// participant holds fails with Add Participant's message, and the rest are created (returned
// as the participants to add). One result per row, in order, by index in the whole payload.
func decideRows(firstRow int, ps []survey.Participant, owners Owners) ([]survey.Participant, []jobs.RowResult) {
	var adds []survey.Participant
	rows := make([]jobs.RowResult, len(ps))
	for i, p := range ps {
		row := firstRow + i
		rows[i] = jobs.RowResult{Row: row, IDs: map[string]string{IDName: uniqueID(p)}}
		switch problem, held := rowProblem(p, owners); {
		case problem != "":
			rows[i].Outcome = jobs.OutcomeFailed
			rows[i].Errors = []jobs.FieldError{{Field: fmt.Sprintf("participants[%d]", row), Message: problem}}
		case held:
			rows[i].Outcome = jobs.OutcomeUnchanged
		default:
			rows[i].Outcome = jobs.OutcomeCreated
			adds = append(adds, p)
		}
	}
	return adds, rows
}

// rowProblem is Add Participant's message for a row whose login or email another participant
// holds ("" for none); held says the row's participant is already there as the row says.
func rowProblem(p survey.Participant, owners Owners) (problem string, held bool) {
	login, email := p.UniqueKeys()
	loginOwner, loginHeld := owners.ByLogin[login]
	emailOwner, emailHeld := owners.ByEmail[email]
	switch {
	case login != "" && loginHeld:
		if !sameParticipant(loginOwner.Participant, p) {
			return survey.MsgLoginTaken, false
		}
		return "", true
	case login == "" && emailHeld: // the email is the participant's id
		if !sameParticipant(emailOwner.Participant, p) {
			return survey.MsgEmailTaken, false
		}
		return "", true
	case email != "" && emailHeld:
		return survey.MsgEmailTaken, false
	}
	return "", false
}

// Outcomes are the outcomes a Snap row can have (an ADD import neither updates nor removes).
var Outcomes = []string{jobs.OutcomeCreated, jobs.OutcomeUnchanged, jobs.OutcomeFailed, jobs.OutcomeSkipped}

// RowParticipant is the participant a row's result carries (its Fields, in the family's row
// encoding); false when it carries none (a row no chunk recorded).
func RowParticipant(r jobs.RowResult) (survey.Participant, bool) {
	if len(r.Fields) == 0 {
		return survey.Participant{}, false
	}
	ps, err := jobs.DecodeRows[survey.Participant]([]json.RawMessage{r.Fields})
	if err != nil {
		return survey.Participant{}, false
	}
	return ps[0], true
}

// RowID is the unique id a row's result names: its IDs', else its participant's.
func RowID(r jobs.RowResult) string {
	if id := r.IDs[IDName]; id != "" {
		return id
	}
	if p, ok := RowParticipant(r); ok {
		return uniqueID(p)
	}
	return ""
}

// uniqueID is the participant's unique id as its row spells it: the login when it has a login
// section (which it has exactly when the survey tracks logins), else the email.
func uniqueID(p survey.Participant) string {
	return p.UniqueID(survey.Settings{Logins: p.Login != nil})
}

// sameParticipant reports whether a stored participant is the one a row describes: equal in
// everything a client sets (statuses are derived, and move as responses come in).
func sameParticipant(stored, row survey.Participant) bool {
	return reflect.DeepEqual(canonical(stored), canonical(row))
}

func canonical(p survey.Participant) survey.Participant {
	out := survey.Participant{Enabled: p.Enabled}
	if inv := p.Invitation; inv != nil {
		c := *inv
		c.InviteSeeding = orEmpty(inv.InviteSeeding)
		out.Invitation = &c
	}
	if l := p.Login; l != nil {
		c := *l
		c.Status = ""
		if c.Password != nil && *c.Password == "" {
			c.Password = nil // both mean no password
		}
		c.Subjects = make([]survey.Subject, len(l.Subjects))
		for i, s := range l.Subjects {
			c.Subjects[i] = survey.Subject{Name: s.Name, QuestionnaireSeeding: orEmpty(s.QuestionnaireSeeding)}
		}
		out.Login = &c
	}
	return out
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
