package snapapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/snap/snapjobs"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Bulk participant import: our path and shape for the vendor's v3 "add many participants".
// Rows are Add Participant bodies, each validated with Add Participant's messages before
// anything is stored; a valid payload becomes a job that holds the survey's roster until it
// ends, answered 202 with its Location.
const (
	// MaxImportBodyBytes is about what a Lambda function can receive (6 MB, with room for
	// the event's envelope).
	MaxImportBodyBytes = 6_000_000
	// MaxImportErrors is how many row errors an import's answers list (the first ones, in row
	// order); the message says how many rows failed in all.
	MaxImportErrors = 1000
)

// Messages of the import calls.
const (
	MsgImportNoParticipants = `The import needs a "participants" array with at least one participant.`
	MsgImportNotFound       = "Import not found."
)

// msgImportInvalid answers a payload with bad rows: nothing is imported.
func msgImportInvalid(bad, total int) string {
	return fmt.Sprintf("%d of %d participants are invalid; nothing was imported.", bad, total)
}

// importPath is the job's URL path.
func importPath(surveyID, jobID string) string {
	return "/snaponline/api/surveys/" + surveyID + "/participant-imports/" + jobID
}

type importRowErrorJSON struct {
	Row     int    `json:"row"`
	Message string `json:"message"`
}

type importCountsJSON struct {
	Total     int `json:"total"`
	Processed int `json:"processed"`
	Created   int `json:"created"`
	Unchanged int `json:"unchanged"`
	Failed    int `json:"failed"`
}

type importJSON struct {
	ImportID   string               `json:"importId"`
	SurveyID   string               `json:"surveyId"`
	Mode       string               `json:"mode"`
	Status     string               `json:"status"`
	Counts     importCountsJSON     `json:"counts"`
	Errors     []importRowErrorJSON `json:"errors"`
	Reason     *string              `json:"reason"`
	CreatedAt  string               `json:"createdAt"`
	StartedAt  *string              `json:"startedAt"`
	FinishedAt *string              `json:"finishedAt"`
}

type invalidImportJSON struct {
	Message string               `json:"message"`
	Errors  []importRowErrorJSON `json:"errors"`
}

func (a *API) importParticipants(w http.ResponseWriter, r *http.Request) {
	body, ok := writable(w, r, MaxImportBodyBytes)
	if !ok {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	ps, ok := a.validImport(w, r, body, survey.Context{Survey: sv.Survey, UserID: c.userID(), Op: survey.Add})
	if !ok {
		return
	}
	if a.Imports == nil {
		a.writeError(w, r, errors.New("snapapi: imports need a queue (IMPORT_QUEUE_URL)"))
		return
	}
	actor := vocab.Actor{Type: "SnapUser", ID: c.userID()}
	job, err := snapjobs.Submit(r.Context(), a.Imports, c.WorkspaceID, actor, sv.ID, ps)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", location(r, importPath(sv.ID, job.ID)))
	writeOK(w, http.StatusAccepted, toImport(job, nil))
}

// validImport decodes and validates every row; on any bad row it answers 400 listing them.
// Rows may not repeat a login or an email (ignoring case): chunks run apart, so the worker
// could not tell which of two rows should win.
func (a *API) validImport(w http.ResponseWriter, r *http.Request, body []byte, ctx survey.Context) ([]survey.Participant, bool) {
	raws, err := survey.DecodeImport(body)
	if err != nil {
		a.writeError(w, r, err)
		return nil, false
	}
	if len(raws) == 0 {
		WriteMessage(w, http.StatusBadRequest, MsgImportNoParticipants)
		return nil, false
	}
	ps := make([]survey.Participant, len(raws))
	var bad []importRowErrorJSON
	logins, emails := map[string]bool{}, map[string]bool{}
	for i, raw := range raws {
		p, err := decodeAndValidate(raw, ctx)
		msg := ""
		var invalid *survey.Error
		switch {
		case errors.As(err, &invalid):
			msg = invalid.Message
		case err != nil:
			a.writeError(w, r, err)
			return nil, false
		case !fits(p):
			msg = MsgParticipantTooLarge
		default:
			msg = repeated(p, logins, emails)
		}
		if msg != "" {
			bad = append(bad, importRowErrorJSON{Row: i, Message: msg})
		}
		ps[i] = p
	}
	if len(bad) > 0 {
		out := invalidImportJSON{Message: msgImportInvalid(len(bad), len(raws)), Errors: bad[:min(len(bad), MaxImportErrors)]}
		writeOK(w, http.StatusBadRequest, out)
		return nil, false
	}
	return ps, true
}

// repeated returns the Add Participant message for a row whose login or email an earlier row
// has, and notes the row's.
func repeated(p survey.Participant, logins, emails map[string]bool) string {
	login, email := p.UniqueKeys()
	if login != "" {
		if logins[login] {
			return survey.MsgLoginTaken
		}
		logins[login] = true
	}
	if email != "" {
		if emails[email] {
			return survey.MsgEmailTaken
		}
		emails[email] = true
	}
	return ""
}

func (a *API) getImport(w http.ResponseWriter, r *http.Request) {
	if !noQuery(w, r) {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	id := r.PathValue("importId")
	if !jobs.ValidID(id) {
		WriteMessage(w, http.StatusNotFound, MsgImportNotFound)
		return
	}
	job, rowErrs, err := a.Jobs.Get(r.Context(), c.WorkspaceID, id, MaxImportErrors)
	if err == nil && (job.Family != snapjobs.Name || job.Target != sv.ID) {
		err = vocab.ErrNotFound
	}
	if errors.Is(err, vocab.ErrNotFound) {
		WriteMessage(w, http.StatusNotFound, MsgImportNotFound)
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, toImport(job, rowErrs))
}

func toImport(j jobs.Job, rowErrs []jobs.RowError) importJSON {
	out := importJSON{
		ImportID: j.ID, SurveyID: j.Target, Mode: j.Mode, Status: j.Status,
		Counts: importCountsJSON{
			Total: j.Total, Processed: j.Counts.Processed, Created: j.Counts.Created,
			Unchanged: j.Counts.Unchanged, Failed: j.Counts.Failed,
		},
		Errors: []importRowErrorJSON{}, CreatedAt: wireTime(j.CreatedAt),
		StartedAt: optionalTime(j.StartedAt), FinishedAt: optionalTime(j.FinishedAt),
	}
	for _, re := range rowErrs {
		for _, fe := range re.Errors {
			out.Errors = append(out.Errors, importRowErrorJSON{Row: re.Row, Message: fe.Message})
		}
	}
	if j.Reason != "" {
		reason := j.Reason
		out.Reason = &reason
	}
	return out
}

func wireTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optionalTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := wireTime(*t)
	return &s
}
