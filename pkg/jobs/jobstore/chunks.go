package jobstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/vocab"
)

// importChunkItem is a chunk's completion record: small (its keep set is a record of its own),
// so that reading every chunk's record of a job, to find where a results page starts, is cheap.
type importChunkItem struct {
	PK          string  `dynamodbav:"pk"`
	SK          string  `dynamodbav:"sk"`
	Type        string  `dynamodbav:"type"`
	Chunk       int     `dynamodbav:"chunk"`
	FirstRow    int     `dynamodbav:"firstRow"`
	Rows        int     `dynamodbav:"rows"`
	Processed   int     `dynamodbav:"processed"`
	Created     int     `dynamodbav:"created"`
	Updated     int     `dynamodbav:"updated"`
	Unchanged   int     `dynamodbav:"unchanged"`
	Failed      int     `dynamodbav:"failed"`
	Skipped     int     `dynamodbav:"skipped"`
	ChunkFailed bool    `dynamodbav:"chunkFailed"`
	Reason      string  `dynamodbav:"reason,omitempty"`
	ReadUnits   float64 `dynamodbav:"readUnits"`
	WriteUnits  float64 `dynamodbav:"writeUnits"`
	Attempt     string  `dynamodbav:"attempt,omitempty"` // whose results item is the chunk's
	CompletedAt string  `dynamodbav:"completedAt"`
}

func (it importChunkItem) result() jobs.ChunkResult {
	return jobs.ChunkResult{
		N: it.Chunk, FirstRow: it.FirstRow, Rows: it.Rows,
		Counts: jobs.Counts{
			Processed: it.Processed, Created: it.Created, Updated: it.Updated, Unchanged: it.Unchanged,
			Failed: it.Failed, Skipped: it.Skipped,
		},
		Failed: it.ChunkFailed, Reason: it.Reason, ReadUnits: it.ReadUnits, WriteUnits: it.WriteUnits, Attempt: it.Attempt,
	}
}

// importKeepItem is the keys a chunk's rows keep (a FULL_SYNC's participant ids).
type importKeepItem struct {
	PK      string   `dynamodbav:"pk"`
	SK      string   `dynamodbav:"sk"`
	Type    string   `dynamodbav:"type"`
	Matched []string `dynamodbav:"matched"`
}

// importRowsItem holds row results, packed (packRows): a chunk's plan, an attempt's results,
// or up to jobs.MaxRemovalsPerItem removals.
type importRowsItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	Type string `dynamodbav:"type"`
	N    int    `dynamodbav:"n"`
	Rows []byte `dynamodbav:"rows"`
}

// rowsItem is row results as an item of a job's partition.
func rowsItem(j jobs.Job, sk, kind string, rows []jobs.RowResult) (ddb.Item, error) {
	packed, err := packRows(rows)
	if err != nil {
		return nil, err
	}
	k := recordKey(j, sk)
	return withTTL(importRowsItem{PK: k.PK, SK: k.SK, Type: kind, N: len(rows), Rows: packed}, j.ExpiresAt)
}

// ChunkState reads a job and whether one of its chunks is done, consistently, in one call.
func (s *Store) ChunkState(ctx context.Context, w, id string, n int) (jobs.Job, bool, error) {
	items, err := s.BatchGet(ctx, []ddb.Key{importJobKey(w, id), {PK: importJobPartition(w, id), SK: chunkSK(n)}})
	if err != nil {
		return jobs.Job{}, false, err
	}
	var job *jobs.Job
	done := false
	for _, it := range items {
		if sk, _ := it[ddb.AttrSK].(*types.AttributeValueMemberS); sk != nil && sk.Value == chunkSK(n) {
			done = true
			continue
		}
		var ji importJobItem
		if err := attributevalue.UnmarshalMap(it, &ji); err != nil {
			return jobs.Job{}, false, fmt.Errorf("store: decode: %w", err)
		}
		j := s.job(ji)
		job = &j
	}
	if job == nil || job.Expired(s.now()) {
		return jobs.Job{}, false, vocab.ErrNotFound
	}
	return *job, done, nil
}

// ChunkPlan returns the per-row plan a chunk's first writing attempt recorded, if one did.
func (s *Store) ChunkPlan(ctx context.Context, w, id string, n int) ([]jobs.RowResult, bool, error) {
	var it importRowsItem
	found, err := s.GetConsistent(ctx, ddb.Key{PK: importJobPartition(w, id), SK: planSK(n)}, &it)
	if err != nil || !found {
		return nil, false, err
	}
	rows, err := unpackRows(it.Rows)
	return rows, err == nil, err
}

// PutChunkPlan records a chunk's per-row plan before its rows are written, unless an earlier
// attempt did; it returns the plan that holds (the earlier attempt's, if any).
func (s *Store) PutChunkPlan(ctx context.Context, j jobs.Job, n int, rows []jobs.RowResult) ([]jobs.RowResult, error) {
	item, err := rowsItem(j, planSK(n), "ImportChunkPlan", rows)
	if err != nil {
		return nil, err
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.TableName, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	switch {
	case ddb.ConditionFailed(err):
		earlier, found, err := s.ChunkPlan(ctx, j.WorkspaceID, j.ID, n)
		if err != nil || !found {
			return nil, fmt.Errorf("store: import chunk plan vanished: %v", err)
		}
		return earlier, nil
	case err != nil:
		return nil, fmt.Errorf("store: put import chunk plan: %w", err)
	}
	return rows, nil
}

// ReplaceRowErrors makes the error items of rows firstRow..lastRow exactly errs: items an
// earlier attempt of the same chunk left for rows that are fine now are deleted.
func (s *Store) ReplaceRowErrors(ctx context.Context, j jobs.Job, firstRow, lastRow int, errs []jobs.RowError) error {
	part := importJobPartition(j.WorkspaceID, j.ID)
	res, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.TableName,
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": ddb.S(part), ":lo": ddb.S(errorSK(firstRow)), ":hi": ddb.S(errorSK(lastRow)),
		},
		ProjectionExpression: aws.String("pk, sk"),
		ConsistentRead:       aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("store: query import errors: %w", err)
	}
	keep := map[string]bool{}
	var writes []types.WriteRequest
	for _, e := range errs {
		k := recordKey(j, errorSK(e.Row))
		keep[k.SK] = true
		av, err := withTTL(importErrorItem{PK: k.PK, SK: k.SK, Type: "ImportRowError", Row: e.Row, Errors: toFieldErrorAttrs(e.Errors)}, j.ExpiresAt)
		if err != nil {
			return err
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	for _, it := range res.Items { // a chunk has at most a few hundred rows: one page
		if sk, _ := it[ddb.AttrSK].(*types.AttributeValueMemberS); sk != nil && !keep[sk.Value] {
			writes = append(writes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: it}})
		}
	}
	return s.BatchWrite(ctx, writes)
}

// PutResults stores one attempt's results of a chunk's rows, under the attempt's token.
func (s *Store) PutResults(ctx context.Context, j jobs.Job, attempt string, firstRow int, rows []jobs.RowResult) error {
	item, err := rowsItem(j, resultSK(firstRow, attempt), "ImportChunkResults", rows)
	if err != nil {
		return err
	}
	if _, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.TableName, Item: item}); err != nil {
		return fmt.Errorf("store: put import chunk results: %w", err)
	}
	return nil
}

// CompleteChunk records a chunk as done and adds its counts to its job, in one transaction.
// applied is false when the chunk was already done (a redelivery): nothing changes then.
// jobs.ErrClosed: the job is finished or does not exist. A job read as QUEUED becomes
// RUNNING; a CANCELING one stays CANCELING (the update never sets a status it did not check).
func (s *Store) CompleteChunk(ctx context.Context, j jobs.Job, c jobs.ChunkResult, now time.Time) (applied bool, err error) {
	ops, err := s.completionWrites(j, c, now)
	if err != nil {
		return false, err
	}
	// The job as the caller read it says which update to try first; the other is tried when
	// the job's condition fails (it started meanwhile, or was never read), and only if both
	// fail is the job closed.
	guess := j.Status == jobs.Queued
	for _, fromQueued := range []bool{guess, !guess} {
		ops[len(ops)-1] = completionUpdate(s.TableName, j, c, now, fromQueued)
		failed, err := s.TransactConditional(ctx, ops)
		switch {
		case err != nil:
			return false, fmt.Errorf("store: complete import chunk %d: %w", c.N, err)
		case failed == 0:
			return false, nil
		case failed < 0:
			return true, nil
		}
	}
	return false, jobs.ErrClosed
}

// completionWrites are the chunk's marker, its keep set (if it keeps any) and room for the
// job's update.
func (s *Store) completionWrites(j jobs.Job, c jobs.ChunkResult, now time.Time) ([]types.TransactWriteItem, error) {
	k := recordKey(j, chunkSK(c.N))
	marker, err := withTTL(importChunkItem{
		PK: k.PK, SK: k.SK, Type: "ImportChunk", Chunk: c.N, FirstRow: c.FirstRow, Rows: c.Rows,
		Processed: c.Counts.Processed, Created: c.Counts.Created, Updated: c.Counts.Updated,
		Unchanged: c.Counts.Unchanged, Failed: c.Counts.Failed, Skipped: c.Counts.Skipped, ChunkFailed: c.Failed,
		Reason: c.Reason, ReadUnits: c.ReadUnits, WriteUnits: c.WriteUnits, Attempt: c.Attempt, CompletedAt: ddb.FmtTime(now),
	}, j.ExpiresAt)
	if err != nil {
		return nil, err
	}
	ops := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.TableName), Item: marker, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}}
	if len(c.Keep) > 0 {
		kk := recordKey(j, keepSK(c.N))
		keep, err := withTTL(importKeepItem{PK: kk.PK, SK: kk.SK, Type: "ImportChunkKeep", Matched: c.Keep}, j.ExpiresAt)
		if err != nil {
			return nil, err
		}
		ops = append(ops, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.TableName), Item: keep}})
	}
	return append(ops, types.TransactWriteItem{}), nil
}

// completionUpdate adds a chunk's counts to its job, if the job is QUEUED (and then starts
// it) or else RUNNING or CANCELING.
func completionUpdate(table string, j jobs.Job, c jobs.ChunkResult, now time.Time, fromQueued bool) types.TransactWriteItem {
	u := ddb.NewUpdate()
	var adds []string
	add := func(attr string, v types.AttributeValue) {
		u.Names["#"+attr] = attr
		u.Values[":"+attr] = v
		adds = append(adds, "#"+attr+" :"+attr)
	}
	failedChunks := 0
	if c.Failed {
		failedChunks = 1
	}
	for _, a := range []struct {
		attr string
		n    int
	}{
		{"processed", c.Counts.Processed}, {"created", c.Counts.Created}, {"updated", c.Counts.Updated},
		{"unchanged", c.Counts.Unchanged}, {"failed", c.Counts.Failed}, {"skipped", c.Counts.Skipped},
		{"chunksDone", 1}, {"failedChunks", failedChunks},
	} {
		add(a.attr, number(a.n))
	}
	add("rowReadUnits", units(c.ReadUnits))
	add("rowWriteUnits", units(c.WriteUnits))
	u.SetValue("progressAt", ddb.S(ddb.FmtTime(now)))
	u.Names["#startedAt"] = "startedAt"
	u.Sets = append(u.Sets, "#startedAt = if_not_exists(#startedAt, :progressAt)")
	if c.Failed && c.Reason != "" {
		u.Names["#reason"] = "reason"
		u.Values[":reason"] = ddb.S(c.Reason)
		u.Sets = append(u.Sets, "#reason = if_not_exists(#reason, :reason)")
	}
	u.Names["#status"] = "status"
	cond := "#status IN (:running, :canceling)"
	if fromQueued {
		cond = "#status = :queued"
		u.Sets = append(u.Sets, "#status = :running")
		u.Values[":queued"] = ddb.S(jobs.Queued)
	} else {
		u.Values[":canceling"] = ddb.S(jobs.Canceling)
	}
	u.Values[":running"] = ddb.S(jobs.Running)
	expr := u.Expression() + " ADD " + strings.Join(adds, ", ")
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(table), Key: importJobKey(j.WorkspaceID, j.ID).AV(), UpdateExpression: aws.String(expr),
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: u.Names, ExpressionAttributeValues: u.Values,
	}}
}

// KeepSet returns the keys every done chunk of a job keeps.
func (s *Store) KeepSet(ctx context.Context, w, id string) (map[string]bool, error) {
	items, err := queryRecords[importKeepItem](ctx, s, w, id, "KEEP#", true)
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, it := range items {
		for _, p := range it.Matched {
			keep[p] = true
		}
	}
	return keep, nil
}

// chunkRecords reads every done chunk's completion record of a job (small items: one Query
// page for a job of up to a few thousand chunks), eventually consistent (an API read).
func (s *Store) chunkRecords(ctx context.Context, w, id string) ([]jobs.ChunkResult, error) {
	items, err := queryRecords[importChunkItem](ctx, s, w, id, "CHUNK#", false)
	if err != nil {
		return nil, err
	}
	out := make([]jobs.ChunkResult, len(items))
	for i, it := range items {
		out[i] = it.result()
	}
	return out, nil
}

// queryRecords reads all of a job's records of one kind (their sort keys' prefix).
func queryRecords[I any](ctx context.Context, s *Store, w, id, prefix string, consistent bool) ([]I, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.TableName,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": ddb.S(importJobPartition(w, id)), ":prefix": ddb.S(prefix)},
		ConsistentRead:            aws.Bool(consistent),
	}
	var out []I
	for {
		res, err := s.Client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: query import records %s: %w", prefix, err)
		}
		items, err := ddb.DecodeAll[I](res.Items)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
