package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/participant-roster/roster/pkg/platform/capacity"
)

// offsetRounds is how many requests each offset page of measure 9 takes (medians reported).
const offsetPageRounds = 15

// offsetPagesTarget is issue 10's bound: a page deep in a 100,000-record list reads, and takes,
// at most this many times what the first page does.
const offsetPagesTarget = 2.0

// measureOffsetPages reads pages of 100 at offsets 0, n/2 and n-100 of the big stack's seeded
// roster and of its workspace's participants through the list functions' Lambda handlers: read
// units and p50 latency against offset 0's.
func (b *bench) measureOffsetPages(s *bigStack, n int) (*table, error) {
	t := newTable("List (page of 100)", "Offset", "Read units (median)", "DynamoDB calls", fmt.Sprintf("Handler p50 (%d requests)", offsetPageRounds),
		"÷ offset 0: units / p50", "Target", "Met")
	lists := []struct {
		name, fn, path string
		filter         url.Values
	}{
		{"Screener roster (`GET /screener-participants?filter[screenerId][eq]=`)", "ListScreenerParticipantsFunction", "/screener-participants",
			url.Values{"filter[screenerId][eq]": {s.screener}}},
		{"Workspace participants (`GET /participants`)", "ListParticipantsFunction", "/participants", url.Values{}},
	}
	for _, l := range lists {
		h, err := s.app.LambdaHandler(l.fn)
		if err != nil {
			return nil, err
		}
		var base0 float64
		var baseP50 time.Duration
		for _, offset := range []int{0, n / 2, n - pageSize} {
			q := url.Values{"pagination[limit]": {strconv.Itoa(pageSize)}, "pagination[offset]": {strconv.Itoa(offset)}}
			for k, v := range l.filter {
				q[k] = v
			}
			var reads, calls []float64
			var ds []time.Duration
			for range offsetPageRounds {
				ctx, m := capacity.WithMeter(b.ctx)
				start := time.Now()
				resp, err := h(ctx, b.event("GET", l.path, q.Encode(), ""))
				ds = append(ds, time.Since(start))
				if err != nil || resp.StatusCode != 200 {
					return nil, fmt.Errorf("%s at offset %d: status %d, %v: %.300s", l.fn, offset, resp.StatusCode, err, resp.Body)
				}
				var page struct {
					Total int               `json:"total"`
					Items []json.RawMessage `json:"items"`
				}
				if err := json.Unmarshal([]byte(resp.Body), &page); err != nil {
					return nil, err
				}
				if page.Total != n || len(page.Items) != pageSize {
					return nil, fmt.Errorf("%s at offset %d: total %d, %d items; want %d, %d", l.fn, offset, page.Total, len(page.Items), n, pageSize)
				}
				r, _ := m.Units()
				reads, calls = append(reads, r), append(calls, float64(m.Calls()))
			}
			read, p50 := medianFloat(reads), percentile(ds, 50)
			if offset == 0 {
				base0, baseP50 = read, p50
			}
			ru, rt := read/base0, ratio(p50, baseP50)
			ok := ru <= offsetPagesTarget && rt <= offsetPagesTarget
			target, mark := "", ""
			if offset > 0 {
				target, mark = fmt.Sprintf("≤ %.0fx both", offsetPagesTarget), met(ok)
			}
			t.add(l.name, thousands(offset), units(read), units(medianFloat(calls)), ms(p50),
				fmt.Sprintf("%s / %s", fmtRatio(ru), fmtRatio(rt)), target, mark)
		}
	}
	return t, nil
}
