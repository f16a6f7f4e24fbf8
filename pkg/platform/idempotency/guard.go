package idempotency

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/participant-roster/roster/pkg/platform/routes"
)

// ErrorWriters write what the guard answers itself, in a family's error shape.
type ErrorWriters struct {
	Refuse func(w http.ResponseWriter, r *http.Request, refusal *Refusal) // 400, 409 or 422
	Fail   func(w http.ResponseWriter, r *http.Request, err error)        // the store failed: ours, a 500
}

// Guard puts handlers behind Idempotency-Key records in a Store.
type Guard struct {
	Store Store
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger     // nil: slog.Default()
}

// bookkeepingTimeout bounds completing or releasing a record after the handler has answered;
// it runs on a context of its own, so a client that hangs up does not leave its key locked.
const bookkeepingTimeout = 5 * time.Second

// ServeRoute serves a verified request by h: behind the guard when it came in by a route
// declared Idempotent (routes.FromContext), the key scoped to the route and to the verified
// credential (credential reads it from what the verification put in the request's context);
// else, and without a guard, as it is.
func (g *Guard) ServeRoute(w http.ResponseWriter, r *http.Request, h http.Handler, credential func(*http.Request) (workspace, keyID string), errs ErrorWriters) {
	route, ok := routes.FromContext(r.Context())
	if g == nil || !ok || !route.Idempotent {
		h.ServeHTTP(w, r)
		return
	}
	scope := func(r *http.Request) Scope {
		ws, keyID := credential(r)
		return Scope{Workspace: ws, Credential: keyID, Route: route.Pattern()}
	}
	g.Wrap(scope, errs, h).ServeHTTP(w, r)
}

// Wrap guards next: a request without the header is served as it is; one with a key is
// served once per key and fingerprint, its answer stored and given again to a retry. scope
// names the verified credential and route the key belongs to; Wrap must run after
// authentication, so scope reads only what the verification established.
func (g *Guard) Wrap(scope func(*http.Request) Scope, errs ErrorWriters, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := r.Header.Values(Header)
		if len(values) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		value, err := ParseKey(values)
		if err != nil {
			errs.Refuse(w, r, ErrKeyInvalid)
			return
		}
		body, whole, err := readBody(r)
		if err != nil || !whole {
			// Unreadable or larger than any API Gateway passes: the handler answers it (its 400 or
			// 413), and no key is taken.
			next.ServeHTTP(w, r)
			return
		}
		k := Key{Scope: scope(r), Value: value}
		g.serve(w, r, k, Fingerprint(r.Method, r.URL.Path, r.URL.RawQuery, body), errs, next)
	})
}

// readBody reads the body to fingerprint it and gives the handler the same bytes: all of
// them, then the rest of a body longer than MaxBodyBytes (whole false) or the read's error.
func readBody(r *http.Request) (body []byte, whole bool, err error) {
	if r.Body == nil {
		return nil, true, nil
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	rest := io.Reader(http.NoBody)
	switch {
	case err != nil:
		rest = failingReader{err}
	case len(body) > MaxBodyBytes:
		rest, whole = r.Body, false
	default:
		whole = true
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), rest), r.Body}
	return body, whole, err
}

// failingReader gives the handler the error the guard met reading the body.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func (g *Guard) serve(w http.ResponseWriter, r *http.Request, k Key, fingerprint string, errs ErrorWriters, next http.Handler) {
	now := g.now()
	rec := Record{
		Status: InProgress, Fingerprint: fingerprint, Token: newToken(),
		LockedUntil: now.Add(Lock), ExpiresAt: now.Add(Retention),
	}
	held, taken, err := g.Store.Begin(r.Context(), k, rec, now)
	switch {
	case err != nil:
		errs.Fail(w, r, err)
	case taken:
		g.run(w, r, k, rec, next)
	case held.Fingerprint != fingerprint:
		errs.Refuse(w, r, ErrKeyReused)
	case held.Status == InProgress:
		errs.Refuse(w, r, ErrKeyInUse)
	default:
		replay(w, held.Answer)
	}
}

// run serves the request that took the key, then stores its answer or frees the key. The
// answer is stored before it is sent, so a client that has it finds the record COMPLETED.
func (g *Guard) run(w http.ResponseWriter, r *http.Request, k Key, rec Record, next http.Handler) {
	rw := &recorder{header: w.Header().Clone(), status: http.StatusOK}
	if rw.header == nil {
		rw.header = http.Header{}
	}
	defer func() {
		if p := recover(); p != nil {
			g.release(r, k, rec.Token, "panic")
			panic(p) // the family's adapter answers it (a 500 in its shape)
		}
	}()
	next.ServeHTTP(rw, r)
	if kept(rw.status) {
		g.complete(r, k, rec, rw)
	} else {
		g.release(r, k, rec.Token, "error answer "+strconv.Itoa(rw.status))
	}
	rw.sendTo(w)
}

// kept says which answers a key keeps: the successful ones. An error answer is released
// instead: a 5xx may have done part of the work, and a retry must be able to finish it; a 4xx
// changed nothing (the families' rule for bad input), so running its retry again repeats
// nothing, and it may well succeed (a roster no longer held, a conflict gone, a screener made
// meanwhile) where a kept 4xx would be replayed for a day.
func kept(status int) bool { return status < 400 }

func (g *Guard) complete(r *http.Request, k Key, rec Record, rw *recorder) {
	rec.Status = Completed
	rec.Answer = Answer{Status: rw.status, Header: http.Header{}, Body: rw.body.Bytes()}
	for _, h := range ReplayedHeaders {
		if v := rw.header.Values(h); len(v) > 0 {
			rec.Answer.Header[h] = v
		}
	}
	ctx, cancel := bookkeeping(r)
	defer cancel()
	err := g.Store.Complete(ctx, k, rec)
	if errors.Is(err, ErrAnswerTooLarge) {
		// The answer cannot be kept: the key is freed, so a retry runs again rather than
		// being refused for good. Only a synchronous import's answer can be this large, and
		// a synchronous import run twice converges to the same roster.
		g.log().WarnContext(ctx, "idempotency: answer too large to store; key released", slog.String("route", k.Route), slog.Int("bytes", len(rec.Answer.Body)))
		g.release(r, k, rec.Token, "answer too large")
		return
	}
	g.logFailure(ctx, "complete", k, err)
}

func (g *Guard) release(r *http.Request, k Key, token, why string) {
	ctx, cancel := bookkeeping(r)
	defer cancel()
	g.logFailure(ctx, "release ("+why+")", k, g.Store.Release(ctx, k, token))
}

// logFailure logs a record that could not be completed or released: the answer still goes
// out. ErrNotHeld means the lock passed and another request took the key over; any other
// error leaves an INPROGRESS record that frees itself when its lock passes.
func (g *Guard) logFailure(ctx context.Context, what string, k Key, err error) {
	if err != nil {
		g.log().ErrorContext(ctx, "idempotency: "+what+" failed", slog.String("route", k.Route), slog.Any("error", err))
	}
}

func bookkeeping(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), bookkeepingTimeout)
}

// replay writes a stored answer again, marked as a replay.
func replay(w http.ResponseWriter, a Answer) {
	for h, v := range a.Header {
		w.Header()[h] = v
	}
	w.Header().Set(ReplayedHeader, "true")
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
}

func (g *Guard) now() time.Time {
	if g.Now == nil {
		return time.Now()
	}
	return g.Now()
}

func (g *Guard) log() *slog.Logger {
	if g.Log == nil {
		return slog.Default()
	}
	return g.Log
}

// recorder holds the guarded handler's answer until it is stored.
type recorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (rw *recorder) Header() http.Header { return rw.header }

func (rw *recorder) WriteHeader(status int) {
	if !rw.wroteHeader {
		rw.status, rw.wroteHeader = status, true
	}
}

func (rw *recorder) Write(b []byte) (int, error) {
	rw.WriteHeader(http.StatusOK)
	return rw.body.Write(b)
}

func (rw *recorder) sendTo(w http.ResponseWriter) {
	dst := w.Header()
	for h := range dst {
		if _, ok := rw.header[h]; !ok {
			delete(dst, h)
		}
	}
	for h, v := range rw.header {
		dst[h] = v
	}
	w.WriteHeader(rw.status)
	_, _ = w.Write(rw.body.Bytes())
}
