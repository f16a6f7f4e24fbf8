package snapstore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
)

// RatePartitionGlob matches the partition key of every rate counter (access pattern 29) and of
// no other record: the IAM condition (dynamodb:LeadingKeys) that lets a read-only function
// count its calls and write nothing else.
const RatePartitionGlob = "WS#*#RATE#*"

// rateKey is the counter of a user's calls in one minute (access pattern 29).
func rateKey(s ratelimit.Subject, minute int64) ddb.Key {
	return ddb.Key{PK: ddb.WS(s.Workspace) + "#RATE#" + s.User, SK: fmt.Sprintf("M#%d", minute)}
}

// Attributes of a rate counter: the minute's count, and one count per second of the minute.
const rateMinuteAttr = "calls"

func rateSecondAttr(w ratelimit.Window) string { return fmt.Sprintf("s%02d", w.Second-w.Minute) }

// rateKeep is how long a counter outlives its minute before TTL may delete it; nothing reads a
// passed minute's counter, so any expiry after the minute would do.
const rateKeep = 60

// RateCounters is the Store of the Snap users' rate limiter.
func (s *Store) RateCounters() ratelimit.Store { return rateCounters{s.Table} }

type rateCounters struct{ t *ddb.Table }

// Count is one UpdateItem of the minute's counter, which holds the minute's count and its
// seconds' counts side by side: ADD counts the call in both at once, and the new counts come
// back with the write (one write unit: the item stays far below 1 KB).
func (r rateCounters) Count(ctx context.Context, s ratelimit.Subject, w ratelimit.Window) (ratelimit.Counts, error) {
	second := rateSecondAttr(w)
	out, err := r.t.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &r.t.TableName,
		Key:                       rateKey(s, w.Minute).AV(),
		UpdateExpression:          aws.String("ADD #m :one, #s :one SET #ttl = :ttl"),
		ExpressionAttributeNames:  map[string]string{"#m": rateMinuteAttr, "#s": second, "#ttl": ddb.TTLAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": ddb.N(1), ":ttl": ddb.N(w.Minute + 60 + rateKeep)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return ratelimit.Counts{}, fmt.Errorf("snapstore: count a call: %w", err)
	}
	var c ratelimit.Counts
	if err := attributevalue.Unmarshal(out.Attributes[rateMinuteAttr], &c.Minute); err != nil {
		return ratelimit.Counts{}, fmt.Errorf("snapstore: count a call: %w", err)
	}
	if err := attributevalue.Unmarshal(out.Attributes[second], &c.Second); err != nil {
		return ratelimit.Counts{}, fmt.Errorf("snapstore: count a call: %w", err)
	}
	return c, nil
}
