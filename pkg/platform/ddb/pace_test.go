package ddb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
	"github.com/participant-roster/roster/pkg/vocab"
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

// TestPacerBudgetsEachPartitionKey: a key may spend a tenth of a second's budget at once
// (ddb.PacerBurst), then waits for what it spends beyond; keys do not share budgets; an idle
// key refills up to the burst only.
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
	if ddb.PacerBurst != 100*time.Millisecond {
		t.Fatalf("the steps below are worked out for a burst of 0.1 s, not %v", ddb.PacerBurst)
	}
	step(map[string]float64{"a": 10}, 0)
	step(map[string]float64{"a": 20}, 200*time.Millisecond)         // 20 over: 0.2 s at 100/s
	step(map[string]float64{"b": 10}, 0)                            // b has its own budget
	step(map[string]float64{"a": 5, "b": 10}, 100*time.Millisecond) // a refilled to 0 meanwhile; b's 10 over sets the wait
	c.now = c.now.Add(time.Hour)
	step(map[string]float64{"a": 10}, 0) // refilled, but only to the burst
	step(map[string]float64{"a": 1}, 10*time.Millisecond)
}

// TestPacedImportKeepsToTheBudget: an import through a paced store against DynamoDB Local
// waits, in all, about as long as its hottest partition key's writes take at the budget (the
// participants' partition: 2 write units per new participant, transactional). The
// participants' copies in gsi2 have the same key string, and a budget of their own: charged
// to the table's, they would make it wait half as long again.
func TestPacedImportKeepsToTheBudget(t *testing.T) {
	env := testkit.NewEnv(t)
	ctx := context.Background()
	tn := env.NewTenant()
	scr, err := env.App.Admin.CreateScreener(ctx, tn.WorkspaceID, vocab.Actor{Type: "SystemActor"}, "Paced", nil)
	if err != nil {
		t.Fatal(err)
	}
	const rows, budget = 200, 50.0
	c := &fakeClock{now: time.Now()}
	svc := screening.NewService(spotstore.New(env.App.Table.Paced(c.pacer(budget))))
	in := make([]screening.ImportRow, rows)
	for i := range in {
		in[i] = screening.ImportRow{Email: fmt.Sprintf("paced%d@example.com", i), Name: fmt.Sprintf("Paced %d", i)}
	}
	if _, err := svc.Import(ctx, tn.WorkspaceID, vocab.Actor{Type: "SystemActor"}, screening.ImportRequest{ScreenerID: scr.ID, Rows: in}); err != nil {
		t.Fatal(err)
	}
	atLeast := time.Duration((2*rows - budget*ddb.PacerBurst.Seconds()) / budget * float64(time.Second))
	if c.slept < atLeast || c.sleeps == 0 {
		t.Errorf("waited %v in %d sleeps, want at least %v for %d new participants at %.0f WCU/s", c.slept, c.sleeps, atLeast, rows, budget)
	}
	if c.slept > atLeast*5/4 {
		t.Errorf("waited %v, more than the %v the hottest key needs: the estimate is off", c.slept, atLeast)
	}
	t.Logf("%d rows at %.0f WCU/s per key: waited %v (%d sleeps)", rows, budget, c.slept, c.sleeps)
}
