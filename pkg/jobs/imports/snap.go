package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/store"
	"github.com/participant-roster/roster/pkg/vocab"
)

// SnapModeAdd is the one mode of Snap imports: add the participants that are new; a row whose
// participant is already there as the row says is unchanged; a row whose login or email another
// participant holds fails with Add Participant's message.
const SnapModeAdd = "ADD"

// SnapChunk is a run of consecutive participants of a Snap import's payload.
type SnapChunk struct {
	N            int
	FirstRow     int
	Participants []survey.Participant
}

// SnapMessage is a Snap chunk as sent to the queue. Its participants are validated already
// (the API validated every row against the survey before the job was made).
type SnapMessage struct {
	Family       string               `json:"family"` // FamilySnap
	JobID        string               `json:"jobId"`
	WorkspaceID  string               `json:"workspaceId"`
	SurveyID     string               `json:"surveyId"`
	Chunk        int                  `json:"chunk"`
	FirstRow     int                  `json:"firstRow"`
	Participants []survey.Participant `json:"participants"`
}

// PlanSnap splits validated participants into chunks within the planner's limits.
func (p Planner) PlanSnap(ps []survey.Participant) []SnapChunk {
	return planChunks(p, ps, func(sp survey.Participant) any { return sp },
		func(n, first int, ps []survey.Participant) SnapChunk {
			return SnapChunk{N: n, FirstRow: first, Participants: ps}
		})
}

// NewSnapJob returns the record of a new job adding participants to a survey in chunks.
func NewSnapJob(workspaceID string, actor vocab.Actor, surveyID string, rows int, chunks []SnapChunk, now time.Time) store.ImportJob {
	return store.ImportJob{
		ID: NewJobID(), WorkspaceID: workspaceID, Family: FamilySnap, Target: surveyID, Mode: SnapModeAdd,
		Actor: &actor, Status: store.ImportQueued, Total: rows, Chunks: len(chunks), CreatedAt: now.UTC(),
	}
}

// SubmitSnap plans a Snap import of validated participants (no two naming the same login or
// email), stores its job, which takes the survey's roster (survey.ErrRosterLocked if another
// import holds it), and sends its chunks to the queue.
func SubmitSnap(ctx context.Context, st *store.DDBStore, client Sender, queueURL, workspaceID string, actor vocab.Actor, surveyID string, ps []survey.Participant) (store.ImportJob, error) {
	chunks := Planner{}.PlanSnap(ps)
	job := NewSnapJob(workspaceID, actor, surveyID, len(ps), chunks, time.Now())
	return submit(ctx, st, job, func() error { return EnqueueSnap(ctx, client, queueURL, job, chunks) })
}

// EnqueueSnap sends one message per chunk of a Snap job.
func EnqueueSnap(ctx context.Context, client Sender, queueURL string, job store.ImportJob, chunks []SnapChunk) error {
	out := make([]outgoing, len(chunks))
	for i, c := range chunks {
		out[i] = outgoing{n: c.N, firstRow: c.FirstRow, rows: len(c.Participants), body: SnapMessage{
			Family: FamilySnap, JobID: job.ID, WorkspaceID: job.WorkspaceID, SurveyID: job.Target,
			Chunk: c.N, FirstRow: c.FirstRow, Participants: c.Participants,
		}}
	}
	return send(ctx, client, queueURL, job, out)
}

// DecodeSnapMessage reads a Snap chunk message; one that lacks a field the worker needs is an
// error.
func DecodeSnapMessage(body string) (SnapMessage, error) {
	var m struct {
		SnapMessage
		Participants *[]survey.Participant `json:"participants"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return SnapMessage{}, fmt.Errorf("imports: undecodable chunk message: %w", err)
	}
	var bad []string
	if m.Family != FamilySnap {
		bad = append(bad, "family")
	}
	if !ValidJobID(m.JobID) {
		bad = append(bad, "jobId")
	}
	if m.WorkspaceID == "" {
		bad = append(bad, "workspaceId")
	}
	if _, ok := survey.ParseSurveyID(m.SurveyID); !ok {
		bad = append(bad, "surveyId")
	}
	if m.Participants == nil {
		bad = append(bad, "participants")
	}
	if m.Chunk < 0 || m.FirstRow < 0 {
		bad = append(bad, "chunk/firstRow")
	}
	if len(bad) > 0 {
		return SnapMessage{}, fmt.Errorf("imports: chunk message lacks or has an invalid %s", strings.Join(bad, ", "))
	}
	m.SnapMessage.Participants = *m.Participants
	return m.SnapMessage, nil
}

// snapTask is a Snap chunk as the worker runs it.
func (w *Worker) snapTask(m SnapMessage) chunkTask {
	return chunkTask{
		ws: m.WorkspaceID, jobID: m.JobID, family: FamilySnap, target: m.SurveyID, targetKind: "survey",
		n: m.Chunk, firstRow: m.FirstRow, rows: len(m.Participants),
		run: func(ctx context.Context, job store.ImportJob) (store.ImportChunk, []store.ImportRowError, error) {
			return w.runSnapRows(ctx, m)
		},
	}
}

// runSnapRows adds a chunk's new participants. Rows are sorted by what the survey holds: a
// participant already there as the row says is unchanged (an earlier delivery of this chunk
// added it, or an earlier import did); a login or email another participant holds fails the
// row with Add Participant's message; the rest are added. Counts come from the chunk's plan
// when an earlier attempt wrote one (its own additions now look unchanged). A lost race for a
// login or email (another delivery of this chunk, at the same time) re-reads and re-plans.
func (w *Worker) runSnapRows(ctx context.Context, m SnapMessage) (store.ImportChunk, []store.ImportRowError, error) {
	rowCtx, meter := capacity.WithMeter(ctx)
	for conflicts := 0; ; {
		owners, err := w.Store.FindSnapOwners(rowCtx, m.WorkspaceID, m.SurveyID, m.Participants)
		if err != nil {
			return store.ImportChunk{}, nil, err
		}
		adds, counts, rowErrs := sortSnapRows(m.FirstRow, m.Participants, owners)
		earlier, found, err := w.Store.ImportChunkPlan(ctx, m.WorkspaceID, m.JobID, m.Chunk)
		switch {
		case err != nil:
			return store.ImportChunk{}, nil, err
		case found && earlier.Processed == counts.Processed:
			counts = earlier
		case len(adds) > 0:
			if counts, err = w.Store.PutImportChunkPlan(ctx, m.WorkspaceID, m.JobID, m.Chunk, counts); err != nil {
				return store.ImportChunk{}, nil, err
			}
		}
		err = w.Store.AddImportedSnapParticipants(rowCtx, m.WorkspaceID, m.SurveyID, m.JobID, adds)
		if errors.Is(err, vocab.ErrConflict) && conflicts < maxConflictRetries {
			conflicts++
			if err := sleep(ctx, conflicts); err != nil {
				return store.ImportChunk{}, nil, err
			}
			continue
		}
		if err != nil {
			return store.ImportChunk{}, nil, err
		}
		chunk := store.ImportChunk{N: m.Chunk, FirstRow: m.FirstRow, Rows: len(m.Participants), Counts: counts}
		chunk.ReadUnits, chunk.WriteUnits = meter.Units()
		return chunk, rowErrs, nil
	}
}

// sortSnapRows decides each row against the survey's current holders of logins and emails:
// the participants to add, the counts, and the rows that fail.
func sortSnapRows(firstRow int, ps []survey.Participant, owners store.SnapOwners) ([]survey.Participant, store.ImportCounts, []store.ImportRowError) {
	var adds []survey.Participant
	var rowErrs []store.ImportRowError
	counts := store.ImportCounts{Processed: len(ps)}
	for i, p := range ps {
		login, email := p.UniqueKeys()
		loginOwner, loginHeld := owners.ByLogin[login]
		emailOwner, emailHeld := owners.ByEmail[email]
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
			counts.Created++
			continue
		}
		if problem == "" {
			counts.Unchanged++
			continue
		}
		counts.Failed++
		rowErrs = append(rowErrs, store.ImportRowError{Row: firstRow + i, Errors: []store.ImportFieldError{{
			Field: fmt.Sprintf("participants[%d]", firstRow+i), Message: problem,
		}}})
	}
	return adds, counts, rowErrs
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
