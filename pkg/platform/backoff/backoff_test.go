package backoff_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/platform/backoff"
)

func TestDelayGrowsWithinBounds(t *testing.T) {
	p := backoff.Policy{Base: 8 * time.Millisecond, Max: 100 * time.Millisecond}
	for n, ceiling := range map[int]time.Duration{1: 8, 2: 16, 3: 32, 4: 64, 5: 100, 30: 100} {
		ceiling *= time.Millisecond
		for range 200 {
			d := p.Delay(n)
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", n, d, ceiling/2, ceiling)
			}
		}
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err := backoff.Policy{Base: time.Hour, Max: time.Hour}.Wait(ctx, 1)
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("Wait on an ended context = %v after %v, want context.Canceled at once", err, time.Since(start))
	}
	if err := backoff.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep: %v", err)
	}
}
