package ddb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/backoff"
)

const (
	// StatementsPerCall is DynamoDB's limit of statements per BatchExecuteStatement.
	StatementsPerCall = 25
	// insertCallers is how many BatchExecuteStatement calls InsertAll keeps in flight.
	insertCallers = 8
)

// InsertAll puts each item only if no item has its key, 25 a call (PartiQL INSERT through
// BatchExecuteStatement: each statement is conditional on its own, priced as a single put,
// not as part of a transaction), paced if the table is. inserted[i] is false when item i's
// key was taken; a statement DynamoDB refuses for throttling or an internal error is sent
// again, and one that still fails is an error.
func (t *Table) InsertAll(ctx context.Context, items []Item) (inserted []bool, err error) {
	inserted = make([]bool, len(items))
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, insertCallers)
	var wg sync.WaitGroup
	for start := 0; start < len(items); start += StatementsPerCall {
		idx := make([]int, 0, StatementsPerCall)
		for i := start; i < min(start+StatementsPerCall, len(items)); i++ {
			idx = append(idx, i)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := t.insertBatch(ctx, items, idx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			for i, v := range ok {
				inserted[i] = v
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return inserted, nil
}

// insertBatch inserts items[idx...] in one call, and again those refused for a passing reason.
func (t *Table) insertBatch(ctx context.Context, items []Item, idx []int) (map[int]bool, error) {
	out := map[int]bool{}
	for attempt := 0; len(idx) > 0; attempt++ {
		if attempt > 0 {
			if attempt >= MaxAttempts {
				return nil, fmt.Errorf("store: insert: %d statements still refused", len(idx))
			}
			if err := backoff.Store.Wait(ctx, attempt); err != nil {
				return nil, err
			}
		}
		ops := make([]types.TransactWriteItem, len(idx))
		st := make([]types.BatchStatementRequest, len(idx))
		for k, i := range idx {
			ops[k] = types.TransactWriteItem{Put: &types.Put{Item: items[i]}}
			st[k] = t.insertStatement(items[i])
		}
		if t.pacer != nil {
			if err := t.pacer.Wait(ctx, writeUnits(ops, 1)); err != nil {
				return nil, err
			}
		}
		res, err := t.Client.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: st})
		if err != nil {
			if retry, _ := Classify(err); retry {
				continue
			}
			return nil, fmt.Errorf("store: insert: %w", err)
		}
		var again []int
		for k, r := range res.Responses {
			switch {
			case r.Error == nil:
				out[idx[k]] = true
			case r.Error.Code == types.BatchStatementErrorCodeEnumDuplicateItem ||
				r.Error.Code == types.BatchStatementErrorCodeEnumConditionalCheckFailed:
				out[idx[k]] = false
			case slices.Contains(retryableStatementErrors, r.Error.Code):
				again = append(again, idx[k])
			default:
				return nil, fmt.Errorf("store: insert: %s: %s", r.Error.Code, aws.ToString(r.Error.Message))
			}
		}
		idx = again
	}
	return out, nil
}

var retryableStatementErrors = []types.BatchStatementErrorCodeEnum{
	types.BatchStatementErrorCodeEnumThrottlingError, types.BatchStatementErrorCodeEnumProvisionedThroughputExceeded,
	types.BatchStatementErrorCodeEnumRequestLimitExceeded, types.BatchStatementErrorCodeEnumInternalServerError,
	types.BatchStatementErrorCodeEnumTransactionConflict,
}

// insertStatement is the PartiQL INSERT of one item: attribute names quoted, values as
// parameters, in a fixed order.
func (t *Table) insertStatement(it Item) types.BatchStatementRequest {
	names := make([]string, 0, len(it))
	for n := range it {
		names = append(names, n)
	}
	slices.Sort(names)
	fields := make([]string, len(names))
	params := make([]types.AttributeValue, len(names))
	for i, n := range names {
		fields[i] = "'" + strings.ReplaceAll(n, "'", "''") + "': ?"
		params[i] = it[n]
	}
	return types.BatchStatementRequest{
		Statement:  aws.String(`INSERT INTO "` + t.TableName + `" VALUE {` + strings.Join(fields, ", ") + `}`),
		Parameters: params,
	}
}
