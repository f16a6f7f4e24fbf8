package ddb

// Capacity metering: every call asks DynamoDB for its consumed capacity, and what each call
// reports goes to the meter of the request that made it (package capacity).

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/participant-roster/roster/pkg/platform/capacity"
)

// MeterOption installs the metering middleware on a DynamoDB client:
// dynamodb.NewFromConfig(cfg, ddb.MeterOption).
func MeterOption(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("ConsumedCapacityMeter", meter), middleware.After)
	})
}

func meter(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	askForCapacity(in.Parameters)
	out, md, err := next.HandleInitialize(ctx, in)
	if m := capacity.FromContext(ctx); m != nil && err == nil {
		ccs, writes := reported(out.Result)
		record(m, ccs, writes)
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

// record adds one call's reported capacity to a meter.
func record(m *capacity.Meter, ccs []types.ConsumedCapacity, writes bool) {
	var read, write float64
	for _, cc := range ccs {
		r, w := units(cc, writes)
		read += r
		write += w
	}
	m.Add(read, write)
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
