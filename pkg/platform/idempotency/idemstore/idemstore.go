// Package idemstore is the DynamoDB adapter of the Idempotency-Key records
// (idempotency.Store) over the one table (pkg/platform/ddb): one item per key. It is the only
// package that builds their keys; the numbering of the access pattern continues the other
// adapters' for the one table (spotstore 1 to 12, snapstore 13 to 18, jobstore 19 to 26).
//
// # Access pattern
//
//	| #  | access pattern                                   | index | key condition                                    |
//	|----|--------------------------------------------------|-------|--------------------------------------------------|
//	| 27 | take, complete, release an Idempotency-Key       | table | pk=WS#<ws>#IDEM, sk=<keyId>#<METHOD route>#<key> |
//
// The workspace leads the key like every tenant partition; the credential's key id, the
// route (method and pattern, e.g. "POST /screener-participants-import") and the client's key
// make the sort key, so keys of two credentials or two routes never meet. Items are only
// ever read point-wise, through the writes themselves: taking a key is one conditional
// PutItem whose condition lets it through when no record holds the key (none, an expired
// one, or an INPROGRESS one whose lock has passed); when the condition fails the item that
// holds the key comes back with the failure (ReturnValuesOnConditionCheckFailure), so no
// second read is needed. Completing is a PutItem, and releasing a DeleteItem, conditioned on
// the taking request's token.
//
// An item carries ddb.TTLAttribute at its expiry (epoch seconds), so DynamoDB deletes it
// about a day after it was taken; until then the conditions compare expiresAt themselves.
// The stored answer's body is gzip'd in a Binary attribute. An answer whose item would pass
// DynamoDB's 400 KB limit is not stored: Complete reports idempotency.ErrAnswerTooLarge and
// the guard releases the key.
package idemstore

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/idempotency"
)

// Store keeps Idempotency-Key records in the table.
type Store struct{ *ddb.Table }

var _ idempotency.Store = (*Store)(nil)

// New returns the records' store over a table.
func New(t *ddb.Table) *Store { return &Store{Table: t} }

// key is a record's primary key (access pattern 27).
func key(k idempotency.Key) ddb.Key {
	return ddb.Key{PK: ddb.WS(k.Workspace) + "#IDEM", SK: k.Credential + "#" + k.Route + "#" + k.Value}
}

// item is a record as stored. Times are unix milliseconds, so conditions compare numbers.
type item struct {
	PK            string              `dynamodbav:"pk"`
	SK            string              `dynamodbav:"sk"`
	Type          string              `dynamodbav:"type"`
	Status        string              `dynamodbav:"status"`
	Fingerprint   string              `dynamodbav:"fingerprint"`
	Token         string              `dynamodbav:"token"`
	LockedUntil   int64               `dynamodbav:"lockedUntil"`
	ExpiresAt     int64               `dynamodbav:"expiresAt"`
	AnswerStatus  int                 `dynamodbav:"answerStatus,omitempty"`
	AnswerHeaders map[string][]string `dynamodbav:"answerHeaders,omitempty"`
	AnswerBody    []byte              `dynamodbav:"answerBody,omitempty"` // gzip
}

const itemType = "IdempotencyRecord"

// encode is the item of a record, with its TTL attribute.
func encode(k idempotency.Key, rec idempotency.Record) (ddb.Item, error) {
	dk := key(k)
	it := item{
		PK: dk.PK, SK: dk.SK, Type: itemType, Status: rec.Status, Fingerprint: rec.Fingerprint, Token: rec.Token,
		LockedUntil: rec.LockedUntil.UnixMilli(), ExpiresAt: rec.ExpiresAt.UnixMilli(),
	}
	if rec.Status == idempotency.Completed {
		body, err := gzipped(rec.Answer.Body)
		if err != nil {
			return nil, err
		}
		it.AnswerStatus, it.AnswerHeaders, it.AnswerBody = rec.Answer.Status, rec.Answer.Header, body
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("idemstore: encode: %w", err)
	}
	av[ddb.TTLAttribute] = &types.AttributeValueMemberN{Value: strconv.FormatInt(rec.ExpiresAt.Unix(), 10)}
	return av, nil
}

func decode(av ddb.Item) (idempotency.Record, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return idempotency.Record{}, fmt.Errorf("idemstore: decode: %w", err)
	}
	rec := idempotency.Record{
		Status: it.Status, Fingerprint: it.Fingerprint, Token: it.Token,
		LockedUntil: time.UnixMilli(it.LockedUntil), ExpiresAt: time.UnixMilli(it.ExpiresAt),
	}
	if it.Status == idempotency.Completed {
		body, err := gunzipped(it.AnswerBody)
		if err != nil {
			return idempotency.Record{}, err
		}
		rec.Answer = idempotency.Answer{Status: it.AnswerStatus, Header: http.Header(it.AnswerHeaders), Body: body}
	}
	return rec, nil
}

// takeable is Begin's condition: no record holds the key.
const takeable = "attribute_not_exists(pk) OR expiresAt < :now OR (#status = :inProgress AND lockedUntil < :now)"

// Begin takes the key with rec, or returns the record that holds it.
func (s *Store) Begin(ctx context.Context, k idempotency.Key, rec idempotency.Record, now time.Time) (idempotency.Record, bool, error) {
	av, err := encode(k, rec)
	if err != nil {
		return idempotency.Record{}, false, err
	}
	in := &dynamodb.PutItemInput{
		TableName: &s.TableName, Item: av,
		ConditionExpression:      aws.String(takeable),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": ddb.Millis(now), ":inProgress": ddb.S(idempotency.InProgress),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	_, err = s.Client.PutItem(ctx, in)
	var failed *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return rec, true, nil
	case !errors.As(err, &failed):
		return idempotency.Record{}, false, fmt.Errorf("idemstore: take key: %w", err)
	case failed.Item == nil:
		return idempotency.Record{}, false, fmt.Errorf("idemstore: take key: the holding record did not come back with the failed condition")
	}
	held, err := decode(failed.Item)
	return held, false, err
}

// Complete stores the answer in the record rec.Token took.
func (s *Store) Complete(ctx context.Context, k idempotency.Key, rec idempotency.Record) error {
	av, err := encode(k, rec)
	if err != nil {
		return err
	}
	if ddb.ItemSize(av) > ddb.MaxItemBytes {
		return idempotency.ErrAnswerTooLarge
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.TableName, Item: av,
		ConditionExpression:       aws.String("#token = :token"),
		ExpressionAttributeNames:  map[string]string{"#token": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":token": ddb.S(rec.Token)},
	})
	return writeResult("complete", err)
}

// Release deletes the record if token still holds it.
func (s *Store) Release(ctx context.Context, k idempotency.Key, token string) error {
	_, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.TableName, Key: key(k).AV(),
		ConditionExpression:       aws.String("#token = :token"),
		ExpressionAttributeNames:  map[string]string{"#token": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":token": ddb.S(token)},
	})
	return writeResult("release", err)
}

func writeResult(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case ddb.ConditionFailed(err):
		return idempotency.ErrNotHeld
	}
	return fmt.Errorf("idemstore: %s: %w", what, err)
}

func gzipped(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gunzipped(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("idemstore: stored answer: %w", err)
	}
	return io.ReadAll(zr)
}
