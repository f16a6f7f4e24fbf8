package main

import (
	"context"
	"errors"
	"github.com/aws/aws-sdk-go-v2/aws"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/participant-roster/roster/pkg/platform/capacity"
)

// callTrace records, for measure 7, every DynamoDB and SQS call made through the clients it is
// installed on while a phase is open: per service, operation and caller (the import request,
// the worker's rows, the worker's job bookkeeping) how many calls and how long they took; and,
// for DynamoDB writes that succeed, what they would cost on AWS per partition key and second.
//
// The caller is told apart by the capacity meter on the call's context: the POST carries the
// phase's request meter, the poller (and so the worker's bookkeeping) the phase's bookkeeping
// meter, and the worker puts the rows' own calls on a meter of their own (see
// spotjobs.Family.RunChunk), which is neither.
type callTrace struct {
	mu    sync.Mutex
	phase *tracePhase
	// index maps an item's key to the index partitions it sits in (gsi1/gsi2), for the items
	// written or seen so far, so that an update of one can be priced on its indexes too.
	index map[[2]string][]string
}

type tracePhase struct {
	start         time.Time
	request, book *capacity.Meter
	calls         map[callKey]*callStat
	// writes: partition label ("table <pk>" or "gsi1 <pk>") -> write units on AWS by second
	// since start, and items written there.
	writes map[string]*partitionWrites
	// awsWrites, awsReads: estimated AWS write and read units by caller.
	awsWrites, awsReads map[string]float64
}

type callKey struct{ service, op, caller string }

type callStat struct {
	calls, failed int
	total         time.Duration
	ops           int            // TransactWriteItems: writes inside; ReceiveMessage: messages received
	codes         map[string]int // error codes of failed calls (cancellation reasons for transactions)
	each          []time.Duration
}

// tenths returns the mean time of the first and of the last tenth of the calls, in order.
func (st *callStat) tenths() (first, last time.Duration) {
	k := len(st.each) / 10
	if k == 0 {
		return 0, 0
	}
	mean := func(ds []time.Duration) time.Duration {
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		return sum / time.Duration(len(ds))
	}
	return mean(st.each[:k]), mean(st.each[len(st.each)-k:])
}

type partitionWrites struct {
	units []float64 // by second
	items int
}

const (
	callerRequest = "import request (POST)"
	callerRows    = "worker: rows"
	callerBook    = "worker: job bookkeeping"
	callerPoller  = "poller"
)

func newCallTrace() *callTrace { return &callTrace{index: map[[2]string][]string{}} }

// begin opens a phase; calls are recorded until end.
func (t *callTrace) begin(request, book *capacity.Meter) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.phase = &tracePhase{start: time.Now(), request: request, book: book, calls: map[callKey]*callStat{},
		writes: map[string]*partitionWrites{}, awsWrites: map[string]float64{}, awsReads: map[string]float64{}}
}

// end closes the phase and returns it.
func (t *callTrace) end() *tracePhase {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.phase
	t.phase = nil
	return p
}

// see records the index partitions of items already in the table.
func (t *callTrace) see(items []map[string]types.AttributeValue) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, it := range items {
		t.index[itemKey(it)] = indexPartitions(it)
	}
}

func (t *callTrace) dynamoOption(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("BenchCallTrace", t.dynamo), middleware.Before)
	})
}

func (t *callTrace) sqsOption(o *sqs.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("BenchCallTrace", t.sqs), middleware.Before)
	})
}

func (t *callTrace) caller(ctx context.Context, p *tracePhase, sqs bool) string {
	switch m := capacity.FromContext(ctx); {
	case m != nil && m == p.request:
		return callerRequest
	case sqs:
		return callerPoller
	case m != nil && m == p.book:
		return callerBook
	}
	return callerRows
}

func (t *callTrace) dynamo(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	start := time.Now()
	out, md, err := next.HandleInitialize(ctx, in)
	d := time.Since(start)
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.phase
	if p == nil {
		return out, md, err
	}
	op, ops := dynamoOp(in.Parameters)
	caller := t.caller(ctx, p, false)
	st := p.stat(callKey{"DynamoDB", op, caller})
	st.calls++
	st.total += d
	st.ops += ops
	st.each = append(st.each, d)
	if err != nil {
		st.fail(err)
		return out, md, err
	}
	p.awsReads[caller] += readsOf(in.Parameters, out.Result)
	sec := int(time.Since(p.start) / time.Second)
	for _, w := range t.writesOf(in.Parameters) {
		p.write(w.partition, sec, w.units)
		p.awsWrites[caller] += w.units
	}
	return out, md, err
}

func (t *callTrace) sqs(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	start := time.Now()
	out, md, err := next.HandleInitialize(ctx, in)
	d := time.Since(start)
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.phase
	if p == nil {
		return out, md, err
	}
	op := "other"
	ops := 0
	switch in.Parameters.(type) {
	case *sqs.SendMessageBatchInput:
		op = "SendMessageBatch"
		ops = len(in.Parameters.(*sqs.SendMessageBatchInput).Entries)
	case *sqs.ReceiveMessageInput:
		op = "ReceiveMessage"
		if r, ok := out.Result.(*sqs.ReceiveMessageOutput); ok && err == nil {
			ops = len(r.Messages)
		}
	case *sqs.DeleteMessageBatchInput:
		op = "DeleteMessageBatch"
		ops = len(in.Parameters.(*sqs.DeleteMessageBatchInput).Entries)
	case *sqs.GetQueueAttributesInput:
		op = "GetQueueAttributes"
	}
	st := p.stat(callKey{"SQS", op, t.caller(ctx, p, true)})
	st.calls++
	st.total += d
	st.ops += ops
	if err != nil {
		st.fail(err)
	}
	return out, md, err
}

func (p *tracePhase) stat(k callKey) *callStat {
	st := p.calls[k]
	if st == nil {
		st = &callStat{codes: map[string]int{}}
		p.calls[k] = st
	}
	return st
}

func (st *callStat) fail(err error) {
	st.failed++
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			if c := derefString(r.Code); c != "" && c != "None" {
				st.codes[c]++
			}
		}
		return
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		st.codes[api.ErrorCode()]++
		return
	}
	st.codes["error"]++
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (p *tracePhase) write(partition string, sec int, units float64) {
	kind, _, _ := strings.Cut(partition, " ")
	if kind != "table" {
		kind = "indexes"
	}
	p.add(partition, sec, units)
	p.add(kind+" *", sec, units) // all keys of the table, or of the indexes, together
}

// together returns the writes to the table's keys, or the indexes', all together.
func (p *tracePhase) together(kind string) partitionPeak {
	pp := partitionPeak{partition: kind + " *"}
	if w := p.writes[kind+" *"]; w != nil {
		pp.items = w.items
		for s, u := range w.units {
			pp.units += u
			if u > pp.peak {
				pp.peak, pp.peakSecond = u, s
			}
		}
	}
	return pp
}

func (p *tracePhase) add(partition string, sec int, units float64) {
	w := p.writes[partition]
	if w == nil {
		w = &partitionWrites{}
		p.writes[partition] = w
	}
	for len(w.units) <= sec {
		w.units = append(w.units, 0)
	}
	w.units[sec] += units
	w.items++
}

func dynamoOp(params any) (name string, ops int) {
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		return "GetItem", 0
	case *dynamodb.BatchGetItemInput:
		for _, ka := range in.RequestItems {
			ops += len(ka.Keys)
		}
		return "BatchGetItem", ops
	case *dynamodb.QueryInput:
		return "Query", 0
	case *dynamodb.ScanInput:
		return "Scan", 0
	case *dynamodb.PutItemInput:
		return "PutItem", 1
	case *dynamodb.UpdateItemInput:
		return "UpdateItem", 1
	case *dynamodb.DeleteItemInput:
		return "DeleteItem", 1
	case *dynamodb.BatchWriteItemInput:
		for _, rs := range in.RequestItems {
			ops += len(rs)
		}
		return "BatchWriteItem", ops
	case *dynamodb.TransactWriteItemsInput:
		return "TransactWriteItems", len(in.TransactItems)
	case *dynamodb.BatchExecuteStatementInput:
		return "BatchExecuteStatement", len(in.Statements)
	case *dynamodb.TransactGetItemsInput:
		return "TransactGetItems", len(in.TransactItems)
	}
	return "other", 0
}

// readsOf prices a successful read call as DynamoDB on AWS would: per item read, 1 read unit
// per 4 KB (half that when eventually consistent); an item asked for by key and not found costs
// what an item of one unit would; a Query is priced on the total size of what it returned.
func readsOf(params, result any) float64 {
	unitsOf := func(bytes int, consistent *bool) float64 {
		u := math.Max(1, math.Ceil(float64(bytes)/awsReadUnit))
		if consistent == nil || !*consistent {
			u /= 2
		}
		return u
	}
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		out, _ := result.(*dynamodb.GetItemOutput)
		size := 0
		if out != nil {
			size = itemSize(out.Item)
		}
		return unitsOf(size, in.ConsistentRead)
	case *dynamodb.BatchGetItemInput:
		out, _ := result.(*dynamodb.BatchGetItemOutput)
		total := 0.0
		for table, ka := range in.RequestItems {
			found := 0
			if out != nil {
				for _, it := range out.Responses[table] {
					total += unitsOf(itemSize(it), ka.ConsistentRead)
					found++
				}
				if un, ok := out.UnprocessedKeys[table]; ok {
					found += len(un.Keys) // not read: asked again later
				}
			}
			total += float64(len(ka.Keys)-found) * unitsOf(0, ka.ConsistentRead)
		}
		return total
	case *dynamodb.QueryInput:
		out, _ := result.(*dynamodb.QueryOutput)
		size := 0
		if out != nil {
			for _, it := range out.Items {
				size += itemSize(it)
			}
		}
		return unitsOf(size, in.ConsistentRead)
	}
	return 0
}

type partitionWrite struct {
	partition string
	units     float64
}

// writesOf prices a successful write call as DynamoDB on AWS would: in a transaction 2 write
// units per KB of each item written (and per ConditionCheck), otherwise 1; each index the item
// sits in 1 per KB more. An update or delete is priced as an item of at most 1 KB (the counter,
// job and marker items it touches here are), on the indexes the item is known to sit in.
func (t *callTrace) writesOf(params any) []partitionWrite {
	var out []partitionWrite
	put := func(item map[string]types.AttributeValue, per float64) {
		kb := itemKB(item)
		out = append(out, partitionWrite{"table " + stringAttr(item, "pk"), per * kb})
		parts := indexPartitions(item)
		for _, ip := range parts {
			out = append(out, partitionWrite{ip, kb})
		}
		t.index[itemKey(item)] = parts
	}
	touch := func(key map[string]types.AttributeValue, per float64) {
		out = append(out, partitionWrite{"table " + stringAttr(key, "pk"), per})
		for _, ip := range t.index[itemKey(key)] {
			out = append(out, partitionWrite{ip, 1})
		}
	}
	switch in := params.(type) {
	case *dynamodb.PutItemInput:
		put(in.Item, 1)
	case *dynamodb.UpdateItemInput:
		touch(in.Key, 1)
	case *dynamodb.DeleteItemInput:
		touch(in.Key, 1)
	case *dynamodb.BatchWriteItemInput:
		for _, rs := range in.RequestItems {
			for _, r := range rs {
				if r.PutRequest != nil {
					put(r.PutRequest.Item, 1)
				} else if r.DeleteRequest != nil {
					touch(r.DeleteRequest.Key, 1)
				}
			}
		}
	case *dynamodb.BatchExecuteStatementInput:
		// The store's only statements are INSERTs (ddb.InsertAll), each a single put; one
		// whose key is taken is charged as well.
		for _, st := range in.Statements {
			put(insertedItem(st), 1)
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, op := range in.TransactItems {
			switch {
			case op.Put != nil:
				put(op.Put.Item, 2)
			case op.Update != nil:
				touch(op.Update.Key, 2)
			case op.Delete != nil:
				touch(op.Delete.Key, 2)
			case op.ConditionCheck != nil:
				out = append(out, partitionWrite{"table " + stringAttr(op.ConditionCheck.Key, "pk"), 2})
			}
		}
	}
	return out
}

// insertAttr finds the attribute names of a PartiQL INSERT's VALUE, whose values are its
// parameters in order.
var insertAttr = regexp.MustCompile(`'((?:[^']|'')*)': \?`)

// insertedItem is the item a PartiQL INSERT statement puts.
func insertedItem(st types.BatchStatementRequest) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{}
	for i, m := range insertAttr.FindAllStringSubmatch(aws.ToString(st.Statement), -1) {
		if i < len(st.Parameters) {
			item[strings.ReplaceAll(m[1], "''", "'")] = st.Parameters[i]
		}
	}
	return item
}

// itemKB is an item's size in write units' KB, rounded up.
func itemKB(item map[string]types.AttributeValue) float64 {
	return math.Ceil(float64(itemSize(item)) / awsWriteUnit)
}

// awsPutUnits is what DynamoDB on AWS charges to put a new item outside a transaction: 1 write
// unit per KB, and as much again for each index the item sits in.
func awsPutUnits(item map[string]types.AttributeValue) float64 {
	return itemKB(item) * float64(1+len(indexPartitions(item)))
}

func stringAttr(it map[string]types.AttributeValue, name string) string {
	if s, ok := it[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func itemKey(it map[string]types.AttributeValue) [2]string {
	return [2]string{stringAttr(it, "pk"), stringAttr(it, "sk")}
}

func indexPartitions(it map[string]types.AttributeValue) []string {
	var out []string
	for _, ix := range []string{"gsi1", "gsi2"} {
		if pk := stringAttr(it, ix+"pk"); pk != "" {
			out = append(out, ix+" "+pk)
		}
	}
	return out
}

// partitionPeak is one partition's writes over a phase.
type partitionPeak struct {
	partition   string
	items       int
	units, peak float64
	peakSecond  int
}

// partitions returns the partitions written in the phase, the busiest (highest 1-second peak)
// first.
func (p *tracePhase) partitions() []partitionPeak {
	var out []partitionPeak
	for name, w := range p.writes {
		if strings.HasSuffix(name, " *") {
			continue
		}
		pp := partitionPeak{partition: name, items: w.items}
		for s, u := range w.units {
			pp.units += u
			if u > pp.peak {
				pp.peak, pp.peakSecond = u, s
			}
		}
		out = append(out, pp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].peak != out[j].peak {
			return out[i].peak > out[j].peak
		}
		return out[i].partition < out[j].partition
	})
	return out
}

// sortedCalls returns the phase's call stats, most time first.
func (p *tracePhase) sortedCalls() ([]callKey, []*callStat) {
	keys := make([]callKey, 0, len(p.calls))
	for k := range p.calls {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := p.calls[keys[i]], p.calls[keys[j]]
		if a.total != b.total {
			return a.total > b.total
		}
		return strings.Join([]string{keys[i].service, keys[i].op, keys[i].caller}, " ") <
			strings.Join([]string{keys[j].service, keys[j].op, keys[j].caller}, " ")
	})
	stats := make([]*callStat, len(keys))
	for i, k := range keys {
		stats[i] = p.calls[k]
	}
	return keys, stats
}

// total sums the stats of the calls a filter keeps.
func (p *tracePhase) total(keep func(callKey) bool) (calls int, d time.Duration) {
	for k, st := range p.calls {
		if keep(k) {
			calls += st.calls
			d += st.total
		}
	}
	return calls, d
}
