package cli

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/participant-roster/roster/cmd/roster-sync/internal/spotclient"
)

// subject names what a request was about, for a 404's message.
type subject struct {
	kind, id string // "screener", "scr_…"; "import job", "job_…"
}

func screenerSubject(id string) subject { return subject{"screener", id} }
func jobSubject(id string) subject      { return subject{"import job", id} }

// report writes err as the user should read it and returns ExitUsage.
func report(w io.Writer, err error, about subject) int {
	for _, line := range explain(err, about) {
		fmt.Fprintln(w, line)
	}
	return ExitUsage
}

// explain turns an error into lines that say what went wrong and what to do.
func explain(err error, about subject) []string {
	var unreachable *spotclient.UnreachableError
	var apiErr *spotclient.APIError
	switch {
	case errors.As(err, &unreachable):
		return []string{
			"roster-sync: " + err.Error(),
			"  Is the API running at " + unreachable.URL + "? Locally, start it with `make run`;",
			"  otherwise name the right one with -api or $" + EnvAPI + ".",
		}
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		return []string{
			"roster-sync: the API key or secret was refused (HTTP 401).",
			"  Check -key and -secret (or $" + EnvKey + " and $" + EnvSecret + "): the key must be an active Spot API key of the workspace.",
		}
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound && about.id != "":
		lines := []string{fmt.Sprintf("roster-sync: the %s %s was not found in the key's workspace (HTTP 404).", about.kind, about.id)}
		if about.kind == jobSubject("").kind {
			lines = append(lines, "  Jobs and their results expire (each job's expiresAt says when); `roster-sync jobs` lists those kept.")
		}
		return lines
	case errors.As(err, &apiErr):
		lines := []string{"roster-sync: the API refused the request: " + apiErr.Error()}
		for _, f := range apiErr.FieldLines() {
			lines = append(lines, "  "+f)
		}
		if apiErr.Replayed {
			lines = append(lines, "  (the answer an identical earlier run got, replayed by the API, which keeps it a day: change the file or flags to send a new request)")
		}
		if apiErr.Problem.RequestID != "" && apiErr.Status >= 500 {
			lines = append(lines, "  request id: "+apiErr.Problem.RequestID)
		}
		return lines
	}
	return []string{"roster-sync: " + err.Error()}
}
