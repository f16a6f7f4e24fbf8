package spotclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// ImportRequest is one CSV import as roster-sync sends it.
type ImportRequest struct {
	ScreenerID  string
	Mode        string // ModeUpdatesOnly or ModeFullSync
	DryRun      bool
	MaxRemovals *int // FULL_SYNC only
	CSV         []byte
	// Fresh, if set, goes into the idempotency key, so that the request makes a new job even
	// if an identical one made a job the API still remembers (one that was canceled, say).
	Fresh string
}

// keyVersion names the way IdempotencyKey derives a key; change it if the derivation changes.
const keyVersion = "roster-sync-v1"

// IdempotencyKey is derived from everything the request sends, so the same sync run again
// (after a network error, or a crash of this client) names the same job, and any difference
// makes a new one.
func (r ImportRequest) IdempotencyKey() string {
	h := sha256.New()
	maxRemovals := "none"
	if r.MaxRemovals != nil {
		maxRemovals = strconv.Itoa(*r.MaxRemovals)
	}
	fmt.Fprintf(h, "%s\x00screener=%s\x00mode=%s\x00dryRun=%t\x00maxRemovals=%s\x00fresh=%s\x00", keyVersion, r.ScreenerID, r.Mode, r.DryRun, maxRemovals, r.Fresh)
	h.Write(r.CSV)
	return keyVersion + "-" + hex.EncodeToString(h.Sum(nil))
}

func (r ImportRequest) query() url.Values {
	q := url.Values{"screenerId": {r.ScreenerID}, "importMode": {r.Mode}}
	if r.DryRun {
		q.Set("dryRun", "true")
	}
	if r.MaxRemovals != nil {
		q.Set("maxRemovals", strconv.Itoa(*r.MaxRemovals))
	}
	return q
}

// Submission is the API's answer to an import: a job (202), or, for an import the API ran at
// once (an empty payload, or a server without a queue), a plan (dry run) or the roster rows
// it answered.
type Submission struct {
	Job      *Job
	Plan     *Plan
	SyncRows int  // rows of a synchronous import's answer (Job and Plan nil)
	Replayed bool // the answer is the one an identical earlier request got (Idempotent-Replayed)
	Key      string
}

// Import posts the CSV with Prefer: respond-async, so the import runs as a job with progress,
// and with its idempotency key, so that retries (here, or a rerun) make no second job.
func (c *Client) Import(ctx context.Context, r ImportRequest) (Submission, error) {
	key := r.IdempotencyKey()
	h := http.Header{}
	h.Set("Content-Type", "text/csv")
	h.Set("Prefer", "respond-async")
	h.Set(HeaderIdempotency, key)
	a, err := c.do(ctx, request{method: http.MethodPost, path: pathImport, query: r.query(), header: h, body: r.CSV})
	if err != nil {
		return Submission{Key: key}, err
	}
	s := Submission{Key: key, Replayed: a.header.Get(HeaderReplayed) == "true"}
	switch {
	case a.status == http.StatusAccepted:
		s.Job = &Job{}
		err = decode(a, s.Job)
	case bytes.HasPrefix(bytes.TrimSpace(a.body), []byte("[")):
		var rows []struct{}
		err = decode(a, &rows)
		s.SyncRows = len(rows)
	default:
		s.Plan = &Plan{}
		err = decode(a, s.Plan)
	}
	return s, err
}
