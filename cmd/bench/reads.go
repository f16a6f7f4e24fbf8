package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

const (
	getTarget  = 1.3 // measure 1: handler / raw GetItem
	listTarget = 1.5 // measure 2: handler / raw Query, p50
	warmUp     = 200 // untimed requests of each kind before a latency measure
	pageSize   = 100
)

// seeded is the big screener of measures 1 and 2.
type seeded struct {
	screenerID string
	sample     string // a screener participant id in it
	rows       int
	imports    []time.Duration
	total      time.Duration
}

// seed imports n rows into a new screener through Service.Import, 1,000 rows a request.
func (b *bench) seed(n int) (seeded, error) {
	scr, err := b.newScreener("Big screener")
	if err != nil {
		return seeded{}, err
	}
	s := seeded{screenerID: scr, rows: n}
	all := rows("seed", n)
	start := time.Now()
	for from := 0; from < n; from += 1000 {
		chunk := all[from:min(from+1000, n)]
		req := screening.ImportRequest{ScreenerID: scr, Mode: screening.UpdatesOnly}
		for _, r := range chunk {
			req.Rows = append(req.Rows, r.domain())
		}
		t := time.Now()
		sps, err := b.app.Service.Import(b.ctx, b.ws, b.actor(), req)
		if err != nil {
			return s, err
		}
		s.imports = append(s.imports, time.Since(t))
		if from == 0 {
			s.sample = sps[len(sps)/2].ID
		}
		progress("seed: %d/%d rows", min(from+1000, n), n)
	}
	s.total = time.Since(start)
	gc()
	return s, nil
}

// interleaved runs warmUp untimed requests of each kind, then n timed requests of each,
// rotating which goes first so that drift in the machine or the table weighs on all alike. It
// returns the times of each kind, in the order the kinds were given.
func interleaved(n int, kinds ...func() (time.Duration, error)) ([][]time.Duration, error) {
	for range warmUp {
		for _, k := range kinds {
			if _, err := k(); err != nil {
				return nil, err
			}
		}
	}
	gc()
	out := make([][]time.Duration, len(kinds))
	for i := range out {
		out[i] = make([]time.Duration, 0, n)
	}
	for i := range n {
		for j := range kinds {
			k := (i + j) % len(kinds)
			d, err := kinds[k]()
			if err != nil {
				return nil, err
			}
			out[k] = append(out[k], d)
		}
	}
	return out, nil
}

// measureGet is measure 1: one screener participant through the handler and by raw GetItem.
func (b *bench) measureGet(n int, spID string) (section, error) {
	progress("measure 1: GET /screener-participants/{id}, %d requests of each kind", n)
	const fn = "GetScreenerParticipantFunction"
	path := "/screener-participants/" + spID
	handler := func() (time.Duration, error) {
		ev := b.event("GET", path, "", "")
		t := time.Now()
		_, err := b.invoke(b.ctx, fn, ev)
		return time.Since(t), err
	}
	// The item's GetItem: same client, same key, default (eventually consistent) read.
	key := rawScreenerParticipantKey(b.ws, spID)
	raw := func() (time.Duration, error) {
		in := &dynamodb.GetItemInput{TableName: aws.String(b.table), Key: key}
		t := time.Now()
		out, err := b.client.GetItem(b.ctx, in)
		d := time.Since(t)
		if err == nil && out.Item == nil {
			err = errors.New("raw GetItem found no item")
		}
		return d, err
	}
	times, err := interleaved(n, handler, raw)
	if err != nil {
		return section{}, err
	}
	hs, rs := times[0], times[1]
	// What one warm request costs: the key should come from the auth cache.
	warm, err := measure(b.ctx, func(ctx context.Context) error {
		_, err := b.invoke(ctx, fn, b.event("GET", path, "", ""))
		return err
	})
	if err != nil {
		return section{}, err
	}
	h50, h95, r50, r95 := percentile(hs, 50), percentile(hs, 95), percentile(rs, 50), percentile(rs, 95)
	t := newTable("Figure", "Value", "Target", "Met")
	t.add("Handler p50 (GetScreenerParticipantFunction, event in, response out)", ms(h50), "", "")
	t.add("Handler p95", ms(h95), "", "")
	t.add("Raw GetItem p50", ms(r50), "", "")
	t.add("Raw GetItem p95", ms(r95), "", "")
	t.add("Ratio p50 (handler / raw)", fmtTarget(ratio(h50, r50), getTarget), fmt.Sprintf("≤ %.1fx", getTarget), met(ratio(h50, r50) <= getTarget))
	t.add("Ratio p95 (handler / raw)", fmtTarget(ratio(h95, r95), getTarget), fmt.Sprintf("≤ %.1fx", getTarget), met(ratio(h95, r95) <= getTarget))
	t.add("Overhead p50 (handler − raw)", ms(h50-r50), "", "")
	t.add("DynamoDB calls / read units of one warm handler request", fmt.Sprintf("%d / %s", warm.dynamoDBCall, units(warm.read)), "", "")
	return section{
		title: "1. GET /screener-participants/{id}: handler vs raw GetItem",
		intro: fmt.Sprintf("%s requests of each kind, alternating, after %d untimed of each. The handler is the "+
			"function's Lambda handler called in process with an API Gateway v2 event (credentials checked, auth cache "+
			"TTL %s as deployed); the raw call is the store's GetItem of the "+
			"same item (same client, eventually consistent).", thousands(n), warmUp, app.DefaultAuthCacheTTL),
		tables: []*table{t},
	}, nil
}

type listPage struct {
	Total      int               `json:"total"`
	Offset     *int              `json:"offset"`
	NextCursor *string           `json:"nextCursor"`
	Items      []json.RawMessage `json:"items"`
}

// listQuery is the raw query string of a screener's list page.
func listQuery(screenerID string, offset int) string {
	q := url.Values{"filter[screenerId][eq]": {screenerID}, "pagination[limit]": {strconv.Itoa(pageSize)}}
	if offset > 0 {
		q.Set("pagination[offset]", strconv.Itoa(offset))
	}
	return q.Encode()
}

// measureList is measure 2: a screener's first page of 100 through the handler and by raw
// Query, then what a page costs deeper in the list.
func (b *bench) measureList(c config, s seeded) (section, error) {
	progress("measure 2: GET /screener-participants?filter[screenerId][eq]=..., %d requests of each kind", c.listRequests)
	const fn = "ListScreenerParticipantsFunction"
	check := func(body string, offset int) error {
		var p listPage
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			return err
		}
		if len(p.Items) != pageSize || p.Total != s.rows || p.Offset == nil || *p.Offset != offset {
			return fmt.Errorf("list at offset %d: %d items, total %d, offset %v; want %d, %d, %d",
				offset, len(p.Items), p.Total, p.Offset, pageSize, s.rows, offset)
		}
		return nil
	}
	query := listQuery(s.screenerID, 0)
	checked := false
	handler := func() (time.Duration, error) {
		ev := b.event("GET", "/screener-participants", query, "")
		t := time.Now()
		resp, err := b.invoke(b.ctx, fn, ev)
		d := time.Since(t)
		if err == nil && !checked {
			err, checked = check(resp.Body, 0), true
		}
		return d, err
	}
	raw := func() (time.Duration, error) {
		in := rawRosterQuery(b.table, b.ws, s.screenerID)
		in.Limit = aws.Int32(pageSize)
		t := time.Now()
		out, err := b.client.Query(b.ctx, in)
		d := time.Since(t)
		if err == nil && len(out.Items) != pageSize {
			err = fmt.Errorf("raw Query returned %d items", len(out.Items))
		}
		return d, err
	}
	times, err := interleaved(c.listRequests, handler, raw)
	if err != nil {
		return section{}, err
	}
	hs, rs := times[0], times[1]
	h50, h95, r50, r95 := percentile(hs, 50), percentile(hs, 95), percentile(rs, 50), percentile(rs, 95)
	lat := newTable("Figure", "Value", "Target", "Met")
	lat.add("Handler p50 (ListScreenerParticipantsFunction, page of 100 at offset 0)", ms(h50), "", "")
	lat.add("Handler p95", ms(h95), "", "")
	lat.add("Raw Query p50 (gsi1, Limit 100)", ms(r50), "", "")
	lat.add("Raw Query p95", ms(r95), "", "")
	lat.add("Ratio p50 (handler / raw)", fmtTarget(ratio(h50, r50), listTarget), fmt.Sprintf("≤ %.1fx", listTarget), met(ratio(h50, r50) <= listTarget))
	lat.add("Ratio p95 (handler / raw)", fmtRatio(ratio(h95, r95)), "", "")

	// Raw Query's own read units, for comparison with the list's.
	rawCtx, rawMeter := capacity.WithMeter(b.ctx)
	in := rawRosterQuery(b.table, b.ws, s.screenerID)
	in.Limit = aws.Int32(pageSize)
	if _, err := b.client.Query(rawCtx, in); err != nil {
		return section{}, err
	}
	rawRead, _ := rawMeter.Units()

	progress("measure 2: read units at offsets 0, 1,000, 10,000 (%d requests each)", c.offsetRounds)
	cost := newTable("Page of 100", "Read units", "DynamoDB calls", fmt.Sprintf("Handler p50 latency (%d requests)", c.offsetRounds))
	cost.add("Raw Query, Limit 100 (baseline)", units(rawRead), strconv.Itoa(rawMeter.Calls()), "")
	for _, offset := range []int{0, 1000, 10000} {
		if offset+pageSize > s.rows {
			return section{}, fmt.Errorf("offset %d needs %d participants; seeded %d", offset, offset+pageSize, s.rows)
		}
		var reads []float64
		var calls []float64
		var ds []time.Duration
		for range c.offsetRounds {
			ctx, m := capacity.WithMeter(b.ctx)
			ev := b.event("GET", "/screener-participants", listQuery(s.screenerID, offset), "")
			t := time.Now()
			resp, err := b.invoke(ctx, fn, ev)
			ds = append(ds, time.Since(t))
			if err != nil {
				return section{}, err
			}
			if err := check(resp.Body, offset); err != nil {
				return section{}, err
			}
			if m.Calls() == 0 {
				return section{}, errors.New("the handler recorded nothing on the caller's capacity meter")
			}
			r, _ := m.Units()
			reads, calls = append(reads, r), append(calls, float64(m.Calls()))
		}
		cost.add(fmt.Sprintf("List, offset %s", thousands(offset)), spread(reads),
			units(medianFloat(calls)), ms(percentile(ds, 50)))
	}
	cursorRow, err := b.cursorPageCost(c, s, 10000)
	if err != nil {
		return section{}, err
	}
	cost.add(cursorRow...)
	walk, err := b.measureWalks(s)
	if err != nil {
		return section{}, err
	}
	seed := newTable("Seed", "Value")
	seed.add("Participants in the screener", thousands(s.rows))
	seed.add("Imports (Service.Import, 1,000 rows each)", strconv.Itoa(len(s.imports)))
	seed.add("Seed time, total", secs(s.total))
	seed.add("Per 1,000-row import, median", secs(percentile(s.imports, 50)))
	gc()
	return section{
		title: "2. Filtered list page of 100: handler vs raw Query, and read units by offset",
		intro: fmt.Sprintf("`GET /screener-participants?filter[screenerId][eq]=<id>&pagination[limit]=100` on a screener "+
			"with %s participants, %s requests of each kind, interleaved, after %d untimed of each; the raw call is the "+
			"Query the store starts from (gsi1 partition of the screener, Limit 100). Read units come from a capacity "+
			"meter on the request context (median of %d requests per offset).",
			thousands(s.rows), thousands(c.listRequests), warmUp, c.offsetRounds),
		tables: []*table{lat, cost, walk, seed},
		notes: []string{
			"A page is two Queries: the roster's count buckets (its index items, one per 10,000 places, read consistently), which give the total and the bucket the offset falls in, then the roster's gsi1 partition from that bucket's first place, skipping fewer than 100 records (issue 10 point 1; `ddb.Counted`). DynamoDB has no offset; the buckets stand in for one, so a page's read units do not grow with its offset (measure 9 has pages at 50,000 and 99,900).",
			"The raw baseline is the one Query of the first page alone, without the total.",
			"A cursor page (`pagination[cursor]`, our extension, issue 10 point 2) starts its Query at the cursor (ExclusiveStartKey) and reads the total from the same count buckets: its read units do not depend on its depth either, and a walk of every page reads the roster once.",
		},
	}, nil
}

// pageAt reads one page of the big screener with the query's pagination and checks its
// shape; it returns the page, the read units, the DynamoDB calls and the time.
func (b *bench) pageAt(s seeded, pagination url.Values) (listPage, float64, int, time.Duration, error) {
	q := url.Values{"filter[screenerId][eq]": {s.screenerID}, "pagination[limit]": {strconv.Itoa(pageSize)}}
	for k, v := range pagination {
		q[k] = v
	}
	ctx, m := capacity.WithMeter(b.ctx)
	ev := b.event("GET", "/screener-participants", q.Encode(), "")
	t := time.Now()
	resp, err := b.invoke(ctx, "ListScreenerParticipantsFunction", ev)
	d := time.Since(t)
	if err != nil {
		return listPage{}, 0, 0, d, err
	}
	var p listPage
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		return listPage{}, 0, 0, d, err
	}
	if p.Total != s.rows || len(p.Items) > pageSize {
		return p, 0, 0, d, fmt.Errorf("page %v: total %d, %d items", pagination, p.Total, len(p.Items))
	}
	r, _ := m.Units()
	return p, r, m.Calls(), d, nil
}

// cursorPageCost is the row of measure 2's cost table for the cursor page that starts at
// record depth (the cursor of the offset page that ends just before it).
func (b *bench) cursorPageCost(c config, s seeded, depth int) ([]string, error) {
	before, _, _, _, err := b.pageAt(s, url.Values{"pagination[offset]": {strconv.Itoa(depth - pageSize)}})
	if err != nil {
		return nil, err
	}
	if before.NextCursor == nil {
		return nil, fmt.Errorf("the page at offset %d has no next cursor", depth-pageSize)
	}
	var reads, calls []float64
	var ds []time.Duration
	for range c.offsetRounds {
		p, r, n, d, err := b.pageAt(s, url.Values{"pagination[cursor]": {*before.NextCursor}})
		if err != nil {
			return nil, err
		}
		if len(p.Items) != pageSize || p.Offset != nil {
			return nil, fmt.Errorf("cursor page after %d: %d items, offset %v", depth, len(p.Items), p.Offset)
		}
		reads, calls, ds = append(reads, r), append(calls, float64(n)), append(ds, d)
	}
	return []string{fmt.Sprintf("List, cursor after record %s (our extension)", thousands(depth)), spread(reads),
		units(medianFloat(calls)), ms(percentile(ds, 50))}, nil
}

// measureWalks reads every page of the big screener once with cursors and once with offsets.
func (b *bench) measureWalks(s seeded) (*table, error) {
	progress("measure 2: a walk of all %d participants in pages of %d, with cursors and with offsets", s.rows, pageSize)
	t := newTable("Walk of every page of 100", "Pages", "Read units", "DynamoDB calls", "Time")
	walk := func(name string, next func(p listPage, read int) url.Values) error {
		var read, pages, calls int
		var ru float64
		start := time.Now()
		pagination := url.Values{}
		for {
			p, r, n, _, err := b.pageAt(s, pagination)
			if err != nil {
				return err
			}
			read, pages, calls, ru = read+len(p.Items), pages+1, calls+n, ru+r
			if p.NextCursor == nil {
				break
			}
			pagination = next(p, read)
		}
		if read != s.rows {
			return fmt.Errorf("%s walk read %d of %d participants", name, read, s.rows)
		}
		t.add(name, strconv.Itoa(pages), units(ru), strconv.Itoa(calls), secs(time.Since(start)))
		return nil
	}
	if err := walk("With pagination[cursor] (nextCursor of each page)", func(p listPage, _ int) url.Values {
		return url.Values{"pagination[cursor]": {*p.NextCursor}}
	}); err != nil {
		return nil, err
	}
	if err := walk("With pagination[offset]", func(_ listPage, read int) url.Values {
		return url.Values{"pagination[offset]": {strconv.Itoa(read)}}
	}); err != nil {
		return nil, err
	}
	return t, nil
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
