package spotclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/platform/backoff"
)

func TestParseLinks(t *testing.T) {
	got := parseLinks(`</r?a=1,2;b>; rel="next", <https://x.test/p>; rel=prev; title="t", <u3>;rel="last next"`)
	want := []link{{"/r?a=1,2;b", "next"}, {"https://x.test/p", "prev"}, {"u3", "last next"}}
	if len(got) != len(want) {
		t.Fatalf("parseLinks = %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("link %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// A next link naming another host is followed on the API's own host: the credential goes
// nowhere else.
func TestNextLinkKeepsTheAPIHost(t *testing.T) {
	c, err := New("http://api.test:3000", "k", "s")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := url.Parse("http://api.test:3000/screener-participants-imports/job_1/results?pagination[limit]=2")
	for link, want := range map[string]string{
		`</screener-participants-imports/job_1/results?pagination%5Boffset%5D=2>; rel="next"`: "http://api.test:3000/screener-participants-imports/job_1/results?pagination%5Boffset%5D=2",
		`<https://evil.test/steal?x=1>; rel="next"`:                                           "http://api.test:3000/steal?x=1",
		`<results?pagination%5Boffset%5D=4>; rel="next"`:                                      "http://api.test:3000/screener-participants-imports/job_1/results?pagination%5Boffset%5D=4",
	} {
		next, err := c.nextLink(&answer{header: http.Header{"Link": {link}}, url: page})
		if err != nil || next == nil || next.String() != want {
			t.Errorf("next of %s = %v, %v; want %s", link, next, err, want)
		}
	}
	if next, err := c.nextLink(&answer{header: http.Header{"Link": {`</x>; rel="prev"`}}, url: page}); next != nil || err != nil {
		t.Errorf("a prev link was taken for next: %v %v", next, err)
	}
}

func TestNewRejectsABadURL(t *testing.T) {
	for _, u := range []string{"localhost:3000", "ftp://x", "http://", "::"} {
		if _, err := New(u, "k", "s"); err == nil {
			t.Errorf("New(%q) accepted it", u)
		}
	}
}

// The idempotency key names exactly what is sent: the same request gives the same key, any
// difference another one; it is a valid Idempotency-Key (1-255 printable ASCII).
func TestIdempotencyKey(t *testing.T) {
	two, three := 2, 3
	base := ImportRequest{ScreenerID: "scr_1", Mode: ModeFullSync, MaxRemovals: &two, CSV: []byte("email,name\na@b.c,A\n")}
	key := base.IdempotencyKey()
	if again := base; again.IdempotencyKey() != key {
		t.Error("the same request gave another key")
	}
	if len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		t.Errorf("key %q is not a valid Idempotency-Key", key)
	}
	variants := map[string]ImportRequest{}
	v := base
	v.ScreenerID = "scr_2"
	variants["screener"] = v
	v = base
	v.Mode = ModeUpdatesOnly
	variants["mode"] = v
	v = base
	v.DryRun = true
	variants["dry run"] = v
	v = base
	v.MaxRemovals = &three
	variants["max removals"] = v
	v = base
	v.MaxRemovals = nil
	variants["no max removals"] = v
	v = base
	v.CSV = []byte("email,name\na@b.c,B\n")
	variants["file"] = v
	v = base
	v.Fresh = "1"
	variants["fresh"] = v
	for name, r := range variants {
		if r.IdempotencyKey() == key {
			t.Errorf("a different %s gave the same key", name)
		}
	}
}

func fastClient(t *testing.T, h http.HandlerFunc) *Client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "k", "s")
	if err != nil {
		t.Fatal(err)
	}
	c.Retry = backoff.Policy{Base: time.Millisecond, Max: time.Millisecond}
	return c
}

// A 409 saying the key is in use (the first request still runs) is retried; the same key
// goes with every try.
func TestImportRetriesAKeyInUse(t *testing.T) {
	var tries atomic.Int32
	keys := make(chan string, 10)
	c := fastClient(t, func(w http.ResponseWriter, r *http.Request) {
		keys <- r.Header.Get(HeaderIdempotency)
		if tries.Add(1) < 3 {
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"status":409,"code":"IDEMPOTENCY_KEY_IN_USE","message":"in use"}`))
			return
		}
		w.Header().Set(HeaderReplayed, "true")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"id":"job_1","status":"RUNNING","counts":{"total":4,"processed":1}}`))
	})
	sub, err := c.Import(context.Background(), ImportRequest{ScreenerID: "scr_1", Mode: ModeUpdatesOnly, CSV: []byte("x")})
	if err != nil || sub.Job == nil || sub.Job.ID != "job_1" || !sub.Replayed || sub.Job.Counts.Total != 4 {
		t.Fatalf("Import = %+v, %v", sub, err)
	}
	close(keys)
	first := <-keys
	for k := range keys {
		if k != first || k == "" {
			t.Errorf("a retry sent key %q, the first %q", k, first)
		}
	}
	if tries.Load() != 3 {
		t.Errorf("%d tries, want 3", tries.Load())
	}
}

// A 4xx that no retry can change is answered at once, its problem decoded.
func TestNoRetryOfARefusal(t *testing.T) {
	var tries atomic.Int32
	c := fastClient(t, func(w http.ResponseWriter, r *http.Request) {
		tries.Add(1)
		w.WriteHeader(http.StatusConflict)
		w.Write([]byte(`{"status":409,"code":"TOO_MANY_REMOVALS","message":"It would remove 9.","errors":[{"field":"maxRemovals","code":"OUT_OF_RANGE","message":"9 > 2"}]}`))
	})
	_, err := c.Import(context.Background(), ImportRequest{ScreenerID: "scr_1", CSV: []byte("x")})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Problem.Code != CodeTooManyRemovals || tries.Load() != 1 {
		t.Fatalf("err = %v after %d tries", err, tries.Load())
	}
	if err.Error() != "It would remove 9 (HTTP 409 TOO_MANY_REMOVALS)" || ae.FieldLines()[0] != "maxRemovals: 9 > 2" {
		t.Errorf("error reads %q, %q", err, ae.FieldLines())
	}
}

// A gateway's 502 with an HTML body is retried, then reported by its status.
func TestServerErrorsRetriedThenReported(t *testing.T) {
	var tries atomic.Int32
	c := fastClient(t, func(w http.ResponseWriter, r *http.Request) {
		tries.Add(1)
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html>bad gateway</html>"))
	})
	c.Attempts = 3
	_, err := c.Job(context.Background(), "job_1")
	if StatusOf(err) != http.StatusBadGateway || tries.Load() != 3 || err.Error() != "Bad Gateway (HTTP 502)" {
		t.Fatalf("err = %v after %d tries", err, tries.Load())
	}
}

// A canceled context stops the retries.
func TestCanceledContextStopsRetrying(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var tries atomic.Int32
	c := fastClient(t, func(w http.ResponseWriter, r *http.Request) {
		if tries.Add(1) == 2 {
			cancel()
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c.Retry = backoff.Policy{Base: 50 * time.Millisecond, Max: 50 * time.Millisecond}
	if _, err := c.Job(ctx, "job_1"); err == nil || tries.Load() != 2 {
		t.Fatalf("err = %v after %d tries, want an error after 2", err, tries.Load())
	}
}

// CSV pages are joined under one header; a page without a Link ends the walk once it is empty.
func TestResultsCSVJoinsPagesByOffset(t *testing.T) {
	pages := []string{"\ufeffexternalUid,email,name,outcome,error\r\na,a@x,\"A, \"\"Jr\"\"\",failed,bad\r\n",
		"externalUid,email,name,outcome,error\r\nb,b@x,\"multi\nline\",failed,bad\r\n", "externalUid,email,name,outcome,error\r\n"}
	var offsets []string
	c := fastClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "text/csv" || r.URL.Query().Get("filter[outcome][eq]") != "failed" {
			t.Errorf("request %s Accept %q", r.URL, r.Header.Get("Accept"))
		}
		offsets = append(offsets, r.URL.Query().Get("pagination[offset]"))
		w.Write([]byte(pages[len(offsets)-1]))
	})
	var out strings.Builder
	n, err := c.ResultsCSV(context.Background(), "job_1", OutcomeFailed, &out)
	want := "externalUid,email,name,outcome,error\na,a@x,\"A, \"\"Jr\"\"\",failed,bad\nb,b@x,\"multi\nline\",failed,bad\n"
	if err != nil || n != 2 || out.String() != want {
		t.Fatalf("ResultsCSV = %d, %v\n%q\nwant\n%q", n, err, out.String(), want)
	}
	if strings.Join(offsets, ",") != ",1,2" {
		t.Errorf("offsets asked: %q", offsets)
	}
}

// A server whose next link repeats a page does not loop the client.
func TestRepeatingNextLinkStops(t *testing.T) {
	c := fastClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `</screener-participants-imports/job_1/results?pagination%5Blimit%5D=500>; rel="next"`)
		w.Write([]byte(`{"total":9,"items":[{"row":0,"outcome":"created"}]}`))
	})
	n := 0
	err := c.EachResult(context.Background(), "job_1", "", func(Result) error { n++; return nil })
	if err == nil || !strings.Contains(err.Error(), "repeats a page") || n > 2 {
		t.Fatalf("err = %v after %d results", err, n)
	}
}

// A stored error answer replayed is not retried: every retry would get it again.
func TestReplayedRefusalNotRetried(t *testing.T) {
	var tries atomic.Int32
	c := fastClient(t, func(w http.ResponseWriter, r *http.Request) {
		tries.Add(1)
		w.Header().Set(HeaderReplayed, "true")
		w.WriteHeader(http.StatusConflict)
		w.Write([]byte(`{"status":409,"code":"CONFLICT","message":"The records changed."}`))
	})
	_, err := c.Import(context.Background(), ImportRequest{ScreenerID: "scr_1", CSV: []byte("x")})
	var ae *APIError
	if !errors.As(err, &ae) || !ae.Replayed || tries.Load() != 1 {
		t.Fatalf("err = %v (replayed %v) after %d tries", err, ae != nil && ae.Replayed, tries.Load())
	}
}
