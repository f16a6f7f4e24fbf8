// Package spotclient is roster-sync's HTTP client of the Spot import API (api/openapi.yaml):
// submitting a CSV import as a job with an Idempotency-Key, reading, listing and canceling
// jobs, and walking their per-row results as JSON or CSV. Requests that are safe to repeat
// are retried with backoff; that includes the import's POST, which its key makes safe.
package spotclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/participant-roster/roster/pkg/platform/backoff"
)

// Routes of the Spot import API.
const (
	pathImport  = "/screener-participants-import"
	pathImports = "/screener-participants-imports"
)

// Retry defaults: a lost connection or a busy key is retried for about half a minute, long
// enough for an in-flight first request of a large import to finish.
var (
	DefaultRetry    = backoff.Policy{Base: time.Second, Max: 10 * time.Second}
	DefaultAttempts = 6
)

// maxAnswerBytes bounds what one answer may hold (a results page is far smaller).
const maxAnswerBytes = 64 << 20

// Client talks to one API with one credential.
type Client struct {
	BaseURL     *url.URL
	Key, Secret string
	HTTP        *http.Client
	Retry       backoff.Policy
	Attempts    int // tries per request; 1 means no retry
	// OnRetry, if set, hears of each retry before its wait.
	OnRetry func(attempt int, wait time.Duration, err error)
}

// New returns a client of the API at base (http or https, a host, an optional path prefix).
func New(base, key, secret string) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the API URL %q is not an http:// or https:// URL", base)
	}
	return &Client{
		BaseURL: u, Key: key, Secret: secret,
		HTTP:  &http.Client{Timeout: 2 * time.Minute},
		Retry: DefaultRetry, Attempts: DefaultAttempts,
	}, nil
}

// request is one call: a path under the base URL (or a full URL of the same API, for a
// page's next link), query, body and extra headers.
type request struct {
	method string
	path   string
	next   *url.URL
	query  url.Values
	header http.Header
	body   []byte
}

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
	url    *url.URL
}

// do sends a request, retrying transport errors and answers that say to try again, and
// returns the answer if its status is below 400 (an *APIError otherwise).
func (c *Client) do(ctx context.Context, r request) (*answer, error) {
	for attempt := 1; ; attempt++ {
		a, err := c.once(ctx, r)
		if err == nil && a.status >= 400 {
			err = problemOf(a)
		}
		if err == nil || !retryable(err) || attempt >= max(c.Attempts, 1) || ctx.Err() != nil {
			return a, err
		}
		wait := c.Retry.Delay(attempt)
		if c.OnRetry != nil {
			c.OnRetry(attempt, wait, err)
		}
		if backoff.Sleep(ctx, wait) != nil {
			return nil, err
		}
	}
}

// retryable: no answer at all, the server's own failure (a 5xx releases an idempotency
// key), throttling, or a 409 that asks for a retry (records changed, or the first request
// with this key still runs). A stored answer replayed is the same on every retry.
func retryable(err error) bool {
	var unreachable *UnreachableError
	if errors.As(err, &unreachable) {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Replayed {
		return false
	}
	switch s := StatusOf(err); {
	case s >= 500, s == http.StatusTooManyRequests:
		return true
	case s == http.StatusConflict:
		code := CodeOf(err)
		return code == CodeIdempotencyKeyInUse || code == CodeConflict
	}
	return false
}

func (c *Client) once(ctx context.Context, r request) (*answer, error) {
	u := r.next
	if u == nil {
		u = c.BaseURL.JoinPath(r.path)
		u.RawQuery = r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), bytes.NewReader(r.body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	req.Header.Set(HeaderKey, c.Key)
	req.Header.Set(HeaderSecret, c.Secret)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, &UnreachableError{URL: c.BaseURL.String(), Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, &UnreachableError{URL: c.BaseURL.String(), Err: fmt.Errorf("reading the answer: %w", err)}
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: body, url: u}, nil
}

// problemOf is the APIError of an error answer; a body that is no problem JSON (a gateway's
// page, say) leaves only the status.
func problemOf(a *answer) error {
	e := &APIError{Status: a.status, Replayed: a.header.Get(HeaderReplayed) == "true"}
	_ = json.Unmarshal(a.body, &e.Problem)
	return e
}

// decode reads a JSON answer into v.
func decode(a *answer, v any) error {
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("the API answered %d with a body that is not the expected JSON: %w", a.status, err)
	}
	return nil
}

// call sends a request and decodes its JSON answer.
func call[T any](ctx context.Context, c *Client, r request) (T, error) {
	var v T
	a, err := c.do(ctx, r)
	if err == nil {
		err = decode(a, &v)
	}
	return v, err
}

func jobPath(id string) string { return pathImports + "/" + url.PathEscape(id) }

// Job reads a job.
func (c *Client) Job(ctx context.Context, id string) (Job, error) {
	return call[Job](ctx, c, request{method: http.MethodGet, path: jobPath(id)})
}

// Cancel asks for a job's cancel; the job comes back CANCELING (chunks in flight finish) or
// CANCELED. A finished job's cancel is an APIError with CodeImportFinished.
func (c *Client) Cancel(ctx context.Context, id string) (Job, error) {
	return call[Job](ctx, c, request{method: http.MethodDelete, path: jobPath(id)})
}

// JobFilter narrows a job list; empty fields do not filter.
type JobFilter struct {
	ScreenerID, Status string
	Offset, Limit      int
}

// Jobs lists Spot import jobs, newest first.
func (c *Client) Jobs(ctx context.Context, f JobFilter) (Page[Job], error) {
	q := url.Values{}
	setIf(q, "filter[screenerId][eq]", f.ScreenerID)
	setIf(q, "filter[status][eq]", f.Status)
	setPage(q, f.Offset, f.Limit)
	return call[Page[Job]](ctx, c, request{method: http.MethodGet, path: pathImports, query: q})
}

func setIf(q url.Values, name, value string) {
	if value != "" {
		q.Set(name, value)
	}
}

func setPage(q url.Values, offset, limit int) {
	if offset > 0 {
		q.Set("pagination[offset]", fmt.Sprint(offset))
	}
	if limit > 0 {
		q.Set("pagination[limit]", fmt.Sprint(limit))
	}
}
