// Package ratelimit counts a user's calls in fixed windows (a second and a minute, as Snap XMP
// documents its operational limits) across every instance of every function at once: the
// counts live in the Store, one shared counter per user and window, never in an instance's
// memory. Every call is counted, also one refused for being over a limit, so a client that
// keeps calling past its budget sees its remaining count go below zero (as Snap's
// X-RateLimit-Remaining headers may) and gets nothing done until a window resets.
//
// The package knows no family and no SDK: a family's handlers ask Take for a Verdict and write
// it in their own headers and error shape; the DynamoDB adapter (in the family's store package)
// is the Store.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limits are the most calls a user may make per window. Snap documents 1 a second and 10 a
// minute (VendorLimits).
type Limits struct {
	PerSecond int
	PerMinute int
}

// VendorLimits are the limits Snap XMP documents for every user.
var VendorLimits = Limits{PerSecond: 1, PerMinute: 10}

// Validate refuses a limit below one call per window.
func (l Limits) Validate() error {
	if l.PerSecond < 1 || l.PerMinute < 1 {
		return fmt.Errorf("ratelimit: limits must be at least 1 call per window (got %d a second, %d a minute)", l.PerSecond, l.PerMinute)
	}
	return nil
}

// Subject is whose calls are counted: the verified credential's workspace and user.
type Subject struct {
	Workspace string
	User      string
}

// Window is one fixed window a call falls in: a second or a minute, by its start in UNIX
// seconds.
type Window struct {
	Second int64 // the UNIX second of the call
	Minute int64 // the UNIX time of the start of the call's minute
}

// WindowOf is the second and minute a call at t falls in.
func WindowOf(t time.Time) Window {
	s := t.Unix()
	return Window{Second: s, Minute: s - s%60}
}

// Counts are a subject's calls in a window's second and minute, this call included.
type Counts struct {
	Second int64
	Minute int64
}

// Store counts calls. Count adds one call of the subject to both windows at once, atomically
// for each, and answers both counts with this call in them; the counters must be shared by
// every instance, and may forget a window once it has passed.
type Store interface {
	Count(ctx context.Context, s Subject, w Window) (Counts, error)
}

// Limiter decides whether a call may run.
type Limiter struct {
	Store  Store
	Limits Limits
	Now    func() time.Time // nil: time.Now
}

// ErrStore wraps a failure to count: the call's fate is unknown, so it is not served.
var ErrStore = errors.New("ratelimit: could not count the call")

// Take counts one call of the subject now and says whether it is within the limits.
func (l *Limiter) Take(ctx context.Context, s Subject) (Verdict, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	w := WindowOf(now())
	c, err := l.Store.Count(ctx, s, w)
	if err != nil {
		return Verdict{}, fmt.Errorf("%w: %w", ErrStore, err)
	}
	return Verdict{Limits: l.Limits, Window: w, Counts: c}, nil
}

// Verdict is what a call learns of its windows: the limits, how much of each is left (below
// zero once calls were made past it) and when each resets.
type Verdict struct {
	Limits Limits
	Window Window
	Counts Counts
}

// Allowed reports whether the call is within both limits.
func (v Verdict) Allowed() bool {
	return v.RemainingPerSecond() >= 0 && v.RemainingPerMinute() >= 0
}

// RemainingPerSecond is the calls left in this second after this one; negative once over.
func (v Verdict) RemainingPerSecond() int64 { return int64(v.Limits.PerSecond) - v.Counts.Second }

// RemainingPerMinute is the calls left in this minute after this one; negative once over.
func (v Verdict) RemainingPerMinute() int64 { return int64(v.Limits.PerMinute) - v.Counts.Minute }

// ResetPerSecond is when the second's count starts again from zero (UNIX seconds).
func (v Verdict) ResetPerSecond() int64 { return v.Window.Second + 1 }

// ResetPerMinute is when the minute's count starts again from zero (UNIX seconds).
func (v Verdict) ResetPerMinute() int64 { return v.Window.Minute + 60 }
