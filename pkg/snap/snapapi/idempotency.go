package snapapi

import (
	"net/http"

	"github.com/participant-roster/roster/pkg/platform/idempotency"
)

// serveGuarded serves a request whose credential and survey are checked: behind the
// Idempotency-Key guard when it came in by a route declared Idempotent, the key scoped to the
// verified user and the route. The guard runs after the survey check, so a survey the user
// cannot see is answered (401) without taking the key.
func (a *API) serveGuarded(w http.ResponseWriter, r *http.Request, h http.Handler) {
	// Every answer carries the supported versions, a replayed one too.
	w.Header().Set(HeaderSupportedVersions, SupportedVersions)
	a.Idempotency.ServeRoute(w, r, h, func(r *http.Request) (string, string) {
		c := callOf(r.Context())
		return c.WorkspaceID, c.userID()
	}, idempotency.ErrorWriters{Refuse: writeRefusal, Fail: a.writeError})
}

// writeRefusal writes the guard's refusal as the family's message.
func writeRefusal(w http.ResponseWriter, _ *http.Request, refusal *idempotency.Refusal) {
	WriteMessage(w, refusal.Status, refusal.Message)
}
