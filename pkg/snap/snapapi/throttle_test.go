package snapapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
)

// clock is the time every instance of a test reads: the test moves it, so that the calls it
// means to fall in one second or minute do, however slowly they run.
type clock struct{ unix atomic.Int64 }

// newClock starts at second 5 of a minute, so that seconds up to 59 stay in that minute.
func newClock() *clock {
	c := &clock{}
	c.unix.Store(time.Now().Unix()/60*60 + 5)
	return c
}

func (c *clock) now() time.Time { return time.Unix(c.unix.Load(), 0) }
func (c *clock) tick()          { c.unix.Add(1) }
func (c *clock) minute() int64  { return c.unix.Load() / 60 * 60 }

// throttled holds the fixture's Snap handlers to limits and to the clock.
func throttled(f *fixture, l ratelimit.Limits, c *clock) {
	f.env.App.SetSnapLimits(l)
	f.env.App.Snap.Limiter.Now = c.now
}

// instance is a second set of handlers over the fixture's table, as another Lambda instance
// of every function is: its own caches, the same counters.
func instance(f *fixture, l ratelimit.Limits, c *clock) *testkit.Env {
	other := *f.env
	other.App = app.New(f.env.Client, f.env.Table, app.DefaultAuthCacheTTL, slog.New(slog.DiscardHandler))
	other.App.SetSnapLimits(l)
	other.App.Snap.Limiter.Now = c.now
	return &other
}

func account(env *testkit.Env, u user) testkit.Response {
	return env.Invoke("SnapGetUserInfoFunction", testkit.Event("GET", "/snaponline/api/account", "", u.headers("2.0"), ""))
}

// header is a response header, whatever the case of its name.
func header(r testkit.Response, name string) (string, bool) {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func headerInt(t *testing.T, r testkit.Response, name string) int64 {
	t.Helper()
	v, ok := header(r, name)
	if !ok {
		t.Fatalf("no %s header (status %d): %v", name, r.StatusCode, r.Headers)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s: %q is no integer", name, v)
	}
	return n
}

// wantRate checks the six headers of an answer: the limits, what remains, and the resets.
func wantRate(t *testing.T, r testkit.Response, l ratelimit.Limits, c *clock, remainingSec, remainingMin int64) {
	t.Helper()
	for name, want := range map[string]int64{
		snapapi.HeaderLimitPerSec: int64(l.PerSecond), snapapi.HeaderRemainingPerSec: remainingSec, snapapi.HeaderResetPerSec: c.unix.Load() + 1,
		snapapi.HeaderLimitPerMin: int64(l.PerMinute), snapapi.HeaderRemainingPerMin: remainingMin, snapapi.HeaderResetPerMin: c.minute() + 60,
	} {
		if got := headerInt(t, r, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

func wantThrottled(t *testing.T, r testkit.Response, l ratelimit.Limits) {
	t.Helper()
	wantMessage(t, r, http.StatusTooManyRequests, snapapi.MsgRateLimited(l))
}

// TestThrottleAcrossInstances: two instances share each user's minute. Ten calls, five on
// each and all at once, are answered; the eleventh is 429 whichever instance takes it, and so
// is the twelfth on the other, each counted, so the minute's remaining goes below zero.
// Another user of the same workspace is not held back.
func TestThrottleAcrossInstances(t *testing.T) {
	f := newFixture(t)
	limits := ratelimit.Limits{PerSecond: 100, PerMinute: 10}
	c := newClock()
	throttled(f, limits, c)
	instances := []*testkit.Env{f.env, instance(f, limits, c)}

	remaining := make([]int64, 10)
	var wg sync.WaitGroup
	for i := range remaining {
		wg.Go(func() {
			r := account(instances[i%2], f.owner)
			if r.StatusCode != http.StatusOK {
				t.Errorf("call %d: status %d: %s", i+1, r.StatusCode, r.Body)
				return
			}
			v, _ := header(r, snapapi.HeaderRemainingPerMin)
			remaining[i], _ = strconv.ParseInt(v, 10, 64)
		})
	}
	wg.Wait()
	slices.Sort(remaining)
	if want := []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(remaining, want) {
		t.Fatalf("remaining per minute over the ten calls %v, want each of %v once", remaining, want)
	}
	for i, env := range []*testkit.Env{instances[0], instances[1], instances[0]} {
		t.Run(fmt.Sprintf("call %d on instance %d", 11+i, i%2+1), func(t *testing.T) {
			r := account(env, f.owner)
			wantThrottled(t, r, limits)
			wantRate(t, r, limits, c, int64(limits.PerSecond-(11+i)), int64(-1-i))
		})
	}
	t.Run("another user", func(t *testing.T) {
		r := account(instances[1], f.colleague)
		wantStatus(t, r, http.StatusOK)
		wantRate(t, r, limits, c, int64(limits.PerSecond-1), int64(limits.PerMinute-1))
	})
	t.Run("the next minute", func(t *testing.T) {
		c.unix.Store(c.minute() + 60)
		r := account(instances[0], f.owner)
		wantStatus(t, r, http.StatusOK)
		wantRate(t, r, limits, c, int64(limits.PerSecond-1), int64(limits.PerMinute-1))
	})
}

// TestThrottlePerSecond: at the vendor's limits, the second call in a second is 429 (on the
// other instance too), the next second's is answered, and the minute counts all of them.
func TestThrottlePerSecond(t *testing.T) {
	f := newFixture(t)
	limits := ratelimit.VendorLimits
	c := newClock()
	throttled(f, limits, c)
	other := instance(f, limits, c)

	r := account(f.env, f.owner)
	wantStatus(t, r, http.StatusOK)
	wantRate(t, r, limits, c, 0, 9)
	r = account(f.env, f.owner)
	wantThrottled(t, r, limits)
	wantRate(t, r, limits, c, -1, 8)
	r = account(other, f.owner)
	wantThrottled(t, r, limits)
	wantRate(t, r, limits, c, -2, 7)

	c.tick()
	r = f.do(f.owner, "2.0", "SnapListSurveysFunction", "GET", "/snaponline/api/surveys", "", "")
	wantStatus(t, r, http.StatusOK)
	wantRate(t, r, limits, c, 0, 6)
}

// TestThrottledCallDoesNothing: an Add over the limit is 429 and adds no participant.
func TestThrottledCallDoesNothing(t *testing.T) {
	f := newFixture(t)
	limits := ratelimit.VendorLimits
	c := newClock()
	throttled(f, limits, c)

	wantStatus(t, account(f.env, f.owner), http.StatusOK)
	wantThrottled(t, f.add(f.owner, f.group, groupBody("late", "late@example.com")), limits)
	c.tick()
	r := f.do(f.owner, "2.0", "SnapGetParticipantFunction", "GET", base+f.group+"/participants/late", "", "")
	wantMessage(t, r, http.StatusNotFound, snapapi.MsgParticipantNotFound)
	wantRate(t, r, limits, c, 0, 7)
}

// TestEveryRouteIsThrottled: every Snap route answers 429, with the six headers, to a call
// over the limit, whatever its path and body: none reads or writes before it is admitted.
func TestEveryRouteIsThrottled(t *testing.T) {
	f := newFixture(t)
	limits := ratelimit.Limits{PerSecond: 1, PerMinute: 1000}
	c := newClock()
	throttled(f, limits, c)
	for i, d := range snapapi.Routes {
		t.Run(d.LogicalID, func(t *testing.T) {
			c.unix.Store(c.minute() + int64(i))
			wantStatus(t, account(f.env, f.owner), http.StatusOK) // this second's one call
			path := strings.NewReplacer("{surveyId}", f.group, "{participantUniqueId}", "alice", "{subjectName}", "L1",
				"{variableId}", "V46", "{importId}", "job_01jd3m00000000000000000sn1").Replace(d.Path)
			body := ""
			if d.Method == "POST" || d.Method == "PUT" {
				body = groupBody("alice", "alice@example.com")
			}
			r := f.do(f.owner, "2.0", d.LogicalID, d.Method, path, "", body)
			wantThrottled(t, r, limits)
			wantRate(t, r, limits, c, -1, int64(limits.PerMinute-2*(i+1)))
		})
	}
}

// TestRateHeadersOnErrors: a 4xx of a known user carries the headers and counts; a 401 for
// the credentials knows no user: no headers, nothing counted. A bad version is counted too.
func TestRateHeadersOnErrors(t *testing.T) {
	f := newFixture(t)
	limits := ratelimit.Limits{PerSecond: 10, PerMinute: 100}
	c := newClock()
	throttled(f, limits, c)

	wrongKey := f.owner
	wrongKey.key = "not-the-key"
	r := account(f.env, wrongKey)
	wantMessage(t, r, http.StatusUnauthorized, snapapi.MsgUnauthorized)
	for _, name := range snapapi.RateHeaders {
		if v, ok := header(r, name); ok {
			t.Errorf("the credentials' 401 carries %s: %s", name, v)
		}
	}
	r = f.do(f.outs, "2.0", "SnapGetSurveyFunction", "GET", base+f.group, "", "")
	wantMessage(t, r, http.StatusUnauthorized, snapapi.MsgNoSurveyAccess)
	wantRate(t, r, limits, c, 9, 99)
	r = f.do(f.owner, "3.0", "SnapGetUserInfoFunction", "GET", "/snaponline/api/account", "", "")
	wantMessage(t, r, http.StatusBadRequest, snapapi.MsgUnsupportedVersion)
	wantRate(t, r, limits, c, 9, 99)
	r = f.do(f.owner, "2.0", "SnapGetParticipantFunction", "GET", base+f.group+"/participants/nobody", "", "")
	wantMessage(t, r, http.StatusNotFound, snapapi.MsgParticipantNotFound)
	wantRate(t, r, limits, c, 8, 98)
}

// TestImportCountsOnce: a bulk import of many participants is one call.
func TestImportCountsOnce(t *testing.T) {
	f := newFixture(t)
	f.env.EnableImports()
	limits := ratelimit.VendorLimits
	c := newClock()
	throttled(f, limits, c)

	r := f.importRows(f.group, importBody(groupRows(1, 50)...))
	f.accepted(f.group, r)
	wantRate(t, r, limits, c, 0, 9)
	c.tick()
	r = f.do(f.owner, "2.0", "SnapImportParticipantsFunction", "POST", base+f.loginOnly+"/participant-imports", "dryRun=true", importBody(loginOnlyBody("a"), loginOnlyBody("b")))
	wantStatus(t, r, http.StatusOK)
	wantRate(t, r, limits, c, 0, 8)
}

// TestUncountedCallFails: when the call cannot be counted it is a 500 and is not served.
func TestUncountedCallFails(t *testing.T) {
	f := newFixture(t)
	f.env.App.Snap.Limiter.Store = failingCounter{}
	r := f.add(f.owner, f.group, groupBody("uncounted", "uncounted@example.com"))
	wantMessage(t, r, http.StatusInternalServerError, snapapi.MsgInternal)
	f.env.App.Snap.Limiter.Store = f.env.App.SnapStore.RateCounters()
	r = f.do(f.owner, "2.0", "SnapGetParticipantFunction", "GET", base+f.group+"/participants/uncounted", "", "")
	wantMessage(t, r, http.StatusNotFound, snapapi.MsgParticipantNotFound)
}

type failingCounter struct{}

func (failingCounter) Count(context.Context, ratelimit.Subject, ratelimit.Window) (ratelimit.Counts, error) {
	return ratelimit.Counts{}, errors.New("the table is unreachable")
}
