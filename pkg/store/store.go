package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// DDBStore is the DynamoDB single-table store.
type DDBStore struct {
	client *dynamodb.Client
	table  string
	pacer  *Pacer // nil: writes are not paced (see Paced)
}

var (
	_ screening.Store = (*DDBStore)(nil)
	_ auth.KeyStore   = (*DDBStore)(nil)
)

// New returns a store over the named table. The client should carry MeterOption.
func New(client *dynamodb.Client, table string) *DDBStore {
	return &DDBStore{client: client, table: table}
}

type item = map[string]types.AttributeValue

// getItem reads one item into out; found is false when there is none.
func (s *DDBStore) getItem(ctx context.Context, k key, out any) (found bool, err error) {
	res, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k.av()})
	if err != nil {
		return false, fmt.Errorf("store: get %s/%s: %w", k.pk, k.sk, err)
	}
	if res.Item == nil {
		return false, nil
	}
	return true, attributevalue.UnmarshalMap(res.Item, out)
}

// getOne reads one record and converts it, or returns vocab.ErrNotFound.
func getOne[I any, T any](ctx context.Context, s *DDBStore, k key, conv func(I) T) (T, error) {
	var it I
	var zero T
	found, err := s.getItem(ctx, k, &it)
	if err != nil {
		return zero, err
	}
	if !found {
		return zero, vocab.ErrNotFound
	}
	return conv(it), nil
}

// batchGet reads many items, 100 keys a call, consistently (imports plan writes on them), and
// retries what DynamoDB leaves unprocessed. Repeated keys are read once (DynamoDB rejects a
// batch that names a key twice).
func (s *DDBStore) batchGet(ctx context.Context, keys []key) ([]item, error) {
	keys = unique(keys)
	var out []item
	for start := 0; start < len(keys); start += 100 {
		chunk := keys[start:min(start+100, len(keys))]
		avs := make([]item, len(chunk))
		for i, k := range chunk {
			avs[i] = k.av()
		}
		req := map[string]types.KeysAndAttributes{s.table: {Keys: avs, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
			res, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("store: batch get: %w", err)
			}
			out = append(out, res.Responses[s.table]...)
			req = res.UnprocessedKeys
		}
	}
	return out, nil
}

func batchGetAs[I any](ctx context.Context, s *DDBStore, keys []key) ([]I, error) {
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	return decodeAll[I](items)
}

func decodeAll[I any](items []item) ([]I, error) {
	out := make([]I, len(items))
	for i, it := range items {
		if err := attributevalue.UnmarshalMap(it, &out[i]); err != nil {
			return nil, fmt.Errorf("store: decode: %w", err)
		}
	}
	return out, nil
}

// partition names what a list reads: a partition of the table or of an index, and the
// attribute of its counter item (at sort key countSK) that holds its total, if it has one.
type partition struct {
	index     string // "" for the table
	pk        string
	countAttr string
}

func (p partition) keyAttrs() (pkAttr, skAttr string) {
	switch p.index {
	case indexGSI1:
		return attrGSI1PK, attrGSI1SK
	case indexGSI2:
		return attrGSI2PK, attrGSI2SK
	}
	return attrPK, attrSK
}

// count returns the total an item holds if it is the partition's counter item.
func (p partition) count(it item) (n int, isCounter bool) {
	_, skAttr := p.keyAttrs()
	if sk, ok := it[skAttr].(*types.AttributeValueMemberS); !ok || sk.Value != countSK {
		return 0, false
	}
	if v, ok := it[p.countAttr]; ok {
		_ = attributevalue.Unmarshal(v, &n)
	}
	return n, true
}

func (p partition) query(table string) *dynamodb.QueryInput {
	pkAttr, _ := p.keyAttrs()
	in := &dynamodb.QueryInput{
		TableName:                 &table,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(p.pk)},
	}
	if p.index != "" {
		in.IndexName = aws.String(p.index)
	}
	return in
}

// queryPage returns a page of a partition's records in sort-key (creation) order, and the
// partition's total from its counter item, which the first Query call meets first. DynamoDB
// has no offset: the skipped items are read and dropped, which the benchmark prices.
func (s *DDBStore) queryPage(ctx context.Context, part partition, page screening.Page) ([]item, int, error) {
	in := part.query(s.table)
	want := page.Offset + page.Limit
	var out []item
	seen, total := 0, 0
	for {
		limit := want - seen
		if in.ExclusiveStartKey == nil {
			limit++ // room for the counter item
		}
		in.Limit = aws.Int32(int32(limit)) // DynamoDB still stops a response at 1 MB
		res, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, 0, fmt.Errorf("store: query %s: %w", part.pk, err)
		}
		for _, it := range res.Items {
			if n, isCounter := part.count(it); isCounter {
				total = n
				continue
			}
			if seen >= page.Offset && seen < want {
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

// queryAll reads a whole partition's records (its counter item left out).
func (s *DDBStore) queryAll(ctx context.Context, part partition) ([]item, error) {
	in := part.query(s.table)
	var out []item
	for {
		res, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: query %s: %w", part.pk, err)
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

// listPage reads one page and its total in one Query.
func listPage[I any, T any](ctx context.Context, s *DDBStore, part partition, page screening.Page, conv func(I) T) (screening.List[T], error) {
	items, n, err := s.queryPage(ctx, part, page)
	if err != nil {
		return screening.List[T]{}, err
	}
	decoded, err := decodeAll[I](items)
	if err != nil {
		return screening.List[T]{}, err
	}
	out := screening.List[T]{Total: n, Items: make([]T, len(decoded))}
	for i, it := range decoded {
		out.Items[i] = conv(it)
	}
	return out, nil
}

func unique(keys []key) []key {
	seen := make(map[key]bool, len(keys))
	out := keys[:0:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
