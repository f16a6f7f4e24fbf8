// Package capacity makes every DynamoDB call ask for its consumed capacity and adds what each
// call reports to the meter of the request that made it, so each request's log line can say
// what it cost in read and write units.
package capacity

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
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

func (m *Meter) add(ccs []types.ConsumedCapacity, writes bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	for _, cc := range ccs {
		r, w := units(cc, writes)
		m.read += r
		m.write += w
	}
}

// units splits one ConsumedCapacity into read and write units. DynamoDB fills
// Read/WriteCapacityUnits on some calls and only CapacityUnits on others; then the kind of
// call says which it was (a conditional write that fails still consumes write units).
func units(cc types.ConsumedCapacity, writes bool) (read, write float64) {
	if cc.ReadCapacityUnits != nil || cc.WriteCapacityUnits != nil {
		return deref(cc.ReadCapacityUnits), deref(cc.WriteCapacityUnits)
	}
	if writes {
		return 0, deref(cc.CapacityUnits)
	}
	return deref(cc.CapacityUnits), 0
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
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

// Option installs the metering middleware on a DynamoDB client:
// dynamodb.NewFromConfig(cfg, capacity.Option).
func Option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("ConsumedCapacityMeter", meter), middleware.After)
	})
}

func meter(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	askForCapacity(in.Parameters)
	out, md, err := next.HandleInitialize(ctx, in)
	if m := FromContext(ctx); m != nil && err == nil {
		ccs, writes := reported(out.Result)
		m.add(ccs, writes)
	}
	return out, md, err
}

// askForCapacity sets ReturnConsumedCapacity on every input that has it. INDEXES splits reads
// and writes (TOTAL reports only CapacityUnits on some calls).
func askForCapacity(params any) {
	const want = types.ReturnConsumedCapacityIndexes
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.ScanInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.TransactGetItemsInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = want
	}
}

// reported returns what a call's output says it consumed, and whether the call was a write.
func reported(result any) ([]types.ConsumedCapacity, bool) {
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		return one(out.ConsumedCapacity), false
	case *dynamodb.QueryOutput:
		return one(out.ConsumedCapacity), false
	case *dynamodb.ScanOutput:
		return one(out.ConsumedCapacity), false
	case *dynamodb.BatchGetItemOutput:
		return out.ConsumedCapacity, false
	case *dynamodb.TransactGetItemsOutput:
		return out.ConsumedCapacity, false
	case *dynamodb.PutItemOutput:
		return one(out.ConsumedCapacity), true
	case *dynamodb.UpdateItemOutput:
		return one(out.ConsumedCapacity), true
	case *dynamodb.DeleteItemOutput:
		return one(out.ConsumedCapacity), true
	case *dynamodb.BatchWriteItemOutput:
		return out.ConsumedCapacity, true
	case *dynamodb.TransactWriteItemsOutput:
		return out.ConsumedCapacity, true
	}
	return nil, false
}

func one(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}
