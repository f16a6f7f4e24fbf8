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
// ends, answered 202 with its Location. A dry run (dryRun=true) plans every row the way the
// job's chunks do and writes nothing: up to MaxSyncDryRunRows rows and MaxSyncDryRunBytes it
// answers at once (200), above that as a dry-run job, which holds nothing.
const (
	// MaxImportBodyBytes is about what a Lambda function can receive (6 MB, with room for
	// the event's envelope).
	MaxImportBodyBytes = 6_000_000
	// MaxImportErrors is how many row errors an import's answers list (the first ones, in row
	// order); the message says how many rows failed in all.
	MaxImportErrors = 1000
	// MaxSyncDryRunRows and MaxSyncDryRunBytes bound a dry run answered at once: its roster
	// reads (up to two markers and two participants a row) stay well inside one API call's
	// time, and its answer, which repeats every row, well inside what a Lambda function may
	// return (6 MB).
	MaxSyncDryRunRows  = 1000
	MaxSyncDryRunBytes = 1_000_000
)

// Messages of the import calls.
const (
	MsgImportNoParticipants = `The import needs a "participants" array with at least one participant.`
	MsgImportNotFound       = "Import not found."
	MsgImportFinished       = "The import has finished; it can no longer be canceled."
)

// msgImportInvalid answers a payload with bad rows: nothing is imported.
func msgImportInvalid(bad, total int) string {
	return fmt.Sprintf("%d of %d participants are invalid; nothing was imported.", bad, total)
}

// importsPath is the survey's imports' URL path; importPath one job's.
func importsPath(surveyID string) string {
	return "/snaponline/api/surveys/" + surveyID + "/participant-imports"
}

func importPath(surveyID, jobID string) string { return importsPath(surveyID) + "/" + jobID }

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
	Skipped   int `json:"skipped"`
}

type importJSON struct {
	ImportID string           `json:"importId"`
	SurveyID string           `json:"surveyId"`
	Mode     string           `json:"mode"`
	DryRun   bool             `json:"dryRun"`
	Status   string           `json:"status"`
	Counts   importCountsJSON `json:"counts"`
	// Errors is left out of list items (nil): Get Participant Import lists a job's failed rows.
	Errors            *[]importRowErrorJSON `json:"errors,omitempty"`
	Reason            *string               `json:"reason"`
	CreatedAt         string                `json:"createdAt"`
	StartedAt         *string               `json:"startedAt"`
	FinishedAt        *string               `json:"finishedAt"`
	CancelRequestedAt *string               `json:"cancelRequestedAt"`
	ExpiresAt         *string               `json:"expiresAt"`
}

type invalidImportJSON struct {
	Message string               `json:"message"`
	Errors  []importRowErrorJSON `json:"errors"`
}

// importPlanJSON is a synchronous dry run's answer: what the import would do, row by row.
type importPlanJSON struct {
	DryRun   bool               `json:"dryRun"`
	SurveyID string             `json:"surveyId"`
	Mode     string             `json:"mode"`
	Counts   importCountsJSON   `json:"counts"`
	Results  []importResultJSON `json:"results"`
}

func (a *API) importParticipants(w http.ResponseWriter, r *http.Request) {
	q := parseQuery(r.URL, "dryRun")
	dryRun := q.boolean("dryRun", false)
	if q.err != "" {
		WriteMessage(w, http.StatusBadRequest, q.err)
		return
	}
	body, ok := a.writableBody(w, r, MaxImportBodyBytes)
	if !ok {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	ps, ok := a.validImport(w, r, sv, body)
	if !ok {
		return
	}
	if dryRun && len(ps) <= MaxSyncDryRunRows && len(body) <= MaxSyncDryRunBytes {
		a.planImport(w, r, sv, ps)
		return
	}
	if a.Imports == nil {
		a.writeError(w, r, errors.New("snapapi: imports need a queue (IMPORT_QUEUE_URL)"))
		return
	}
	actor := vocab.Actor{Type: "SnapUser", ID: c.userID()}
	job, err := snapjobs.Submit(r.Context(), a.Imports, c.WorkspaceID, actor, snapjobs.Import{SurveyID: sv.ID, Participants: ps, DryRun: dryRun})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", location(r, importPath(sv.ID, job.ID)))
	writeOK(w, http.StatusAccepted, toImport(job, nil))
}

// planImport answers a synchronous dry run: every row decided against the roster as an
// import's chunk decides it, nothing written.
func (a *API) planImport(w http.ResponseWriter, r *http.Request, sv survey.SurveyState, ps []survey.Participant) {
	c := callOf(r.Context())
	rows, err := snapjobs.DryRun(r.Context(), a.ImportRows, c.WorkspaceID, sv.ID, ps)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := importPlanJSON{
		DryRun: true, SurveyID: sv.ID, Mode: snapjobs.ModeAdd,
		Counts: toCounts(len(rows), jobs.CountRows(rows)), Results: make([]importResultJSON, len(rows)),
	}
	for i, row := range rows {
		out.Results[i] = toResult(row, sv.Survey, c.userID())
	}
	writeOK(w, http.StatusOK, out)
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
	if job, rowErrs, ok := a.surveyImport(w, r, MaxImportErrors); ok {
		writeOK(w, http.StatusOK, toImport(job, rowErrs))
	}
}

// cancelImport asks the {importId} job to stop: 200 with the job once it is CANCELED (at once
// when no chunk had started), 202 while the chunks in flight finish (CANCELING); asking again
// answers the same. A finished job is 409.
func (a *API) cancelImport(w http.ResponseWriter, r *http.Request) {
	if !noQuery(w, r) {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	job, rowErrs, ok := a.surveyImport(w, r, MaxImportErrors)
	if !ok {
		return
	}
	job, err := a.Jobs.Cancel(r.Context(), c.WorkspaceID, job.ID, time.Now().UTC())
	switch {
	case errors.Is(err, jobs.ErrFinished):
		WriteMessage(w, http.StatusConflict, MsgImportFinished)
		return
	case errors.Is(err, vocab.ErrNotFound):
		WriteMessage(w, http.StatusNotFound, MsgImportNotFound)
		return
	case err != nil:
		a.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if job.Status != jobs.Canceled {
		status = http.StatusAccepted
		w.Header().Set("Location", location(r, importPath(sv.ID, job.ID)))
	}
	writeOK(w, status, toImport(job, rowErrs))
}

// surveyImport reads the {importId} job of the {surveyId} survey with its first maxErrors row
// errors; a job of another survey or family, or an id that names none, is answered 404.
func (a *API) surveyImport(w http.ResponseWriter, r *http.Request, maxErrors int) (jobs.Job, []jobs.RowError, bool) {
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	id := r.PathValue("importId")
	if !jobs.ValidID(id) {
		WriteMessage(w, http.StatusNotFound, MsgImportNotFound)
		return jobs.Job{}, nil, false
	}
	job, rowErrs, err := a.Jobs.Get(r.Context(), c.WorkspaceID, id, maxErrors)
	if err == nil && (job.Family != snapjobs.Name || job.Target != sv.ID) {
		err = vocab.ErrNotFound
	}
	if errors.Is(err, vocab.ErrNotFound) {
		WriteMessage(w, http.StatusNotFound, MsgImportNotFound)
		return jobs.Job{}, nil, false
	}
	if err != nil {
		a.writeError(w, r, err)
		return jobs.Job{}, nil, false
	}
	return job, rowErrs, true
}

func toCounts(total int, c jobs.Counts) importCountsJSON {
	return importCountsJSON{
		Total: total, Processed: c.Processed, Created: c.Created, Unchanged: c.Unchanged, Failed: c.Failed, Skipped: c.Skipped,
	}
}

// toImport renders a job with its first row errors.
func toImport(j jobs.Job, rowErrs []jobs.RowError) importJSON {
	errs := []importRowErrorJSON{}
	for _, re := range rowErrs {
		for _, fe := range re.Errors {
			errs = append(errs, importRowErrorJSON{Row: re.Row, Message: fe.Message})
		}
	}
	out := importJSON{
		ImportID: j.ID, SurveyID: j.Target, Mode: j.Mode, DryRun: j.DryRun, Status: j.Status,
		Counts: toCounts(j.Total, j.Counts), Errors: &errs, CreatedAt: wireTime(j.CreatedAt),
		StartedAt: optionalTime(j.StartedAt), FinishedAt: optionalTime(j.FinishedAt),
		CancelRequestedAt: optionalTime(j.CancelRequestedAt), ExpiresAt: optionalTime(j.Expiry()),
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
