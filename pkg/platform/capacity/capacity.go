// Package capacity is the meter of one request's DynamoDB cost: a store adds what each call
// consumed to the meter the call's context carries (the store core's client middleware does it
// for every call), so each request's log line and each import chunk can say what it cost in
// read and write units. It knows no SDK: it only adds numbers.
package capacity

import (
	"context"
	"sync"
)

// Meter adds up the capacity consumed on behalf of one request. It is safe for concurrent use
// because a request may fetch a page and its total at the same time.
type Meter struct {
	mu    sync.Mutex
	read  float64
	write float64
	calls int
}

// Units returns the read and write capacity units recorded so far.
func (m *Meter) Units() (read, write float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.read, m.write
}

// Calls returns how many DynamoDB calls were recorded.
func (m *Meter) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// Add records one call that consumed read and write units.
func (m *Meter) Add(read, write float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	m.read += read
	m.write += write
}

type meterKey struct{}

// WithMeter returns a context carrying a new meter, and the meter.
func WithMeter(ctx context.Context) (context.Context, *Meter) {
	m := &Meter{}
	return context.WithValue(ctx, meterKey{}, m), m
}

// FromContext returns the context's meter, or nil.
func FromContext(ctx context.Context) *Meter {
	m, _ := ctx.Value(meterKey{}).(*Meter)
	return m
}
