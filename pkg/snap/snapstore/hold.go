package snapstore

import (
	"context"
	"errors"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/snap/snapjobs"
	"github.com/participant-roster/roster/pkg/vocab"
)

// holdSK is the sort key of the one item in a survey's hold partition.
const holdSK = "HOLD"

// holdKey is a survey's hold item (access pattern 28): the import job holding its roster, if
// any, and the survey's version. Every participant write checks it, so it is kept apart from
// the survey item, which carries the whole definition and would be priced by its size.
func holdKey(w, surveyID string) ddb.Key {
	return ddb.Key{PK: surveyPartition(w, surveyID, "HOLD"), SK: holdSK}
}

type holdItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	ImportJobID string `dynamodbav:"importJobId,omitempty"`
	Version     int64  `dynamodbav:"version"`
}

// HoldsFor: a Snap import job holds its survey's roster (jobstore.TargetHolder).
func (s *Store) HoldsFor() string { return snapjobs.Name }

// TakeHold makes a new job the holder of its survey's roster.
func (s *Store) TakeHold(w, surveyID, jobID string) types.TransactWriteItem {
	return s.holdUpdate(w, surveyID, jobID, "SET importJobId = :j", "attribute_exists(pk) AND attribute_not_exists(importJobId)")
}

// ReleaseHold frees a survey's roster held by a job.
func (s *Store) ReleaseHold(w, surveyID, jobID string) types.TransactWriteItem {
	return s.holdUpdate(w, surveyID, jobID, "REMOVE importJobId", "importJobId = :j")
}

// holdUpdate is a change of a survey's holder; :j is the job's id.
func (s *Store) holdUpdate(w, surveyID, jobID, update, condition string) types.TransactWriteItem {
	u := &types.Update{
		TableName: aws.String(s.TableName), Key: holdKey(w, surveyID).AV(),
		UpdateExpression: aws.String(update), ConditionExpression: aws.String(condition),
		ExpressionAttributeValues: map[string]types.AttributeValue{":j": ddb.S(jobID)},
	}
	return types.TransactWriteItem{Update: u}
}

// TargetExists reports whether the survey is there (a failed TakeHold: held, or gone).
func (s *Store) TargetExists(ctx context.Context, w, surveyID string) (bool, error) {
	_, _, err := s.GetSurvey(ctx, w, surveyID)
	if errors.Is(err, vocab.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// rosterHeldBy is the check each of an import's writes makes: its job still holds the roster.
func (s *Store) rosterHeldBy(w, surveyID, jobID string) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(s.TableName), Key: holdKey(w, surveyID).AV(),
		ConditionExpression:       aws.String("importJobId = :j"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":j": ddb.S(jobID)},
	}}
}

// rosterOpen is the check every participant write of the API makes, in the same transaction:
// the survey is still at the version the write was decided under (so it exists, and its
// settings are those the write was validated against), and no import holds its roster.
func (s *Store) rosterOpen(w, surveyID string, version int64) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(s.TableName), Key: holdKey(w, surveyID).AV(),
		ConditionExpression: aws.String("version = :v AND attribute_not_exists(importJobId)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)},
		},
	}}
}
