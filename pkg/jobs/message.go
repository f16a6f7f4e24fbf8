package jobs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Message is one chunk as it travels through the queue: the same envelope for every family,
// with the family's rows inside, each in the family's own encoding.
type Message struct {
	Family      string            `json:"family"`
	JobID       string            `json:"jobId"`
	WorkspaceID string            `json:"workspaceId"`
	Target      string            `json:"target"`
	Mode        string            `json:"mode"`
	Chunk       int               `json:"chunk"`
	FirstRow    int               `json:"firstRow"`
	Rows        []json.RawMessage `json:"rows"`
}

// Message attribute names. They let the worker attribute a message whose body it cannot read
// to its job and chunk, so that a poison chunk is still recorded on its job.
const (
	attrJobID     = "jobId"
	attrWorkspace = "workspaceId"
	attrChunk     = "chunk"
	attrFirstRow  = "firstRow"
	attrRows      = "rows"
)

// Attribute is one message attribute: a name, its value, and whether the value is a number.
type Attribute struct {
	Name, Value string
	Number      bool
}

// Attributes are what a queue should carry beside the body (as message attributes) and hand
// back in Delivery.Attributes.
func (m Message) Attributes() []Attribute {
	return []Attribute{
		{Name: attrJobID, Value: m.JobID}, {Name: attrWorkspace, Value: m.WorkspaceID},
		{Name: attrChunk, Value: strconv.Itoa(m.Chunk), Number: true},
		{Name: attrFirstRow, Value: strconv.Itoa(m.FirstRow), Number: true},
		{Name: attrRows, Value: strconv.Itoa(len(m.Rows)), Number: true},
	}
}

// DecodeMessage reads a chunk message; one that lacks a field the worker needs is an error.
func DecodeMessage(body string) (Message, error) {
	var m struct {
		Message
		Rows *[]json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return Message{}, fmt.Errorf("jobs: undecodable chunk message: %w", err)
	}
	var bad []string
	if m.Family == "" {
		bad = append(bad, "family")
	}
	if !ValidID(m.JobID) {
		bad = append(bad, "jobId")
	}
	if m.WorkspaceID == "" {
		bad = append(bad, "workspaceId")
	}
	if m.Target == "" {
		bad = append(bad, "target")
	}
	if m.Rows == nil {
		bad = append(bad, "rows")
	}
	if m.Chunk < 0 || m.FirstRow < 0 {
		bad = append(bad, "chunk/firstRow")
	}
	if len(bad) > 0 {
		return Message{}, fmt.Errorf("jobs: chunk message lacks or has an invalid %s", strings.Join(bad, ", "))
	}
	m.Message.Rows = *m.Rows
	return m.Message, nil
}

// chunkRef names a chunk of a job: enough to record it failed.
type chunkRef struct {
	family                string // "" when only the attributes named the chunk
	ws, job               string
	chunk, firstRow, rows int
	fields                []json.RawMessage // the rows as sent (nil when only the attributes named the chunk)
}

func (m Message) ref() chunkRef {
	return chunkRef{family: m.Family, ws: m.WorkspaceID, job: m.JobID, chunk: m.Chunk, firstRow: m.FirstRow, rows: len(m.Rows), fields: m.Rows}
}

// refOf names a delivery's job and chunk, from its body or else its attributes.
func refOf(d Delivery) (chunkRef, bool) {
	if m, err := DecodeMessage(d.Body); err == nil {
		return m.ref(), true
	}
	num := func(name string) (int, bool) {
		n, err := strconv.Atoi(d.Attributes[name])
		return n, err == nil && n >= 0
	}
	ref := chunkRef{ws: d.Attributes[attrWorkspace], job: d.Attributes[attrJobID]}
	var ok1, ok2, ok3 bool
	ref.chunk, ok1 = num(attrChunk)
	ref.firstRow, ok2 = num(attrFirstRow)
	ref.rows, ok3 = num(attrRows)
	return ref, ref.ws != "" && ValidID(ref.job) && ok1 && ok2 && ok3
}
