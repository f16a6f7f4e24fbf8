package jobstore

import (
	"context"
	"fmt"
	"strconv"
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

// Store is the jobs context's adapter: it keeps import jobs in the one table (jobs.Store).
type Store struct {
	*ddb.Table
	// holders take and release a job's hold on its target, by the job's family.
	holders map[string]TargetHolder
}

// TargetHolder is what a family's adapter gives the jobs adapter so that a job that holds its
// target takes and releases the hold in the same transaction as the job's own write.
type TargetHolder interface {
	// HoldsFor names the family whose jobs' holds this is.
	HoldsFor() string
	// TakeHold is the write that makes a new job the holder of its target; its condition
	// fails if another job holds it or the target is gone.
	TakeHold(ws, target, jobID string) types.TransactWriteItem
	// ReleaseHold is the write that frees a target that jobID holds; its condition fails if
	// the job no longer holds it.
	ReleaseHold(ws, target, jobID string) types.TransactWriteItem
	// TargetExists tells a taken hold from a missing target when TakeHold's condition fails.
	TargetExists(ctx context.Context, ws, target string) (bool, error)
}

var _ jobs.Store = (*Store)(nil)

// New returns the jobs store over a table; holders keep the holds of the families whose jobs
// hold their targets.
func New(t *ddb.Table, holders ...TargetHolder) *Store {
	s := &Store{Table: t, holders: map[string]TargetHolder{}}
	for _, h := range holders {
		s.holders[h.HoldsFor()] = h
	}
	return s
}

type importJobItem struct {
	PK              string         `dynamodbav:"pk"`
	SK              string         `dynamodbav:"sk"`
	Type            string         `dynamodbav:"type"`
	ID              string         `dynamodbav:"id"`
	WorkspaceID     string         `dynamodbav:"workspaceId"`
	Family          string         `dynamodbav:"family"`
	Target          string         `dynamodbav:"target"`
	Mode            string         `dynamodbav:"mode"`
	Actor           *ddb.ActorAttr `dynamodbav:"actor,omitempty"`
	Status          string         `dynamodbav:"status"`
	Total           int            `dynamodbav:"total"`
	Chunks          int            `dynamodbav:"chunks"`
	Processed       int            `dynamodbav:"processed"`
	Created         int            `dynamodbav:"created"`
	Updated         int            `dynamodbav:"updated"`
	Unchanged       int            `dynamodbav:"unchanged"`
	Removed         int            `dynamodbav:"removed"`
	Failed          int            `dynamodbav:"failed"`
	ChunksDone      int            `dynamodbav:"chunksDone"`
	FailedChunks    int            `dynamodbav:"failedChunks"`
	Reason          string         `dynamodbav:"reason,omitempty"`
	RowReadUnits    float64        `dynamodbav:"rowReadUnits"`
	RowWriteUnits   float64        `dynamodbav:"rowWriteUnits"`
	CreatedAt       string         `dynamodbav:"createdAt"`
	StartedAt       string         `dynamodbav:"startedAt,omitempty"`
	FinishedAt      string         `dynamodbav:"finishedAt,omitempty"`
	Finisher        string         `dynamodbav:"finisher,omitempty"`
	FinishLease     int64          `dynamodbav:"finishLease,omitempty"`
	RemovalsPlanned bool           `dynamodbav:"removalsPlanned,omitempty"`
	HoldsTarget     *bool          `dynamodbav:"holdsTarget,omitempty"` // nil: written before it was stored
}

type importChunkItem struct {
	PK          string   `dynamodbav:"pk"`
	SK          string   `dynamodbav:"sk"`
	Type        string   `dynamodbav:"type"`
	Chunk       int      `dynamodbav:"chunk"`
	FirstRow    int      `dynamodbav:"firstRow"`
	Rows        int      `dynamodbav:"rows"`
	Processed   int      `dynamodbav:"processed"`
	Created     int      `dynamodbav:"created"`
	Updated     int      `dynamodbav:"updated"`
	Unchanged   int      `dynamodbav:"unchanged"`
	Failed      int      `dynamodbav:"failed"`
	Matched     []string `dynamodbav:"matched,omitempty"`
	ChunkFailed bool     `dynamodbav:"chunkFailed"`
	Reason      string   `dynamodbav:"reason,omitempty"`
	ReadUnits   float64  `dynamodbav:"readUnits"`
	WriteUnits  float64  `dynamodbav:"writeUnits"`
	CompletedAt string   `dynamodbav:"completedAt"`
}

type importPlanItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Type      string `dynamodbav:"type"`
	Created   int    `dynamodbav:"created"`
	Updated   int    `dynamodbav:"updated"`
	Unchanged int    `dynamodbav:"unchanged"`
	Failed    int    `dynamodbav:"failed"`
}

type importErrorItem struct {
	PK     string           `dynamodbav:"pk"`
	SK     string           `dynamodbav:"sk"`
	Type   string           `dynamodbav:"type"`
	Row    int              `dynamodbav:"row"`
	Errors []fieldErrorAttr `dynamodbav:"errors"`
}

func importJobsPartition(w string) string    { return ddb.WS(w) + "#IMPORT" }
func importJobKey(w, id string) ddb.Key      { return ddb.Key{PK: importJobsPartition(w), SK: id} }
func importJobPartition(w, id string) string { return importJobsPartition(w) + "#" + id }
func importChunkKey(w, id string, n int) ddb.Key {
	return ddb.Key{PK: importJobPartition(w, id), SK: chunkSK(n)}
}
func importPlanKey(w, id string, n int) ddb.Key {
	return ddb.Key{PK: importJobPartition(w, id), SK: fmt.Sprintf("PLAN#%05d", n)}
}
func importErrorKey(w, id string, row int) ddb.Key {
	return ddb.Key{PK: importJobPartition(w, id), SK: errorSK(row)}
}
func chunkSK(n int) string   { return fmt.Sprintf("CHUNK#%05d", n) }
func errorSK(row int) string { return fmt.Sprintf("ERR#%07d", row) }

// job is a stored job as the domain sees it. An item written before holdsTarget was stored
// holds its target if its family's jobs do (the only ones that did then).
func (s *Store) job(it importJobItem) jobs.Job {
	_, familyHolds := s.holders[it.Family]
	holds := familyHolds
	if it.HoldsTarget != nil {
		holds = *it.HoldsTarget
	}
	j := jobs.Job{
		ID: it.ID, WorkspaceID: it.WorkspaceID, Family: it.Family, Target: it.Target, Mode: it.Mode,
		HoldsTarget: holds, Actor: ddb.FromActorAttr(it.Actor), Status: it.Status, Total: it.Total, Chunks: it.Chunks,
		Counts: jobs.Counts{
			Processed: it.Processed, Created: it.Created, Updated: it.Updated,
			Unchanged: it.Unchanged, Removed: it.Removed, Failed: it.Failed,
		},
		ChunksDone: it.ChunksDone, FailedChunks: it.FailedChunks, Reason: it.Reason,
		RowReadUnits: it.RowReadUnits, RowWriteUnits: it.RowWriteUnits, CreatedAt: ddb.ParseTime(it.CreatedAt),
	}
	if it.StartedAt != "" {
		t := ddb.ParseTime(it.StartedAt)
		j.StartedAt = &t
	}
	if it.FinishedAt != "" {
		t := ddb.ParseTime(it.FinishedAt)
		j.FinishedAt = &t
	}
	return j
}

// Create stores a new job (status QUEUED, counters 0), with its target's hold in the same
// transaction when it holds one.
func (s *Store) Create(ctx context.Context, j jobs.Job) error {
	w := j.WorkspaceID
	k := importJobKey(w, j.ID)
	put, err := s.Put(importJobItem{
		PK: k.PK, SK: k.SK, Type: "ImportJob", ID: j.ID, WorkspaceID: w, Family: j.Family, Target: j.Target,
		Mode: j.Mode, HoldsTarget: &j.HoldsTarget, Actor: ddb.ToActorAttr(j.Actor), Status: jobs.Queued, Total: j.Total,
		Chunks: j.Chunks, CreatedAt: ddb.FmtTime(j.CreatedAt),
	}, "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	holder, err := s.holder(j)
	if err != nil {
		return err
	}
	if holder == nil { // one write: no transaction (it would cost twice the write units)
		_, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: put.Put.TableName, Item: put.Put.Item, ConditionExpression: put.Put.ConditionExpression,
		})
		if ddb.ConditionFailed(err) {
			return vocab.ErrExists
		}
		if err != nil {
			return fmt.Errorf("store: create import job: %w", err)
		}
		return nil
	}
	failed, err := s.TransactConditional(ctx, []types.TransactWriteItem{put, holder.TakeHold(w, j.Target, j.ID)})
	switch {
	case err != nil:
		return fmt.Errorf("store: create import job: %w", err)
	case failed == 0:
		return vocab.ErrExists
	case failed == 1:
		exists, err := holder.TargetExists(ctx, w, j.Target)
		switch {
		case err != nil:
			return err
		case !exists:
			return vocab.ErrNotFound
		}
		return jobs.ErrTargetHeld
	}
	return nil
}

// holder is the hold-taker of a job that holds its target (nil for one that does not).
func (s *Store) holder(j jobs.Job) (TargetHolder, error) {
	if !j.HoldsTarget {
		return nil, nil
	}
	h, ok := s.holders[j.Family]
	if !ok {
		return nil, fmt.Errorf("store: no target holder for jobs of family %q", j.Family)
	}
	return h, nil
}

// endJob runs the update that ends a job, with the release of its target's hold when it holds
// one. A target that this job no longer holds (freed by hand) does not keep the job from
// ending.
func (s *Store) endJob(ctx context.Context, j jobs.Job, end *dynamodb.UpdateItemInput) error {
	holder, err := s.holder(j)
	if err != nil {
		return err
	}
	if holder == nil {
		_, err := s.Client.UpdateItem(ctx, end)
		return err
	}
	ops := []types.TransactWriteItem{{Update: &types.Update{
		TableName: end.TableName, Key: end.Key, UpdateExpression: end.UpdateExpression,
		ConditionExpression: end.ConditionExpression, ExpressionAttributeNames: end.ExpressionAttributeNames,
		ExpressionAttributeValues: end.ExpressionAttributeValues,
	}}, holder.ReleaseHold(j.WorkspaceID, j.Target, j.ID)}
	failed, err := s.TransactConditional(ctx, ops)
	switch {
	case err != nil:
		return err
	case failed == 0:
		return &types.ConditionalCheckFailedException{Message: aws.String("the job's end condition failed")}
	case failed == 1:
		_, err := s.Client.UpdateItem(ctx, end)
		return err
	}
	return nil
}

// fieldErrorAttr is a row error's field problem as stored.
type fieldErrorAttr struct {
	Field   string `dynamodbav:"field"`
	Code    string `dynamodbav:"code"`
	Message string `dynamodbav:"message"`
}

func toFieldErrorAttrs(fes []jobs.FieldError) []fieldErrorAttr {
	out := make([]fieldErrorAttr, len(fes))
	for i, fe := range fes {
		out[i] = fieldErrorAttr(fe)
	}
	return out
}

func fromFieldErrorAttrs(fes []fieldErrorAttr) []jobs.FieldError {
	out := make([]jobs.FieldError, len(fes))
	for i, fe := range fes {
		out[i] = jobs.FieldError(fe)
	}
	return out
}

// Get reads a job (consistently) and its first maxErrors rows with errors, in row
// order. A job of another workspace is vocab.ErrNotFound.
func (s *Store) Get(ctx context.Context, w, id string, maxErrors int) (jobs.Job, []jobs.RowError, error) {
	var it importJobItem
	found, err := s.GetConsistent(ctx, importJobKey(w, id), &it)
	if err != nil {
		return jobs.Job{}, nil, err
	}
	if !found {
		return jobs.Job{}, nil, vocab.ErrNotFound
	}
	if maxErrors <= 0 {
		return s.job(it), nil, nil
	}
	res, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.TableName,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :err)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": ddb.S(importJobPartition(w, id)), ":err": ddb.S("ERR#")},
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(int32(min(maxErrors, 1000))),
	})
	if err != nil {
		return jobs.Job{}, nil, fmt.Errorf("store: query import errors: %w", err)
	}
	items, err := ddb.DecodeAll[importErrorItem](res.Items)
	if err != nil {
		return jobs.Job{}, nil, err
	}
	out := make([]jobs.RowError, len(items))
	for i, e := range items {
		out[i] = jobs.RowError{Row: e.Row, Errors: fromFieldErrorAttrs(e.Errors)}
	}
	return s.job(it), out, nil
}

// ChunkState reads a job and whether one of its chunks is done, consistently, in one call.
func (s *Store) ChunkState(ctx context.Context, w, id string, n int) (jobs.Job, bool, error) {
	items, err := s.BatchGet(ctx, []ddb.Key{importJobKey(w, id), importChunkKey(w, id, n)})
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
	if job == nil {
		return jobs.Job{}, false, vocab.ErrNotFound
	}
	return *job, done, nil
}

// Start moves a QUEUED job to RUNNING; it does nothing to a job in any other status.
func (s *Store) Start(ctx context.Context, w, id string, now time.Time) error {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: importJobKey(w, id).AV(),
		UpdateExpression:          aws.String("SET #status = :running, startedAt = :now"),
		ConditionExpression:       aws.String("#status = :queued"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":running": ddb.S(jobs.Running), ":queued": ddb.S(jobs.Queued), ":now": ddb.S(ddb.FmtTime(now))},
	})
	if err != nil && !ddb.ConditionFailed(err) {
		return fmt.Errorf("store: start import job: %w", err)
	}
	return nil
}

// ChunkPlan returns the counts a chunk's first writing attempt planned, if one did.
func (s *Store) ChunkPlan(ctx context.Context, w, id string, n int) (jobs.Counts, bool, error) {
	var it importPlanItem
	found, err := s.GetConsistent(ctx, importPlanKey(w, id, n), &it)
	if err != nil || !found {
		return jobs.Counts{}, false, err
	}
	return it.counts(), true, nil
}

func (it importPlanItem) counts() jobs.Counts {
	return jobs.Counts{
		Processed: it.Created + it.Updated + it.Unchanged + it.Failed,
		Created:   it.Created, Updated: it.Updated, Unchanged: it.Unchanged, Failed: it.Failed,
	}
}

// PutChunkPlan records a chunk's planned counts before its rows are written, unless an
// earlier attempt did; it returns the counts that hold (the earlier attempt's, if any).
func (s *Store) PutChunkPlan(ctx context.Context, w, id string, n int, c jobs.Counts) (jobs.Counts, error) {
	k := importPlanKey(w, id, n)
	av, err := attributevalue.MarshalMap(importPlanItem{
		PK: k.PK, SK: k.SK, Type: "ImportChunkPlan", Created: c.Created, Updated: c.Updated, Unchanged: c.Unchanged, Failed: c.Failed,
	})
	if err != nil {
		return jobs.Counts{}, fmt.Errorf("store: encode: %w", err)
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.TableName, Item: av, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	switch {
	case ddb.ConditionFailed(err):
		earlier, found, err := s.ChunkPlan(ctx, w, id, n)
		if err != nil || !found {
			return jobs.Counts{}, fmt.Errorf("store: import chunk plan vanished: %v", err)
		}
		return earlier, nil
	case err != nil:
		return jobs.Counts{}, fmt.Errorf("store: put import chunk plan: %w", err)
	}
	c.Processed = c.Created + c.Updated + c.Unchanged + c.Failed
	return c, nil
}

// ReplaceRowErrors makes the error items of rows firstRow..lastRow exactly errs: items an
// earlier attempt of the same chunk left for rows that are fine now are deleted.
func (s *Store) ReplaceRowErrors(ctx context.Context, w, id string, firstRow, lastRow int, errs []jobs.RowError) error {
	res, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.TableName,
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": ddb.S(importJobPartition(w, id)), ":lo": ddb.S(errorSK(firstRow)), ":hi": ddb.S(errorSK(lastRow)),
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
		k := importErrorKey(w, id, e.Row)
		keep[k.SK] = true
		av, err := attributevalue.MarshalMap(importErrorItem{PK: k.PK, SK: k.SK, Type: "ImportRowError", Row: e.Row, Errors: toFieldErrorAttrs(e.Errors)})
		if err != nil {
			return fmt.Errorf("store: encode: %w", err)
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

// CompleteChunk records a chunk as done and adds its counts to its job, in one
// transaction. applied is false when the chunk was already done (a redelivery): nothing
// changes then. jobs.ErrClosed: the job is finished or does not exist.
func (s *Store) CompleteChunk(ctx context.Context, w, id string, c jobs.ChunkResult, now time.Time) (applied bool, err error) {
	k := importChunkKey(w, id, c.N)
	marker, err := s.Put(importChunkItem{
		PK: k.PK, SK: k.SK, Type: "ImportChunk", Chunk: c.N, FirstRow: c.FirstRow, Rows: c.Rows,
		Processed: c.Counts.Processed, Created: c.Counts.Created, Updated: c.Counts.Updated,
		Unchanged: c.Counts.Unchanged, Failed: c.Counts.Failed, Matched: c.Keep, ChunkFailed: c.Failed,
		Reason: c.Reason, ReadUnits: c.ReadUnits, WriteUnits: c.WriteUnits, CompletedAt: ddb.FmtTime(now),
	}, "attribute_not_exists(pk)")
	if err != nil {
		return false, err
	}
	u := ddb.NewUpdate()
	adds := []string{}
	add := func(attr string, v string) {
		u.Names["#"+attr] = attr
		u.Values[":"+attr] = &types.AttributeValueMemberN{Value: v}
		adds = append(adds, "#"+attr+" :"+attr)
	}
	failedChunks := 0
	if c.Failed {
		failedChunks = 1
	}
	for attr, v := range map[string]int{
		"processed": c.Counts.Processed, "created": c.Counts.Created, "updated": c.Counts.Updated,
		"unchanged": c.Counts.Unchanged, "failed": c.Counts.Failed, "chunksDone": 1, "failedChunks": failedChunks,
	} {
		add(attr, strconv.Itoa(v))
	}
	add("rowReadUnits", strconv.FormatFloat(c.ReadUnits, 'f', -1, 64))
	add("rowWriteUnits", strconv.FormatFloat(c.WriteUnits, 'f', -1, 64))
	u.Set("status", ":running")
	u.Values[":running"] = ddb.S(jobs.Running)
	u.Names["#startedAt"] = "startedAt"
	u.Values[":now"] = ddb.S(ddb.FmtTime(now))
	u.Sets = append(u.Sets, "#startedAt = if_not_exists(#startedAt, :now)")
	if c.Failed && c.Reason != "" {
		u.Names["#reason"] = "reason"
		u.Values[":reason"] = ddb.S(c.Reason)
		u.Sets = append(u.Sets, "#reason = if_not_exists(#reason, :reason)")
	}
	u.Values[":queued"] = ddb.S(jobs.Queued)
	expr := u.Expression() + " ADD " + strings.Join(adds, ", ")
	job := types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(s.TableName), Key: importJobKey(w, id).AV(), UpdateExpression: aws.String(expr),
		ConditionExpression:      aws.String("#status = :queued OR #status = :running"),
		ExpressionAttributeNames: u.Names, ExpressionAttributeValues: u.Values,
	}}
	failed, err := s.TransactConditional(ctx, []types.TransactWriteItem{marker, job})
	switch {
	case err != nil:
		return false, fmt.Errorf("store: complete import chunk %d: %w", c.N, err)
	case failed == 0:
		return false, nil
	case failed == 1:
		return false, jobs.ErrClosed
	}
	return true, nil
}

// KeepSet returns the keys every done chunk of a job keeps.
func (s *Store) KeepSet(ctx context.Context, w, id string) (map[string]bool, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.TableName,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :chunk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": ddb.S(importJobPartition(w, id)), ":chunk": ddb.S("CHUNK#")},
		ProjectionExpression:      aws.String("matched"),
		ConsistentRead:            aws.Bool(true),
	}
	keep := map[string]bool{}
	for {
		res, err := s.Client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: query import chunks: %w", err)
		}
		chunks, err := ddb.DecodeAll[importChunkItem](res.Items)
		if err != nil {
			return nil, err
		}
		for _, c := range chunks {
			for _, p := range c.Matched {
				keep[p] = true
			}
		}
		if res.LastEvaluatedKey == nil {
			return keep, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// ClaimFinish makes the caller the job's finisher until `until`, if every chunk is done,
// the job is not finished and no other finisher's lease is running. It returns the job as
// claimed; ok is false when the claim was not granted.
func (s *Store) ClaimFinish(ctx context.Context, w, id, token string, now, until time.Time) (job jobs.Job, ok bool, err error) {
	res, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: importJobKey(w, id).AV(),
		UpdateExpression: aws.String("SET finisher = :token, finishLease = :until"),
		// finisher = :token: a retry of this very claim (its first reply lost) is granted again.
		ConditionExpression: aws.String("chunksDone = chunks AND (#status = :queued OR #status = :running) AND " +
			"(attribute_not_exists(finishLease) OR finishLease < :now OR finisher = :token)"),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":token": ddb.S(token), ":until": ddb.Millis(until), ":now": ddb.Millis(now),
			":queued": ddb.S(jobs.Queued), ":running": ddb.S(jobs.Running),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if ddb.ConditionFailed(err) {
		return jobs.Job{}, false, nil
	}
	if err != nil {
		return jobs.Job{}, false, fmt.Errorf("store: claim import finish: %w", err)
	}
	var it importJobItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return jobs.Job{}, false, fmt.Errorf("store: decode: %w", err)
	}
	return s.job(it), true, nil
}

// PlanRemovals records how many records the finish removes, once: a
// finisher that takes over after a crash keeps the first finisher's count (the records it reads
// no longer holds what was already removed). It returns the count that holds.
func (s *Store) PlanRemovals(ctx context.Context, w, id, token string, n int) (int, error) {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: importJobKey(w, id).AV(),
		UpdateExpression:          aws.String("SET removed = :n, removalsPlanned = :t"),
		ConditionExpression:       aws.String("finisher = :token AND attribute_not_exists(removalsPlanned)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: strconv.Itoa(n)}, ":t": &types.AttributeValueMemberBOOL{Value: true}, ":token": ddb.S(token)},
	})
	if err == nil {
		return n, nil
	}
	if !ddb.ConditionFailed(err) {
		return 0, fmt.Errorf("store: plan import removals: %w", err)
	}
	var it importJobItem
	found, err := s.GetConsistent(ctx, importJobKey(w, id), &it)
	switch {
	case err != nil:
		return 0, err
	case !found || it.Finisher != token:
		return 0, jobs.ErrLeaseLost
	}
	return it.Removed, nil
}

// Finish sets a job's final status, if the caller still holds the finishing lease,
// and adds what the finishing cost to the job's row units. A job that holds its target
// releases it in the same transaction.
func (s *Store) Finish(ctx context.Context, j jobs.Job, token, status, reason string, now time.Time, readUnits, writeUnits float64) error {
	expr := "SET #status = :status, finishedAt = :now"
	values := map[string]types.AttributeValue{
		":status": ddb.S(status), ":now": ddb.S(ddb.FmtTime(now)), ":token": ddb.S(token),
		":queued": ddb.S(jobs.Queued), ":running": ddb.S(jobs.Running),
		":r": &types.AttributeValueMemberN{Value: strconv.FormatFloat(readUnits, 'f', -1, 64)},
		":w": &types.AttributeValueMemberN{Value: strconv.FormatFloat(writeUnits, 'f', -1, 64)},
	}
	if reason != "" {
		expr += ", reason = :reason"
		values[":reason"] = ddb.S(reason)
	}
	expr += " REMOVE finisher, finishLease ADD rowReadUnits :r, rowWriteUnits :w"
	err := s.endJob(ctx, j, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: importJobKey(j.WorkspaceID, j.ID).AV(), UpdateExpression: aws.String(expr),
		ConditionExpression:       aws.String("finisher = :token AND (#status = :queued OR #status = :running)"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: values,
	})
	if ddb.ConditionFailed(err) {
		return jobs.ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("store: finish import job: %w", err)
	}
	return nil
}

// Fail ends a job as FAILED with a reason, whoever holds its finishing lease, when
// every chunk is done (allDone) or in any case (!allDone). A finished job is left as it is. A
// job that holds its target releases it in the same transaction.
func (s *Store) Fail(ctx context.Context, w, id, reason string, now time.Time, allDone bool) error {
	var it importJobItem
	found, err := s.GetConsistent(ctx, importJobKey(w, id), &it)
	if err != nil || !found {
		return err
	}
	cond := "(#status = :queued OR #status = :running)"
	if allDone {
		cond += " AND chunksDone = chunks"
	}
	err = s.endJob(ctx, s.job(it), &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: importJobKey(w, id).AV(),
		UpdateExpression:         aws.String("SET #status = :failed, finishedAt = :now, reason = :reason REMOVE finisher, finishLease"),
		ConditionExpression:      aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":failed": ddb.S(jobs.Failed), ":now": ddb.S(ddb.FmtTime(now)), ":reason": ddb.S(reason),
			":queued": ddb.S(jobs.Queued), ":running": ddb.S(jobs.Running),
		},
	})
	if err != nil && !ddb.ConditionFailed(err) {
		return fmt.Errorf("store: fail import job: %w", err)
	}
	return nil
}
