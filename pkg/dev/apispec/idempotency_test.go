package apispec

import (
	"testing"

	"github.com/participant-roster/roster/pkg/dev/allroutes"
	"github.com/participant-roster/roster/pkg/platform/idempotency"
)

// TestIdempotentRoutesDocumentTheKey: exactly the routes declared Idempotent document the
// Idempotency-Key header, and they document its refusals (400, 409 in progress, 422 reused)
// and the replay's Idempotent-Replayed header on their success answers.
func TestIdempotentRoutesDocumentTheKey(t *testing.T) {
	s := mustLoad(t)
	idempotent := 0
	for _, r := range allroutes.All {
		d := familyDocument(t, s, r.Family)
		op := d.doc.Paths.Find(r.Path).GetOperation(r.Method)
		if op == nil {
			t.Fatalf("%s is not documented", r.Pattern())
		}
		takesKey := op.Parameters.GetByInAndName("header", idempotency.Header) != nil
		if takesKey != r.Idempotent {
			t.Errorf("%s (Idempotent %v) documents the %s header: %v", r.Pattern(), r.Idempotent, idempotency.Header, takesKey)
		}
		if !r.Idempotent {
			continue
		}
		idempotent++
		for _, status := range []int{400, 409, 422} {
			if op.Responses.Status(status) == nil {
				t.Errorf("%s: no %d documented for its Idempotency-Key refusals", r.Pattern(), status)
			}
		}
		for code, resp := range op.Responses.Map() {
			if code[0] == '2' && resp.Value.Headers[idempotency.ReplayedHeader] == nil {
				t.Errorf("%s %s: no %s header documented", r.Pattern(), code, idempotency.ReplayedHeader)
			}
		}
	}
	if idempotent != 4 {
		t.Errorf("%d routes are Idempotent, want 4 (the Spot import, the Snap import, Add Participant, Add Participant Subject)", idempotent)
	}
}
