// Package spotapi serves the Spot Thought screener-participant API family over HTTP: it
// authenticates, checks the version header, parses queries and bodies, calls the screening
// service, and writes the vendor's wire shapes and our documented error envelope.
package spotapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/idempotency"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

// Header names of the family.
const (
	HeaderKey     = "X-Spot-Api-Key"
	HeaderSecret  = "X-Spot-Api-Secret"
	HeaderVersion = "X-Spot-Api-Version"
)

// DefaultVersion answers requests without a version header.
const DefaultVersion = "1.0.0"

// firstDateVersion is the oldest date version; a later date resolves to the newest version
// released on or before it, which today is this one.
var firstDateVersion = time.Date(2024, 11, 15, 0, 0, 0, 0, time.UTC)

var dateVersion = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// API holds what the handlers need.
type API struct {
	Service  *screening.Service
	Verifier *auth.Verifier
	Log      *slog.Logger
	// Jobs keeps import jobs; nil answers every job 404.
	Jobs jobs.Store
	// Imports makes large imports' jobs; with Imports nil every import runs synchronously (and
	// one above MaxSyncRows rows is 413).
	Imports *jobs.Submitter
	// Idempotency guards the routes declared Idempotent (routes.Route); nil ignores the
	// Idempotency-Key header.
	Idempotency *idempotency.Guard
}

type principalKey struct{}

func principal(ctx context.Context) auth.Principal {
	p, _ := ctx.Value(principalKey{}).(auth.Principal)
	return p
}

// authed verifies the credential, then the version header, before the handler runs (behind
// the Idempotency-Key guard on an Idempotent route). The workspace the handler works in comes
// only from the verified credential.
func (a *API) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Verifier.Verify(r.Context(), r.Header.Get(HeaderKey), r.Header.Get(HeaderSecret))
		switch {
		case errors.Is(err, auth.ErrUnauthorized):
			WriteProblem(w, r, http.StatusUnauthorized, CodeUnauthorized, unauthorizedMessage, nil)
			return
		case err != nil:
			a.writeError(w, r, err)
			return
		}
		version, ok := negotiateVersion(r.Header.Get(HeaderVersion))
		if !ok {
			WriteProblem(w, r, http.StatusBadRequest, CodeUnsupportedVersion,
				"Unsupported X-Spot-Api-Version. Supported: 1.0.0, or a date version YYYY-MM-DD on or after 2024-11-15.",
				[]FieldError{{Field: HeaderVersion, Code: screening.CodeInvalid, Message: "supported: 1.0.0, or YYYY-MM-DD on or after 2024-11-15"}})
			return
		}
		w.Header().Set(HeaderVersion, version)
		a.serveGuarded(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), h)
	})
}

// negotiateVersion returns the version that answers a request, or false if unsupported.
func negotiateVersion(v string) (string, bool) {
	switch {
	case v == "":
		return DefaultVersion, true
	case v == DefaultVersion:
		return v, true
	case dateVersion.MatchString(v):
		d, err := time.Parse("2006-01-02", v)
		return v, err == nil && !d.Before(firstDateVersion)
	}
	return "", false
}

// pathID returns the {id} path value if it can be one of ours; otherwise it answers 404 and
// returns false, so nothing malformed reaches the store.
func pathID(w http.ResponseWriter, r *http.Request, p ids.Prefix) (string, bool) {
	id := r.PathValue("id")
	if !ids.Valid(p, id) {
		notFound(w, r)
		return "", false
	}
	return id, true
}

func (a *API) getScreenerParticipant(w http.ResponseWriter, r *http.Request) {
	if id, ok := pathID(w, r, ids.ScreenerParticipant); ok {
		sp, err := a.Service.ScreenerParticipant(r.Context(), principal(r.Context()).WorkspaceID, id)
		a.respond(w, r, err, func() any { return toScreenerParticipant(sp) })
	}
}

func (a *API) deleteScreenerParticipant(w http.ResponseWriter, r *http.Request) {
	if id, ok := pathID(w, r, ids.ScreenerParticipant); ok {
		sp, err := a.Service.RemoveScreenerParticipant(r.Context(), principal(r.Context()).WorkspaceID, id)
		a.respond(w, r, err, func() any { return toScreenerParticipant(sp) })
	}
}

func (a *API) getParticipant(w http.ResponseWriter, r *http.Request) {
	if id, ok := pathID(w, r, ids.Participant); ok {
		p, err := a.Service.Participant(r.Context(), principal(r.Context()).WorkspaceID, id)
		a.respond(w, r, err, func() any { return toParticipant(p) })
	}
}

func (a *API) getScreener(w http.ResponseWriter, r *http.Request) {
	if id, ok := pathID(w, r, ids.Screener); ok {
		s, err := a.Service.Screener(r.Context(), principal(r.Context()).WorkspaceID, id)
		a.respond(w, r, err, func() any { return toScreener(s) })
	}
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request) {
	if id, ok := pathID(w, r, ids.ScreenerSession); ok {
		s, err := a.Service.Session(r.Context(), principal(r.Context()).WorkspaceID, id)
		a.respond(w, r, err, func() any { return toSession(s) })
	}
}

// respond writes the error, or 200 with the body made by ok.
func (a *API) respond(w http.ResponseWriter, r *http.Request, err error, ok func() any) {
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeOK(w, ok())
}

// listHandler parses the list query against the filters the list takes, then lists.
func (a *API) listHandler(w http.ResponseWriter, r *http.Request, spec filterSpec, list func(ws string, q listQuery) (any, error)) {
	q, ok := parseListRequest(w, r, spec, nil, true)
	if !ok {
		return
	}
	body, err := list(principal(r.Context()).WorkspaceID, q)
	if errors.Is(err, screening.ErrInvalidCursor) {
		WriteProblem(w, r, http.StatusBadRequest, CodeInvalidQuery, "The query parameters are not valid.", []FieldError{*invalidCursor()})
		return
	}
	a.respond(w, r, err, func() any { return body })
}

// parseListRequest parses a list query against the filters the list takes; words, where set,
// are the only values a filter takes; cursors says whether the list takes pagination[cursor].
// A bad query is answered 400 with every problem (ok false).
func parseListRequest(w http.ResponseWriter, r *http.Request, spec filterSpec, words map[string][]string, cursors bool) (listQuery, bool) {
	q, errs := parseListQuery(r.URL.Query(), spec, cursors)
	for _, field := range sortedKeys(words) {
		if v, set := q.Filters[field]; set && !slices.Contains(words[field], v) {
			errs = append(errs, FieldError{Field: "filter[" + field + "][eq]", Code: screening.CodeInvalid,
				Message: fmt.Sprintf("%q is not one of %s", v, strings.Join(words[field], ", "))})
		}
	}
	if len(errs) > 0 {
		WriteProblem(w, r, http.StatusBadRequest, CodeInvalidQuery, "The query parameters are not valid.", errs)
		return q, false
	}
	return q, true
}

func (a *API) listScreenerParticipants(w http.ResponseWriter, r *http.Request) {
	a.listHandler(w, r, filterSpec{"screenerId": ids.Screener}, func(ws string, q listQuery) (any, error) {
		l, err := a.Service.ScreenerParticipants(r.Context(), ws, q.Filters["screenerId"], q.Page)
		return toPage("ScreenerParticipant", l, q.Page, toScreenerParticipant), err
	})
}

func (a *API) listParticipants(w http.ResponseWriter, r *http.Request) {
	a.listHandler(w, r, filterSpec{"externalUid": "", "email": ""}, func(ws string, q listQuery) (any, error) {
		f := screening.ParticipantFilter{ExternalUID: q.Filters["externalUid"], Email: q.Filters["email"]}
		l, err := a.Service.Participants(r.Context(), ws, f, q.Page)
		return toPage("Participant", l, q.Page, toParticipant), err
	})
}

func (a *API) listScreeners(w http.ResponseWriter, r *http.Request) {
	a.listHandler(w, r, filterSpec{}, func(ws string, q listQuery) (any, error) {
		l, err := a.Service.Screeners(r.Context(), ws, q.Page)
		return toPage("Screener", l, q.Page, toScreener), err
	})
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) {
	spec := filterSpec{"screenerId": ids.Screener, "screenerParticipantId": ids.ScreenerParticipant}
	a.listHandler(w, r, spec, func(ws string, q listQuery) (any, error) {
		f := screening.SessionFilter{ScreenerID: q.Filters["screenerId"], ScreenerParticipantID: q.Filters["screenerParticipantId"]}
		l, err := a.Service.Sessions(r.Context(), ws, f, q.Page)
		return toPage("ScreenerSession", l, q.Page, toSession), err
	})
}
