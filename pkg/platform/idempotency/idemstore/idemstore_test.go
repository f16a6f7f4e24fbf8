package idemstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/idempotency"
	"github.com/participant-roster/roster/pkg/platform/idempotency/idemstore"
	"github.com/participant-roster/roster/pkg/platform/ids"
)

func TestMain(m *testing.M) { testkit.Main(m) }

const route = "POST /things"

// rig is a guard over a real table in front of a handler that counts its runs; the request's
// X-Test-Key header stands for the verified credential.
type rig struct {
	t     *testing.T
	table *ddb.Table
	store *idemstore.Store
	guard *idempotency.Guard
	ws    string
	now   time.Time
	runs  atomic.Int32
	// answer is what the handler does on each run.
	answer func(w http.ResponseWriter, r *http.Request)
	mu     sync.Mutex
}

func newRig(t *testing.T) *rig {
	env := testkit.NewEnv(t)
	rg := &rig{t: t, table: env.App.Table, store: idemstore.New(env.App.Table), ws: ids.New(ids.Workspace), now: time.Now()}
	rg.guard = &idempotency.Guard{Store: rg.store, Now: rg.clock}
	rg.answer = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/things/1")
		w.Header().Set("Preference-Applied", "respond-async")
		w.Header().Set("X-Not-Kept", "x")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = fmt.Fprintf(w, `{"run":%d}`, rg.runs.Load())
	}
	return rg
}

func (rg *rig) clock() time.Time {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	return rg.now
}

func (rg *rig) advance(d time.Duration) {
	rg.mu.Lock()
	rg.now = rg.now.Add(d)
	rg.mu.Unlock()
}

func (rg *rig) handler() http.Handler {
	scope := func(r *http.Request) idempotency.Scope {
		return idempotency.Scope{Workspace: rg.ws, Credential: r.Header.Get("X-Test-Key"), Route: route}
	}
	errs := idempotency.ErrorWriters{
		Refuse: func(w http.ResponseWriter, _ *http.Request, refusal *idempotency.Refusal) {
			http.Error(w, refusal.Message, refusal.Status)
		},
		Fail: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		},
	}
	return rg.guard.Wrap(scope, errs, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rg.runs.Add(1)
		rg.answer(w, r)
	}))
}

// do sends a request with a key ("" for none) as a credential.
func (rg *rig) do(credential, key, query, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/things?"+query, strings.NewReader(body))
	r.Header.Set("X-Test-Key", credential)
	if key != "" {
		r.Header.Set(idempotency.Header, key)
	}
	w := httptest.NewRecorder()
	rg.handler().ServeHTTP(w, r)
	return w
}

func (rg *rig) wantRuns(n int32) {
	rg.t.Helper()
	if got := rg.runs.Load(); got != n {
		rg.t.Fatalf("the handler ran %d times, want %d", got, n)
	}
}

// records is every idempotency item of the rig's workspace.
func (rg *rig) records() []ddb.Item {
	rg.t.Helper()
	items, err := rg.table.QueryAll(context.Background(), ddb.Partition{PK: ddb.WS(rg.ws) + "#IDEM"})
	if err != nil {
		rg.t.Fatal(err)
	}
	return items
}

func wantStatus(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
}

// TestReplay: the first request with a key runs and is stored (with its TTL); the same
// request again gets the same answer, marked as a replay, without running; another body or
// query is 422; another credential's or route's key of the same value is its own; a request
// without the header is untouched.
func TestReplay(t *testing.T) {
	rg := newRig(t)
	first := rg.do("acct_a", "k-1", "x=1", `{"a":1}`)
	wantStatus(t, first, http.StatusCreated)
	rg.wantRuns(1)
	if first.Header().Get(idempotency.ReplayedHeader) != "" {
		t.Error("the first answer is marked as a replay")
	}

	again := rg.do("acct_a", "k-1", "x=1", `{"a":1}`)
	wantStatus(t, again, http.StatusCreated)
	rg.wantRuns(1)
	if again.Body.String() != first.Body.String() || again.Body.String() != `{"run":1}` {
		t.Errorf("replayed body %s, first %s", again.Body, first.Body)
	}
	for _, h := range idempotency.ReplayedHeaders {
		if again.Header().Get(h) == "" || again.Header().Get(h) != first.Header().Get(h) {
			t.Errorf("replayed %s %q, first %q", h, again.Header().Get(h), first.Header().Get(h))
		}
	}
	if again.Header().Get(idempotency.ReplayedHeader) != "true" || again.Header().Get("X-Not-Kept") != "" {
		t.Errorf("replay headers %v", again.Header())
	}
	if quoted := rg.do("acct_a", `"k-1"`, "x=1", `{"a":1}`); quoted.Header().Get(idempotency.ReplayedHeader) != "true" {
		t.Errorf("the quoted key is another key: %d %s", quoted.Code, quoted.Body)
	}

	wantStatus(t, rg.do("acct_a", "k-1", "x=1", `{"a":2}`), http.StatusUnprocessableEntity)
	wantStatus(t, rg.do("acct_a", "k-1", "x=2", `{"a":1}`), http.StatusUnprocessableEntity)
	rg.wantRuns(1)

	wantStatus(t, rg.do("acct_b", "k-1", "x=1", `{"a":1}`), http.StatusCreated)
	rg.wantRuns(2)
	wantStatus(t, rg.do("acct_a", "", "x=1", `{"a":1}`), http.StatusCreated)
	wantStatus(t, rg.do("acct_a", "", "x=1", `{"a":1}`), http.StatusCreated)
	rg.wantRuns(4)

	recs := rg.records()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2 (one per credential)", len(recs))
	}
	for _, it := range recs {
		ttl, ok := it[ddb.TTLAttribute].(*types.AttributeValueMemberN)
		if !ok {
			t.Fatalf("record without a numeric %s attribute: %v", ddb.TTLAttribute, it)
		}
		sec, _ := strconv.ParseInt(ttl.Value, 10, 64)
		if want := rg.now.Add(idempotency.Retention).Unix(); sec != want {
			t.Errorf("ttl %d, want %d (taken + 24 h)", sec, want)
		}
		if _, ok := it["answerBody"].(*types.AttributeValueMemberB); !ok {
			t.Errorf("answer body is not a Binary attribute: %T", it["answerBody"])
		}
	}
}

// TestAnotherRoute: the same key and credential on another route is another record.
func TestAnotherRoute(t *testing.T) {
	rg := newRig(t)
	ctx := context.Background()
	k := idempotency.Key{Scope: idempotency.Scope{Workspace: rg.ws, Credential: "acct_a", Route: route}, Value: "k"}
	rec := idempotency.Record{Status: idempotency.InProgress, Fingerprint: "f", Token: "t1", LockedUntil: rg.now.Add(time.Minute), ExpiresAt: rg.now.Add(time.Hour)}
	if _, taken, err := rg.store.Begin(ctx, k, rec, rg.now); err != nil || !taken {
		t.Fatalf("begin: %v %v", taken, err)
	}
	k.Route = "POST /others"
	if _, taken, err := rg.store.Begin(ctx, k, rec, rg.now); err != nil || !taken {
		t.Fatalf("the same key on another route is held: %v %v", taken, err)
	}
}

// TestInProgress: a key whose first request still runs is 409 (the same request) or 422
// (another); once its lock has passed, the next request takes it over.
func TestInProgress(t *testing.T) {
	rg := newRig(t)
	release := make(chan struct{})
	started := make(chan struct{})
	rg.answer = func(w http.ResponseWriter, r *http.Request) {
		if rg.runs.Load() == 1 {
			close(started)
			<-release
		}
		w.WriteHeader(http.StatusCreated)
	}
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- rg.do("acct_a", "k", "", "body") }()
	<-started
	wantStatus(t, rg.do("acct_a", "k", "", "body"), http.StatusConflict)
	wantStatus(t, rg.do("acct_a", "k", "", "other"), http.StatusUnprocessableEntity)
	rg.advance(idempotency.Lock + time.Second)
	wantStatus(t, rg.do("acct_a", "k", "", "body"), http.StatusCreated) // taken over
	rg.wantRuns(2)
	close(release)
	wantStatus(t, <-done, http.StatusCreated)
	// The first request lost its lock: its late answer did not overwrite the second's record.
	replay := rg.do("acct_a", "k", "", "body")
	if replay.Header().Get(idempotency.ReplayedHeader) != "true" {
		t.Fatalf("no replay after both ran: %d", replay.Code)
	}
	rg.wantRuns(2)
}

// TestExpired: a record past its expiry, which TTL has not deleted yet, is ignored.
func TestExpired(t *testing.T) {
	rg := newRig(t)
	wantStatus(t, rg.do("acct_a", "k", "", "b"), http.StatusCreated)
	rg.advance(idempotency.Retention - time.Second)
	if w := rg.do("acct_a", "k", "", "b"); w.Header().Get(idempotency.ReplayedHeader) != "true" {
		t.Fatal("not replayed within the retention")
	}
	rg.advance(2 * time.Second)
	w := rg.do("acct_a", "k", "", "b")
	if w.Header().Get(idempotency.ReplayedHeader) != "" || w.Body.String() != `{"run":2}` {
		t.Fatalf("an expired record answered: %s %v", w.Body, w.Header())
	}
	rg.wantRuns(2)
}

// TestReleases: a 5xx, a 4xx, a panic and an answer too large to store all free the key: the
// retry runs again, and no record is left.
func TestReleases(t *testing.T) {
	big := make([]byte, ddb.MaxItemBytes+1024)
	_, _ = rand.Read(big) // random bytes do not gzip below the limit
	for _, c := range []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		status int
	}{
		{"5xx", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, http.StatusServiceUnavailable},
		{"4xx", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusConflict) }, http.StatusConflict},
		{"too large", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(big) }, http.StatusOK},
		{"panic", func(http.ResponseWriter, *http.Request) { panic("boom") }, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			rg := newRig(t)
			rg.answer = c.answer
			for run := int32(1); run <= 2; run++ {
				if c.status == 0 {
					func() {
						defer func() {
							if p := recover(); p != "boom" {
								t.Errorf("recovered %v, want the handler's panic", p)
							}
						}()
						rg.do("acct_a", "k", "", "b")
					}()
				} else {
					w := rg.do("acct_a", "k", "", "b")
					wantStatus(t, w, c.status)
					if c.name == "too large" && w.Body.Len() != len(big) {
						t.Fatalf("the too-large answer was cut to %d bytes", w.Body.Len())
					}
				}
				rg.wantRuns(run)
			}
			if n := len(rg.records()); n != 0 {
				t.Fatalf("%d records left", n)
			}
		})
	}
}

// TestInvalidKey: a key that is empty, too long or not printable ASCII is refused before the
// handler runs.
func TestInvalidKey(t *testing.T) {
	rg := newRig(t)
	for _, k := range []string{" ", strings.Repeat("x", 256), "caf\u00e9"} {
		wantStatus(t, rg.do("acct_a", k, "", "b"), http.StatusBadRequest)
	}
	rg.wantRuns(0)
}

// TestConcurrent: five identical requests at once with one key run the handler once; the
// others are 409 or the replay.
func TestConcurrent(t *testing.T) {
	rg := newRig(t)
	slow := rg.answer
	rg.answer = func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		slow(w, r)
	}
	var wg sync.WaitGroup
	answers := make([]*httptest.ResponseRecorder, 5)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = rg.do("acct_a", "same", "", "b")
		}()
	}
	wg.Wait()
	rg.wantRuns(1)
	created := 0
	for _, w := range answers {
		switch {
		case w.Code == http.StatusConflict:
		case w.Code == http.StatusCreated && w.Body.String() == `{"run":1}`:
			created++
		default:
			t.Errorf("answer %d %s", w.Code, w.Body)
		}
	}
	if created < 1 {
		t.Errorf("no request got the answer")
	}
}

// TestBodiesNotFingerprinted: a body that cannot be read, or one larger than any API Gateway
// passes, reaches the handler as it came (the error, every byte) and takes no key.
func TestBodiesNotFingerprinted(t *testing.T) {
	rg := newRig(t)
	var got []int
	var readErrs []error
	rg.answer = func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		got, readErrs = append(got, len(b)), append(readErrs, err)
		w.WriteHeader(http.StatusCreated)
	}
	for _, body := range []io.Reader{
		io.MultiReader(strings.NewReader("half"), iotest.ErrReader(errors.New("connection reset"))),
		bytes.NewReader(make([]byte, idempotency.MaxBodyBytes+10)),
	} {
		r := httptest.NewRequest("POST", "/things", body)
		r.Header.Set(idempotency.Header, "k")
		rg.handler().ServeHTTP(httptest.NewRecorder(), r)
	}
	if len(got) != 2 || got[0] != 4 || got[1] != idempotency.MaxBodyBytes+10 {
		t.Fatalf("the handler read %v bytes, want 4 (then the error) and every byte of the large body", got)
	}
	if readErrs[0] == nil || readErrs[0].Error() != "connection reset" || readErrs[1] != nil {
		t.Errorf("read errors %v, want the broken body's, then none", readErrs)
	}
	if n := len(rg.records()); n != 0 {
		t.Fatalf("%d records, want none", n)
	}
}
