package snapwire_test

import (
	"testing"

	"github.com/participant-roster/roster/pkg/platform/ratelimit"
	"github.com/participant-roster/roster/pkg/wiring/snapwire"
)

func TestLimitsFrom(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want ratelimit.Limits
		ok   bool
	}{
		{map[string]string{}, ratelimit.VendorLimits, true},
		{map[string]string{"SNAP_RATE_LIMIT_PER_SEC": "5", "SNAP_RATE_LIMIT_PER_MIN": "50"}, ratelimit.Limits{PerSecond: 5, PerMinute: 50}, true},
		{map[string]string{"SNAP_RATE_LIMIT_PER_MIN": "20"}, ratelimit.Limits{PerSecond: 1, PerMinute: 20}, true},
		{map[string]string{"SNAP_RATE_LIMIT_PER_SEC": "one"}, ratelimit.Limits{}, false},
		{map[string]string{"SNAP_RATE_LIMIT_PER_SEC": "0"}, ratelimit.Limits{}, false},
	} {
		got, err := snapwire.LimitsFrom(func(name string) string { return c.env[name] })
		if (err == nil) != c.ok || c.ok && got != c.want {
			t.Errorf("%v: %+v, %v; want %+v (ok %v)", c.env, got, err, c.want, c.ok)
		}
	}
}
