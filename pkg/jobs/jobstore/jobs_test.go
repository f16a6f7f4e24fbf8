package jobstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/snapjobs"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
	"github.com/participant-roster/roster/pkg/vocab"
)

// TestImportJobBookkeeping: a chunk counts once, however often it completes; finishing is
// leased to one worker at a time and taken over once the lease ends; a finished job takes no
// more chunks; row errors of a chunk are replaced, not accumulated.
func TestImportJobBookkeeping(t *testing.T) {
	env := testkit.NewEnv(t)
	st := env.App.Jobs
	ctx := context.Background()
	ws, id := ids.New(ids.Workspace), "job_"+ids.New(ids.Workspace)[3:]
	now := time.Now()
	stored := jobs.Job{ID: id, WorkspaceID: ws, Family: "spot", Target: "scr_x", Mode: "FULL_SYNC", Total: 4, Chunks: 2, CreatedAt: now}
	if err := st.Create(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, jobs.Job{ID: id, WorkspaceID: ws}); !errors.Is(err, vocab.ErrExists) {
		t.Errorf("second create: %v", err)
	}
	if _, _, err := st.Get(ctx, ids.New(ids.Workspace), id, 0); !errors.Is(err, vocab.ErrNotFound) {
		t.Errorf("another workspace reads the job: %v", err)
	}

	c0 := jobs.ChunkResult{N: 0, FirstRow: 0, Rows: 2, Counts: jobs.Counts{Processed: 2, Created: 1, Unchanged: 1}, Keep: []string{"ptp_a", "ptp_b"}, WriteUnits: 3}
	for i, want := range []bool{true, false, false} {
		applied, err := st.CompleteChunk(ctx, stored, c0, now)
		if err != nil || applied != want {
			t.Fatalf("completion %d of chunk 0: applied %v, %v", i+1, applied, err)
		}
	}
	job, done, err := st.ChunkState(ctx, ws, id, 0)
	if err != nil || !done || job.Status != jobs.Running || job.ChunksDone != 1 || job.Counts.Created != 1 || job.RowWriteUnits != 3 || job.StartedAt == nil {
		t.Fatalf("after chunk 0: %+v, done %v, %v", job, done, err)
	}
	if _, ok, _ := st.ClaimFinish(ctx, ws, id, "early", now, now.Add(time.Minute)); ok {
		t.Error("finishing claimed with a chunk still to do")
	}

	errs := []jobs.RowError{{Row: 2, Errors: []jobs.FieldError{{Field: "participants[2].name", Code: "REQUIRED", Message: "m"}}}, {Row: 3}}
	if err := st.ReplaceRowErrors(ctx, stored, 2, 3, errs); err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceRowErrors(ctx, stored, 2, 3, errs[:1]); err != nil { // a retry where row 3 is fine
		t.Fatal(err)
	}
	c1 := jobs.ChunkResult{N: 1, FirstRow: 2, Rows: 2, Counts: jobs.Counts{Processed: 2, Updated: 1, Failed: 1}, Keep: []string{"ptp_c"}}
	if applied, err := st.CompleteChunk(ctx, stored, c1, now); err != nil || !applied {
		t.Fatalf("chunk 1: %v, %v", applied, err)
	}
	job, rowErrs, err := st.Get(ctx, ws, id, 10)
	if err != nil || len(rowErrs) != 1 || rowErrs[0].Row != 2 || rowErrs[0].Errors[0].Code != "REQUIRED" {
		t.Fatalf("row errors %+v, %v", rowErrs, err)
	}
	if want := (jobs.Counts{Processed: 4, Created: 1, Updated: 1, Unchanged: 1, Failed: 1}); job.Counts != want || job.ChunksDone != 2 {
		t.Fatalf("counts %+v, %d chunks done", job.Counts, job.ChunksDone)
	}
	keep, err := st.KeepSet(ctx, ws, id)
	if err != nil || len(keep) != 3 || !keep["ptp_a"] || !keep["ptp_c"] {
		t.Fatalf("keep set %v, %v", keep, err)
	}

	// Finishing: A claims until now+1m; B cannot until that has passed, then takes over.
	if _, ok, err := st.ClaimFinish(ctx, ws, id, "A", now, now.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("claim A: %v, %v", ok, err)
	}
	if n, err := st.PlanRemovals(ctx, stored, "A", removals(7)); err != nil || n != 7 {
		t.Fatalf("plan removals: %d, %v", n, err)
	}
	if _, ok, _ := st.ClaimFinish(ctx, ws, id, "B", now, now.Add(time.Minute)); ok {
		t.Fatal("B claimed during A's lease")
	}
	later := now.Add(2 * time.Minute)
	claimed, ok, err := st.ClaimFinish(ctx, ws, id, "B", later, later.Add(time.Minute))
	if err != nil || !ok {
		t.Fatalf("B after A's lease: %v, %v", ok, err)
	}
	if n, err := st.PlanRemovals(ctx, stored, "B", removals(2)); err != nil || n != 7 {
		t.Errorf("B's removal plan: %d, %v; want A's 7", n, err)
	}
	if err := st.Finish(ctx, claimed, "A", jobs.Completed, "", later, 0, 0); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Errorf("A finishing after losing its lease: %v", err)
	}
	if err := st.Finish(ctx, claimed, "B", jobs.Completed, "", later, 1, 2); err != nil {
		t.Fatal(err)
	}
	job, _, _ = st.Get(ctx, ws, id, 0)
	if job.Status != jobs.Completed || job.Counts.Removed != 7 || job.FinishedAt == nil || job.RowWriteUnits != 5 { // 3 from chunk 0, 2 from finishing
		t.Errorf("finished job %+v", job)
	}
	c2 := c1
	c2.N = 5
	if _, err := st.CompleteChunk(ctx, stored, c2, now); !errors.Is(err, jobs.ErrClosed) {
		t.Errorf("a chunk after the end: %v", err)
	}
	if err := st.Fail(ctx, ws, id, "late", now, false); err != nil {
		t.Fatal(err)
	}
	if job, _, _ = st.Get(ctx, ws, id, 0); job.Status != jobs.Completed {
		t.Errorf("a finished job was failed afterwards: %s", job.Status)
	}
}

func TestMain(m *testing.M) { testkit.Main(m) }

// TestJobsWrittenBeforeHoldsTarget: a job item without holdsTarget (written before it was
// stored) holds its target when its family's jobs hold theirs, so ending it still frees the
// target; one of another family holds nothing.
func TestJobsWrittenBeforeHoldsTarget(t *testing.T) {
	env := testkit.NewEnv(t)
	ctx := context.Background()
	ws := ids.New(ids.Workspace)
	for family, wantHolds := range map[string]bool{snapjobs.Name: true, spotjobs.Name: false} {
		id := jobs.NewID()
		item := map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "WS#" + ws + "#IMPORT"}, "sk": &types.AttributeValueMemberS{Value: id},
			"type": &types.AttributeValueMemberS{Value: "ImportJob"}, "id": &types.AttributeValueMemberS{Value: id},
			"workspaceId": &types.AttributeValueMemberS{Value: ws}, "family": &types.AttributeValueMemberS{Value: family},
			"target": &types.AttributeValueMemberS{Value: "t"}, "status": &types.AttributeValueMemberS{Value: jobs.Queued},
			"createdAt": &types.AttributeValueMemberS{Value: time.Now().UTC().Format(time.RFC3339Nano)},
		}
		if _, err := env.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(env.Table), Item: item}); err != nil {
			t.Fatal(err)
		}
		job, _, err := env.App.Jobs.Get(ctx, ws, id, 0)
		if err != nil || job.HoldsTarget != wantHolds {
			t.Errorf("%s job without holdsTarget: holds %v (%v), want %v", family, job.HoldsTarget, err, wantHolds)
		}
	}
}
