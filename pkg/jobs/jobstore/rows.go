package jobstore

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"

	"github.com/participant-roster/roster/pkg/jobs"
)

// storedRow is one row result as the plan, result and removal items hold it: short names, in
// gzip'd JSON (a chunk's 500 rows with their fields are tens of KB as JSON, a few KB gzip'd,
// far under the item limit of 400 KB).
type storedRow struct {
	Row     int               `json:"r"`
	Outcome string            `json:"o"`
	IDs     map[string]string `json:"i,omitempty"`
	Errors  []storedError     `json:"e,omitempty"`
	Fields  json.RawMessage   `json:"f,omitempty"`
}

type storedError struct {
	Field   string `json:"f,omitempty"`
	Code    string `json:"c,omitempty"`
	Message string `json:"m,omitempty"`
}

// packRows encodes row results for an item's binary attribute.
func packRows(rows []jobs.RowResult) ([]byte, error) {
	stored := make([]storedRow, len(rows))
	for i, r := range rows {
		stored[i] = storedRow{Row: r.Row, Outcome: r.Outcome, IDs: r.IDs, Fields: r.Fields}
		for _, e := range r.Errors {
			stored[i].Errors = append(stored[i].Errors, storedError(e))
		}
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(stored); err != nil {
		return nil, fmt.Errorf("store: encode row results: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("store: encode row results: %w", err)
	}
	return buf.Bytes(), nil
}

// unpackRows decodes what packRows encoded.
func unpackRows(b []byte) ([]jobs.RowResult, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("store: decode row results: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("store: decode row results: %w", err)
	}
	var stored []storedRow
	if err := json.Unmarshal(raw, &stored); err != nil {
		return nil, fmt.Errorf("store: decode row results: %w", err)
	}
	out := make([]jobs.RowResult, len(stored))
	for i, s := range stored {
		out[i] = jobs.RowResult{Row: s.Row, Outcome: s.Outcome, IDs: s.IDs, Fields: s.Fields}
		for _, e := range s.Errors {
			out[i].Errors = append(out[i].Errors, jobs.FieldError(e))
		}
	}
	return out, nil
}
