package jobs

import "encoding/json"

// Chunk limits. A chunk's message is at most MaxChunkBytes (measured as encoded), far under
// SQS's message limit.
const (
	MaxChunkRows  = 500
	MaxChunkBytes = 64 << 10
	// envelopeReserve is room for a message's fields other than its rows: three ids of about
	// 30 bytes, the family, the mode and two numbers take about 200 bytes encoded.
	envelopeReserve = 1 << 10
)

// Chunk is a run of consecutive rows of an import's payload, each in its family's encoding.
type Chunk struct {
	N        int // the chunk's number, from 0
	FirstRow int // index in the whole payload of the chunk's first row
	Rows     []json.RawMessage
}

// Planner splits rows into chunks; its zero value uses MaxChunkRows and MaxChunkBytes.
type Planner struct {
	MaxRows  int
	MaxBytes int
}

// Plan splits rows into consecutive chunks of at most MaxRows rows whose message, encoded, is
// at most MaxBytes. A row too large for a chunk of its own still gets one (the queue refuses a
// message over its limit; validated rows are a few KB at most). An empty import is one empty
// chunk, so that its job still runs and finishes (a full sync of nothing empties the target).
func (p Planner) Plan(rows []json.RawMessage) []Chunk {
	maxRows, maxBytes := p.MaxRows, p.MaxBytes
	if maxRows <= 0 {
		maxRows = MaxChunkRows
	}
	if maxBytes <= 0 {
		maxBytes = MaxChunkBytes
	}
	budget := maxBytes - envelopeReserve - len(`[]`)
	if rows == nil {
		rows = []json.RawMessage{} // a chunk's rows encode as a list, never null (DecodeMessage)
	}
	var out []Chunk
	cut := func(first, end int) {
		out = append(out, Chunk{N: len(out), FirstRow: first, Rows: rows[first:end]})
	}
	start, size := 0, 0
	for i, row := range rows {
		n := len(row)
		if i > start {
			n++ // the comma before it
		}
		if i > start && (i-start >= maxRows || size+n > budget) {
			cut(start, i)
			start, size, n = i, 0, n-1
		}
		size += n
	}
	if start < len(rows) || len(out) == 0 {
		cut(start, len(rows))
	}
	return out
}

// EncodeRows encodes a family's rows for Plan: rows are plain data, so encoding cannot fail
// but for a value no JSON can hold, which is the caller's bug.
func EncodeRows[R any](rows []R) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(rows))
	for i, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// DecodeRows decodes a chunk's rows into a family's row type.
func DecodeRows[R any](raw []json.RawMessage) ([]R, error) {
	out := make([]R, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
