package jobs

import (
	"encoding/json"
	"slices"
)

// MaxRemovalsPerItem is how many removals one stored removal record holds (a store keeps a
// job's removals in records of at most this many, in order, so the n-th is in record
// n/MaxRemovalsPerItem).
const MaxRemovalsPerItem = 500

// ResultReader is what PageResults reads from a store: the results a chunk's counted attempt
// stored, and a range of a job's recorded removals.
type ResultReader interface {
	// ChunkResults returns the stored results of these done chunks, by chunk number; a chunk
	// whose results are not stored is absent.
	ChunkResults(chunks []ChunkResult) (map[int][]RowResult, error)
	// Removals returns removals from..to-1 of the job's recorded ones.
	Removals(from, to int) ([]RowResult, error)
}

// segment is a run of a job's rows in row order: a done chunk, or a run no chunk recorded.
type segment struct {
	chunk  *ChunkResult // nil: rows no chunk recorded (a terminal job's: skipped)
	first  int
	rows   int
	counts Counts
}

// segments lays a job's done chunks out in row order; a terminal job's rows that no chunk
// recorded become skipped runs between them.
func segments(j Job, chunks []ChunkResult) []segment {
	sorted := slices.Clone(chunks)
	slices.SortFunc(sorted, func(a, b ChunkResult) int { return a.FirstRow - b.FirstRow })
	var out []segment
	gap := func(from, to int) {
		if j.Terminal() && to > from {
			out = append(out, segment{first: from, rows: to - from, counts: Counts{Skipped: to - from}})
		}
	}
	next := 0
	for i := range sorted {
		c := &sorted[i]
		gap(next, c.FirstRow)
		out = append(out, segment{chunk: c, first: c.FirstRow, rows: c.Rows, counts: c.Counts})
		next = max(next, c.FirstRow+c.Rows)
	}
	gap(next, j.Total)
	return out
}

// PageResults is a page of a job's results: its payload rows in row order, then its removals,
// those of q.Outcome only when it names one, from q.Offset (counted in matching results) for
// q.Limit; and how many match in all. It reads only the chunks' results the page needs: the
// done chunks' records (chunks) carry their counts, which find where the offset falls.
func PageResults(j Job, chunks []ChunkResult, q ResultQuery, r ResultReader) ([]RowResult, int, error) {
	segs := segments(j, chunks)
	matches := func(c Counts) int { return c.Of(q.Outcome) }
	removals := 0
	if q.Outcome == "" || q.Outcome == OutcomeRemoved {
		removals = j.Counts.Removed
	}
	payload := 0
	for _, s := range segs {
		payload += matches(s.counts)
	}
	total := payload + removals
	if q.Limit <= 0 || q.Offset >= total {
		return []RowResult{}, total, nil
	}
	// The segments the page touches: skip whole ones before the offset, then enough for Limit.
	skip, need := q.Offset, q.Limit
	var touched []segment
	for _, s := range segs {
		n := matches(s.counts)
		if n == 0 {
			continue
		}
		if skip >= n && len(touched) == 0 {
			skip -= n
			continue
		}
		touched = append(touched, s)
		if need -= n; need+skip <= 0 {
			break
		}
	}
	out, err := payloadPage(touched, q, skip, r)
	if err != nil {
		return nil, 0, err
	}
	if rest := q.Limit - len(out); rest > 0 && removals > 0 {
		from := max(0, q.Offset-payload)
		rem, err := r.Removals(from, min(removals, from+rest))
		if err != nil {
			return nil, 0, err
		}
		out = append(out, rem...)
	}
	return out, total, nil
}

// payloadPage reads the touched segments' rows and keeps the matching ones after skip, up to
// the limit.
func payloadPage(touched []segment, q ResultQuery, skip int, r ResultReader) ([]RowResult, error) {
	var stored []ChunkResult
	for _, s := range touched {
		if s.chunk != nil {
			stored = append(stored, *s.chunk)
		}
	}
	byChunk := map[int][]RowResult{}
	if len(stored) > 0 {
		var err error
		if byChunk, err = r.ChunkResults(stored); err != nil {
			return nil, err
		}
	}
	out := []RowResult{}
	for _, s := range touched {
		rows, ok := []RowResult(nil), false
		if s.chunk != nil {
			rows, ok = byChunk[s.chunk.N]
		}
		if !ok {
			rows = unstoredRows(s)
		}
		for _, row := range rows {
			if q.Outcome != "" && row.Outcome != q.Outcome {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, row)
			if len(out) == q.Limit {
				return out, nil
			}
		}
	}
	return out, nil
}

// unstoredRows are the results of a segment whose rows were not stored: rows no chunk recorded
// are skipped, a chunk that failed for good has every row failed with its reason, and a
// chunk recorded before results were stored (an older job, a seeded one) has its counts' outcomes
// laid over its rows in the order of Outcomes (which row had which is not known; the counts
// and a filter's paging still agree).
func unstoredRows(s segment) []RowResult {
	blank := make([]json.RawMessage, s.rows)
	switch {
	case s.chunk == nil:
		return rowsWithOutcome(s.first, blank, OutcomeSkipped, nil)
	case s.chunk.Failed:
		return failedRows(s.first, blank, s.chunk.Reason)
	}
	out := rowsWithOutcome(s.first, blank, OutcomeSkipped, nil)
	i := 0
	for _, o := range Outcomes {
		for n := s.counts.Of(o); n > 0 && i < len(out) && o != OutcomeRemoved; n-- {
			out[i].Outcome = o
			i++
		}
	}
	return out
}
