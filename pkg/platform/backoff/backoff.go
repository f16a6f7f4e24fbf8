// Package backoff is the one way this service waits: before a retry (exponential, jittered,
// bounded) or for a set time, and in both cases no longer than its context lives.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is how long the waits before retries grow: Base before the first retry, doubling,
// never above Max. The wait is jittered over its upper half, so that callers that failed
// together do not retry together.
type Policy struct {
	Base, Max time.Duration
}

// The two policies in use: DynamoDB calls retry fast (their faults are contention and
// throttling that clear in milliseconds); whole-request retries (SQS batches, a chunk's
// re-plan after a lost race) wait longer.
var (
	Store = Policy{Base: 10 * time.Millisecond, Max: time.Second}
	Queue = Policy{Base: 20 * time.Millisecond, Max: 2 * time.Second}
)

// Delay is the jittered wait before retry n (n >= 1).
func (p Policy) Delay(n int) time.Duration {
	d := min(p.Base<<min(max(n-1, 0), 16), p.Max)
	return d/2 + rand.N(d/2+1)
}

// Wait sleeps before retry n (n >= 1); it returns the context's error if the context ends
// first.
func (p Policy) Wait(ctx context.Context, n int) error { return Sleep(ctx, p.Delay(n)) }

// Sleep waits d, or until ctx ends (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry runs fn until it returns nil or an error retryable does not accept, at most retries
// more times, waiting as p says before each retry. It returns fn's last error.
func Retry(ctx context.Context, p Policy, retries int, retryable func(error) bool, fn func() error) error {
	for n := 1; ; n++ {
		err := fn()
		if err == nil || n > retries || !retryable(err) {
			return err
		}
		if werr := p.Wait(ctx, n); werr != nil {
			return err
		}
	}
}
