package store

// Import jobs: a large import is a job item, one completion marker per chunk, one plan per chunk
// that started writing, and one error item per rejected row. Every partition is led by the
// tenant, like the rest of the table (doc.go, patterns 1-18).
//
//	| #  | access pattern                                   | index | key condition                                    |
//	|----|--------------------------------------------------|-------|--------------------------------------------------|
//	| 19 | get / list a workspace's import jobs             | table | pk=WS#<ws>#IMPORT, sk=<jobId>                    |
//	| 20 | is a chunk done; the keep set of a FULL_SYNC     | table | pk=WS#<ws>#IMPORT#<jobId>, sk=CHUNK#<n:05d>      |
//	| 21 | a chunk's counts as its first attempt planned    | table | pk=WS#<ws>#IMPORT#<jobId>, sk=PLAN#<n:05d>       |
//	| 22 | a job's first N row errors, in row order         | table | pk=WS#<ws>#IMPORT#<jobId>, sk=ERR#<row:07d>      |
//
// The job item holds the counters (processed, created, updated, unchanged, removed, failed,
// chunksDone, failedChunks). Completing a chunk is one transaction: the chunk's marker is put
// with attribute_not_exists (a redelivered chunk finds it and changes nothing) and the chunk's
// counts are ADDed to the job in the same transaction, so the counters never count a chunk
// twice or miss one. The worker that finds chunksDone = chunks claims the job's finishing with a
// conditional UpdateItem (a lease: finisher token + finishLease in unix milliseconds, so a
// finisher that died is taken over once its lease ends) and sets the final status.
//
// A chunk's plan item records the counts of the first attempt that wrote rows: a retry after a
// crash part-way through finds its own earlier writes as "unchanged", so the counts come from
// the plan, not from the retry.
//
// Ids are ULIDs, so pattern 19 lists jobs in creation order. Row error sort keys are zero-padded
// row indexes, so a Query with Limit N returns the first N rows with errors.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Import job statuses.
const (
	ImportQueued    = "QUEUED"
	ImportRunning   = "RUNNING"
	ImportCompleted = "COMPLETED"
	ImportFailed    = "FAILED"
)

var (
	// ErrImportJobClosed: the job is finished (or gone); a chunk can no longer be counted on it.
	ErrImportJobClosed = errors.New("store: import job is finished")
	// ErrImportLeaseLost: another worker took over finishing the job.
	ErrImportLeaseLost = errors.New("store: import job finishing lease lost")
)

// ImportCounts are an import's row counts.
type ImportCounts struct {
	Processed int // rows handled, failed ones included
	Created   int // new screener participants
	Updated   int // screener participants (and their participants) changed
	Unchanged int // rows that changed nothing
	Removed   int // FULL_SYNC: screener participants unlinked
	Failed    int // rows rejected, or rows of a chunk that failed
}

// ImportJob is one asynchronous import.
type ImportJob struct {
	ID          string
	WorkspaceID string
	Family      string // ImportFamilySpot | ImportFamilySnap
	Target      string // the screener id (spot) or survey id (snap)
	Mode        string // spot: UPDATES_ONLY | FULL_SYNC; snap: ADD
	Actor       *vocab.Actor
	Status      string // QUEUED | RUNNING | COMPLETED | FAILED
	Total       int    // rows in the payload
	Chunks      int
	Counts      ImportCounts
	ChunksDone  int
	// FailedChunks counts chunks that failed for good (their rows are counted failed).
	FailedChunks int
	Reason       string // why the job FAILED
	// RowReadUnits and RowWriteUnits are what the rows' own work cost (the bookkeeping of the
	// job is not included): an import of unchanged rows writes 0 units.
	RowReadUnits, RowWriteUnits float64
	CreatedAt                   time.Time
	StartedAt, FinishedAt       *time.Time
}

// Terminal reports whether the job is finished.
func (j ImportJob) Terminal() bool { return j.Status == ImportCompleted || j.Status == ImportFailed }

// ImportChunk is the completion record of one chunk.
type ImportChunk struct {
	N        int
	FirstRow int
	Rows     int
	Counts   ImportCounts // Removed is unused
	// Matched are the participant ids the chunk's rows name (FULL_SYNC keeps them).
	Matched []string
	Failed  bool // the chunk failed for good: all its rows are counted failed
	Reason  string
	// ReadUnits and WriteUnits are what the chunk's rows cost.
	ReadUnits, WriteUnits float64
}

// ImportFieldError is one problem with one field of a row.
type ImportFieldError struct {
	Field   string `dynamodbav:"field"`
	Code    string `dynamodbav:"code"`
	Message string `dynamodbav:"message"`
}

// ImportRowError is a rejected row: its index in the whole payload and its problems.
type ImportRowError struct {
	Row    int
	Errors []ImportFieldError
}

type importJobItem struct {
	PK              string     `dynamodbav:"pk"`
	SK              string     `dynamodbav:"sk"`
	Type            string     `dynamodbav:"type"`
	ID              string     `dynamodbav:"id"`
	WorkspaceID     string     `dynamodbav:"workspaceId"`
	Family          string     `dynamodbav:"family"`
	Target          string     `dynamodbav:"target"`
	Mode            string     `dynamodbav:"mode"`
	Actor           *actorAttr `dynamodbav:"actor,omitempty"`
	Status          string     `dynamodbav:"status"`
	Total           int        `dynamodbav:"total"`
	Chunks          int        `dynamodbav:"chunks"`
	Processed       int        `dynamodbav:"processed"`
	Created         int        `dynamodbav:"created"`
	Updated         int        `dynamodbav:"updated"`
	Unchanged       int        `dynamodbav:"unchanged"`
	Removed         int        `dynamodbav:"removed"`
	Failed          int        `dynamodbav:"failed"`
	ChunksDone      int        `dynamodbav:"chunksDone"`
	FailedChunks    int        `dynamodbav:"failedChunks"`
	Reason          string     `dynamodbav:"reason,omitempty"`
	RowReadUnits    float64    `dynamodbav:"rowReadUnits"`
	RowWriteUnits   float64    `dynamodbav:"rowWriteUnits"`
	CreatedAt       string     `dynamodbav:"createdAt"`
	StartedAt       string     `dynamodbav:"startedAt,omitempty"`
	FinishedAt      string     `dynamodbav:"finishedAt,omitempty"`
	Finisher        string     `dynamodbav:"finisher,omitempty"`
	FinishLease     int64      `dynamodbav:"finishLease,omitempty"`
	RemovalsPlanned bool       `dynamodbav:"removalsPlanned,omitempty"`
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
	PK     string             `dynamodbav:"pk"`
	SK     string             `dynamodbav:"sk"`
	Type   string             `dynamodbav:"type"`
	Row    int                `dynamodbav:"row"`
	Errors []ImportFieldError `dynamodbav:"errors"`
}

func importJobsPartition(w string) string    { return ws(w) + "#IMPORT" }
func importJobKey(w, id string) key          { return key{importJobsPartition(w), id} }
func importJobPartition(w, id string) string { return importJobsPartition(w) + "#" + id }
func importChunkKey(w, id string, n int) key { return key{importJobPartition(w, id), chunkSK(n)} }
func importPlanKey(w, id string, n int) key {
	return key{importJobPartition(w, id), fmt.Sprintf("PLAN#%05d", n)}
}
func importErrorKey(w, id string, row int) key { return key{importJobPartition(w, id), errorSK(row)} }
func chunkSK(n int) string                     { return fmt.Sprintf("CHUNK#%05d", n) }
func errorSK(row int) string                   { return fmt.Sprintf("ERR#%07d", row) }

func (it importJobItem) domain() ImportJob {
	j := ImportJob{
		ID: it.ID, WorkspaceID: it.WorkspaceID, Family: it.Family, Target: it.Target, Mode: it.Mode,
		Actor: fromActorAttr(it.Actor), Status: it.Status, Total: it.Total, Chunks: it.Chunks,
		Counts: ImportCounts{
			Processed: it.Processed, Created: it.Created, Updated: it.Updated,
			Unchanged: it.Unchanged, Removed: it.Removed, Failed: it.Failed,
		},
		ChunksDone: it.ChunksDone, FailedChunks: it.FailedChunks, Reason: it.Reason,
		RowReadUnits: it.RowReadUnits, RowWriteUnits: it.RowWriteUnits, CreatedAt: parseTime(it.CreatedAt),
	}
	if it.StartedAt != "" {
		t := parseTime(it.StartedAt)
		j.StartedAt = &t
	}
	if it.FinishedAt != "" {
		t := parseTime(it.FinishedAt)
		j.FinishedAt = &t
	}
	return j
}

// CreateImportJob stores a new job (status QUEUED, counters 0); ErrExists if its id is taken.
func (s *DDBStore) CreateImportJob(ctx context.Context, w string, j ImportJob) error {
	k := importJobKey(w, j.ID)
	av, err := attributevalue.MarshalMap(importJobItem{
		PK: k.pk, SK: k.sk, Type: "ImportJob", ID: j.ID, WorkspaceID: w, Family: j.Family, Target: j.Target,
		Mode: j.Mode, Actor: toActorAttr(j.Actor), Status: ImportQueued, Total: j.Total, Chunks: j.Chunks,
		CreatedAt: fmtTime(j.CreatedAt),
	})
	if err != nil {
		return fmt.Errorf("store: encode: %w", err)
	}
	put := &dynamodb.PutItemInput{TableName: &s.table, Item: av, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if j.holdsRoster() {
		return s.createHoldingRoster(ctx, w, j, put)
	}
	_, err = s.client.PutItem(ctx, put)
	if conditionFailed(err) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("store: create import job: %w", err)
	}
	return nil
}

// createHoldingRoster stores a new job and takes its survey's roster in one transaction:
// ErrExists if the job exists, survey.ErrRosterLocked if another import holds the roster,
// vocab.ErrNotFound if the survey is gone.
func (s *DDBStore) createHoldingRoster(ctx context.Context, w string, j ImportJob, put *dynamodb.PutItemInput) error {
	ops := []types.TransactWriteItem{
		{Put: &types.Put{TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression}},
		s.takeRoster(w, j),
	}
	failed, err := s.transactConditional(ctx, ops)
	switch {
	case err != nil:
		return fmt.Errorf("store: create import job: %w", err)
	case failed == 0:
		return ErrExists
	case failed == 1:
		if _, _, err := s.GetSurvey(ctx, w, j.Target); err != nil {
			return err // vocab.ErrNotFound when the survey is gone
		}
		return survey.ErrRosterLocked
	}
	return nil
}

// transactConditional runs a transaction (paced, if the store is), retrying what DynamoDB
// cancels for contention or throttling. When a condition fails it returns the index of the first failing write and no
// error; failed is -1 when the transaction went through.
func (s *DDBStore) transactConditional(ctx context.Context, ops []types.TransactWriteItem) (failed int, err error) {
	for attempt := 0; ; attempt++ {
		if err := s.pace(ctx, ops); err != nil {
			return -1, err
		}
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
		if err == nil {
			return -1, nil
		}
		var canceled *types.TransactionCanceledException
		if errors.As(err, &canceled) {
			for i, r := range canceled.CancellationReasons {
				if aws.ToString(r.Code) == "ConditionalCheckFailed" {
					return i, nil
				}
			}
		}
		if retry, _ := classify(err); !retry || attempt+1 >= maxAttempts {
			return -1, err
		}
		if err := backoff(ctx, attempt+1); err != nil {
			return -1, err
		}
	}
}

// GetImportJob reads a job (consistently) and its first maxErrors rows with errors, in row
// order. A job of another workspace is vocab.ErrNotFound.
func (s *DDBStore) GetImportJob(ctx context.Context, w, id string, maxErrors int) (ImportJob, []ImportRowError, error) {
	var it importJobItem
	found, err := s.getConsistent(ctx, importJobKey(w, id), &it)
	if err != nil {
		return ImportJob{}, nil, err
	}
	if !found {
		return ImportJob{}, nil, vocab.ErrNotFound
	}
	if maxErrors <= 0 {
		return it.domain(), nil, nil
	}
	res, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :err)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(importJobPartition(w, id)), ":err": str("ERR#")},
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(int32(min(maxErrors, 1000))),
	})
	if err != nil {
		return ImportJob{}, nil, fmt.Errorf("store: query import errors: %w", err)
	}
	items, err := decodeAll[importErrorItem](res.Items)
	if err != nil {
		return ImportJob{}, nil, err
	}
	out := make([]ImportRowError, len(items))
	for i, e := range items {
		out[i] = ImportRowError{Row: e.Row, Errors: e.Errors}
	}
	return it.domain(), out, nil
}

// ImportChunkState reads a job and whether one of its chunks is done, consistently, in one call.
func (s *DDBStore) ImportChunkState(ctx context.Context, w, id string, n int) (ImportJob, bool, error) {
	items, err := s.batchGet(ctx, []key{importJobKey(w, id), importChunkKey(w, id, n)})
	if err != nil {
		return ImportJob{}, false, err
	}
	var job *ImportJob
	done := false
	for _, it := range items {
		if sk, _ := it[attrSK].(*types.AttributeValueMemberS); sk != nil && sk.Value == chunkSK(n) {
			done = true
			continue
		}
		var ji importJobItem
		if err := attributevalue.UnmarshalMap(it, &ji); err != nil {
			return ImportJob{}, false, fmt.Errorf("store: decode: %w", err)
		}
		j := ji.domain()
		job = &j
	}
	if job == nil {
		return ImportJob{}, false, vocab.ErrNotFound
	}
	return *job, done, nil
}

// StartImportJob moves a QUEUED job to RUNNING; it does nothing to a job in any other status.
func (s *DDBStore) StartImportJob(ctx context.Context, w, id string, now time.Time) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: importJobKey(w, id).av(),
		UpdateExpression:          aws.String("SET #status = :running, startedAt = :now"),
		ConditionExpression:       aws.String("#status = :queued"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":running": str(ImportRunning), ":queued": str(ImportQueued), ":now": str(fmtTime(now))},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("store: start import job: %w", err)
	}
	return nil
}

// ImportChunkPlan returns the counts a chunk's first writing attempt planned, if one did.
func (s *DDBStore) ImportChunkPlan(ctx context.Context, w, id string, n int) (ImportCounts, bool, error) {
	var it importPlanItem
	found, err := s.getConsistent(ctx, importPlanKey(w, id, n), &it)
	if err != nil || !found {
		return ImportCounts{}, false, err
	}
	return it.counts(), true, nil
}

func (it importPlanItem) counts() ImportCounts {
	return ImportCounts{
		Processed: it.Created + it.Updated + it.Unchanged + it.Failed,
		Created:   it.Created, Updated: it.Updated, Unchanged: it.Unchanged, Failed: it.Failed,
	}
}

// PutImportChunkPlan records a chunk's planned counts before its rows are written, unless an
// earlier attempt did; it returns the counts that hold (the earlier attempt's, if any).
func (s *DDBStore) PutImportChunkPlan(ctx context.Context, w, id string, n int, c ImportCounts) (ImportCounts, error) {
	k := importPlanKey(w, id, n)
	av, err := attributevalue.MarshalMap(importPlanItem{
		PK: k.pk, SK: k.sk, Type: "ImportChunkPlan", Created: c.Created, Updated: c.Updated, Unchanged: c.Unchanged, Failed: c.Failed,
	})
	if err != nil {
		return ImportCounts{}, fmt.Errorf("store: encode: %w", err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: av, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	switch {
	case conditionFailed(err):
		earlier, found, err := s.ImportChunkPlan(ctx, w, id, n)
		if err != nil || !found {
			return ImportCounts{}, fmt.Errorf("store: import chunk plan vanished: %v", err)
		}
		return earlier, nil
	case err != nil:
		return ImportCounts{}, fmt.Errorf("store: put import chunk plan: %w", err)
	}
	c.Processed = c.Created + c.Updated + c.Unchanged + c.Failed
	return c, nil
}

// ReplaceImportRowErrors makes the error items of rows firstRow..lastRow exactly errs: items an
// earlier attempt of the same chunk left for rows that are fine now are deleted.
func (s *DDBStore) ReplaceImportRowErrors(ctx context.Context, w, id string, firstRow, lastRow int, errs []ImportRowError) error {
	res, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(importJobPartition(w, id)), ":lo": str(errorSK(firstRow)), ":hi": str(errorSK(lastRow)),
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
		keep[k.sk] = true
		av, err := attributevalue.MarshalMap(importErrorItem{PK: k.pk, SK: k.sk, Type: "ImportRowError", Row: e.Row, Errors: e.Errors})
		if err != nil {
			return fmt.Errorf("store: encode: %w", err)
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	for _, it := range res.Items { // a chunk has at most a few hundred rows: one page
		if sk, _ := it[attrSK].(*types.AttributeValueMemberS); sk != nil && !keep[sk.Value] {
			writes = append(writes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: it}})
		}
	}
	return s.batchWrite(ctx, writes)
}

// batchWrite writes 25 requests a call and retries what DynamoDB leaves unprocessed.
func (s *DDBStore) batchWrite(ctx context.Context, writes []types.WriteRequest) error {
	for start := 0; start < len(writes); start += 25 {
		req := map[string][]types.WriteRequest{s.table: writes[start:min(start+25, len(writes))]}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if attempt >= 4*maxAttempts {
					return fmt.Errorf("store: batch write: %d requests still unprocessed", len(req[s.table]))
				}
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
			}
			res, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
			if err != nil {
				return fmt.Errorf("store: batch write: %w", err)
			}
			req = res.UnprocessedItems
		}
	}
	return nil
}

// CompleteImportChunk records a chunk as done and adds its counts to its job, in one
// transaction. applied is false when the chunk was already done (a redelivery): nothing
// changes then. ErrImportJobClosed: the job is finished or does not exist.
func (s *DDBStore) CompleteImportChunk(ctx context.Context, w, id string, c ImportChunk, now time.Time) (applied bool, err error) {
	k := importChunkKey(w, id, c.N)
	marker, err := s.put(importChunkItem{
		PK: k.pk, SK: k.sk, Type: "ImportChunk", Chunk: c.N, FirstRow: c.FirstRow, Rows: c.Rows,
		Processed: c.Counts.Processed, Created: c.Counts.Created, Updated: c.Counts.Updated,
		Unchanged: c.Counts.Unchanged, Failed: c.Counts.Failed, Matched: c.Matched, ChunkFailed: c.Failed,
		Reason: c.Reason, ReadUnits: c.ReadUnits, WriteUnits: c.WriteUnits, CompletedAt: fmtTime(now),
	}, "attribute_not_exists(pk)")
	if err != nil {
		return false, err
	}
	u := newUpdate()
	adds := []string{}
	add := func(attr string, v string) {
		u.names["#"+attr] = attr
		u.values[":"+attr] = &types.AttributeValueMemberN{Value: v}
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
	u.set("status", ":running")
	u.values[":running"] = str(ImportRunning)
	u.names["#startedAt"] = "startedAt"
	u.values[":now"] = str(fmtTime(now))
	u.sets = append(u.sets, "#startedAt = if_not_exists(#startedAt, :now)")
	if c.Failed && c.Reason != "" {
		u.names["#reason"] = "reason"
		u.values[":reason"] = str(c.Reason)
		u.sets = append(u.sets, "#reason = if_not_exists(#reason, :reason)")
	}
	u.values[":queued"] = str(ImportQueued)
	expr := u.expression() + " ADD " + strings.Join(adds, ", ")
	job := types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(s.table), Key: importJobKey(w, id).av(), UpdateExpression: aws.String(expr),
		ConditionExpression:      aws.String("#status = :queued OR #status = :running"),
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
	}}
	failed, err := s.transactConditional(ctx, []types.TransactWriteItem{marker, job})
	switch {
	case err != nil:
		return false, fmt.Errorf("store: complete import chunk %d: %w", c.N, err)
	case failed == 0:
		return false, nil
	case failed == 1:
		return false, ErrImportJobClosed
	}
	return true, nil
}

// ImportKeepSet returns the participant ids every done chunk of a job names.
func (s *DDBStore) ImportKeepSet(ctx context.Context, w, id string) (map[string]bool, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :chunk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(importJobPartition(w, id)), ":chunk": str("CHUNK#")},
		ProjectionExpression:      aws.String("matched"),
		ConsistentRead:            aws.Bool(true),
	}
	keep := map[string]bool{}
	for {
		res, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: query import chunks: %w", err)
		}
		chunks, err := decodeAll[importChunkItem](res.Items)
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

// ClaimImportFinish makes the caller the job's finisher until `until`, if every chunk is done,
// the job is not finished and no other finisher's lease is running. It returns the job as
// claimed; ok is false when the claim was not granted.
func (s *DDBStore) ClaimImportFinish(ctx context.Context, w, id, token string, now, until time.Time) (job ImportJob, ok bool, err error) {
	res, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: importJobKey(w, id).av(),
		UpdateExpression: aws.String("SET finisher = :token, finishLease = :until"),
		// finisher = :token: a retry of this very claim (its first reply lost) is granted again.
		ConditionExpression: aws.String("chunksDone = chunks AND (#status = :queued OR #status = :running) AND " +
			"(attribute_not_exists(finishLease) OR finishLease < :now OR finisher = :token)"),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":token": str(token), ":until": millis(until), ":now": millis(now),
			":queued": str(ImportQueued), ":running": str(ImportRunning),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if conditionFailed(err) {
		return ImportJob{}, false, nil
	}
	if err != nil {
		return ImportJob{}, false, fmt.Errorf("store: claim import finish: %w", err)
	}
	var it importJobItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return ImportJob{}, false, fmt.Errorf("store: decode: %w", err)
	}
	return it.domain(), true, nil
}

// PlanImportRemovals records how many screener participants a FULL_SYNC removes, once: a
// finisher that takes over after a crash keeps the first finisher's count (the roster it reads
// no longer holds what was already removed). It returns the count that holds.
func (s *DDBStore) PlanImportRemovals(ctx context.Context, w, id, token string, n int) (int, error) {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: importJobKey(w, id).av(),
		UpdateExpression:          aws.String("SET removed = :n, removalsPlanned = :t"),
		ConditionExpression:       aws.String("finisher = :token AND attribute_not_exists(removalsPlanned)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: strconv.Itoa(n)}, ":t": &types.AttributeValueMemberBOOL{Value: true}, ":token": str(token)},
	})
	if err == nil {
		return n, nil
	}
	if !conditionFailed(err) {
		return 0, fmt.Errorf("store: plan import removals: %w", err)
	}
	var it importJobItem
	found, err := s.getConsistent(ctx, importJobKey(w, id), &it)
	switch {
	case err != nil:
		return 0, err
	case !found || it.Finisher != token:
		return 0, ErrImportLeaseLost
	}
	return it.Removed, nil
}

// FinishImportJob sets a job's final status, if the caller still holds the finishing lease,
// and adds what the finishing cost to the job's row units. A job that holds its survey's roster
// releases it in the same transaction.
func (s *DDBStore) FinishImportJob(ctx context.Context, j ImportJob, token, status, reason string, now time.Time, readUnits, writeUnits float64) error {
	expr := "SET #status = :status, finishedAt = :now"
	values := map[string]types.AttributeValue{
		":status": str(status), ":now": str(fmtTime(now)), ":token": str(token),
		":queued": str(ImportQueued), ":running": str(ImportRunning),
		":r": &types.AttributeValueMemberN{Value: strconv.FormatFloat(readUnits, 'f', -1, 64)},
		":w": &types.AttributeValueMemberN{Value: strconv.FormatFloat(writeUnits, 'f', -1, 64)},
	}
	if reason != "" {
		expr += ", reason = :reason"
		values[":reason"] = str(reason)
	}
	expr += " REMOVE finisher, finishLease ADD rowReadUnits :r, rowWriteUnits :w"
	err := s.endJob(ctx, j.WorkspaceID, j, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: importJobKey(j.WorkspaceID, j.ID).av(), UpdateExpression: aws.String(expr),
		ConditionExpression:       aws.String("finisher = :token AND (#status = :queued OR #status = :running)"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: values,
	})
	if conditionFailed(err) {
		return ErrImportLeaseLost
	}
	if err != nil {
		return fmt.Errorf("store: finish import job: %w", err)
	}
	return nil
}

// FailImportJob ends a job as FAILED with a reason, whoever holds its finishing lease, when
// every chunk is done (allDone) or in any case (!allDone). A finished job is left as it is. A
// job that holds its survey's roster releases it in the same transaction.
func (s *DDBStore) FailImportJob(ctx context.Context, w, id, reason string, now time.Time, allDone bool) error {
	var it importJobItem
	found, err := s.getConsistent(ctx, importJobKey(w, id), &it)
	if err != nil || !found {
		return err
	}
	cond := "(#status = :queued OR #status = :running)"
	if allDone {
		cond += " AND chunksDone = chunks"
	}
	err = s.endJob(ctx, w, it.domain(), &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: importJobKey(w, id).av(),
		UpdateExpression:         aws.String("SET #status = :failed, finishedAt = :now, reason = :reason REMOVE finisher, finishLease"),
		ConditionExpression:      aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":failed": str(ImportFailed), ":now": str(fmtTime(now)), ":reason": str(reason),
			":queued": str(ImportQueued), ":running": str(ImportRunning),
		},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("store: fail import job: %w", err)
	}
	return nil
}

// getConsistent reads one item with a strongly consistent read.
func (s *DDBStore) getConsistent(ctx context.Context, k key, out any) (bool, error) {
	res, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k.av(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fmt.Errorf("store: get %s/%s: %w", k.pk, k.sk, err)
	}
	if res.Item == nil {
		return false, nil
	}
	return true, attributevalue.UnmarshalMap(res.Item, out)
}

func conditionFailed(err error) bool {
	var failed *types.ConditionalCheckFailedException
	return errors.As(err, &failed)
}

func millis(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixMilli(), 10)}
}
