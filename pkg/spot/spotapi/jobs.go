package spotapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/httpx"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
	"github.com/participant-roster/roster/pkg/vocab"
)

// MaxJobErrors is how many row errors a job's answer lists (the first ones, in row order).
const MaxJobErrors = 100

// prefersAsync reports whether a request carries the RFC 7240 preference respond-async (in any
// Prefer header, among other preferences, with or without parameters).
func prefersAsync(h http.Header) bool {
	for _, v := range h.Values("Prefer") {
		for _, pref := range strings.Split(v, ",") {
			name, _, _ := strings.Cut(pref, ";")
			name, _, _ = strings.Cut(name, "=")
			if strings.EqualFold(strings.TrimSpace(name), "respond-async") {
				return true
			}
		}
	}
	return false
}

// submitImport runs an import as a job: it validates the payload as far as it can without the
// store (every bad row is a 400 and no job), checks the screener (404), stores the job, queues
// its chunks and answers 202 with the job and its Location.
func (a *API) submitImport(w http.ResponseWriter, r *http.Request, ws string, actor vocab.Actor, req screening.ImportRequest, preferAsync bool) {
	ctx := r.Context()
	if err := screening.ValidateImportRows(req.Rows); err != nil {
		a.writeError(w, r, err)
		return
	}
	if _, err := a.Service.Screener(ctx, ws, req.ScreenerID); err != nil {
		if errors.Is(err, vocab.ErrNotFound) {
			WriteProblem(w, r, http.StatusNotFound, CodeNotFound, "The screener was not found.", nil)
			return
		}
		a.writeError(w, r, err)
		return
	}
	job, err := spotjobs.Submit(ctx, a.Imports, ws, actor, req)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/screener-participants-imports/"+job.ID)
	if preferAsync {
		w.Header().Set("Preference-Applied", "respond-async")
	}
	httpx.WriteJSON(w, http.StatusAccepted, toImportJob(job, nil))
}

// spotJob reads the {id} job of the caller's workspace with its first maxErrors row errors. An
// id of another shape, a job of another family, or none, is answered 404 (ok false).
func (a *API) spotJob(w http.ResponseWriter, r *http.Request, maxErrors int) (job jobs.Job, rowErrs []jobs.RowError, ok bool) {
	id := r.PathValue("id")
	if !jobs.ValidID(id) || a.Jobs == nil {
		notFound(w, r)
		return job, nil, false
	}
	job, rowErrs, err := a.Jobs.Get(r.Context(), principal(r.Context()).WorkspaceID, id, maxErrors)
	if err == nil && job.Family != spotjobs.Name {
		err = vocab.ErrNotFound
	}
	if err != nil {
		a.writeError(w, r, err)
		return job, nil, false
	}
	return job, rowErrs, true
}

func (a *API) getScreenerParticipantImport(w http.ResponseWriter, r *http.Request) {
	if job, rowErrs, ok := a.spotJob(w, r, MaxJobErrors); ok {
		writeOK(w, toImportJob(job, rowErrs))
	}
}

// cancelScreenerParticipantImport asks a job to stop: 202 while it is CANCELING (the chunks in
// flight finish), 200 once it is CANCELED; the same again on a second cancel. A finished job is
// 409 IMPORT_FINISHED.
func (a *API) cancelScreenerParticipantImport(w http.ResponseWriter, r *http.Request) {
	job, rowErrs, ok := a.spotJob(w, r, MaxJobErrors)
	if !ok {
		return
	}
	job, err := a.Jobs.Cancel(r.Context(), job.WorkspaceID, job.ID, a.Service.Now().UTC())
	switch {
	case errors.Is(err, jobs.ErrFinished):
		WriteProblem(w, r, http.StatusConflict, CodeImportFinished, "The import has finished; it can no longer be canceled.", nil)
		return
	case err != nil:
		a.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if job.Status == jobs.Canceling {
		status = http.StatusAccepted
	}
	httpx.WriteJSON(w, status, toImportJob(job, rowErrs))
}

// importStatuses are the statuses a job list filters on.
var importStatuses = []string{jobs.Queued, jobs.Running, jobs.Canceling, jobs.Completed, jobs.Failed, jobs.Canceled}

// listScreenerParticipantImports lists the workspace's Spot import jobs, newest first. A job in a
// list carries no row errors (GET the job for them).
func (a *API) listScreenerParticipantImports(w http.ResponseWriter, r *http.Request) {
	spec := filterSpec{"screenerId": ids.Screener, "status": ""}
	q, ok := parseListRequest(w, r, spec, map[string][]string{"status": importStatuses}, false)
	if !ok {
		return
	}
	var list []jobs.Job
	var total int
	var err error
	if a.Jobs != nil {
		list, total, err = a.Jobs.List(r.Context(), principal(r.Context()).WorkspaceID, jobs.ListQuery{
			Family: spotjobs.Name, Target: q.Filters["screenerId"], Status: q.Filters["status"], Offset: q.Page.Offset, Limit: q.Page.Limit,
		})
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]importJobJSON, len(list))
	for i, j := range list {
		items[i] = toImportJob(j, nil)
	}
	writeOK(w, pageJSON[importJobJSON]{Type: "PaginatedScreenerParticipantImport", Total: total, Limit: q.Page.Limit, Offset: q.Page.Offset, Items: items})
}

// listScreenerParticipantImportResults pages a job's per-row results (payload rows in row
// order, then removals), as JSON or, when the client prefers it, CSV; both carry a Link to the
// next page.
func (a *API) listScreenerParticipantImportResults(w http.ResponseWriter, r *http.Request) {
	q, ok := parseListRequest(w, r, filterSpec{"outcome": ""}, map[string][]string{"outcome": jobs.Outcomes}, false)
	if !ok {
		return
	}
	job, _, ok := a.spotJob(w, r, 0)
	if !ok {
		return
	}
	rows, total, err := a.Jobs.Results(r.Context(), job.WorkspaceID, job.ID, jobs.ResultQuery{
		Outcome: q.Filters["outcome"], Offset: q.Page.Offset, Limit: q.Page.Limit,
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Vary", "Accept")
	setNextLink(w, r, q.Page.Offset, q.Page.Limit, len(rows), total)
	// The gateway adapter splits a header's values at commas; Accept is a list either way.
	if httpx.PrefersCSV(r.Header) {
		writeCSV(w, resultsCSV(rows))
		return
	}
	writeOK(w, pageJSON[importResultJSON]{
		Type: "PaginatedScreenerParticipantImportResult", Total: total, Limit: q.Page.Limit, Offset: q.Page.Offset, Items: toImportResults(rows),
	})
}

type importCountsJSON struct {
	Total     int `json:"total"`
	Processed int `json:"processed"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Removed   int `json:"removed"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
}

func toImportCounts(total int, c jobs.Counts) importCountsJSON {
	return importCountsJSON{
		Total: total, Processed: c.Processed, Created: c.Created, Updated: c.Updated,
		Unchanged: c.Unchanged, Removed: c.Removed, Failed: c.Failed, Skipped: c.Skipped,
	}
}

type importErrorJSON struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

type importJobJSON struct {
	Type              string            `json:"_type"`
	ID                string            `json:"id"`
	ScreenerID        string            `json:"screenerId"`
	ImportMode        string            `json:"importMode"`
	DryRun            bool              `json:"dryRun"`
	MaxRemovals       *int              `json:"maxRemovals"`
	Status            string            `json:"status"`
	Counts            importCountsJSON  `json:"counts"`
	Errors            []importErrorJSON `json:"errors"`
	Reason            *string           `json:"reason"`
	CreatedAt         string            `json:"createdAt"`
	StartedAt         *string           `json:"startedAt"`
	FinishedAt        *string           `json:"finishedAt"`
	CancelRequestedAt *string           `json:"cancelRequestedAt"`
	ExpiresAt         *string           `json:"expiresAt"`
}

func toImportJob(j jobs.Job, rowErrs []jobs.RowError) importJobJSON {
	out := importJobJSON{
		Type: "ScreenerParticipantImport", ID: j.ID, ScreenerID: j.Target, ImportMode: j.Mode,
		DryRun: j.DryRun, MaxRemovals: j.MaxRemovals, Status: j.Status, Counts: toImportCounts(j.Total, j.Counts),
		Errors: []importErrorJSON{}, Reason: nullable(j.Reason), CreatedAt: wireTime(j.CreatedAt),
		StartedAt: nullableTime(j.StartedAt), FinishedAt: nullableTime(j.FinishedAt),
		CancelRequestedAt: nullableTime(j.CancelRequestedAt), ExpiresAt: nullableTime(j.Expiry()),
	}
	for _, re := range rowErrs {
		for _, fe := range re.Errors {
			if len(out.Errors) == MaxJobErrors {
				break
			}
			out.Errors = append(out.Errors, importErrorJSON{Row: re.Row, Field: fe.Field, Code: fe.Code, Message: fe.Message})
		}
	}
	return out
}

func nullableTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := wireTime(*t)
	return &s
}
