// Package ddb is the store core under every context's DynamoDB adapter (Spot, Snap, jobs):
// the one table's client and name, its key attributes, reads, the write builders,
// transactions with their retries, write pacing per partition key, and capacity metering. It
// knows no context's records or keys; each adapter lays out its own (its package doc has its
// access patterns).
package ddb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/backoff"
)

// Attribute names of the table's keys and indexes (template.yaml defines the same).
const (
	AttrPK     = "pk"
	AttrSK     = "sk"
	AttrGSI1PK = "gsi1pk"
	AttrGSI1SK = "gsi1sk"
	AttrGSI2PK = "gsi2pk"
	AttrGSI2SK = "gsi2sk"
	IndexGSI1  = "gsi1"
	IndexGSI2  = "gsi2"
	// TTLAttribute is the table's time-to-live attribute (a Number, epoch seconds): DynamoDB
	// deletes an item some time after it passes. Reads must still skip an item past it, as the
	// deletion can lag by days.
	TTLAttribute = "ttl"
)

// CountSK is the sort key of a list's counter item. '#' sorts before every id, so the Query
// that reads a page of a partition meets the partition's total first, in the same call.
const CountSK = "#COUNT"

// Table is the one table, through one client (which should carry MeterOption).
type Table struct {
	Client    *dynamodb.Client
	TableName string
	pacer     *Pacer // nil: writes are not paced (see Paced)
}

// New returns the table of that name.
func New(client *dynamodb.Client, name string) *Table {
	return &Table{Client: client, TableName: name}
}

// Item is one item's attributes.
type Item = map[string]types.AttributeValue

// Key is an item's primary key.
type Key struct{ PK, SK string }

// CountKey is the key of a partition's counter item.
func CountKey(partition string) Key { return Key{partition, CountSK} }

// AV is the key as DynamoDB takes it.
func (k Key) AV() Item { return Item{AttrPK: S(k.PK), AttrSK: S(k.SK)} }

// S is a string attribute value.
func S(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// WS starts every partition key of a workspace's records: the tenant leads the key.
func WS(w string) string { return "WS#" + w }

// GetItem reads one item into out (eventually consistent); found is false when there is none.
func (t *Table) GetItem(ctx context.Context, k Key, out any) (found bool, err error) {
	return t.get(ctx, k, out, false)
}

// GetConsistent reads one item into out with a strongly consistent read.
func (t *Table) GetConsistent(ctx context.Context, k Key, out any) (bool, error) {
	return t.get(ctx, k, out, true)
}

func (t *Table) get(ctx context.Context, k Key, out any, consistent bool) (bool, error) {
	in := &dynamodb.GetItemInput{TableName: &t.TableName, Key: k.AV()}
	if consistent {
		in.ConsistentRead = aws.Bool(true)
	}
	res, err := t.Client.GetItem(ctx, in)
	if err != nil {
		return false, fmt.Errorf("store: get %s/%s: %w", k.PK, k.SK, err)
	}
	if res.Item == nil {
		return false, nil
	}
	return true, attributevalue.UnmarshalMap(res.Item, out)
}

// BatchGet reads many items, 100 keys a call, consistently (imports plan writes on them), and
// retries what DynamoDB leaves unprocessed. Repeated keys are read once (DynamoDB rejects a
// batch that names a key twice).
func (t *Table) BatchGet(ctx context.Context, keys []Key) ([]Item, error) {
	return t.batchGet(ctx, keys, true)
}

// BatchGetEventual is BatchGet with eventually consistent reads, at half the read units: for
// reads that decide no write by themselves (a plan's routing reads, whose writes are
// conditioned on what the plan expects, so a stale read fails a condition and the plan is
// made again).
func (t *Table) BatchGetEventual(ctx context.Context, keys []Key) ([]Item, error) {
	return t.batchGet(ctx, keys, false)
}

func (t *Table) batchGet(ctx context.Context, keys []Key, consistent bool) ([]Item, error) {
	keys = unique(keys)
	var out []Item
	for start := 0; start < len(keys); start += 100 {
		chunk := keys[start:min(start+100, len(keys))]
		avs := make([]Item, len(chunk))
		for i, k := range chunk {
			avs[i] = k.AV()
		}
		req := map[string]types.KeysAndAttributes{t.TableName: {Keys: avs, ConsistentRead: aws.Bool(consistent)}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := backoff.Store.Wait(ctx, attempt); err != nil {
					return nil, err
				}
			}
			res, err := t.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("store: batch get: %w", err)
			}
			out = append(out, res.Responses[t.TableName]...)
			req = res.UnprocessedKeys
		}
	}
	return out, nil
}

// BatchGetAs reads many items and decodes them.
func BatchGetAs[I any](ctx context.Context, t *Table, keys []Key) ([]I, error) {
	items, err := t.BatchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	return DecodeAll[I](items)
}

// DecodeAll decodes items into records.
func DecodeAll[I any](items []Item) ([]I, error) {
	out := make([]I, len(items))
	for i, it := range items {
		if err := attributevalue.UnmarshalMap(it, &out[i]); err != nil {
			return nil, fmt.Errorf("store: decode: %w", err)
		}
	}
	return out, nil
}

func unique(keys []Key) []Key {
	seen := make(map[Key]bool, len(keys))
	out := keys[:0:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// Partition names what a list reads: a partition of the table or of an index, and the
// attribute of its counter item (at sort key CountSK) that holds its total, if it has one.
type Partition struct {
	Index     string // "" for the table
	PK        string
	CountAttr string
	// ItemPK is, for an index partition, the table partition its records live in: with PK
	// it builds a cursor's start key (cursor.go) from the request, never from the cursor.
	ItemPK string
	// Counted, when set, is the counted list (counted.go) whose buckets give the partition's
	// total and offsets; its records' sort key is SeqKey of their sequence number.
	Counted Counted
}

func (p Partition) keyAttrs() (pkAttr, skAttr string) {
	switch p.Index {
	case IndexGSI1:
		return AttrGSI1PK, AttrGSI1SK
	case IndexGSI2:
		return AttrGSI2PK, AttrGSI2SK
	}
	return AttrPK, AttrSK
}

// count returns the total an item holds if it is the partition's counter item.
func (p Partition) count(it Item) (n int, isCounter bool) {
	_, skAttr := p.keyAttrs()
	if sk, ok := it[skAttr].(*types.AttributeValueMemberS); !ok || sk.Value != CountSK {
		return 0, false
	}
	if v, ok := it[p.CountAttr]; ok {
		_ = attributevalue.Unmarshal(v, &n)
	}
	return n, true
}

// Query is the partition's Query, for a caller that adds its own conditions or limits.
func (p Partition) Query(table string) *dynamodb.QueryInput {
	pkAttr, _ := p.keyAttrs()
	in := &dynamodb.QueryInput{
		TableName:                 &table,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": S(p.PK)},
	}
	if p.Index != "" {
		in.IndexName = aws.String(p.Index)
	}
	return in
}

// QueryPage returns records offset..offset+limit-1 of a partition in sort-key (creation)
// order, and the partition's total from its counter item, which the first Query call meets
// first. DynamoDB has no offset: the skipped items are read and dropped, which the benchmark
// prices.
func (t *Table) QueryPage(ctx context.Context, part Partition, offset, limit int) ([]Item, int, error) {
	if part.Counted.Name != "" {
		return t.countedPage(ctx, part, offset, limit)
	}
	in := part.Query(t.TableName)
	want := offset + limit
	var out []Item
	seen, total := 0, 0
	for {
		n := want - seen
		if in.ExclusiveStartKey == nil {
			n++ // room for the counter item
		}
		in.Limit = aws.Int32(int32(n)) // DynamoDB still stops a response at 1 MB
		res, err := t.Client.Query(ctx, in)
		if err != nil {
			return nil, 0, fmt.Errorf("store: query %s: %w", part.PK, err)
		}
		for _, it := range res.Items {
			if n, isCounter := part.count(it); isCounter {
				total = n
				continue
			}
			if seen >= offset && seen < want {
				out = append(out, it)
			}
			seen++
		}
		if seen >= want || res.LastEvaluatedKey == nil {
			return out, total, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// countedPage reads a page of a counted list: the bucket counts, then one Query that starts
// at the bucket the offset falls in and skips the bucket's records before the offset. A first
// page needs no bucket to start from, so its Query runs beside the count.
func (t *Table) countedPage(ctx context.Context, part Partition, offset, limit int) ([]Item, int, error) {
	if offset == 0 {
		var items []Item
		total, err := t.besideTotal(ctx, part, func() (err error) {
			items, err = t.queryFrom(ctx, part, 0, 0, limit)
			return err
		})
		return items, total, err
	}
	total, from, skip, err := t.Locate(ctx, part.Counted, offset)
	if err != nil || skip < 0 || limit <= 0 {
		return nil, total, err
	}
	items, err := t.queryFrom(ctx, part, from, skip, limit)
	return items, total, err
}

// queryFrom reads limit records of a counted list's partition after skipping skip, starting
// at place from.
func (t *Table) queryFrom(ctx context.Context, part Partition, from int64, skip, limit int) ([]Item, error) {
	if limit <= 0 {
		return nil, nil
	}
	in := part.Query(t.TableName)
	_, skAttr := part.keyAttrs()
	in.KeyConditionExpression = aws.String("#pk = :pk AND #sk >= :from")
	in.ExpressionAttributeNames["#sk"] = skAttr
	in.ExpressionAttributeValues[":from"] = S(SeqKey(from))
	var out []Item
	seen := 0
	for {
		in.Limit = aws.Int32(int32(skip + limit - seen))
		res, err := t.Client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: query %s: %w", part.PK, err)
		}
		for _, it := range res.Items {
			if seen >= skip {
				out = append(out, it)
			}
			seen++
		}
		if seen >= skip+limit || res.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// QueryConsistent reads a whole table partition's items, consistently.
func (t *Table) QueryConsistent(ctx context.Context, pk string) ([]Item, error) {
	in := Partition{PK: pk}.Query(t.TableName)
	in.ConsistentRead = aws.Bool(true)
	var out []Item
	for {
		res, err := t.Client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: query %s: %w", pk, err)
		}
		out = append(out, res.Items...)
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// QueryAll reads a whole partition's records (its counter item left out).
func (t *Table) QueryAll(ctx context.Context, part Partition) ([]Item, error) {
	in := part.Query(t.TableName)
	var out []Item
	for {
		res, err := t.Client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: query %s: %w", part.PK, err)
		}
		for _, it := range res.Items {
			if _, isCounter := part.count(it); !isCounter {
				out = append(out, it)
			}
		}
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
