package ddb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/backoff"
	"github.com/participant-roster/roster/pkg/vocab"
)

const (
	// MaxTransactItems is DynamoDB's limit of writes per TransactWriteItems.
	MaxTransactItems = 100
	// MaxAttempts bounds the tries of one transaction or batch that DynamoDB keeps cancelling
	// for contention or throttling.
	MaxAttempts = 8
)

// Update builds an UpdateExpression with placeholder names for every attribute.
type Update struct {
	Sets, Removes []string
	Names         map[string]string
	Values        map[string]types.AttributeValue
}

// NewUpdate returns an empty update.
func NewUpdate() *Update {
	return &Update{Names: map[string]string{}, Values: map[string]types.AttributeValue{}}
}

// Set sets attr to an expression.
func (u *Update) Set(attr, expr string) {
	u.Names["#"+attr] = attr
	u.Sets = append(u.Sets, "#"+attr+" = "+expr)
}

// SetValue sets attr to a value.
func (u *Update) SetValue(attr string, v types.AttributeValue) {
	u.Values[":"+attr] = v
	u.Set(attr, ":"+attr)
}

// Expression is the update's SET (and REMOVE) expression.
func (u *Update) Expression() string {
	expr := "SET " + strings.Join(u.Sets, ", ")
	if len(u.Removes) > 0 {
		expr += " REMOVE " + strings.Join(u.Removes, ", ")
	}
	return expr
}

// Op is the update of one item as a transaction's write.
func (u *Update) Op(table string, k Key, condition string) types.TransactWriteItem {
	in := &types.Update{
		TableName: aws.String(table), Key: k.AV(), UpdateExpression: aws.String(u.Expression()),
		ConditionExpression: aws.String(condition), ExpressionAttributeNames: u.Names,
	}
	if len(u.Values) > 0 {
		in.ExpressionAttributeValues = u.Values
	}
	return types.TransactWriteItem{Update: in}
}

// Put is the put of one record as a transaction's write.
func (t *Table) Put(record any, condition string) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(record)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("store: encode: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(t.TableName), Item: av, ConditionExpression: aws.String(condition),
	}}, nil
}

// DeleteOp is the delete of one item as a transaction's write.
func (t *Table) DeleteOp(k Key, condition string, values map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: aws.String(t.TableName), Key: k.AV(), ConditionExpression: aws.String(condition),
		ExpressionAttributeValues: values,
	}}
}

// CounterOp adds deltas to an item's counters (ADD creates a missing counter item); a condition
// keeps counters off records that must exist. ok is false when every delta is 0.
func (t *Table) CounterOp(k Key, condition string, deltas map[string]int) (op types.TransactWriteItem, ok bool) {
	var parts []string
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	for attr, d := range deltas {
		if d == 0 {
			continue
		}
		parts = append(parts, "#"+attr+" :"+attr)
		names["#"+attr] = attr
		values[":"+attr] = &types.AttributeValueMemberN{Value: strconv.Itoa(d)}
	}
	if len(parts) == 0 {
		return types.TransactWriteItem{}, false
	}
	u := &types.Update{
		TableName: aws.String(t.TableName), Key: k.AV(), UpdateExpression: aws.String("ADD " + strings.Join(parts, ", ")),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}
	if condition != "" {
		u.ConditionExpression = aws.String(condition)
	}
	return types.TransactWriteItem{Update: u}, true
}

// TransactWrite runs one transaction, retrying what DynamoDB cancels for contention or
// throttling. A failed condition means records changed since they were read:
// vocab.ErrConflict.
func (t *Table) TransactWrite(ctx context.Context, ops []types.TransactWriteItem) error {
	failed, err := t.TransactConditional(ctx, ops)
	switch {
	case err != nil:
		return fmt.Errorf("store: transaction of %d writes: %w", len(ops), err)
	case failed >= 0:
		return vocab.ErrConflict
	}
	return nil
}

// TransactConditional runs a transaction (paced, if the table is), retrying what DynamoDB
// cancels for contention or throttling. When a condition fails it returns the index of the
// first failing write and no error; failed is -1 when the transaction went through.
func (t *Table) TransactConditional(ctx context.Context, ops []types.TransactWriteItem) (failed int, err error) {
	for attempt := 0; ; attempt++ {
		if err := t.pace(ctx, ops); err != nil {
			return -1, err
		}
		_, err := t.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
		if err == nil {
			return -1, nil
		}
		var canceled *types.TransactionCanceledException
		if errors.As(err, &canceled) {
			for i, r := range canceled.CancellationReasons {
				if aws.ToString(r.Code) == "ConditionalCheckFailed" {
					return i, nil
				}
			}
		}
		if retry, _ := Classify(err); !retry || attempt+1 >= MaxAttempts {
			return -1, err
		}
		if err := backoff.Store.Wait(ctx, attempt+1); err != nil {
			return -1, err
		}
	}
}

// WriteOne runs one Put or Delete outside a transaction (paced, if the table is), retrying
// throttling; ok is false when its condition failed. It costs half what the same write costs
// in a transaction, for writes whose atomicity with others the caller does not need.
func (t *Table) WriteOne(ctx context.Context, op types.TransactWriteItem) (ok bool, err error) {
	for attempt := 0; ; attempt++ {
		if err := t.paceSingle(ctx, op); err != nil {
			return false, err
		}
		switch {
		case op.Put != nil:
			_, err = t.Client.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: op.Put.TableName, Item: op.Put.Item, ConditionExpression: op.Put.ConditionExpression,
				ExpressionAttributeNames: op.Put.ExpressionAttributeNames, ExpressionAttributeValues: op.Put.ExpressionAttributeValues,
			})
		case op.Delete != nil:
			_, err = t.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName: op.Delete.TableName, Key: op.Delete.Key, ConditionExpression: op.Delete.ConditionExpression,
				ExpressionAttributeNames: op.Delete.ExpressionAttributeNames, ExpressionAttributeValues: op.Delete.ExpressionAttributeValues,
			})
		default:
			return false, fmt.Errorf("store: WriteOne takes a Put or a Delete")
		}
		if err == nil {
			return true, nil
		}
		if ConditionFailed(err) {
			return false, nil
		}
		if retry, _ := Classify(err); !retry || attempt+1 >= MaxAttempts {
			return false, fmt.Errorf("store: write: %w", err)
		}
		if err := backoff.Store.Wait(ctx, attempt+1); err != nil {
			return false, err
		}
	}
}

// Classify says whether a transaction error is worth retrying, or is a failed condition.
func Classify(err error) (retry, conflict bool) {
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				conflict = true
			case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
				retry = true
			}
		}
		return retry && !conflict, conflict
	}
	var inProgress *types.TransactionInProgressException
	var throttled *types.ProvisionedThroughputExceededException
	var limit *types.RequestLimitExceeded
	var internal *types.InternalServerError
	return errors.As(err, &inProgress) || errors.As(err, &throttled) || errors.As(err, &limit) || errors.As(err, &internal), false
}

// BatchWrite writes 25 requests a call and retries what DynamoDB leaves unprocessed.
func (t *Table) BatchWrite(ctx context.Context, writes []types.WriteRequest) error {
	for start := 0; start < len(writes); start += 25 {
		req := map[string][]types.WriteRequest{t.TableName: writes[start:min(start+25, len(writes))]}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if attempt >= 4*MaxAttempts {
					return fmt.Errorf("store: batch write: %d requests still unprocessed", len(req[t.TableName]))
				}
				if err := backoff.Store.Wait(ctx, attempt); err != nil {
					return err
				}
			}
			res, err := t.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
			if err != nil {
				return fmt.Errorf("store: batch write: %w", err)
			}
			req = res.UnprocessedItems
		}
	}
	return nil
}

// TransactCreate writes ops together; a failed condition means a record was there already
// or one it needs was missing: vocab.ErrExists.
func (t *Table) TransactCreate(ctx context.Context, ops ...types.TransactWriteItem) error {
	err := t.TransactWrite(ctx, ops)
	if errors.Is(err, vocab.ErrConflict) {
		return fmt.Errorf("%w (or a record it needs is missing)", vocab.ErrExists)
	}
	return err
}

// Marker is a uniqueness marker item: its key is the unique value, and it names the record
// that holds it. It is claimed with a condition (absent, or already this record's), in the
// same transaction as the record or, for an import chunk's new participants, just before the
// record's own writes; never checked and then written.
type Marker struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	Type          string `dynamodbav:"type"`
	ParticipantID string `dynamodbav:"participantId"`
	// ClaimedUntil (unix milliseconds) and Claim are set by a claimant that writes its record
	// after the marker, outside a transaction (MarkerClaim).
	ClaimedUntil int64  `dynamodbav:"claimedUntil,omitempty"`
	Claim        string `dynamodbav:"claim,omitempty"`
}

// MarkerClaim is how a marker write treats claims. A claimant that writes its record after
// the marker, outside a transaction (Token set), holds the marker against takeovers until
// Until, before which it must have made its last unconditional write (it is its deadline);
// after it and ClaimMargin, the marker can be taken over. A writer whose record goes in the
// marker's own transaction (no Token) waits out such a claim too. Now is when the write is
// made; the zero value honours no claims (a family whose markers never carry one).
type MarkerClaim struct {
	Token string
	Until time.Time
	Now   time.Time
}

// ClaimMargin is how long past its Until a claim still holds: for a write the claimant sent
// just before its deadline to land, and for the clocks of two writers to differ.
const ClaimMargin = time.Second

// ClaimRunOut is the condition, on a record that may carry a claim's claimedUntil, that no
// claim holds it at now (none, or one run out), and its value.
func ClaimRunOut(now time.Time) (condition string, values map[string]types.AttributeValue) {
	return "(attribute_not_exists(claimedUntil) OR claimedUntil < :runOut)",
		map[string]types.AttributeValue{":runOut": Millis(now.Add(-ClaimMargin))}
}

// MarkerPut is the write that claims a marker for a participant: it succeeds when the marker
// is free or already names the participant (a create that an interrupted write left half
// done, taken over with the same participant id), and honours no claims (MarkerClaim).
func (t *Table) MarkerPut(k Key, participantID string) (types.TransactWriteItem, error) {
	return t.ClaimMarker(k, participantID, MarkerClaim{})
}

// ClaimMarker is MarkerPut under c: a marker that names the participant is taken over only
// when no claim holds it (none, one run out, or c's own).
func (t *Table) ClaimMarker(k Key, participantID string, c MarkerClaim) (types.TransactWriteItem, error) {
	m := Marker{PK: k.PK, SK: k.SK, Type: "Marker", ParticipantID: participantID}
	condition := "attribute_not_exists(pk) OR participantId = :me"
	values := map[string]types.AttributeValue{":me": S(participantID)}
	if !c.Now.IsZero() {
		runOut, v := ClaimRunOut(c.Now)
		maps.Copy(values, v)
		if c.Token != "" {
			m.ClaimedUntil, m.Claim = c.Until.UnixMilli(), c.Token
			runOut = "(" + runOut + " OR claim = :mine)"
			values[":mine"] = S(c.Token)
		}
		condition = "attribute_not_exists(pk) OR (participantId = :me AND " + runOut + ")"
	}
	op, err := t.Put(m, condition)
	if err == nil {
		op.Put.ExpressionAttributeValues = values
	}
	return op, err
}

// ConditionFailed reports whether a single write's condition failed.
func ConditionFailed(err error) bool {
	var failed *types.ConditionalCheckFailedException
	return errors.As(err, &failed)
}

// FmtTime is how every record stores a time: RFC 3339 UTC with nanoseconds.
func FmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ParseTime reads a time FmtTime wrote; a zero time marks corruption.
func ParseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Millis is a time as a number attribute of unix milliseconds (leases compare them).
func Millis(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixMilli(), 10)}
}

// MustMarshal encodes one of our own record types, which always encode.
func MustMarshal(v any) Item {
	av, err := attributevalue.MarshalMap(v)
	if err != nil {
		panic("store: item does not encode: " + err.Error())
	}
	return av
}

// ActorAttr is an actor as records store it.
type ActorAttr struct {
	Type string `dynamodbav:"type"`
	ID   string `dynamodbav:"id"`
	Name string `dynamodbav:"name"`
}

// ToActorAttr stores an actor.
func ToActorAttr(a *vocab.Actor) *ActorAttr {
	if a == nil {
		return nil
	}
	return &ActorAttr{Type: a.Type, ID: a.ID, Name: a.Name}
}

// FromActorAttr reads a stored actor.
func FromActorAttr(a *ActorAttr) *vocab.Actor {
	if a == nil {
		return nil
	}
	return &vocab.Actor{Type: a.Type, ID: a.ID, Name: a.Name}
}
