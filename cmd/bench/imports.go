package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/capacity"
)

const (
	importRows = 1000
	batchSize  = 25 // BatchWriteItem's limit
)

// metered is one timed call and what it cost.
type metered struct {
	d            time.Duration
	read, write  float64
	dynamoDBCall int
}

func measure(ctx context.Context, f func(context.Context) error) (metered, error) {
	ctx, m := capacity.WithMeter(ctx)
	t := time.Now()
	err := f(ctx)
	d := time.Since(t)
	if err == nil && m.Calls() == 0 {
		err = fmt.Errorf("nothing was recorded on the caller's capacity meter")
	}
	r, w := m.Units()
	return metered{d: d, read: r, write: w, dynamoDBCall: m.Calls()}, err
}

// measureImport is measure 3: 1,000 new rows through the import handler against raw
// BatchWriteItem of the same items, then the same import again, unchanged.
func (b *bench) measureImport(rounds int) (section, error) {
	const fn = "ImportScreenerParticipantsFunction"
	var imports, raws, reimports []metered
	itemCount := 0
	perRound := newTable("Round", "Import", "Raw BatchWriteItem", "Re-import (unchanged)")
	for r := range rounds {
		progress("measure 3: import round %d/%d", r+1, rounds)
		scrImport, err := b.newScreener(fmt.Sprintf("Import %d", r))
		if err != nil {
			return section{}, err
		}
		scrRaw, err := b.newScreener(fmt.Sprintf("Raw %d", r))
		if err != nil {
			return section{}, err
		}
		// Same-length tags: both sides write rows of the same sizes.
		body, err := importBody(scrImport, rows(fmt.Sprintf("i%d", r), importRows))
		if err != nil {
			return section{}, err
		}
		items, err := b.rawImportItems(scrRaw, rows(fmt.Sprintf("r%d", r), importRows), false)
		if err != nil {
			return section{}, err
		}
		itemCount = len(items)
		viaHandler := func(ctx context.Context) error {
			resp, err := b.invoke(ctx, fn, b.event("POST", "/screener-participants-import", "", body))
			if err != nil {
				return err
			}
			var out []json.RawMessage
			if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
				return err
			}
			if len(out) != importRows {
				return fmt.Errorf("import answered %d screener participants, want %d", len(out), importRows)
			}
			return nil
		}
		raw := func(ctx context.Context) error { return b.batchWrite(ctx, items) }

		var imp, rw metered
		// Alternate which goes first, so the table's growth weighs on both alike.
		if r%2 == 0 {
			if imp, err = measure(b.ctx, viaHandler); err == nil {
				rw, err = measure(b.ctx, raw)
			}
		} else {
			if rw, err = measure(b.ctx, raw); err == nil {
				imp, err = measure(b.ctx, viaHandler)
			}
		}
		if err != nil {
			return section{}, err
		}
		again, err := measure(b.ctx, viaHandler)
		if err != nil {
			return section{}, err
		}
		imports, raws, reimports = append(imports, imp), append(raws, rw), append(reimports, again)
		perRound.add(strconv.Itoa(r+1), secs(imp.d), secs(rw.d), secs(again.d))
		gc()
	}
	one, many, err := b.transactCheck()
	if err != nil {
		return section{}, err
	}
	impD, rawD, reD := median(imports, durationOf), median(raws, durationOf), median(reimports, durationOf)
	impW, rawW := medianOf(imports, writeOf), medianOf(raws, writeOf)
	t := newTable("Figure", "Value", "Target", "Met")
	t.add("Import of 1,000 new rows through the handler, median time", secs(impD), "", "")
	t.add(fmt.Sprintf("Raw BatchWriteItem of the same %s items (%d per batch, sequential), median time",
		thousands(itemCount), batchSize), secs(rawD), "", "")
	t.add("Ratio (import / raw)", fmtRatio(ratio(impD, rawD)), "", "")
	t.add("Write units per row, import (as DynamoDB Local reports them; see the check below)", fmt.Sprintf("%.2f", impW/importRows), "", "")
	t.add("Write units per row, raw BatchWriteItem", fmt.Sprintf("%.2f", rawW/importRows), "", "")
	t.add("Read units, import", units(medianOf(imports, readOf)), "", "")
	t.add("DynamoDB calls: import / raw", fmt.Sprintf("%s / %s", units(medianOf(imports, callsOf)), units(medianOf(raws, callsOf))), "", "")
	t.add("Re-import of the same 1,000 rows, unchanged: write units", spread(collect(reimports, writeOf)), "0", met(slices.Max(collect(reimports, writeOf)) == 0))
	t.add("Re-import: median time", secs(reD), "", "")
	t.add("Re-import: read units", units(medianOf(reimports, readOf)), "", "")
	t.add("Re-import: DynamoDB calls", units(medianOf(reimports, callsOf)), "", "")
	check := newTable("DynamoDB Local check: one TransactWriteItems of new import items", "Write units reported")
	check.add("1 row: 4 items", units(one))
	check.add("24 rows: 96 items (as the store packs a transaction)", units(many))
	return section{
		title: "3. Import of 1,000 new rows: handler vs raw BatchWriteItem, and an unchanged re-import",
		intro: fmt.Sprintf("%d rounds, each on two new screeners: `POST /screener-participants-import` (UPDATES_ONLY, "+
			"1,000 rows with external uid, email and name) through the function's Lambda handler, and raw sequential "+
			"BatchWriteItem calls writing the same four items per row the store writes (participant, email marker, "+
			"external-uid marker, screener participant; the bench's own raw items, checked against what an import wrote) "+
			"for 1,000 other rows of "+
			"the same sizes. Then the first import is posted again unchanged. Times are medians over the rounds; the raw "+
			"time covers the BatchWriteItem calls only (items encoded beforehand). Units come from a capacity meter on "+
			"the request context.", rounds),
		tables: []*table{t, perRound, check},
		notes:  []string{transactNote(one, many)},
	}, nil
}

func transactNote(one, many float64) string {
	note := "The import writes in TransactWriteItems calls (up to 100 writes each: rows of 4 items, plus the " +
		"count buckets of the two counted lists, the screener-participant counter and the check that the screener exists). "
	if many < 24*one/2 {
		return note + fmt.Sprintf("DynamoDB Local reported %s write units for one such call of 4 items and %s for one of 96: "+
			"it prices a transaction call, not its items, so the import's write units above undercount what the items "+
			"cost. The raw BatchWriteItem figure, which DynamoDB Local reports per item, prices the same items "+
			"non-transactionally.", units(one), units(many))
	}
	return note + fmt.Sprintf("DynamoDB Local reported %s write units for one such call of 4 items and %s for one of 96.",
		units(one), units(many))
}

// transactCheck writes one row's items, then 24 rows' items, each set in one TransactWriteItems,
// and returns the write units DynamoDB Local reports for each.
func (b *bench) transactCheck() (one, many float64, err error) {
	scr, err := b.newScreener("Transaction check")
	if err != nil {
		return 0, 0, err
	}
	items, err := b.rawImportItems(scr, rows("c0", 25), false)
	if err != nil {
		return 0, 0, err
	}
	write := func(items []map[string]types.AttributeValue) (float64, error) {
		ops := make([]types.TransactWriteItem, len(items))
		for i, it := range items {
			ops[i] = types.TransactWriteItem{Put: &types.Put{TableName: &b.table, Item: it}}
		}
		m, err := measure(b.ctx, func(ctx context.Context) error {
			_, err := b.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
			return err
		})
		return m.write, err
	}
	if one, err = write(items[:4]); err != nil {
		return 0, 0, err
	}
	many, err = write(items[4:100])
	return one, many, err
}

// batchWrite puts items into the bench table 25 a call, one call at a time, retrying what comes
// back unprocessed.
func (b *bench) batchWrite(ctx context.Context, items []map[string]types.AttributeValue) error {
	return b.batchWriteTo(ctx, b.table, items)
}

// batchWriteTo is batchWrite into another table.
func (b *bench) batchWriteTo(ctx context.Context, table string, items []map[string]types.AttributeValue) error {
	for from := 0; from < len(items); from += batchSize {
		var reqs []types.WriteRequest
		for _, it := range items[from:min(from+batchSize, len(items))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		pending := map[string][]types.WriteRequest{table: reqs}
		for len(pending) > 0 {
			out, err := b.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("BatchWriteItem: %w", err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

// batchWriteParallel is batchWriteTo from writers goroutines at once, each writing its own
// consecutive share of items (whole batches of 25).
func (b *bench) batchWriteParallel(ctx context.Context, table string, items []map[string]types.AttributeValue, writers int) error {
	return inParallel(items, writers, func(part []map[string]types.AttributeValue) error { return b.batchWriteTo(ctx, table, part) })
}

// inParallel runs write from writers goroutines at once, each on its own consecutive share of
// items (whole batches of 25).
func inParallel(items []map[string]types.AttributeValue, writers int, write func([]map[string]types.AttributeValue) error) error {
	per := (len(items)/writers + batchSize) / batchSize * batchSize
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		part := items[min(w*per, len(items)):min((w+1)*per, len(items))]
		wg.Go(func() { errs[w] = write(part) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// batchInsertTo writes items with conditional PartiQL INSERTs (each fails if its key is
// taken), 25 statements per BatchExecuteStatement; every statement must succeed.
func (b *bench) batchInsertTo(ctx context.Context, table string, items []map[string]types.AttributeValue) error {
	for from := 0; from < len(items); from += batchSize {
		var st []types.BatchStatementRequest
		for _, it := range items[from:min(from+batchSize, len(items))] {
			st = append(st, rawInsertStatement(table, it))
		}
		out, err := b.client.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: st})
		if err != nil {
			return fmt.Errorf("BatchExecuteStatement: %w", err)
		}
		for _, r := range out.Responses {
			if r.Error != nil {
				return fmt.Errorf("INSERT: %s: %s", r.Error.Code, aws.ToString(r.Error.Message))
			}
		}
	}
	return nil
}

// rawInsertStatement is the PartiQL INSERT of one item, its values as parameters.
func rawInsertStatement(table string, it map[string]types.AttributeValue) types.BatchStatementRequest {
	names := slices.Sorted(maps.Keys(it))
	fields := make([]string, len(names))
	params := make([]types.AttributeValue, len(names))
	for i, n := range names {
		fields[i], params[i] = "'"+n+"': ?", it[n]
	}
	return types.BatchStatementRequest{
		Statement:  aws.String(`INSERT INTO "` + table + `" VALUE {` + strings.Join(fields, ", ") + `}`),
		Parameters: params,
	}
}

func durationOf(m metered) time.Duration { return m.d }
func writeOf(m metered) float64          { return m.write }
func readOf(m metered) float64           { return m.read }
func callsOf(m metered) float64          { return float64(m.dynamoDBCall) }

func median(ms []metered, f func(metered) time.Duration) time.Duration {
	ds := make([]time.Duration, len(ms))
	for i, m := range ms {
		ds[i] = f(m)
	}
	return percentile(ds, 50)
}

func collect(ms []metered, f func(metered) float64) []float64 {
	xs := make([]float64, len(ms))
	for i, m := range ms {
		xs[i] = f(m)
	}
	return xs
}

func medianOf(ms []metered, f func(metered) float64) float64 { return medianFloat(collect(ms, f)) }
