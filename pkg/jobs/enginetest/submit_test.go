package enginetest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/jobs"
)

// checkChunks asserts chunks are numbered from 0, consecutive, cover rows in order and hold at
// most maxRows rows each.
func checkChunks(t *testing.T, rows []json.RawMessage, chunks []jobs.Chunk, maxRows int) {
	t.Helper()
	var joined []json.RawMessage
	for i, c := range chunks {
		if c.N != i || c.FirstRow != len(joined) {
			t.Fatalf("chunk %d: N %d, first row %d; want %d, %d", i, c.N, c.FirstRow, i, len(joined))
		}
		if len(c.Rows) > maxRows {
			t.Errorf("chunk %d has %d rows, over %d", i, len(c.Rows), maxRows)
		}
		joined = append(joined, c.Rows...)
	}
	if len(joined) != len(rows) || (len(rows) > 0 && !reflect.DeepEqual(joined, rows)) {
		t.Errorf("the chunks hold %d rows, not the %d rows in order", len(joined), len(rows))
	}
}

// messageSize is chunk c's message as encoded, with ids as long as real ones.
func messageSize(t *testing.T, c jobs.Chunk) int {
	t.Helper()
	b, err := json.Marshal(jobs.Message{
		Family: "alpha", JobID: jobs.NewID(), WorkspaceID: "ws_01JABCDEFGHJKMNPQRSTVWXYZ0", Target: "scr_01JABCDEFGHJKMNPQRSTVWXYZ0",
		Mode: fullSync, Chunk: c.N, FirstRow: c.FirstRow, Rows: c.Rows,
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

func chunkSizes(chunks []jobs.Chunk) []int {
	out := make([]int, len(chunks))
	for i, c := range chunks {
		out[i] = len(c.Rows)
	}
	return out
}

// TestEnginePlanLimits: chunks hold at most MaxRows rows (500 by default) and their messages at
// most MaxBytes (64 KiB by default); a row too large for any chunk gets one of its own; an
// empty import is one empty chunk.
func TestEnginePlanLimits(t *testing.T) {
	t.Run("rows", func(t *testing.T) {
		rows := encode(t, keys(10))
		chunks := jobs.Planner{MaxRows: 3}.Plan(rows)
		checkChunks(t, rows, chunks, 3)
		if got := chunkSizes(chunks); !slices.Equal(got, []int{3, 3, 3, 1}) {
			t.Errorf("chunk sizes %v, want [3 3 3 1]", got)
		}
		many := encode(t, keys(1234))
		def := jobs.Planner{}.Plan(many)
		checkChunks(t, many, def, jobs.MaxChunkRows)
		if got := chunkSizes(def); !slices.Equal(got, []int{500, 500, 234}) {
			t.Errorf("default chunk sizes %v, want [500 500 234]", got)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		const maxBytes = 4 << 10
		wide := make([]string, 100)
		for i := range wide {
			wide[i] = fmt.Sprintf("%03d-%s", i, strings.Repeat("x", 96)) // 102 bytes encoded
		}
		rows := encode(t, wide)
		chunks := jobs.Planner{MaxBytes: maxBytes}.Plan(rows)
		checkChunks(t, rows, chunks, jobs.MaxChunkRows)
		for _, c := range chunks {
			if size := messageSize(t, c); size > maxBytes {
				t.Errorf("chunk %d: a %d-byte message, over %d", c.N, size, maxBytes)
			}
		}
		if len(chunks) > 4 { // 10,200 bytes of rows in chunks of at least 3 KB
			t.Errorf("%d chunks of sizes %v: the chunks are needlessly small", len(chunks), chunkSizes(chunks))
		}
		def := jobs.Planner{}.Plan(encode(t, slices.Repeat(wide, 10))) // 1,000 rows of 102 bytes
		for _, c := range def {
			if size := messageSize(t, c); size > jobs.MaxChunkBytes {
				t.Errorf("default limits, chunk %d: a %d-byte message, over %d", c.N, size, jobs.MaxChunkBytes)
			}
		}
		if len(def) < 2 {
			t.Errorf("102,000 bytes of rows in %d chunk(s) under a %d-byte limit", len(def), jobs.MaxChunkBytes)
		}
	})
	t.Run("a row too large for a chunk", func(t *testing.T) {
		rows := encode(t, []string{"a", strings.Repeat("h", 8<<10), "b"})
		chunks := jobs.Planner{MaxBytes: 4 << 10}.Plan(rows)
		checkChunks(t, rows, chunks, jobs.MaxChunkRows)
		if got := chunkSizes(chunks); !slices.Equal(got, []int{1, 1, 1}) {
			t.Errorf("chunk sizes %v, want [1 1 1]: the large row alone", got)
		}
	})
	t.Run("empty import", func(t *testing.T) {
		chunks := jobs.Planner{}.Plan(nil)
		if len(chunks) != 1 || chunks[0].N != 0 || chunks[0].FirstRow != 0 || len(chunks[0].Rows) != 0 {
			t.Errorf("an empty import planned %+v, want one empty chunk", chunks)
		}
	})
}

// TestEngineEmptyImportRunsAndFinishes: an empty import's one empty chunk runs and finishes
// the job, so a full sync of nothing empties the target; rows given as nil are no rows (the
// chunk's message still carries an empty list, which the worker requires).
func TestEngineEmptyImportRunsAndFinishes(t *testing.T) {
	f := newFamily("alpha", "old1", "old2")
	e := newEngine(t, f)
	j, err := e.sub.Submit(e.ctx, jobs.Request{WorkspaceID: ws, Family: f.name, Target: target, Mode: fullSync, HoldsTarget: true, Rows: nil})
	if err != nil {
		t.Fatal(err)
	}
	if j.Chunks != 1 || j.Total != 0 {
		t.Fatalf("an empty import: %d chunks, %d rows; want 1, 0", j.Chunks, j.Total)
	}
	e.mustDeliver(j.ID, 0)
	e.wantJob(j.ID, jobs.Completed, jobs.Counts{Removed: 2}, 1)
	if len(f.recordKeys()) != 0 {
		t.Errorf("records %v left by a full sync of nothing", f.recordKeys())
	}
}

// TestEngineSubmitThatCannotSendEndsTheJobFailed: a job whose chunks could not be queued ends
// FAILED with why, and frees its target, instead of waiting for chunks that never come.
func TestEngineSubmitThatCannotSendEndsTheJobFailed(t *testing.T) {
	f := newFamily("alpha")
	e := newEngine(t, f)
	down := errors.New("queue down")
	e.queue.err = down
	j, err := e.sub.Submit(e.ctx, jobs.Request{
		WorkspaceID: ws, Family: f.name, Target: target, Mode: "UPDATES", HoldsTarget: true, Actor: actor, Rows: encode(t, keys(3)),
	})
	if !errors.Is(err, down) || j.ID == "" {
		t.Fatalf("Submit with the queue down: job %q, %v; want the job and the queue's error", j.ID, err)
	}
	stored := e.wantJob(j.ID, jobs.Failed, jobs.Counts{Skipped: 3}, 0) // the rows never ran
	if stored.Reason != "the import's chunks could not be queued: queue down" || stored.FinishedAt == nil {
		t.Errorf("reason %q, finished %v", stored.Reason, stored.FinishedAt)
	}
	e.wantHeld(j.ID, false)
}
