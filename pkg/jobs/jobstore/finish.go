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

// maxEndAttempts bounds the read-and-write rounds of an end that races chunks counting.
const maxEndAttempts = 8

// statusValues are placeholders of statuses, for the conditions that name them (DynamoDB
// refuses a value that its expressions do not use).
func statusValues(statuses ...string) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for _, st := range statuses {
		out[statusPlaceholder[st]] = ddb.S(st)
	}
	return out
}

var statusPlaceholder = map[string]string{jobs.Queued: ":queued", jobs.Running: ":running", jobs.Canceling: ":canceling"}

// notTerminal is the condition that a job has not ended (with statusValues(notTerminalStatuses...)).
const notTerminal = "#status IN (:queued, :running, :canceling)"

var notTerminalStatuses = []string{jobs.Queued, jobs.Running, jobs.Canceling}

// ClaimFinish makes the caller the job's finisher until `until`, if every chunk is done,
// the job is not finished and no other finisher's lease is running. It returns the job as
// claimed; ok is false when the claim was not granted.
func (s *Store) ClaimFinish(ctx context.Context, w, id, token string, now, until time.Time) (job jobs.Job, ok bool, err error) {
	values := statusValues(notTerminalStatuses...)
	values[":token"], values[":until"], values[":now"] = ddb.S(token), ddb.Millis(until), ddb.Millis(now)
	res, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: importJobKey(w, id).AV(),
		UpdateExpression: aws.String("SET finisher = :token, finishLease = :until"),
		// finisher = :token: a retry of this very claim (its first reply lost) is granted again.
		ConditionExpression: aws.String("chunksDone = chunks AND " + notTerminal + " AND " +
			"(attribute_not_exists(finishLease) OR finishLease < :now OR finisher = :token)"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
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

// PlanRemovals records what the finish removes, once: the removals as items of up to
// jobs.MaxRemovalsPerItem (written first; a finisher taking over before the count is set
// writes them again, the same), then the count, conditionally. A finisher that takes over
// after the count keeps the first finisher's (the records it reads no longer hold what was
// already removed). No removal is planned on a CANCELING job.
func (s *Store) PlanRemovals(ctx context.Context, j jobs.Job, token string, removed []jobs.RowResult) (int, error) {
	it, found, err := s.read(ctx, j.WorkspaceID, j.ID)
	if held, done, err := plannedRemovals(it, found, err, token); done {
		return held, err
	}
	var writes []types.WriteRequest
	for n := 0; n*jobs.MaxRemovalsPerItem < len(removed); n++ {
		part := removed[n*jobs.MaxRemovalsPerItem : min(len(removed), (n+1)*jobs.MaxRemovalsPerItem)]
		item, err := rowsItem(j, removalSK(n), "ImportRemovals", part)
		if err != nil {
			return 0, err
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	if err := s.BatchWrite(ctx, writes); err != nil {
		return 0, err
	}
	values := statusValues(jobs.Queued, jobs.Running)
	values[":n"], values[":t"], values[":token"] = number(len(removed)), &types.AttributeValueMemberBOOL{Value: true}, ddb.S(token)
	_, err = s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: importJobKey(j.WorkspaceID, j.ID).AV(),
		UpdateExpression:          aws.String("SET removed = :n, removalsPlanned = :t"),
		ConditionExpression:       aws.String("finisher = :token AND attribute_not_exists(removalsPlanned) AND #status IN (:queued, :running)"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: values,
	})
	if err == nil {
		return len(removed), nil
	}
	if !ddb.ConditionFailed(err) {
		return 0, fmt.Errorf("store: plan import removals: %w", err)
	}
	it, found, err = s.read(ctx, j.WorkspaceID, j.ID)
	held, _, err := plannedRemovals(it, found, err, token)
	return held, err
}

// plannedRemovals says, from a job item as read, whether its removals are decided already
// (done): planned before (their count holds), or refused: the lease lost, a cancel asked.
func plannedRemovals(it importJobItem, found bool, err error, token string) (held int, done bool, _ error) {
	switch {
	case err != nil:
		return 0, true, err
	case !found || it.Finisher != token || jobs.Terminal(it.Status):
		return 0, true, jobs.ErrLeaseLost
	case it.RemovalsPlanned:
		return it.Removed, true, nil
	case it.Status == jobs.Canceling:
		return 0, true, jobs.ErrCancelRequested
	}
	return 0, false, nil
}

// Finish sets a job's final status, if the caller still holds the finishing lease, and adds
// what the finishing cost to the job's row units. A job that is CANCELING ends CANCELED
// instead (its cancel came first). A job that holds its target releases it in the same
// transaction.
func (s *Store) Finish(ctx context.Context, j jobs.Job, token, status, reason string, now time.Time, readUnits, writeUnits float64) error {
	err := s.finishAs(ctx, j, token, status, reason, now, readUnits, writeUnits, jobs.Queued, jobs.Running)
	if ddb.ConditionFailed(err) {
		it, found, rerr := s.read(ctx, j.WorkspaceID, j.ID)
		switch {
		case rerr != nil:
			return rerr
		case found && it.Finisher == token && it.Status == jobs.Canceling:
			err = s.finishAs(ctx, j, token, jobs.Canceled, "", now, readUnits, writeUnits, jobs.Canceling)
		}
	}
	if ddb.ConditionFailed(err) {
		return jobs.ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("store: finish import job: %w", err)
	}
	return nil
}

// finishAs ends a job with status if token holds its lease and it is in one of the statuses from.
func (s *Store) finishAs(ctx context.Context, j jobs.Job, token, status, reason string, now time.Time, readUnits, writeUnits float64, from ...string) error {
	expr := "SET #status = :status, finishedAt = :now"
	values := statusValues(from...)
	var placeholders []string
	for _, st := range from {
		placeholders = append(placeholders, statusPlaceholder[st])
	}
	statusCond := "#status IN (" + strings.Join(placeholders, ", ") + ")"
	values[":status"], values[":now"], values[":token"] = ddb.S(status), ddb.S(ddb.FmtTime(now)), ddb.S(token)
	values[":r"], values[":w"] = units(readUnits), units(writeUnits)
	if reason != "" {
		expr += ", reason = :reason"
		values[":reason"] = ddb.S(reason)
	}
	expr += endRemoves + " ADD rowReadUnits :r, rowWriteUnits :w"
	return s.endJob(ctx, j, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: importJobKey(j.WorkspaceID, j.ID).AV(), UpdateExpression: aws.String(expr),
		ConditionExpression:       aws.String("finisher = :token AND " + statusCond),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: values,
	})
}

// unfinishedEnd is how endUnfinished ends a job: its status and reason, and what more the
// job must be for it to apply.
type unfinishedEnd struct {
	status, reason string
	cond           string                          // more condition ("" for none)
	values         map[string]types.AttributeValue // the condition's values
	cancel         bool                            // a cancel: record when it was asked
}

// endUnfinished ends a job, as read (it), that is not finished, counting its rows not run as
// skipped: conditional on the job being still as read (status and counts), so a chunk counted
// meanwhile is not lost. ended is false when the job moved (the caller reads it again).
func (s *Store) endUnfinished(ctx context.Context, it importJobItem, e unfinishedEnd, now time.Time) (ended bool, err error) {
	j := s.job(it)
	values := map[string]types.AttributeValue{}
	values[":status"], values[":now"], values[":seen"] = ddb.S(e.status), ddb.S(ddb.FmtTime(now)), ddb.S(it.Status)
	values[":p"], values[":s"], values[":skipped"] = number(it.Processed), number(it.Skipped), number(it.Skipped+j.Unrun())
	expr := "SET #status = :status, finishedAt = :now, #skipped = :skipped"
	if e.reason != "" {
		expr += ", reason = :reason"
		values[":reason"] = ddb.S(e.reason)
	}
	if e.cancel {
		expr += ", cancelRequestedAt = if_not_exists(cancelRequestedAt, :now)"
	}
	cond := "#status = :seen AND #processed = :p AND #skipped = :s"
	if e.cond != "" {
		cond += " AND " + e.cond
	}
	for k, v := range e.values {
		values[k] = v
	}
	err = s.endJob(ctx, j, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: importJobKey(it.WorkspaceID, it.ID).AV(), UpdateExpression: aws.String(expr + endRemoves),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#status": "status", "#processed": "processed", "#skipped": "skipped"},
		ExpressionAttributeValues: values,
	})
	if ddb.ConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// Fail ends a job as FAILED with a reason, whoever holds its finishing lease, when every chunk
// is done (allDone) or in any case (!allDone); its rows not run count skipped. A finished job
// is left as it is. A job that holds its target releases it in the same transaction.
func (s *Store) Fail(ctx context.Context, w, id, reason string, now time.Time, allDone bool) error {
	e := unfinishedEnd{status: jobs.Failed, reason: reason}
	if allDone {
		e.cond = "chunksDone = chunks"
	}
	for range maxEndAttempts {
		it, found, err := s.read(ctx, w, id)
		if err != nil || !found || jobs.Terminal(it.Status) || (allDone && it.ChunksDone != it.Chunks) {
			return err
		}
		ended, err := s.endUnfinished(ctx, it, e, now)
		if err != nil {
			return fmt.Errorf("store: fail import job: %w", err)
		}
		if ended {
			return nil
		}
	}
	return fmt.Errorf("store: fail import job %s: it kept changing", id)
}

// EndStale ends a job that made no progress since j.ProgressAt, if it is still so.
func (s *Store) EndStale(ctx context.Context, j jobs.Job, status, reason string, now time.Time) (bool, error) {
	it, found, err := s.read(ctx, j.WorkspaceID, j.ID)
	if err != nil || !found || it.Status != j.Status || !s.job(it).ProgressAt.Equal(j.ProgressAt) {
		return false, err
	}
	e := unfinishedEnd{
		status: status, reason: reason, cond: "(progressAt = :progress OR attribute_not_exists(progressAt))",
		values: map[string]types.AttributeValue{":progress": ddb.S(it.ProgressAt)},
	}
	ended, err := s.endUnfinished(ctx, it, e, now)
	if err != nil {
		return false, fmt.Errorf("store: end stale import job: %w", err)
	}
	return ended, nil
}

// Cancel asks a job to stop. A QUEUED job that no chunk started ends CANCELED at once (its rows
// skipped, its hold released) in a write conditional on it being so, which Start's (QUEUED ->
// RUNNING) races fairly: one of the two wins. A RUNNING one becomes CANCELING, unless its
// removals began (jobs.ErrFinished: they cannot be stopped part-way).
func (s *Store) Cancel(ctx context.Context, w, id string, now time.Time) (jobs.Job, error) {
	for range maxEndAttempts {
		it, found, err := s.read(ctx, w, id)
		switch {
		case err != nil:
			return jobs.Job{}, err
		case !found:
			return jobs.Job{}, vocab.ErrNotFound
		case it.Status == jobs.Completed || it.Status == jobs.Failed || (it.RemovalsPlanned && !it.DryRun):
			return jobs.Job{}, jobs.ErrFinished
		case it.Status == jobs.Canceling || it.Status == jobs.Canceled:
			return s.job(it), nil
		}
		var done bool
		if it.Status == jobs.Queued && it.ChunksDone == 0 {
			done, err = s.endUnfinished(ctx, it, unfinishedEnd{status: jobs.Canceled, cond: "chunksDone = :zero",
				values: map[string]types.AttributeValue{":zero": number(0)}, cancel: true}, now)
		} else {
			done, err = s.markCanceling(ctx, it, now)
		}
		if err != nil {
			return jobs.Job{}, fmt.Errorf("store: cancel import job: %w", err)
		}
		if done {
			return s.readJob(ctx, w, id)
		}
	}
	return jobs.Job{}, fmt.Errorf("store: cancel import job %s: it kept changing", id)
}

// markCanceling makes a job as read CANCELING, if it is still in that status and its removals
// have not begun.
func (s *Store) markCanceling(ctx context.Context, it importJobItem, now time.Time) (bool, error) {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: importJobKey(it.WorkspaceID, it.ID).AV(),
		UpdateExpression:         aws.String("SET #status = :canceling, cancelRequestedAt = :now"),
		ConditionExpression:      aws.String("#status = :seen AND (attribute_not_exists(removalsPlanned) OR dryRun = :true)"),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":canceling": ddb.S(jobs.Canceling), ":now": ddb.S(ddb.FmtTime(now)), ":seen": ddb.S(it.Status),
			":true": &types.AttributeValueMemberBOOL{Value: true},
		},
	})
	if ddb.ConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// readJob reads a job consistently, vocab.ErrNotFound for none.
func (s *Store) readJob(ctx context.Context, w, id string) (jobs.Job, error) {
	j, _, err := s.Get(ctx, w, id, 0)
	return j, err
}

// ActiveJobs returns every job that is not terminal, of every workspace, from the sparse index
// of active jobs (pattern 23; eventually consistent, as every index is).
func (s *Store) ActiveJobs(ctx context.Context) ([]jobs.Job, error) {
	items, err := s.QueryAll(ctx, ddb.Partition{Index: ddb.IndexGSI2, PK: activeJobsPK})
	if err != nil {
		return nil, err
	}
	decoded, err := ddb.DecodeAll[importJobItem](items)
	if err != nil {
		return nil, err
	}
	out := make([]jobs.Job, 0, len(decoded))
	for _, it := range decoded {
		if !jobs.Terminal(it.Status) {
			out = append(out, s.job(it))
		}
	}
	return out, nil
}
