package cli_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeAPI speaks the Spot import contract (api/openapi.yaml, our extensions) as the tests need
// it, written from the contract's words rather than the client's types: an import is a job
// whose rows advance `step` per read; a row whose email has no "@" fails.
type fakeAPI struct {
	t      *testing.T
	srv    *httptest.Server
	key    string
	secret string

	mu        sync.Mutex
	screeners map[string]bool
	jobs      []*fakeJob        // oldest first
	byKey     map[string]string // idempotency key -> the first answer's body
	posts     int
	deletes   int
	step      int  // rows a job advances per GET
	stalled   bool // jobs do not advance
	dropFirst bool // the first POST's connection is closed after the job is made (a lost reply)
	pageSize  int  // results per page, whatever the client asks (a server-side clamp)
	noLink    bool // pages carry no Link header: the client must page by offset
	onGet     func(n int)
	gets      int
}

type fakeJob struct {
	id, screener, mode string
	dryRun             bool
	maxRemovals        *int
	rows               [][]string // externalUid, email, name
	done               int
	status             string
	cancelAsked        bool
}

const (
	testKey    = "acct_test"
	testSecret = "sk_test"
	testScr    = "scr_01test0000000000000000000"
)

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{t: t, key: testKey, secret: testSecret, screeners: map[string]bool{testScr: true},
		byKey: map[string]string{}, step: 2, pageSize: 2}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func problem(w http.ResponseWriter, status int, code, msg string, fields ...map[string]any) {
	if fields == nil {
		fields = []map[string]any{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"_type": "Error", "status": status, "code": code, "message": msg, "requestId": "req-1", "errors": fields})
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Spot-Api-Key") != f.key || r.Header.Get("X-Spot-Api-Secret") != f.secret {
		problem(w, 401, "UNAUTHORIZED", "Missing or invalid API credentials.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == "POST" && r.URL.Path == "/screener-participants-import":
		f.postImport(w, r)
	case r.Method == "GET" && r.URL.Path == "/screener-participants-imports":
		f.list(w, r)
	case len(parts) == 2 && parts[0] == "screener-participants-imports":
		j := f.job(parts[1])
		switch {
		case j == nil:
			problem(w, 404, "NOT_FOUND", "The resource was not found.")
		case r.Method == "GET":
			f.gets++
			f.advance(j)
			writeJSON(w, 200, j.wire())
			if f.onGet != nil {
				f.onGet(f.gets)
			}
		case r.Method == "DELETE":
			f.cancel(w, j)
		}
	case len(parts) == 3 && parts[2] == "results" && r.Method == "GET":
		if j := f.job(parts[1]); j != nil {
			f.results(w, r, j)
		} else {
			problem(w, 404, "NOT_FOUND", "The resource was not found.")
		}
	default:
		problem(w, 404, "NOT_FOUND", "no such route")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) job(id string) *fakeJob {
	for _, j := range f.jobs {
		if j.id == id {
			return j
		}
	}
	return nil
}

func (f *fakeAPI) postImport(w http.ResponseWriter, r *http.Request) {
	f.posts++
	q := r.URL.Query()
	body, _ := io.ReadAll(r.Body)
	key := r.Header.Get("Idempotency-Key")
	switch {
	case r.Header.Get("Content-Type") != "text/csv":
		problem(w, 415, "UNSUPPORTED_MEDIA_TYPE", "want text/csv")
		return
	case r.Header.Get("Prefer") != "respond-async":
		problem(w, 400, "INVALID_QUERY", "the fake only runs jobs")
		return
	case key == "" || len(key) > 255:
		problem(w, 400, "INVALID_IDEMPOTENCY_KEY", "bad key")
		return
	}
	if stored, ok := f.byKey[key]; ok {
		w.Header().Set("Idempotent-Replayed", "true")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(202)
		io.WriteString(w, stored)
		return
	}
	if !f.screeners[q.Get("screenerId")] {
		problem(w, 404, "NOT_FOUND", "The screener was not found.")
		return
	}
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(records) == 0 {
		problem(w, 400, "VALIDATION_FAILED", "The CSV is not valid.", map[string]any{"field": "body", "code": "INVALID", "message": "line 1: no header"})
		return
	}
	j := &fakeJob{id: fmt.Sprintf("job_%026d", len(f.jobs)+1), screener: q.Get("screenerId"), mode: q.Get("importMode"),
		dryRun: q.Get("dryRun") == "true", rows: records[1:], status: "QUEUED"}
	if s := q.Get("maxRemovals"); s != "" {
		n, _ := strconv.Atoi(s)
		j.maxRemovals = &n
	}
	f.jobs = append(f.jobs, j)
	b, _ := json.Marshal(j.wire())
	f.byKey[key] = string(b)
	if f.dropFirst && f.posts == 1 {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Location", "/screener-participants-imports/"+j.id)
	w.Header().Set("Preference-Applied", "respond-async")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(202)
	w.Write(b)
}

func (f *fakeAPI) advance(j *fakeJob) {
	switch {
	case j.status == "CANCELING":
		j.status = "CANCELED"
	case j.status == "COMPLETED" || j.status == "CANCELED":
	case f.stalled:
		j.status = "RUNNING"
	default:
		j.status = "RUNNING"
		j.done = min(j.done+f.step, len(j.rows))
		if j.done == len(j.rows) {
			j.status = "COMPLETED"
		}
	}
}

func (f *fakeAPI) cancel(w http.ResponseWriter, j *fakeJob) {
	f.deletes++
	switch j.status {
	case "COMPLETED", "FAILED":
		problem(w, 409, "IMPORT_FINISHED", "The import has finished; it can no longer be canceled.")
	case "QUEUED":
		j.status = "CANCELED"
		writeJSON(w, 200, j.wire())
	case "CANCELED":
		writeJSON(w, 200, j.wire())
	default:
		j.status, j.cancelAsked = "CANCELING", true
		writeJSON(w, 202, j.wire())
	}
}

func badEmail(row []string) bool { return !strings.Contains(row[1], "@") }

// removals is how many a FULL_SYNC of this fake would remove: a fixed 3.
const fakeRemovals = 3

func (j *fakeJob) wire() map[string]any {
	c := map[string]int{"total": len(j.rows)}
	for _, row := range j.rows[:j.done] {
		c["processed"]++
		if badEmail(row) {
			c["failed"]++
		} else {
			c["created"]++
		}
	}
	var reason any
	if j.status == "CANCELED" {
		c["skipped"] = len(j.rows) - j.done
	}
	if j.status == "COMPLETED" && j.mode == "FULL_SYNC" {
		c["removed"] = fakeRemovals
		if j.maxRemovals != nil && *j.maxRemovals < fakeRemovals {
			j.status, c["removed"] = "FAILED", 0
			reason = fmt.Sprintf("the FULL_SYNC would remove %d screener participants, more than maxRemovals %d; nothing was removed", fakeRemovals, *j.maxRemovals)
		}
	}
	for _, k := range []string{"processed", "created", "updated", "unchanged", "removed", "failed", "skipped"} {
		c[k] += 0
	}
	var cancelAt any
	if j.cancelAsked {
		cancelAt = "2026-01-01T00:00:01.000Z"
	}
	return map[string]any{"_type": "ScreenerParticipantImport", "id": j.id, "screenerId": j.screener, "importMode": j.mode,
		"status": j.status, "dryRun": j.dryRun, "maxRemovals": j.maxRemovals, "counts": c, "errors": []any{}, "reason": reason,
		"createdAt": "2026-01-01T00:00:00.000Z", "startedAt": nil, "finishedAt": nil, "cancelRequestedAt": cancelAt,
		"expiresAt": "2026-01-08T00:00:00.000Z"}
}

// results answers a results page as JSON or CSV, pageSize per page whatever the client asks.
func (f *fakeAPI) results(w http.ResponseWriter, r *http.Request, j *fakeJob) {
	q := r.URL.Query()
	outcome := q.Get("filter[outcome][eq]")
	offset, _ := strconv.Atoi(q.Get("pagination[offset]"))
	type res struct {
		row     int
		outcome string
		fields  []string
		err     string
	}
	var all []res
	for i, row := range j.rows {
		o, e := "created", ""
		switch {
		case i >= j.done:
			o = "skipped"
		case badEmail(row):
			o, e = "failed", "email: must be an email address; name: checked"
		}
		if outcome == "" || outcome == o {
			all = append(all, res{i, o, row, e})
		}
	}
	page := all[min(offset, len(all)):min(offset+f.pageSize, len(all))]
	if next := offset + len(page); next < len(all) && !f.noLink {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("pagination[offset]", strconv.Itoa(next))
		// An absolute link naming another host: the client must keep its own.
		w.Header().Set("Link", `<http://elsewhere.example`+r.URL.Path+"?"+nq.Encode()+`>; rel="next"`)
	}
	if r.Header.Get("Accept") == "text/csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		cw := csv.NewWriter(w)
		cw.Write([]string{"externalUid", "email", "name", "outcome", "error"})
		for _, p := range page {
			cw.Write(append(append([]string{}, p.fields...), p.outcome, p.err))
		}
		cw.Flush()
		return
	}
	items := []map[string]any{}
	for _, p := range page {
		errs := []map[string]any{}
		if p.err != "" {
			errs = append(errs, map[string]any{"field": "email", "code": "INVALID", "message": "must be an email address"})
		}
		items = append(items, map[string]any{"_type": "ScreenerParticipantImportResult", "row": p.row, "outcome": p.outcome,
			"externalUid": p.fields[0], "email": p.fields[1], "name": p.fields[2], "participantId": nil, "screenerParticipantId": nil, "errors": errs})
	}
	writeJSON(w, 200, map[string]any{"_type": "PaginatedScreenerParticipantImportResult", "total": len(all), "limit": f.pageSize, "offset": offset, "items": items})
}

func (f *fakeAPI) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	items := []any{}
	for i := len(f.jobs) - 1; i >= 0; i-- {
		j := f.jobs[i]
		if s := q.Get("filter[screenerId][eq]"); s != "" && s != j.screener {
			continue
		}
		if s := q.Get("filter[status][eq]"); s != "" && s != j.status {
			continue
		}
		items = append(items, j.wire())
	}
	writeJSON(w, 200, map[string]any{"_type": "PaginatedScreenerParticipantImport", "total": len(items), "limit": 20, "offset": 0, "items": items})
}

func (f *fakeAPI) counts() (posts, jobs, deletes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts, len(f.jobs), f.deletes
}

func (f *fakeAPI) set(fn func(f *fakeAPI)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}
