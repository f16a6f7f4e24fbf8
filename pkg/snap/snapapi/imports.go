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
	body, ok := a.writable(w, r, MaxImportBodyBytes)
	if !ok {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	ps, ok := a.validImport(w, r, sv, body)
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

// validImport has the service validate every row; a payload with bad rows is answered 400
// listing the first MaxImportErrors of them.
func (a *API) validImport(w http.ResponseWriter, r *http.Request, sv survey.SurveyState, body []byte) ([]survey.Participant, bool) {
	ps, err := a.Service.ValidateImport(callOf(r.Context()).caller(), sv, body)
	var invalid *survey.InvalidImport
	switch {
	case errors.Is(err, survey.ErrNoImportRows):
		WriteMessage(w, http.StatusBadRequest, MsgImportNoParticipants)
		return nil, false
	case errors.As(err, &invalid):
		writeOK(w, http.StatusBadRequest, toInvalidImport(invalid))
		return nil, false
	case err != nil:
		a.writeError(w, r, err)
		return nil, false
	}
	return ps, true
}

func toInvalidImport(e *survey.InvalidImport) invalidImportJSON {
	rows := e.Rows[:min(len(e.Rows), MaxImportErrors)]
	out := invalidImportJSON{Message: msgImportInvalid(len(e.Rows), e.Total), Errors: make([]importRowErrorJSON, len(rows))}
	for i, re := range rows {
		out.Errors[i] = importRowErrorJSON{Row: re.Row, Message: re.Message}
	}
	return out
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
