// Package snapjobs is the Snap family's part of the import engine (package jobs): bulk
// participant imports of a survey, which add the participants that are new, submitted as jobs
// that hold the survey's roster until they end.
//
// A chunk's participants were validated by the API against the survey. The chunk reads,
// consistently, who holds their logins and emails: a participant already there as the row says
// (statuses aside) is unchanged, a login or email another participant holds fails the row with
// Add Participant's message, and the rest are added, many per transaction, each transaction
// checking that this job still holds the roster. Another delivery of the same chunk then finds
// them unchanged, and a lost race for a marker re-reads and re-plans; the counts come from the
// chunk's plan (jobs.ChunkRun.Plan). A dry run plans the same way and adds nothing.
package snapjobs

import (
	"context"
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

// Submit makes a job of a Snap import of validated participants; the job holds the survey's
// roster from now until it ends (jobs.ErrTargetHeld if another import holds it).
func Submit(ctx context.Context, s *jobs.Submitter, ws string, actor vocab.Actor, surveyID string, ps []survey.Participant) (jobs.Job, error) {
	raw, err := jobs.EncodeRows(ps)
	if err != nil {
		return jobs.Job{}, err
	}
	return s.Submit(ctx, jobs.Request{
		WorkspaceID: ws, Family: Name, Target: surveyID, Mode: ModeAdd, HoldsTarget: true, Actor: actor, Rows: raw,
	})
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

// RunChunk adds a chunk's new participants. Rows are sorted by what the survey holds (see
// sortRows); counts come from the chunk's plan when an earlier attempt wrote one (its own
// additions now look unchanged). A lost race for a login or email (another delivery of this
// chunk, at the same time) re-reads and re-plans.
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
		owners, err := f.Store.FindOwners(ctx, job.WorkspaceID, job.Target, ps)
		if err != nil {
			return jobs.Outcome{}, err
		}
		adds, rows := sortRows(run.Chunk.FirstRow, ps, owners)
		held, mayWrite, err := run.Plan(rows, len(adds) > 0)
		if err != nil {
			return jobs.Outcome{}, err
		}
		if mayWrite {
			err = f.Store.AddImported(ctx, job.WorkspaceID, job.Target, job.ID, adds)
		}
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

// sortRows decides each row against the survey's current holders of logins and emails: the
// participants to add, and each row's result.
func sortRows(firstRow int, ps []survey.Participant, owners Owners) ([]survey.Participant, []jobs.RowResult) {
	var adds []survey.Participant
	rows := make([]jobs.RowResult, len(ps))
	for i, p := range ps {
		login, email := p.UniqueKeys()
		loginOwner, loginHeld := owners.ByLogin[login]
		emailOwner, emailHeld := owners.ByEmail[email]
		rows[i] = jobs.RowResult{Row: firstRow + i, IDs: map[string]string{IDParticipantUniqueID: uniqueID(p)}}
		var problem string
		switch {
		case login != "" && loginHeld:
			if !sameParticipant(loginOwner.Participant, p) {
				problem = survey.MsgLoginTaken
			}
		case login == "" && emailHeld: // the email is the participant's id
			if !sameParticipant(emailOwner.Participant, p) {
				problem = survey.MsgEmailTaken
			}
		case email != "" && emailHeld:
			problem = survey.MsgEmailTaken
		default:
			adds = append(adds, p)
			rows[i].Outcome = jobs.OutcomeCreated
			continue
		}
		if problem == "" {
			rows[i].Outcome = jobs.OutcomeUnchanged
			continue
		}
		rows[i].Outcome = jobs.OutcomeFailed
		rows[i].Errors = []jobs.FieldError{{Field: fmt.Sprintf("participants[%d]", firstRow+i), Message: problem}}
	}
	return adds, rows
}

// IDParticipantUniqueID names a row result's participant id (its login, else its email).
const IDParticipantUniqueID = "participantUniqueId"

// uniqueID is a row's participant id as sent: its login, else its email.
func uniqueID(p survey.Participant) string {
	if p.Login != nil && p.Login.Login != nil && *p.Login.Login != "" {
		return *p.Login.Login
	}
	if p.Invitation != nil {
		return p.Invitation.EmailAddress
	}
	return ""
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
