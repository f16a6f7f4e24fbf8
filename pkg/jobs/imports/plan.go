package imports

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/store"
)

// Chunk limits. A chunk's message is at most MaxChunkBytes (measured as encoded), far under
// SQS's message limit (256 KiB classic, 1 MiB now); MaxMessageBytes is what Enqueue refuses.
const (
	MaxChunkRows    = 500
	MaxChunkBytes   = 64 << 10
	MaxMessageBytes = 256 << 10
	// envelopeReserve is room for a message's fields other than its rows: three ids of about
	// 30 bytes, the mode and two numbers take about 170 bytes encoded.
	envelopeReserve = 1 << 10
)

// Job families: Spot screener-participant imports and Snap survey-participant imports.
const (
	FamilySpot = store.ImportFamilySpot
	FamilySnap = store.ImportFamilySnap
)

// JobPrefix starts an import job id: "job_" and a ULID, like every other id (package ids).
const JobPrefix ids.Prefix = "job_"

// NewJobID returns a fresh job id.
func NewJobID() string { return ids.New(JobPrefix) }

// ValidJobID reports whether s can be a job id (check ids in paths before they reach the store).
func ValidJobID(s string) bool { return ids.Valid(JobPrefix, s) }

// Chunk is a run of consecutive rows of an import's payload.
type Chunk struct {
	N        int // the chunk's number, from 0
	FirstRow int // index in the whole payload of the chunk's first row
	Rows     []screening.ImportRow
}

// Message is a chunk as sent to the queue.
type Message struct {
	JobID       string `json:"jobId"`
	WorkspaceID string `json:"workspaceId"`
	ScreenerID  string `json:"screenerId"`
	Mode        string `json:"mode"`
	Chunk       int    `json:"chunk"`
	FirstRow    int    `json:"firstRow"`
	Rows        []Row  `json:"rows"`
}

// Row is an import row in a message, in the API's field names.
type Row struct {
	ExternalUID *string `json:"externalUid,omitempty"`
	Email       string  `json:"email"`
	Name        string  `json:"name"`
}

func toRow(r screening.ImportRow) Row {
	return Row{ExternalUID: r.ExternalUID, Email: r.Email, Name: r.Name}
}

func (r Row) domain() screening.ImportRow {
	return screening.ImportRow{ExternalUID: r.ExternalUID, Email: r.Email, Name: r.Name}
}

// Planner splits rows into chunks; its zero value uses MaxChunkRows and MaxChunkBytes.
type Planner struct {
	MaxRows  int
	MaxBytes int
}

// Plan splits rows with the default limits.
func Plan(rows []screening.ImportRow) []Chunk { return Planner{}.Plan(rows) }

// Plan splits rows into consecutive chunks of at most MaxRows rows whose message, encoded, is
// at most MaxBytes. A row too large for a chunk of its own still gets one (Enqueue refuses a
// message over MaxMessageBytes; validated rows are a few KB at most). An empty import is one
// empty chunk, so that its job still runs and finishes (a FULL_SYNC of nothing empties the
// screener).
func (p Planner) Plan(rows []screening.ImportRow) []Chunk {
	return planChunks(p, rows, func(r screening.ImportRow) any { return toRow(r) },
		func(n, first int, rows []screening.ImportRow) Chunk { return Chunk{N: n, FirstRow: first, Rows: rows} })
}

// planChunks cuts rows into chunks within the planner's limits, measuring each row as its
// message form encodes.
func planChunks[R, C any](p Planner, rows []R, wire func(R) any, chunk func(n, first int, rows []R) C) []C {
	sizes := make([]int, len(rows))
	for i, r := range rows {
		sizes[i] = encodedSize(wire(r))
	}
	spans := p.spans(sizes)
	chunks := make([]C, len(spans))
	for i, sp := range spans {
		chunks[i] = chunk(i, sp.first, rows[sp.first:sp.end])
	}
	return chunks
}

// span is a chunk's rows: [first, end) of the payload.
type span struct{ first, end int }

// spans cuts rows of the given encoded sizes into chunks within the planner's limits; no rows
// make one empty chunk.
func (p Planner) spans(sizes []int) []span {
	maxRows, maxBytes := p.MaxRows, p.MaxBytes
	if maxRows <= 0 {
		maxRows = MaxChunkRows
	}
	if maxBytes <= 0 {
		maxBytes = MaxChunkBytes
	}
	budget := maxBytes - envelopeReserve - len(`[]`)
	var out []span
	start, size := 0, 0
	for i, n := range sizes {
		if i > start {
			n++ // the comma before it
		}
		if i > start && (i-start >= maxRows || size+n > budget) {
			out = append(out, span{start, i})
			start, size, n = i, 0, n-1
		}
		size += n
	}
	if start < len(sizes) || len(out) == 0 {
		out = append(out, span{start, len(sizes)})
	}
	return out
}

func encodedSize(v any) int {
	b, _ := json.Marshal(v) // rows are plain data: they always encode
	return len(b)
}

// messageFor builds a chunk's message.
func messageFor(workspaceID, jobID, screenerID, mode string, c Chunk) Message {
	rows := make([]Row, len(c.Rows))
	for i, r := range c.Rows {
		rows[i] = toRow(r)
	}
	return Message{
		JobID: jobID, WorkspaceID: workspaceID, ScreenerID: screenerID, Mode: mode,
		Chunk: c.N, FirstRow: c.FirstRow, Rows: rows,
	}
}

// DecodeMessage reads a chunk message; one that lacks a field the worker needs is an error.
func DecodeMessage(body string) (Message, error) {
	var m struct {
		Message
		Rows *[]Row `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return Message{}, fmt.Errorf("imports: undecodable chunk message: %w", err)
	}
	var bad []string
	if !ValidJobID(m.JobID) {
		bad = append(bad, "jobId")
	}
	if m.WorkspaceID == "" {
		bad = append(bad, "workspaceId")
	}
	if m.ScreenerID == "" {
		bad = append(bad, "screenerId")
	}
	if m.Rows == nil {
		bad = append(bad, "rows")
	}
	if m.Chunk < 0 || m.FirstRow < 0 {
		bad = append(bad, "chunk/firstRow")
	}
	if len(bad) > 0 {
		return Message{}, fmt.Errorf("imports: chunk message lacks or has an invalid %s", strings.Join(bad, ", "))
	}
	m.Message.Rows = *m.Rows
	return m.Message, nil
}
