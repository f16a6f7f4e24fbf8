package snapapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/httpx"
	"github.com/participant-roster/roster/pkg/snap/snapjobs"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

// An import's per-row results and a survey's imports, paged the vendor's way (startingFrom,
// a page size up to MaxPage, progress and upToDate), with position tokens (query.go): the
// store pages both by position.

// importStatuses are the statuses a survey's imports may be listed by.
var importStatuses = []string{jobs.Queued, jobs.Running, jobs.Canceling, jobs.Completed, jobs.Failed, jobs.Canceled}

// importResultJSON is one row's result: what the row did (or, in a dry run, would do).
type importResultJSON struct {
	Row     int    `json:"row"`
	Outcome string `json:"outcome"`
	// Participant is the row as the import took it (validated, as Get Participant shows a
	// participant); null for a row no chunk recorded.
	Participant         *participantJSON `json:"participant"`
	ParticipantUniqueID *string          `json:"participantUniqueId"`
	Message             *string          `json:"message"` // why the row failed: its messages, joined by "; "
}

type importResultsJSON struct {
	Results  []importResultJSON `json:"results"`
	Progress string             `json:"progress"`
	UpToDate bool               `json:"upToDate"`
}

type importListJSON struct {
	Imports  []importJSON `json:"imports"`
	Progress string       `json:"progress"`
	UpToDate bool         `json:"upToDate"`
}

func toResult(row jobs.RowResult, sv survey.Survey, userID string) importResultJSON {
	out := importResultJSON{Row: row.Row, Outcome: row.Outcome, ParticipantUniqueID: nullable(snapjobs.RowID(row))}
	if p, ok := snapjobs.RowParticipant(row); ok {
		pj := toParticipant(p, sv, userID, true)
		out.Participant = &pj
	}
	messages := make([]string, len(row.Errors))
	for i, e := range row.Errors {
		messages[i] = e.Message
	}
	out.Message = nullable(strings.Join(messages, "; "))
	return out
}

// page is where a page of a listing paged by position ends: the progress token to send next
// (the same token when the page was empty) and whether the listing is read to its end.
func page(token, scope string, position, n, total int) (progress string, upToDate bool) {
	if n > 0 {
		token = encodePositionToken(scope, position+n)
	}
	return token, position+n >= total
}

// nextLink is the Link header value of the page after this one, with the same parameters.
func nextLink(r *http.Request, path string, q query, progress string) string {
	next := url.Values{}
	for name, vs := range q.values {
		next[name] = vs
	}
	next.Set("startingFrom", progress)
	return "<" + location(r, path) + "?" + next.Encode() + `>; rel="next"`
}

func (a *API) listImportResults(w http.ResponseWriter, r *http.Request) {
	q := parseQuery(r.URL, "startingFrom", "maxResults", "outcome")
	limit := q.size("maxResults")
	outcome := q.oneOf("outcome", snapjobs.Outcomes)
	scope := "results/" + r.PathValue("importId") + "/" + outcome
	token, position := q.startingAt(scope)
	if q.err != "" {
		WriteMessage(w, http.StatusBadRequest, q.err)
		return
	}
	job, _, ok := a.surveyImport(w, r, 0)
	if !ok {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	rows, total, err := a.Jobs.Results(r.Context(), c.WorkspaceID, job.ID, jobs.ResultQuery{Outcome: outcome, Offset: position, Limit: limit})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := importResultsJSON{Results: make([]importResultJSON, len(rows))}
	for i, row := range rows {
		out.Results[i] = toResult(row, sv.Survey, c.userID())
	}
	out.Progress, out.UpToDate = page(token, scope, position, len(rows), total)
	if !out.UpToDate {
		w.Header().Set("Link", nextLink(r, importPath(sv.ID, job.ID)+"/results", q, out.Progress))
	}
	if httpx.PrefersCSV(r.Header) {
		writeResultsCSV(w, out.Results)
		return
	}
	writeOK(w, http.StatusOK, out)
}

func (a *API) listImports(w http.ResponseWriter, r *http.Request) {
	q := parseQuery(r.URL, "startingFrom", "maxImports", "status")
	limit := q.size("maxImports")
	status := q.oneOf("status", importStatuses)
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	scope := "imports/" + sv.ID + "/" + status
	token, position := q.startingAt(scope)
	if q.err != "" {
		WriteMessage(w, http.StatusBadRequest, q.err)
		return
	}
	list, total, err := a.Jobs.List(r.Context(), c.WorkspaceID, jobs.ListQuery{
		Family: snapjobs.Name, Target: sv.ID, Status: status, Offset: position, Limit: limit,
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := importListJSON{Imports: make([]importJSON, len(list))}
	for i, j := range list {
		out.Imports[i] = toImport(j, nil)
		out.Imports[i].Errors = nil // Get Participant Import lists a job's failed rows
	}
	out.Progress, out.UpToDate = page(token, scope, position, len(list), total)
	if !out.UpToDate {
		w.Header().Set("Link", nextLink(r, importsPath(sv.ID), q, out.Progress))
	}
	writeOK(w, http.StatusOK, out)
}
