package jobs_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
)

type sqsEntry = sqstypes.SendMessageBatchRequestEntry

// refusing fails every entry by the sender's fault.
type refusing struct{}

func (refusing) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidMessageContents"), SenderFault: true})
	}
	return out, nil
}

// encoded is rows as a Spot job carries them.
func encoded(t *testing.T, rs []screening.ImportRow) []json.RawMessage {
	t.Helper()
	wire := make([]spotjobs.Row, len(rs))
	for i, r := range rs {
		wire[i] = spotjobs.Row{ExternalUID: r.ExternalUID, Email: r.Email, Name: r.Name}
	}
	raw, err := jobs.EncodeRows(wire)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// checkPlan asserts chunks are consecutive, cover rows in order, and respect the limits.
func checkPlan(t *testing.T, raw []json.RawMessage, chunks []jobs.Chunk, maxRows int) {
	t.Helper()
	var joined []json.RawMessage
	for i, c := range chunks {
		if c.N != i || c.FirstRow != len(joined) {
			t.Fatalf("chunk %d: N %d, first row %d, want %d, %d", i, c.N, c.FirstRow, i, len(joined))
		}
		if len(c.Rows) > maxRows {
			t.Errorf("chunk %d has %d rows, over %d", i, len(c.Rows), maxRows)
		}
		joined = append(joined, c.Rows...)
	}
	if !reflect.DeepEqual(joined, raw) && len(raw) > 0 {
		t.Error("the chunks' rows are not the rows, in order")
	}
}

// TestPlanAndEnqueueLimits: chunks of at most 500 rows and 64 KB of message; batches of at most
// 10 entries and 256 KiB; every message decodes back to its rows.
func TestPlanAndEnqueueLimits(t *testing.T) {
	ctx := context.Background()
	small := rows(0, 1234)
	chunks := jobs.Planner{}.Plan(encoded(t, small))
	if got := []int{len(chunks[0].Rows), len(chunks[1].Rows), len(chunks[2].Rows)}; len(chunks) != 3 || !slices.Equal(got, []int{500, 500, 234}) {
		t.Fatalf("1,234 rows in %d chunks", len(chunks))
	}
	checkPlan(t, encoded(t, small), chunks, 500)

	// Large rows: 256-character names that JSON escapes to 6 bytes a character.
	big := rows(0, 400)
	for i := range big {
		big[i].Name = strings.Repeat("<", 250) + big[i].Name[:6]
	}
	bigChunks := jobs.Planner{}.Plan(encoded(t, big))
	checkPlan(t, encoded(t, big), bigChunks, 500)
	if len(bigChunks) < 8 {
		t.Errorf("400 rows of ~1.6 KB in %d chunks; 64 KB chunks hold about 40", len(bigChunks))
	}

	empty := jobs.Planner{}.Plan(nil)
	if len(empty) != 1 || len(empty[0].Rows) != 0 {
		t.Errorf("an empty import is %d chunks, want 1 empty chunk", len(empty))
	}

	for _, tc := range []struct {
		name string
		rows []screening.ImportRow
		n    int
	}{{"small", small, len(chunks)}, {"big", big, len(bigChunks)}, {"empty", nil, 1}} {
		c := &capture{failOnce: map[string]bool{"c0": true, "c2": true}}
		sub := &jobs.Submitter{Store: noStore{}, Queue: &jobqueue.SQS{Client: c, QueueURL: "q"}}
		req := screening.ImportRequest{ScreenerID: "scr_01jbz8x1k2m3n4p5q6r7s8t9v0", Mode: screening.FullSync, Rows: tc.rows}
		job, err := spotjobs.Submit(ctx, sub, "ws_01jbz8x1k2m3n4p5q6r7s8t9v0", actor, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.sent) != tc.n || job.Chunks != tc.n {
			t.Fatalf("%s: %d messages sent for %d chunks (job: %d)", tc.name, len(c.sent), tc.n, job.Chunks)
		}
		for _, call := range c.calls {
			size := 0
			for _, e := range call {
				size += len(*e.MessageBody)
			}
			if len(call) > 10 || size > 256<<10 {
				t.Errorf("%s: a SendMessageBatch of %d entries, %d bytes", tc.name, len(call), size)
			}
		}
		var decoded []screening.ImportRow
		slices.SortFunc(c.sent, func(a, b sqsEntry) int { return chunkOf(t, a) - chunkOf(t, b) })
		for _, e := range c.sent {
			if n := len(*e.MessageBody); n > jobs.MaxChunkBytes {
				t.Errorf("%s: a %d-byte message, over %d", tc.name, n, jobs.MaxChunkBytes)
			}
			m, err := jobs.DecodeMessage(*e.MessageBody)
			if err != nil {
				t.Fatal(err)
			}
			if m.Family != spotjobs.Name || m.JobID != job.ID || m.WorkspaceID != job.WorkspaceID || m.Target != job.Target || m.Mode != "FULL_SYNC" || m.FirstRow != len(decoded) {
				t.Errorf("%s: message %+v", tc.name, m)
			}
			rs, err := jobs.DecodeRows[spotjobs.Row](m.Rows)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				decoded = append(decoded, screening.ImportRow{ExternalUID: r.ExternalUID, Email: r.Email, Name: r.Name})
			}
		}
		if !reflect.DeepEqual(decoded, tc.rows) && len(tc.rows) > 0 {
			t.Errorf("%s: the messages' rows are not the rows", tc.name)
		}
		if tc.name == "empty" && !strings.Contains(*c.sent[0].MessageBody, `"rows":[]`) {
			t.Errorf("empty chunk message %s", *c.sent[0].MessageBody)
		}
	}
}

func chunkOf(t *testing.T, e sqsEntry) int {
	var m struct{ Chunk int }
	if err := json.Unmarshal([]byte(*e.MessageBody), &m); err != nil {
		t.Fatal(err)
	}
	return m.Chunk
}

// TestEnqueueRefusesWhatSQSRefuses: an entry failed by the sender's fault is an error, not a
// retry, and the job it was for ends FAILED rather than waiting for chunks that never come.
func TestEnqueueRefusesWhatSQSRefuses(t *testing.T) {
	st := &failRecorder{}
	sub := &jobs.Submitter{Store: st, Queue: &jobqueue.SQS{Client: refusing{}, QueueURL: "q"}}
	_, err := spotjobs.Submit(context.Background(), sub, "ws_x", actor, screening.ImportRequest{ScreenerID: "scr_x", Rows: rows(0, 3)})
	if err == nil || !strings.Contains(err.Error(), "InvalidMessageContents") {
		t.Errorf("Submit: %v", err)
	}
	if !strings.Contains(st.failed, "could not be queued") {
		t.Errorf("the job was not failed: reason %q", st.failed)
	}
}
