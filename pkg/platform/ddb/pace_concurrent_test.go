package ddb_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/platform/ddb"
)

// TestPacerChargesConcurrentWritesEachOnce: writers charging one key at once each pay for
// what came before them, exactly as if they had come one by one: at 100 units a second with
// a full bucket (a burst of 10 units), 100 writes of 10 units wait 0 (the first), then 0.1 s,
// 0.2 s, ... 9.9 s.
// `make test` runs it under the race detector.
func TestPacerChargesConcurrentWritesEachOnce(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	start := time.Unix(0, 0)
	p := &ddb.Pacer{
		PerSecond: 100,
		Now:       func() time.Time { return start }, // no refill: only the order of charges matters
		Sleep: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			waits = append(waits, d)
			return nil
		},
	}
	const writers = 100
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			if err := p.Wait(context.Background(), map[string]float64{"a": 10}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	slices.Sort(waits)
	if len(waits) != writers-1 {
		t.Fatalf("%d writers waited, want %d", len(waits), writers-1)
	}
	for i, d := range waits {
		if want := time.Duration(i+1) * 100 * time.Millisecond; (d - want).Abs() > time.Microsecond {
			t.Fatalf("the %d-th wait was %v, want %v (all waits: %v)", i+1, d, want, waits)
		}
	}
}
