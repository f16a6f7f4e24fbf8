package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/platform/ratelimit"
)

// counter is an in-memory Store for the limiter's arithmetic; the shared DynamoDB counter is
// tested through the Snap handlers (pkg/snap/snapapi).
type counter struct {
	seconds, minutes map[int64]int64
	err              error
}

func (c *counter) Count(_ context.Context, _ ratelimit.Subject, w ratelimit.Window) (ratelimit.Counts, error) {
	if c.err != nil {
		return ratelimit.Counts{}, c.err
	}
	c.seconds[w.Second]++
	c.minutes[w.Minute]++
	return ratelimit.Counts{Second: c.seconds[w.Second], Minute: c.minutes[w.Minute]}, nil
}

func TestWindowOf(t *testing.T) {
	w := ratelimit.WindowOf(time.Unix(1767225659, 999e6))
	if w.Second != 1767225659 || w.Minute != 1767225600 {
		t.Errorf("WindowOf = %+v, want second 1767225659 of the minute 1767225600", w)
	}
}

// TestTake: within a second the second call is refused; every call counts, so what remains
// goes below zero; the resets are the next second and minute.
func TestTake(t *testing.T) {
	now := time.Unix(1767225605, 0)
	l := &ratelimit.Limiter{Store: &counter{seconds: map[int64]int64{}, minutes: map[int64]int64{}}, Limits: ratelimit.VendorLimits, Now: func() time.Time { return now }}
	s := ratelimit.Subject{Workspace: "ws_1", User: "usr_1"}
	for i, want := range []struct {
		allowed      bool
		perSec, perM int64
	}{{true, 0, 9}, {false, -1, 8}, {false, -2, 7}} {
		v, err := l.Take(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if v.Allowed() != want.allowed || v.RemainingPerSecond() != want.perSec || v.RemainingPerMinute() != want.perM {
			t.Errorf("call %d: allowed %v, remaining %d/s %d/min; want %+v", i+1, v.Allowed(), v.RemainingPerSecond(), v.RemainingPerMinute(), want)
		}
		if v.ResetPerSecond() != 1767225606 || v.ResetPerMinute() != 1767225660 {
			t.Errorf("call %d: resets %d, %d", i+1, v.ResetPerSecond(), v.ResetPerMinute())
		}
	}
	now = now.Add(time.Second)
	if v, _ := l.Take(context.Background(), s); !v.Allowed() || v.RemainingPerMinute() != 6 {
		t.Errorf("next second: allowed %v, remaining %d a minute; want allowed, 6", v.Allowed(), v.RemainingPerMinute())
	}
}

func TestTakeStoreFails(t *testing.T) {
	l := &ratelimit.Limiter{Store: &counter{err: errors.New("down")}, Limits: ratelimit.VendorLimits}
	if _, err := l.Take(context.Background(), ratelimit.Subject{}); !errors.Is(err, ratelimit.ErrStore) {
		t.Errorf("Take = %v, want ErrStore", err)
	}
}

func TestValidate(t *testing.T) {
	for l, ok := range map[ratelimit.Limits]bool{
		ratelimit.VendorLimits: true, {PerSecond: 0, PerMinute: 10}: false, {PerSecond: 1, PerMinute: -1}: false,
	} {
		if (l.Validate() == nil) != ok {
			t.Errorf("%+v: Validate = %v, want ok %v", l, l.Validate(), ok)
		}
	}
}
