package jobstore

import (
	"context"
	"fmt"
	"strconv"
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
	// Now is the clock reads compare a job's expiry with (nil: time.Now).
	Now func() time.Time
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

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

type importJobItem struct {
	PK                string         `dynamodbav:"pk"`
	SK                string         `dynamodbav:"sk"`
	Type              string         `dynamodbav:"type"`
	ID                string         `dynamodbav:"id"`
	WorkspaceID       string         `dynamodbav:"workspaceId"`
	Family            string         `dynamodbav:"family"`
	Target            string         `dynamodbav:"target"`
	Mode              string         `dynamodbav:"mode"`
	Actor             *ddb.ActorAttr `dynamodbav:"actor,omitempty"`
	Status            string         `dynamodbav:"status"`
	Total             int            `dynamodbav:"total"`
	Chunks            int            `dynamodbav:"chunks"`
	Processed         int            `dynamodbav:"processed"`
	Created           int            `dynamodbav:"created"`
	Updated           int            `dynamodbav:"updated"`
	Unchanged         int            `dynamodbav:"unchanged"`
	Removed           int            `dynamodbav:"removed"`
	Failed            int            `dynamodbav:"failed"`
	Skipped           int            `dynamodbav:"skipped"`
	ChunksDone        int            `dynamodbav:"chunksDone"`
	FailedChunks      int            `dynamodbav:"failedChunks"`
	Reason            string         `dynamodbav:"reason,omitempty"`
	RowReadUnits      float64        `dynamodbav:"rowReadUnits"`
	RowWriteUnits     float64        `dynamodbav:"rowWriteUnits"`
	CreatedAt         string         `dynamodbav:"createdAt"`
	StartedAt         string         `dynamodbav:"startedAt,omitempty"`
	FinishedAt        string         `dynamodbav:"finishedAt,omitempty"`
	ProgressAt        string         `dynamodbav:"progressAt,omitempty"`
	ExpiresAt         string         `dynamodbav:"expiresAt,omitempty"`
	CancelRequestedAt string         `dynamodbav:"cancelRequestedAt,omitempty"`
	DryRun            bool           `dynamodbav:"dryRun,omitempty"`
	MaxRemovals       *int           `dynamodbav:"maxRemovals,omitempty"`
	Finisher          string         `dynamodbav:"finisher,omitempty"`
	FinishLease       int64          `dynamodbav:"finishLease,omitempty"`
	RemovalsPlanned   bool           `dynamodbav:"removalsPlanned,omitempty"`
	HoldsTarget       *bool          `dynamodbav:"holdsTarget,omitempty"` // nil: written before it was stored
	// GSI2PK and GSI2SK put a job that is not terminal in the sparse index of active jobs
	// (pattern 23); the write that ends the job removes them.
	GSI2PK string `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK string `dynamodbav:"gsi2sk,omitempty"`
}

// activeJobsPK is the partition of the sparse index (gsi2) that lists every job not yet
// terminal, of every workspace: the sweeper's one Query. It is no workspace's ("WS#" leads
// every workspace key), so it meets no other key of gsi2.
const activeJobsPK = "IMPORT#ACTIVE"

func activeJobsSK(j jobs.Job) string {
	return ddb.FmtTime(j.CreatedAt) + "#" + j.WorkspaceID + "#" + j.ID
}

// endRemoves is what every write that ends a job removes: the finishing lease and the job's
// entry in the index of active jobs.
const endRemoves = " REMOVE finisher, finishLease, gsi2pk, gsi2sk"

func importJobsPartition(w string) string    { return ddb.WS(w) + "#IMPORT" }
func importJobKey(w, id string) ddb.Key      { return ddb.Key{PK: importJobsPartition(w), SK: id} }
func importJobPartition(w, id string) string { return importJobsPartition(w) + "#" + id }

// recordKey is the key of one of a job's records in the job's partition.
func recordKey(j jobs.Job, sk string) ddb.Key {
	return ddb.Key{PK: importJobPartition(j.WorkspaceID, j.ID), SK: sk}
}

// Sort keys of a job's records (patterns 20 to 22, 24 to 26).
func chunkSK(n int) string   { return fmt.Sprintf("CHUNK#%05d", n) }
func keepSK(n int) string    { return fmt.Sprintf("KEEP#%05d", n) }
func planSK(n int) string    { return fmt.Sprintf("PLAN#%05d", n) }
func errorSK(row int) string { return fmt.Sprintf("ERR#%07d", row) }
func resultSK(firstRow int, attempt string) string {
	return fmt.Sprintf("RES#%07d#%s", firstRow, attempt)
}
func removalSK(n int) string { return fmt.Sprintf("REM#%05d", n) }

// withTTL is a record as an item that expires with its job (ddb.TTLAttribute, epoch seconds);
// a job without an expiry (stored before jobs had one) has records without one.
func withTTL(record any, expires time.Time) (ddb.Item, error) {
	av, err := attributevalue.MarshalMap(record)
	if err != nil {
		return nil, fmt.Errorf("store: encode: %w", err)
	}
	if !expires.IsZero() {
		av[ddb.TTLAttribute] = epochSeconds(expires)
	}
	return av, nil
}

func epochSeconds(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

func number(n int) types.AttributeValue { return &types.AttributeValueMemberN{Value: strconv.Itoa(n)} }

func units(f float64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatFloat(f, 'f', -1, 64)}
}

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
		HoldsTarget: holds, DryRun: it.DryRun, MaxRemovals: it.MaxRemovals, Actor: ddb.FromActorAttr(it.Actor),
		Status: it.Status, Total: it.Total, Chunks: it.Chunks,
		Counts: jobs.Counts{
			Processed: it.Processed, Created: it.Created, Updated: it.Updated,
			Unchanged: it.Unchanged, Removed: it.Removed, Failed: it.Failed, Skipped: it.Skipped,
		},
		ChunksDone: it.ChunksDone, FailedChunks: it.FailedChunks, Reason: it.Reason,
		RowReadUnits: it.RowReadUnits, RowWriteUnits: it.RowWriteUnits, CreatedAt: ddb.ParseTime(it.CreatedAt),
		StartedAt: optionalTime(it.StartedAt), FinishedAt: optionalTime(it.FinishedAt),
		CancelRequestedAt: optionalTime(it.CancelRequestedAt), ProgressAt: ddb.ParseTime(it.ProgressAt),
	}
	if it.ExpiresAt != "" {
		j.ExpiresAt = ddb.ParseTime(it.ExpiresAt)
	}
	if it.ProgressAt == "" {
		j.ProgressAt = j.CreatedAt
	}
	return j
}

func optionalTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t := ddb.ParseTime(s)
	return &t
}

// Create stores a new job (status QUEUED, counters 0, in the index of active jobs), with its
// target's hold in the same transaction when it holds one.
func (s *Store) Create(ctx context.Context, j jobs.Job) error {
	w := j.WorkspaceID
	k := importJobKey(w, j.ID)
	item, err := withTTL(importJobItem{
		PK: k.PK, SK: k.SK, Type: "ImportJob", ID: j.ID, WorkspaceID: w, Family: j.Family, Target: j.Target,
		Mode: j.Mode, HoldsTarget: &j.HoldsTarget, DryRun: j.DryRun, MaxRemovals: j.MaxRemovals,
		Actor: ddb.ToActorAttr(j.Actor), Status: jobs.Queued, Total: j.Total, Chunks: j.Chunks,
		CreatedAt: ddb.FmtTime(j.CreatedAt), ProgressAt: ddb.FmtTime(j.CreatedAt), ExpiresAt: fmtOptional(j.ExpiresAt),
		GSI2PK: activeJobsPK, GSI2SK: activeJobsSK(j),
	}, j.ExpiresAt)
	if err != nil {
		return err
	}
	put := types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.TableName), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
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

func fmtOptional(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ddb.FmtTime(t)
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

// read reads a job item consistently; found is false for none, or one past its expiry.
func (s *Store) read(ctx context.Context, w, id string) (importJobItem, bool, error) {
	var it importJobItem
	found, err := s.GetConsistent(ctx, importJobKey(w, id), &it)
	if err != nil || !found {
		return it, false, err
	}
	return it, !s.job(it).Expired(s.now()), nil
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

type importErrorItem struct {
	PK     string           `dynamodbav:"pk"`
	SK     string           `dynamodbav:"sk"`
	Type   string           `dynamodbav:"type"`
	Row    int              `dynamodbav:"row"`
	Errors []fieldErrorAttr `dynamodbav:"errors"`
}

// Get reads a job (consistently) and its first maxErrors rows with errors, in row
// order. A job of another workspace, or past its expiry, is vocab.ErrNotFound.
func (s *Store) Get(ctx context.Context, w, id string, maxErrors int) (jobs.Job, []jobs.RowError, error) {
	it, found, err := s.read(ctx, w, id)
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

// Start moves a QUEUED job to RUNNING and reports whether the job is RUNNING (a cancel may
// have come first: then it is not, and the chunk must not run).
func (s *Store) Start(ctx context.Context, w, id string, now time.Time) (bool, error) {
	at := ddb.S(ddb.FmtTime(now))
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: importJobKey(w, id).AV(),
		UpdateExpression:          aws.String("SET #status = :running, startedAt = :now, progressAt = :now"),
		ConditionExpression:       aws.String("#status = :queued"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":running": ddb.S(jobs.Running), ":queued": ddb.S(jobs.Queued), ":now": at},
	})
	if err == nil {
		return true, nil
	}
	if !ddb.ConditionFailed(err) {
		return false, fmt.Errorf("store: start import job: %w", err)
	}
	it, found, err := s.read(ctx, w, id) // started already, or canceled first
	return found && it.Status == jobs.Running, err
}
