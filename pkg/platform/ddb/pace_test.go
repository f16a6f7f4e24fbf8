package ddb_test

import (
	"context"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/platform/ddb"
)

// fakeClock is a pacer's clock that moves only when the pacer sleeps.
type fakeClock struct {
	now    time.Time
	slept  time.Duration
	sleeps int
}

func (c *fakeClock) pacer(perSecond float64) *ddb.Pacer {
	return &ddb.Pacer{
		PerSecond: perSecond,
		Now:       func() time.Time { return c.now },
		Sleep: func(_ context.Context, d time.Duration) error {
			c.now = c.now.Add(d)
			c.slept += d
			c.sleeps++
			return nil
		},
	}
}

// TestPacerBudgetsEachPartitionKey: a key may spend one second's budget at once, then waits
// for what it spends beyond; keys do not share budgets; an idle key refills up to one second.
func TestPacerBudgetsEachPartitionKey(t *testing.T) {
	ctx := context.Background()
	c := &fakeClock{now: time.Unix(0, 0)}
	p := c.pacer(100)
	step := func(units map[string]float64, want time.Duration) {
		t.Helper()
		before := c.slept
		if err := p.Wait(ctx, units); err != nil {
			t.Fatal(err)
		}
		if got := c.slept - before; got != want {
			t.Errorf("charging %v waited %v, want %v", units, got, want)
		}
	}
	step(map[string]float64{"a": 60}, 0)
	step(map[string]float64{"a": 60}, 200*time.Millisecond)          // 20 over: 0.2 s at 100/s
	step(map[string]float64{"b": 100}, 0)                            // b has its own budget
	step(map[string]float64{"a": 50, "b": 10}, 500*time.Millisecond) // a refilled to 0 meanwhile; the slower key sets the wait
	c.now = c.now.Add(time.Hour)
	step(map[string]float64{"a": 100}, 0) // refilled, but only to one second's worth
	step(map[string]float64{"a": 1}, 10*time.Millisecond)
}
