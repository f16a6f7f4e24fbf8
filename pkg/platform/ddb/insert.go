package ddb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

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
	inCalls(len(items), func(idx []int) {
		ok, err := t.insertBatch(ctx, items, idx)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
		}
		for i, v := range ok {
			inserted[i] = v
		}
	})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return inserted, nil
}

// PutAll puts the items unconditionally, 25 a call (BatchWriteItem), paced if the table is,
// and only before ctx's deadline. written[i] is true when item i is written for certain. A
// call is sent once: DynamoDB refused it whole (throttling) or left items unprocessed, and
// those are sent again; but a call that failed otherwise may or may not have been applied,
// and sending it again could overwrite a change made since, so its items stay false, as do
// those the deadline leaves unsent. The caller settles the false ones with conditional
// writes.
func (t *Table) PutAll(ctx context.Context, items []Item) (written []bool) {
	written = make([]bool, len(items))
	var mu sync.Mutex
	inCalls(len(items), func(idx []int) {
		done := t.putBatch(ctx, items, idx)
		mu.Lock()
		defer mu.Unlock()
		for _, i := range done {
			written[i] = true
		}
	})
	return written
}

// inCalls runs call on the indexes of n items StatementsPerCall at a time, insertCallers
// calls at once.
func inCalls(n int, call func(idx []int)) {
	sem := make(chan struct{}, insertCallers)
	var wg sync.WaitGroup
	for start := 0; start < n; start += StatementsPerCall {
		idx := make([]int, 0, StatementsPerCall)
		for i := start; i < min(start+StatementsPerCall, n); i++ {
			idx = append(idx, i)
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			call(idx)
		})
	}
	wg.Wait()
}

// putBatch writes items[idx...] in one BatchWriteItem, and again what DynamoDB did not
// process, until the deadline or MaxAttempts; done are the items written for certain.
func (t *Table) putBatch(ctx context.Context, items []Item, idx []int) (done []int) {
	for attempt := 0; len(idx) > 0 && attempt < 4*MaxAttempts; attempt++ {
		if attempt > 0 && backoff.Store.Wait(ctx, attempt) != nil {
			return done
		}
		ops := make([]types.TransactWriteItem, len(idx))
		reqs := make([]types.WriteRequest, len(idx))
		for k, i := range idx {
			ops[k] = types.TransactWriteItem{Put: &types.Put{Item: items[i]}}
			reqs[k] = types.WriteRequest{PutRequest: &types.PutRequest{Item: items[i]}}
		}
		if t.pacer != nil && t.pacer.Wait(ctx, writeUnits(ops, 1)) != nil {
			return done
		}
		res, err := t.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{t.TableName: reqs},
		}, sendOnce)
		if err != nil {
			if refusedWhole(err) {
				continue
			}
			return done
		}
		unprocessed := map[string]bool{}
		for _, r := range res.UnprocessedItems[t.TableName] {
			unprocessed[keyString(r.PutRequest.Item)] = true
		}
		var again []int
		for _, i := range idx {
			if unprocessed[keyString(items[i])] {
				again = append(again, i)
			} else {
				done = append(done, i)
			}
		}
		idx = again
	}
	return done
}

// sendOnce turns the SDK's own retries off for a call that must not be applied twice.
func sendOnce(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} }

// refusedWhole reports an error with which DynamoDB refuses a request before applying any of
// it (throttling, a request limit), so sending it again is safe.
func refusedWhole(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && slices.Contains(refusalCodes, api.ErrorCode())
}

var refusalCodes = []string{"ProvisionedThroughputExceededException", "RequestLimitExceeded", "ThrottlingException"}

// keyString is an item's primary key as one string.
func keyString(it Item) string {
	pk, _ := it[AttrPK].(*types.AttributeValueMemberS)
	sk, _ := it[AttrSK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return ""
	}
	return pk.Value + "\x00" + sk.Value
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
