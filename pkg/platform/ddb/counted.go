package ddb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/vocab"
)

// A counted list pages by offset in flat time: its records carry a sequence number (Allocate)
// and list in that order (their list sort key is SeqKey(seq)); the list's count buckets say
// how many records each run of BucketSize sequence numbers holds, so a page at any offset
// reads the bucket counts, starts its Query at the bucket the offset falls in and skips fewer
// than BucketSize records, instead of reading every record before the offset.
//
// Items of a list L (L is Counted.Name, the list's partition key):
//
//	L#SEQ  / SEQ         next: the last sequence number handed out (Allocate)
//	L#BKT  / <bucket>    m, r: number sets of the bucket's members added, and removed
//	L#IDX  / <group>     c<k>: the count of bucket group*IndexFanout+k
//
// A bucket's members item makes membership changes idempotent: an add is conditioned on the
// number not being in m yet, a removal on it not being in r yet, and the index counts move in
// the same transaction by what the conditions let through, so a count is exact however often
// a change is replayed (AssertMembership) and whichever writers race. A bucket counts
// |m| - |r|. Adds and removals commute: a record removed before the add of an unfinished
// write reaches its bucket is counted out first and in later, and ends counted out. Sequence
// numbers are never handed out twice, so a removed number is never added again.
const (
	// BucketSize is the sequence numbers a bucket covers: a page skips fewer records than
	// this, and a full bucket's members item stays small (two sets of at most 100 numbers).
	BucketSize = 100
	// IndexFanout is the buckets one index item counts: a list of 100,000 records has 10 index
	// items, read whole (a few KB) by every page.
	IndexFanout = 100
)

// Counted names a counted list.
type Counted struct{ Name string }

// SeqKey is a record's list sort key: its sequence number, zero-padded so that sort order is
// number order (and after CountSK, which a partition's head item keeps).
func SeqKey(seq int64) string { return fmt.Sprintf("%012d", seq) }

func (c Counted) seqKey() Key { return Key{c.Name + "#SEQ", "SEQ"} }
func (c Counted) bucketKey(b int64) Key {
	return Key{c.Name + "#BKT", fmt.Sprintf("%09d", b)}
}
func (c Counted) indexKey(group int64) Key {
	return Key{c.Name + "#IDX", fmt.Sprintf("%07d", group)}
}
func countAttr(b int64) string { return fmt.Sprintf("c%02d", b%IndexFanout) }

// Allocate hands out n fresh sequence numbers of the list, first..first+n-1, in one write.
// Numbers handed out and never used leave gaps, which cost nothing.
func (t *Table) Allocate(ctx context.Context, c Counted, n int) (first int64, err error) {
	if n <= 0 {
		return 0, nil
	}
	res, err := t.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &t.TableName,
		Key:                       c.seqKey().AV(),
		UpdateExpression:          aws.String("ADD #next :n"),
		ExpressionAttributeNames:  map[string]string{"#next": "next"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": N(int64(n))},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("store: allocate %s: %w", c.Name, err)
	}
	var last int64
	if err := attributevalue.Unmarshal(res.Attributes["next"], &last); err != nil {
		return 0, fmt.Errorf("store: allocate %s: %w", c.Name, err)
	}
	return last - int64(n) + 1, nil
}

// N is a number attribute.
func N(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// Membership is a change to counted lists: sequence numbers that join and that leave each.
type Membership map[Counted]*Change

// Change is one list's part of a Membership.
type Change struct{ Adds, Removes []int64 }

// Add records that seq joins list c.
func (m Membership) Add(c Counted, seq int64) { m.change(c).Adds = append(m.change(c).Adds, seq) }

// Remove records that seq leaves list c.
func (m Membership) Remove(c Counted, seq int64) {
	m.change(c).Removes = append(m.change(c).Removes, seq)
}

func (m Membership) change(c Counted) *Change {
	if m[c] == nil {
		m[c] = &Change{}
	}
	return m[c]
}

// Ops are the writes that make the membership change in a transaction: one per bucket touched
// (its condition makes the change exactly once) and one per index item.
func (t *Table) MembershipOps(m Membership) []types.TransactWriteItem {
	var ops []types.TransactWriteItem
	for _, c := range m.lists() {
		ch := m[c]
		adds, removes := byBucket(ch.Adds), byBucket(ch.Removes)
		deltas := map[int64]map[int64]int{} // index group -> bucket -> delta
		for _, b := range bucketsOf(adds, removes) {
			ops = append(ops, t.bucketOp(c, b, adds[b], removes[b]))
			g := b / IndexFanout
			if deltas[g] == nil {
				deltas[g] = map[int64]int{}
			}
			deltas[g][b] += len(adds[b]) - len(removes[b])
		}
		for _, g := range slices.Sorted(maps.Keys(deltas)) {
			ops = append(ops, t.indexOp(c, g, deltas[g]))
		}
	}
	return ops
}

// MembershipOpCount is how many transaction items MembershipOps would use.
func MembershipOpCount(m Membership) int {
	n := 0
	for _, ch := range m {
		adds, removes := byBucket(ch.Adds), byBucket(ch.Removes)
		groups := map[int64]bool{}
		for _, b := range bucketsOf(adds, removes) {
			n++
			groups[b/IndexFanout] = true
		}
		n += len(groups)
	}
	return n
}

func (m Membership) lists() []Counted {
	out := slices.Collect(maps.Keys(m))
	slices.SortFunc(out, func(a, b Counted) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (t *Table) bucketOp(c Counted, b int64, adds, removes []int64) types.TransactWriteItem {
	u := NewUpdate()
	var adding []string
	var conds []string
	if len(adds) > 0 {
		u.Values[":add"] = numberSet(adds)
		adding = append(adding, "m :add")
	}
	if len(removes) > 0 {
		u.Values[":rm"] = numberSet(removes)
		adding = append(adding, "r :rm")
	}
	for i, s := range adds {
		v := fmt.Sprintf(":a%d", i)
		u.Values[v] = N(s)
		conds = append(conds, "NOT contains(m, "+v+")")
	}
	for i, s := range removes {
		v := fmt.Sprintf(":r%d", i)
		u.Values[v] = N(s)
		conds = append(conds, "NOT contains(r, "+v+")")
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 &t.TableName,
		Key:                       c.bucketKey(b).AV(),
		UpdateExpression:          aws.String("ADD " + strings.Join(adding, ", ")),
		ConditionExpression:       aws.String(strings.Join(conds, " AND ")),
		ExpressionAttributeValues: u.Values,
	}}
}

func (t *Table) indexOp(c Counted, g int64, deltas map[int64]int) types.TransactWriteItem {
	names, values := map[string]string{}, map[string]types.AttributeValue{}
	var adds []string
	for _, b := range slices.Sorted(maps.Keys(deltas)) {
		a := countAttr(b)
		names["#"+a] = a
		values[":"+a] = N(int64(deltas[b]))
		adds = append(adds, "#"+a+" :"+a)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 &t.TableName,
		Key:                       c.indexKey(g).AV(),
		UpdateExpression:          aws.String("ADD " + strings.Join(adds, ", ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}
}

// AssertMembership makes the membership change, exactly once per number, however often it is
// called and whoever else makes part of it: a change already made is left out. extra gives
// the other writes of the same transaction, told how many numbers each list really gained
// (a counter kept beside the lists moves by that).
func (t *Table) AssertMembership(ctx context.Context, m Membership, extra func(gained map[Counted]int) ([]types.TransactWriteItem, error)) error {
	for attempt := 0; ; attempt++ {
		gained := map[Counted]int{}
		for c, ch := range m {
			gained[c] = len(ch.Adds) - len(ch.Removes)
		}
		ops := t.MembershipOps(m)
		more, err := extra(gained)
		if err != nil {
			return err
		}
		ops = append(ops, more...)
		if len(ops) == 0 {
			return nil
		}
		err = t.TransactWrite(ctx, ops)
		if !errors.Is(err, vocab.ErrConflict) || attempt >= MaxAttempts {
			return err
		}
		if m, err = t.pending(ctx, m); err != nil {
			return err
		}
	}
}

// pending is the part of a membership change that its buckets do not show yet.
func (t *Table) pending(ctx context.Context, m Membership) (Membership, error) {
	out := Membership{}
	for c, ch := range m {
		adds, removes := byBucket(ch.Adds), byBucket(ch.Removes)
		for _, b := range bucketsOf(adds, removes) {
			var it struct {
				M []int64 `dynamodbav:"m,numberset"`
				R []int64 `dynamodbav:"r,numberset"`
			}
			if _, err := t.GetConsistent(ctx, c.bucketKey(b), &it); err != nil {
				return nil, err
			}
			for _, s := range adds[b] {
				if !slices.Contains(it.M, s) {
					out.Add(c, s)
				}
			}
			for _, s := range removes[b] {
				if !slices.Contains(it.R, s) {
					out.Remove(c, s)
				}
			}
		}
	}
	return out, nil
}

// Locate finds where offset falls in a counted list: the list's total, the first sequence
// number of the bucket holding the record at offset, and how many records of that bucket come
// before it. An offset at or past the total gives skip -1.
func (t *Table) Locate(ctx context.Context, c Counted, offset int) (total int, from int64, skip int, err error) {
	counts, err := t.bucketCounts(ctx, c)
	if err != nil {
		return 0, 0, 0, err
	}
	skip = -1
	for _, bc := range counts {
		if skip < 0 && offset < total+bc.n {
			from, skip = bc.bucket*BucketSize, offset-total
		}
		total += bc.n
	}
	return total, from, skip, nil
}

type bucketCount struct {
	bucket int64
	n      int
}

// bucketCounts reads the list's index items (consistently: they are few and small) and
// returns each bucket's count in bucket order.
func (t *Table) bucketCounts(ctx context.Context, c Counted) ([]bucketCount, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &t.TableName,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": S(c.Name + "#IDX")},
		ConsistentRead:            aws.Bool(true),
	}
	var out []bucketCount
	for {
		res, err := t.Client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: count %s: %w", c.Name, err)
		}
		for _, it := range res.Items {
			counts, err := groupCounts(it)
			if err != nil {
				return nil, err
			}
			out = append(out, counts...)
		}
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func groupCounts(it Item) ([]bucketCount, error) {
	sk, _ := it[AttrSK].(*types.AttributeValueMemberS)
	if sk == nil {
		return nil, fmt.Errorf("store: index item without a sort key")
	}
	g, err := strconv.ParseInt(sk.Value, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("store: index item %q: %w", sk.Value, err)
	}
	var out []bucketCount
	for k := int64(0); k < IndexFanout; k++ {
		b := g*IndexFanout + k
		v, ok := it[countAttr(b)].(*types.AttributeValueMemberN)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v.Value)
		if err != nil {
			return nil, fmt.Errorf("store: bucket count %q: %w", v.Value, err)
		}
		if n != 0 {
			out = append(out, bucketCount{b, n})
		}
	}
	return out, nil
}

func byBucket(seqs []int64) map[int64][]int64 {
	out := map[int64][]int64{}
	for _, s := range seqs {
		out[s/BucketSize] = append(out[s/BucketSize], s)
	}
	return out
}

func bucketsOf(a, b map[int64][]int64) []int64 {
	set := map[int64]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	return slices.Sorted(maps.Keys(set))
}

func numberSet(seqs []int64) types.AttributeValue {
	ns := make([]string, len(seqs))
	for i, s := range seqs {
		ns[i] = strconv.FormatInt(s, 10)
	}
	return &types.AttributeValueMemberNS{Value: ns}
}

// SeedCounted returns the items a counted list keeps for records at places 1..n: its next
// place, its buckets' members and its index counts, as Allocate and AssertMembership leave
// them, for loading a large list with plain puts (the benchmark's seeds).
func SeedCounted(c Counted, n int64) []Item {
	if n <= 0 {
		return nil
	}
	seq := c.seqKey().AV()
	seq["next"] = N(n)
	out := []Item{seq}
	counts := map[int64]Item{}
	for b := int64(0); b <= n/BucketSize; b++ {
		var members []int64
		for s := max(b*BucketSize, 1); s < (b+1)*BucketSize && s <= n; s++ {
			members = append(members, s)
		}
		if len(members) == 0 {
			continue
		}
		bucket := c.bucketKey(b).AV()
		bucket["m"] = numberSet(members)
		out = append(out, bucket)
		g := b / IndexFanout
		if counts[g] == nil {
			counts[g] = c.indexKey(g).AV()
		}
		counts[g][countAttr(b)] = N(int64(len(members)))
	}
	for _, g := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, counts[g])
	}
	return out
}
