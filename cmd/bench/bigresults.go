package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/participant-roster/roster/pkg/platform/capacity"
)

// resultsPageSize is the largest page Spot's pagination gives (pagination[limit]).
const resultsPageSize = 500

// resultsWalk is one walk over a job's results through the results route, page by page.
type resultsWalk struct {
	metered
	pages, rows int
}

// walkResults reads every result of a job through ListScreenerParticipantImportResultsFunction,
// as JSON pages or as CSV pages (Accept: text/csv), and checks that each of the n rows has
// exactly one result.
func (b *bench) walkResults(s *bigStack, jobID string, n int, asCSV bool) (resultsWalk, error) {
	var w resultsWalk
	seen := make([]bool, n)
	ctx, m := capacity.WithMeter(b.ctx)
	start := time.Now()
	for offset := 0; ; offset += resultsPageSize {
		q := url.Values{"pagination[offset]": {strconv.Itoa(offset)}, "pagination[limit]": {strconv.Itoa(resultsPageSize)}}
		ev := b.event("GET", "/screener-participants-imports/"+jobID+"/results", q.Encode(), "")
		if asCSV {
			ev.Headers["accept"] = "text/csv"
		}
		resp, err := s.results(ctx, ev)
		if err != nil {
			return w, err
		}
		if resp.StatusCode != 200 {
			return w, fmt.Errorf("results page at %d: status %d: %.300s", offset, resp.StatusCode, resp.Body)
		}
		w.pages++
		rows, err := pageRows(resp.Body, asCSV, offset)
		if err != nil {
			return w, fmt.Errorf("results page at %d: %w", offset, err)
		}
		for _, row := range rows {
			if row < 0 || row >= n || seen[row] {
				return w, fmt.Errorf("results page at %d: row %d out of range or seen twice", offset, row)
			}
			seen[row] = true
			w.rows++
		}
		if len(rows) < resultsPageSize {
			break
		}
	}
	w.d = time.Since(start)
	w.read, w.write = m.Units()
	w.dynamoDBCall = m.Calls()
	if w.rows != n {
		return w, fmt.Errorf("the walk found %d results, want one for each of the %d rows", w.rows, n)
	}
	return w, nil
}

// pageRows returns the row indexes of a results page. A CSV page names no row index: its
// records are the rows in order from the page's offset.
func pageRows(body string, asCSV bool, offset int) ([]int, error) {
	if asCSV {
		records, err := csv.NewReader(bytes.NewReader([]byte(body))).ReadAll()
		if err != nil {
			return nil, err
		}
		if len(records) == 0 {
			return nil, fmt.Errorf("a CSV page without its header")
		}
		rows := make([]int, len(records)-1)
		for i := range rows {
			rows[i] = offset + i
		}
		return rows, nil
	}
	var page struct {
		Items []struct {
			Row *int `json:"row"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		return nil, err
	}
	rows := make([]int, len(page.Items))
	for i, it := range page.Items {
		if it.Row == nil {
			return nil, fmt.Errorf("a result without a row index in an UPDATES_ONLY job")
		}
		rows[i] = *it.Row
	}
	return rows, nil
}
