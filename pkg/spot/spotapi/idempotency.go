package spotapi

import (
	"errors"
	"net/http"

	"github.com/participant-roster/roster/pkg/platform/idempotency"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

// Error codes of the Idempotency-Key refusals (our extension; api/openapi.yaml).
const (
	CodeInvalidIdempotencyKey = "INVALID_IDEMPOTENCY_KEY"
	CodeIdempotencyKeyReused  = "IDEMPOTENCY_KEY_REUSED"
	CodeIdempotencyKeyInUse   = "IDEMPOTENCY_KEY_IN_USE"
)

var idempotencyCodes = map[*idempotency.Refusal]string{
	idempotency.ErrKeyInvalid: CodeInvalidIdempotencyKey,
	idempotency.ErrKeyReused:  CodeIdempotencyKeyReused,
	idempotency.ErrKeyInUse:   CodeIdempotencyKeyInUse,
}

// serveGuarded serves a verified request: behind the Idempotency-Key guard when it came in by
// a route declared Idempotent, the key scoped to the verified credential and the route.
func (a *API) serveGuarded(w http.ResponseWriter, r *http.Request, h http.Handler) {
	route, ok := routes.FromContext(r.Context())
	if !ok || !route.Idempotent || a.Idempotency == nil {
		h.ServeHTTP(w, r)
		return
	}
	scope := func(r *http.Request) idempotency.Scope {
		p := principal(r.Context())
		return idempotency.Scope{Workspace: p.WorkspaceID, Credential: p.KeyID, Route: route.Pattern()}
	}
	a.Idempotency.Wrap(scope, a.writeIdempotencyError, h).ServeHTTP(w, r)
}

// writeIdempotencyError writes the guard's refusal as the family's problem; a store failure
// is ours (a 500).
func (a *API) writeIdempotencyError(w http.ResponseWriter, r *http.Request, err error) {
	var refusal *idempotency.Refusal
	if !errors.As(err, &refusal) {
		a.writeError(w, r, err)
		return
	}
	var fields []FieldError
	if refusal == idempotency.ErrKeyInvalid {
		fields = []FieldError{{Field: idempotency.Header, Code: screening.CodeInvalid, Message: "send it once, with 1 to 255 printable ASCII characters"}}
	}
	WriteProblem(w, r, refusal.Status, idempotencyCodes[refusal], refusal.Message, fields)
}
