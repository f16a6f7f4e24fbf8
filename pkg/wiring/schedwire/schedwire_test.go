package schedwire_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/wiring/schedwire"
)

// TestStaleAfterFromEnv: unset is the engine's default; a positive Go duration is taken;
// anything else fails the cold start with the variable named.
func TestStaleAfterFromEnv(t *testing.T) {
	for _, c := range []struct {
		env  string
		want time.Duration
		ok   bool
	}{
		{"", jobs.DefaultStaleAfter, true},
		{"90m", 90 * time.Minute, true},
		{"2h30m", 150 * time.Minute, true},
		{"45", 0, false},
		{"-5m", 0, false},
		{"0s", 0, false},
	} {
		t.Setenv("STALE_AFTER", c.env)
		got, err := schedwire.StaleAfterFromEnv()
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("STALE_AFTER=%q: %v, %v; want %v (ok %v)", c.env, got, err, c.want, c.ok)
		}
	}
}

// TestHandlerFor: the sweeper is the one scheduled function it wires, and it is declared.
func TestHandlerFor(t *testing.T) {
	if _, ok := routes.ScheduledByLogicalID(schedwire.SweeperID); !ok {
		t.Fatalf("%s is not in routes.Schedules", schedwire.SweeperID)
	}
	if _, err := schedwire.HandlerFor("ImportWorkerFunction", nil, time.Minute, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("HandlerFor wired the worker as a scheduled function")
	}
	if len(routes.Schedules) != 1 {
		t.Errorf("%d scheduled functions; schedwire wires only the sweeper", len(routes.Schedules))
	}
}
