package spotapi

import (
	"net/http"

	"github.com/participant-roster/roster/pkg/platform/idempotency"
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
// a route declared Idempotent, the key scoped to the verified API key and the route.
func (a *API) serveGuarded(w http.ResponseWriter, r *http.Request, h http.Handler) {
	a.Idempotency.ServeRoute(w, r, h, func(r *http.Request) (string, string) {
		p := principal(r.Context())
		return p.WorkspaceID, p.KeyID
	}, idempotency.ErrorWriters{Refuse: a.writeRefusal, Fail: a.writeError})
}

// writeRefusal writes the guard's refusal as the family's problem.
func (a *API) writeRefusal(w http.ResponseWriter, r *http.Request, refusal *idempotency.Refusal) {
	var fields []FieldError
	if refusal == idempotency.ErrKeyInvalid {
		fields = []FieldError{{Field: idempotency.Header, Code: screening.CodeInvalid, Message: "send it once, with 1 to 255 printable ASCII characters"}}
	}
	WriteProblem(w, r, refusal.Status, idempotencyCodes[refusal], refusal.Message, fields)
}
