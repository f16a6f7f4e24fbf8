package snapapi

import (
	"errors"
	"net/http"

	"github.com/participant-roster/roster/pkg/platform/idempotency"
	"github.com/participant-roster/roster/pkg/platform/routes"
)

// serveGuarded serves a request whose credential and survey are checked: behind the
// Idempotency-Key guard when it came in by a route declared Idempotent, the key scoped to the
// verified user and the route. The guard runs after the survey check, so a survey the user
// cannot see is answered (401) without taking the key.
func (a *API) serveGuarded(w http.ResponseWriter, r *http.Request, h http.Handler) {
	route, ok := routes.FromContext(r.Context())
	if !ok || !route.Idempotent || a.Idempotency == nil {
		h.ServeHTTP(w, r)
		return
	}
	// Every answer carries the supported versions, a replayed or refused one too.
	w.Header().Set(HeaderSupportedVersions, SupportedVersions)
	scope := func(r *http.Request) idempotency.Scope {
		c := callOf(r.Context())
		return idempotency.Scope{Workspace: c.WorkspaceID, Credential: c.userID(), Route: route.Pattern()}
	}
	a.Idempotency.Wrap(scope, a.writeIdempotencyError, h).ServeHTTP(w, r)
}

// writeIdempotencyError writes the guard's refusal as the family's message; a store failure
// is ours (a 500).
func (a *API) writeIdempotencyError(w http.ResponseWriter, r *http.Request, err error) {
	var refusal *idempotency.Refusal
	if !errors.As(err, &refusal) {
		a.writeError(w, r, err)
		return
	}
	WriteMessage(w, refusal.Status, refusal.Message)
}
