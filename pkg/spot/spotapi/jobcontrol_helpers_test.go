package spotapi_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"
)

const (
	resultsFn = "ListScreenerParticipantImportResultsFunction"
	cancelFn  = "CancelScreenerParticipantImportFunction"
	listJobFn = "ListScreenerParticipantImportsFunction"
)

func jobPath(id string) string { return "/screener-participants-imports/" + id }

// submit posts an import that must become a job (202) and returns the job.
func (a *asyncEnv) submit(query, body string, headers map[string]string) importJob {
	a.t.Helper()
	r, _ := a.importWith(query, body, headers)
	return a.accepted(r)
}

// asyncNow asks a small import to run as a job.
var asyncNow = map[string]string{"prefer": "respond-async"}

func (a *asyncEnv) cancel(id string) testkit.Response {
	a.t.Helper()
	return a.call(cancelFn, "DELETE", jobPath(id), "", "", nil)
}

// results reads one page of a job's results; accept "" is no Accept header.
func (c *client) results(id, query, accept string) testkit.Response {
	c.t.Helper()
	var h map[string]string
	if accept != "" {
		h = map[string]string{"accept": accept}
	}
	return c.call(resultsFn, "GET", jobPath(id)+"/results", query, "", h)
}

var nextLink = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// allResults walks a job's results (those of outcome, "" for all) page by page, following each
// page's Link rel="next", and checks that every page but the last has one and the last none.
func (c *client) allResults(id, outcome string) []importResult {
	c.t.Helper()
	query := q("pagination[limit]", "500")
	if outcome != "" {
		query = q("pagination[limit]", "500", "filter[outcome][eq]", outcome)
	}
	var out []importResult
	for pages := 0; ; pages++ {
		r := c.results(id, query, "")
		wantStatus(c.t, r, 200)
		var p page[importResult]
		r.JSON(&p)
		if p.Type != "PaginatedScreenerParticipantImportResult" || p.Offset != len(out) {
			c.t.Fatalf("page %d: %s at offset %d, want offset %d", pages, p.Type, p.Offset, len(out))
		}
		out = append(out, p.Items...)
		link := r.Headers["Link"]
		if len(out) >= p.Total {
			if link != "" {
				c.t.Fatalf("the last page (%d of %d results) links to %s", len(out), p.Total, link)
			}
			return out
		}
		m := nextLink.FindStringSubmatch(link)
		if m == nil || len(p.Items) == 0 {
			c.t.Fatalf("page %d (%d of %d results): Link %q", pages, len(out), p.Total, link)
		}
		u, err := url.Parse(m[1])
		if err != nil || u.Path != jobPath(id)+"/results" {
			c.t.Fatalf("Link %q", link)
		}
		query = u.RawQuery
	}
}

// storedJob reads a job straight from the store (for what the API does not show: row units).
func (a *asyncEnv) storedJob(id string) jobs.Job {
	a.t.Helper()
	j, _, err := a.env.App.Jobs.Get(context.Background(), a.tenant.WorkspaceID, id, 0)
	if err != nil {
		a.t.Fatal(err)
	}
	return j
}

// rosterEmails is the screener's roster as a set of emails, read consistently from the store.
func (a *asyncEnv) rosterEmails(scr string) map[string]bool {
	a.t.Helper()
	roster, err := a.env.App.Store.Roster(context.Background(), a.tenant.WorkspaceID, scr)
	if err != nil {
		a.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, s := range roster {
		out[strings.ToLower(s.Email)] = true
	}
	return out
}

// pollUntil feeds the worker one batch at a time until done says so.
func (a *asyncEnv) pollUntil(what string, done func() bool) {
	a.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !done() {
		if time.Now().After(deadline) {
			a.t.Fatalf("%s: not reached in time", what)
		}
		if _, err := a.poller.PollOnce(context.Background()); err != nil {
			a.t.Fatalf("poll: %v", err)
		}
	}
}
