package ddb

// Write pacing for imports. DynamoDB serves at most 1,000 write units per second per partition
// (and a partition key's items live in one partition unless DynamoDB splits it for heat, which
// it need not do in time), so a bulk import must not write one partition key faster than that,
// whatever the latency of its calls. The import worker gives its store a Pacer: each
// transaction's write units are estimated per partition key (table keys and, apart, index keys) before
// it is sent, and the transaction waits until every partition key it touches is within the
// budget. See template.yaml (ImportWorkerFunction) for the arithmetic that sets the budget.

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/backoff"
)

// Pacer keeps writes per partition key under a rate: a token bucket per key, refilled at
// PerSecond units a second up to PacerBurst's worth. A write that takes a bucket below zero
// waits until it would have been paid for. Safe for concurrent use.
type Pacer struct {
	PerSecond float64
	// Now and Sleep default to the clock (tests set them).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// DefaultPartitionWriteBudget is what one import worker may write to one partition key, in
// write units per second: DynamoDB's 1,000 per partition, less a fifth kept for the API's own
// writes, shared by the worker function's MaximumConcurrency of 2 (template.yaml).
const DefaultPartitionWriteBudget = 1000 * 0.8 / 2

// PacerBurst is how much of its budget a key may spend at once: a tenth of a second's, so that
// in any one second a key takes at most 1.1 seconds' budget from each worker, and the
// workers together stay under the partition's 1,000 (2 × 1.1 × 400 = 880), where a full
// second's burst would let them reach 1,600.
const PacerBurst = 100 * time.Millisecond

// NewPacer returns a pacer of perSecond write units per partition key.
func NewPacer(perSecond float64) *Pacer { return &Pacer{PerSecond: perSecond} }

// Wait charges units (write units by partition key) and waits until they are within the budget.
func (p *Pacer) Wait(ctx context.Context, units map[string]float64) error {
	d := p.charge(units)
	if d <= 0 {
		return nil
	}
	sleep := p.Sleep
	if sleep == nil {
		sleep = backoff.Sleep
	}
	return sleep(ctx, d)
}

func (p *Pacer) charge(units map[string]float64) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	if p.buckets == nil {
		p.buckets = map[string]*bucket{}
	}
	var wait time.Duration
	for pk, u := range units {
		b := p.buckets[pk]
		burst := p.PerSecond * PacerBurst.Seconds()
		if b == nil {
			b = &bucket{tokens: burst, at: now}
			p.buckets[pk] = b
		}
		b.tokens = math.Min(burst, b.tokens+now.Sub(b.at).Seconds()*p.PerSecond)
		b.at = now
		b.tokens -= u
		if b.tokens < 0 {
			wait = max(wait, time.Duration(-b.tokens/p.PerSecond*float64(time.Second)))
		}
	}
	return wait
}

// Index key attributes, with their index: an item written with one of them is also written
// to that index's partition, which has a budget of its own even where its key is the same
// string as a table partition's (a workspace's participants are one key in both).
var indexKeyAttrs = map[string]string{AttrGSI1PK: IndexGSI1, AttrGSI2PK: IndexGSI2}

// indexPartition names an index's partition key apart from the table's.
func indexPartition(index, pk string) string { return index + " " + pk }

// transactionUnits estimates a transaction's write units by partition key, as DynamoDB prices
// them: a transactional write costs 2 units per KB (rounded up) of the item in the table, and
// an index copy 1 unit per KB. Updates, deletes and condition checks are priced as 1 KB items.
func transactionUnits(ops []types.TransactWriteItem) map[string]float64 {
	return writeUnits(ops, 2)
}

// writeUnits prices writes at perKB units per KB of each item in the table (2 in a
// transaction, 1 outside one) and 1 per KB of each index copy.
func writeUnits(ops []types.TransactWriteItem, perKB float64) map[string]float64 {
	units := map[string]float64{}
	add := func(key map[string]types.AttributeValue, item map[string]types.AttributeValue) {
		pk, _ := key[AttrPK].(*types.AttributeValueMemberS)
		if pk == nil {
			return
		}
		kb := 1.0
		if item != nil {
			kb = math.Max(1, math.Ceil(float64(ItemSize(item))/1024))
		}
		units[pk.Value] += perKB * kb
		for a, index := range indexKeyAttrs {
			if ipk, ok := item[a].(*types.AttributeValueMemberS); ok {
				units[indexPartition(index, ipk.Value)] += kb
			}
		}
	}
	for _, op := range ops {
		switch {
		case op.Put != nil:
			add(op.Put.Item, op.Put.Item)
		case op.Update != nil:
			add(op.Update.Key, nil)
		case op.Delete != nil:
			add(op.Delete.Key, nil)
		case op.ConditionCheck != nil:
			add(op.ConditionCheck.Key, nil)
		}
	}
	return units
}

// pace waits, if the table has a pacer, until a transaction's writes fit its budget.
func (t *Table) pace(ctx context.Context, ops []types.TransactWriteItem) error {
	if t.pacer == nil {
		return nil
	}
	return t.pacer.Wait(ctx, transactionUnits(ops))
}

// paceSingle waits, if the table has a pacer, until one write outside a transaction fits.
func (t *Table) paceSingle(ctx context.Context, op types.TransactWriteItem) error {
	if t.pacer == nil {
		return nil
	}
	return t.pacer.Wait(ctx, writeUnits([]types.TransactWriteItem{op}, 1))
}

// Paced returns the same table through the same client, whose transactions keep to p (the
// import worker's: its rows' writes and its jobs' bookkeeping).
func (t *Table) Paced(p *Pacer) *Table {
	c := *t
	c.pacer = p
	return &c
}
