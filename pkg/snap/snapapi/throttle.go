package snapapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
)

// The rate headers every answer to a verified user carries (Snap's documented names).
const (
	HeaderLimitPerSec     = "X-RateLimit-Limit-Per-Sec"
	HeaderRemainingPerSec = "X-RateLimit-Remaining-Per-Sec"
	HeaderResetPerSec     = "X-RateLimit-Reset-Per-Sec"
	HeaderLimitPerMin     = "X-RateLimit-Limit-Per-Min"
	HeaderRemainingPerMin = "X-RateLimit-Remaining-Per-Min"
	HeaderResetPerMin     = "X-RateLimit-Reset-Per-Min"
)

// RateHeaders are the six, in the order the API reference lists them.
var RateHeaders = []string{HeaderLimitPerSec, HeaderRemainingPerSec, HeaderResetPerSec, HeaderLimitPerMin, HeaderRemainingPerMin, HeaderResetPerMin}

// MsgRateLimited is the 429's message for these limits.
func MsgRateLimited(l ratelimit.Limits) string {
	return fmt.Sprintf("Rate limit exceeded (%d per second, %d per minute). Retry after the time in X-RateLimit-Reset-Per-Sec or X-RateLimit-Reset-Per-Min.", l.PerSecond, l.PerMinute)
}

// admission is a call's count against its user's limits: started as soon as the credential is
// verified, so that its write runs beside the call's own first read, and awaited (admit)
// before the call answers or writes anything.
type admission struct {
	done    chan struct{}
	verdict ratelimit.Verdict
	err     error
}

// startAdmission counts the call of the verified user p; nil when the API has no limiter.
func (a *API) startAdmission(ctx context.Context, p auth.Principal) *admission {
	if a.Limiter == nil {
		return nil
	}
	ad := &admission{done: make(chan struct{})}
	go func() {
		defer close(ad.done)
		ad.verdict, ad.err = a.Limiter.Take(ctx, ratelimit.Subject{Workspace: p.WorkspaceID, User: p.KeyID})
	}()
	return ad
}

// admit waits for the call's count and writes the rate headers. A call over a limit gets the
// 429 and nothing else; a count that failed is a logged 500. Either way admit answers and
// reports false, and the caller stops.
func (a *API) admit(w http.ResponseWriter, r *http.Request, ad *admission) bool {
	if ad == nil {
		return true
	}
	<-ad.done
	if ad.err != nil {
		a.writeError(w, r, ad.err)
		return false
	}
	writeRateHeaders(w.Header(), ad.verdict)
	if !ad.verdict.Allowed() {
		WriteMessage(w, http.StatusTooManyRequests, MsgRateLimited(ad.verdict.Limits))
		return false
	}
	return true
}

// admitted is the handler of a route whose first read is the handler's own: it waits for the
// count first.
func (a *API) admitted(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.admit(w, r, callOf(r.Context()).admission) {
			h(w, r)
		}
	}
}

func writeRateHeaders(h http.Header, v ratelimit.Verdict) {
	for name, value := range map[string]int64{
		HeaderLimitPerSec: int64(v.Limits.PerSecond), HeaderRemainingPerSec: v.RemainingPerSecond(), HeaderResetPerSec: v.ResetPerSecond(),
		HeaderLimitPerMin: int64(v.Limits.PerMinute), HeaderRemainingPerMin: v.RemainingPerMinute(), HeaderResetPerMin: v.ResetPerMinute(),
	} {
		h.Set(name, strconv.FormatInt(value, 10))
	}
}
