package spotapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/httpx"
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

func (a *API) getScreenerParticipantImport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !jobs.ValidID(id) || a.Jobs == nil {
		notFound(w, r)
		return
	}
	job, rowErrs, err := a.Jobs.Get(r.Context(), principal(r.Context()).WorkspaceID, id, MaxJobErrors)
	if err == nil && job.Family != spotjobs.Name {
		err = vocab.ErrNotFound
	}
	a.respond(w, r, err, func() any { return toImportJob(job, rowErrs) })
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
	ExpiresAt         string            `json:"expiresAt"`
}

func toImportJob(j jobs.Job, rowErrs []jobs.RowError) importJobJSON {
	out := importJobJSON{
		Type: "ScreenerParticipantImport", ID: j.ID, ScreenerID: j.Target, ImportMode: j.Mode,
		DryRun: j.DryRun, MaxRemovals: j.MaxRemovals, Status: j.Status, Counts: toImportCounts(j.Total, j.Counts),
		Errors: []importErrorJSON{}, Reason: nullable(j.Reason), CreatedAt: wireTime(j.CreatedAt),
		StartedAt: nullableTime(j.StartedAt), FinishedAt: nullableTime(j.FinishedAt),
		CancelRequestedAt: nullableTime(j.CancelRequestedAt), ExpiresAt: wireTime(j.ExpiresAt),
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
