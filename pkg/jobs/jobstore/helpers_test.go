package jobstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobstore"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ids"
)

// heldFamily names the jobs of testHolder, whose jobs hold their target.
const heldFamily = "held"

// testHolder is a family's TargetHolder over plain target items of the test's own
// (pk=TEST#<ws>, sk=<target>): a held target's item names its job in holder.
type testHolder struct{ table string }

func targetKey(ws, target string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": ddb.S("TEST#" + ws), "sk": ddb.S(target)}
}

func (h testHolder) HoldsFor() string { return heldFamily }

func (h testHolder) TakeHold(ws, target, jobID string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(h.table), Key: targetKey(ws, target), UpdateExpression: aws.String("SET holder = :j"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(holder)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":j": ddb.S(jobID)},
	}}
}

func (h testHolder) ReleaseHold(ws, target, jobID string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(h.table), Key: targetKey(ws, target), UpdateExpression: aws.String("REMOVE holder"),
		ConditionExpression:       aws.String("holder = :j"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":j": ddb.S(jobID)},
	}}
}

func (h testHolder) TargetExists(context.Context, string, string) (bool, error) { return true, nil }

// bench is a jobs store over a fresh table, with testHolder's family, and one workspace.
type bench struct {
	t   *testing.T
	ctx context.Context
	env *testkit.Env
	st  *jobstore.Store
	ws  string
	at  time.Time // when runChunk counts its chunks (zero: now)
}

func newBench(t *testing.T) *bench {
	env := testkit.NewEnv(t)
	st := jobstore.New(env.App.Jobs.Table, testHolder{table: env.Table})
	return &bench{t: t, ctx: context.Background(), env: env, st: st, ws: ids.New(ids.Workspace)}
}

// target makes a target item for held jobs.
func (b *bench) target(name string) string {
	b.t.Helper()
	item := targetKey(b.ws, name)
	if _, err := b.env.Client.PutItem(b.ctx, &dynamodb.PutItemInput{TableName: aws.String(b.env.Table), Item: item}); err != nil {
		b.t.Fatal(err)
	}
	return name
}

// holder is the job holding a target ("" for none).
func (b *bench) holder(target string) string {
	b.t.Helper()
	res, err := b.env.Client.GetItem(b.ctx, &dynamodb.GetItemInput{TableName: aws.String(b.env.Table), Key: targetKey(b.ws, target), ConsistentRead: aws.Bool(true)})
	if err != nil {
		b.t.Fatal(err)
	}
	if h, ok := res.Item["holder"].(*types.AttributeValueMemberS); ok {
		return h.Value
	}
	return ""
}

// create stores a job of rows rows in chunks of chunkRows, created at `at`.
func (b *bench) create(family, target string, rows, chunkRows int, at time.Time, edit ...func(*jobs.Job)) jobs.Job {
	b.t.Helper()
	j := jobs.Job{
		ID: ids.NewAt(jobs.Prefix, at), WorkspaceID: b.ws, Family: family, Target: target, Mode: "FULL_SYNC",
		HoldsTarget: family == heldFamily, Total: rows, Chunks: max(1, (rows+chunkRows-1)/chunkRows),
		CreatedAt: at, ProgressAt: at, ExpiresAt: at.Add(jobs.Retention),
	}
	for _, e := range edit {
		e(&j)
	}
	if err := b.st.Create(b.ctx, j); err != nil {
		b.t.Fatal(err)
	}
	return b.get(j.ID)
}

func (b *bench) get(id string) jobs.Job {
	b.t.Helper()
	j, _, err := b.st.Get(b.ctx, b.ws, id, 0)
	if err != nil {
		b.t.Fatal(err)
	}
	return j
}

// rowFields is row i as a family might encode it.
func rowFields(i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"email":"p%05d@example.com","name":"Person %d"}`, i, i))
}

// outcomeOf is the outcome test chunks give row i: every 7th failed, every 5th updated, every
// 3rd unchanged, the rest created.
func outcomeOf(i int) string {
	switch {
	case i%7 == 0:
		return jobs.OutcomeFailed
	case i%5 == 0:
		return jobs.OutcomeUpdated
	case i%3 == 0:
		return jobs.OutcomeUnchanged
	}
	return jobs.OutcomeCreated
}

// runChunk records chunk n of a job as the worker does: its results, then its completion.
func (b *bench) runChunk(j jobs.Job, n, chunkRows int) {
	b.t.Helper()
	first := n * chunkRows
	rows := make([]jobs.RowResult, min(chunkRows, j.Total-first))
	for k := range rows {
		i := first + k
		rows[k] = jobs.RowResult{Row: i, Outcome: outcomeOf(i), IDs: map[string]string{"participantId": fmt.Sprintf("ptp_%d", i)}, Fields: rowFields(i)}
		if rows[k].Outcome == jobs.OutcomeFailed {
			rows[k].Errors = []jobs.FieldError{{Field: "email", Code: "INVALID", Message: fmt.Sprintf("row %d is bad", i)}}
		}
	}
	attempt := fmt.Sprintf("a%d", n)
	if err := b.st.PutResults(b.ctx, j, attempt, first, rows); err != nil {
		b.t.Fatal(err)
	}
	c := jobs.ChunkResult{N: n, FirstRow: first, Rows: len(rows), Counts: jobs.CountRows(rows), Attempt: attempt, Keep: []string{fmt.Sprintf("k%d", n)}}
	at := b.at
	if at.IsZero() {
		at = time.Now()
	}
	if _, err := b.st.CompleteChunk(b.ctx, j, c, at); err != nil {
		b.t.Fatal(err)
	}
}

// removals are n records a finish removes.
func removals(n int) []jobs.RowResult {
	out := make([]jobs.RowResult, n)
	for i := range out {
		out[i] = jobs.RowResult{Row: -1, Outcome: jobs.OutcomeRemoved, IDs: map[string]string{"participantId": fmt.Sprintf("ptp_r%d", i)},
			Fields: json.RawMessage(fmt.Sprintf(`{"email":"r%d@example.com"}`, i))}
	}
	return out
}

// finish claims and finishes a job whose chunks are all done, planning removed first.
func (b *bench) finish(j jobs.Job, removed []jobs.RowResult, status string) {
	b.t.Helper()
	now := time.Now()
	claimed, ok, err := b.st.ClaimFinish(b.ctx, b.ws, j.ID, "fin", now, now.Add(time.Minute))
	if err != nil || !ok {
		b.t.Fatalf("claim: %v, %v", ok, err)
	}
	if removed != nil {
		if _, err := b.st.PlanRemovals(b.ctx, claimed, "fin", removed); err != nil {
			b.t.Fatal(err)
		}
	}
	if err := b.st.Finish(b.ctx, claimed, "fin", status, "", now, 0, 0); err != nil {
		b.t.Fatal(err)
	}
}
