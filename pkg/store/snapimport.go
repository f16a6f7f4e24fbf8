package store

// Snap bulk imports write participants while the import holds the survey's roster (the
// survey item's importJobId, see LockRoster): every participant write of the API checks that no
// import holds it (rosterOpen), and the import's own writes check that this job holds it
// (rosterHeldBy). The hold is taken in the transaction that creates the job (CreateImportJob)
// and released in the one that ends it (FinishImportJob, FailImportJob), so a job that exists
// and is not finished always holds its roster, and a finished one never does.

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Import job families: the API family whose records a job writes.
const (
	ImportFamilySpot = "spot" // Target is a screener id
	ImportFamilySnap = "snap" // Target is a survey id; the job holds the survey's roster
)

// holdsRoster reports whether a job holds its target survey's roster while it is not finished.
func (j ImportJob) holdsRoster() bool { return j.Family == ImportFamilySnap }

// takeRoster is the write that makes a new job the holder of its survey's roster.
func (s *DDBStore) takeRoster(w string, j ImportJob) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(s.table), Key: surveyKey(w, j.Target).av(),
		UpdateExpression:          aws.String("SET importJobId = :j"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(importJobId)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":j": str(j.ID)},
	}}
}

// releaseRoster is the write that frees a survey's roster held by a job.
func (s *DDBStore) releaseRoster(w string, j ImportJob) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(s.table), Key: surveyKey(w, j.Target).av(),
		UpdateExpression:          aws.String("REMOVE importJobId"),
		ConditionExpression:       aws.String("importJobId = :j"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":j": str(j.ID)},
	}}
}

// rosterHeldBy is the check each of an import's writes makes: its job still holds the roster.
func (s *DDBStore) rosterHeldBy(w, surveyID, jobID string) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(s.table), Key: surveyKey(w, surveyID).av(),
		ConditionExpression:       aws.String("importJobId = :j"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":j": str(jobID)},
	}}
}

// endJob runs the update that ends a job, with the release of its roster when it holds one.
// A roster that this job no longer holds (freed by hand) does not keep the job from ending.
func (s *DDBStore) endJob(ctx context.Context, w string, j ImportJob, end *dynamodb.UpdateItemInput) error {
	if !j.holdsRoster() {
		_, err := s.client.UpdateItem(ctx, end)
		return err
	}
	ops := []types.TransactWriteItem{{Update: &types.Update{
		TableName: end.TableName, Key: end.Key, UpdateExpression: end.UpdateExpression,
		ConditionExpression: end.ConditionExpression, ExpressionAttributeNames: end.ExpressionAttributeNames,
		ExpressionAttributeValues: end.ExpressionAttributeValues,
	}}, s.releaseRoster(w, j)}
	failed, err := s.transactConditional(ctx, ops)
	switch {
	case err != nil:
		return err
	case failed == 0:
		return &types.ConditionalCheckFailedException{Message: aws.String("the job's end condition failed")}
	case failed == 1:
		_, err := s.client.UpdateItem(ctx, end)
		return err
	}
	return nil
}

// SnapOwners are the stored participants that hold logins and emails of a survey, by the
// login or email in lower case.
type SnapOwners struct {
	ByLogin, ByEmail map[string]survey.StoredParticipant
}

// FindSnapOwners reads, consistently, who holds each login and email the participants name.
func (s *DDBStore) FindSnapOwners(ctx context.Context, w, surveyID string, ps []survey.Participant) (SnapOwners, error) {
	var markers []key
	for _, p := range ps {
		login, email := snapMarkers(w, surveyID, p)
		for _, k := range []*key{login, email} {
			if k != nil {
				markers = append(markers, *k)
			}
		}
	}
	found, err := batchGetAs[markerItem](ctx, s, markers)
	if err != nil {
		return SnapOwners{}, err
	}
	var participantKeys []key
	for _, m := range found {
		participantKeys = append(participantKeys, snapParticipantKey(w, surveyID, m.ParticipantID))
	}
	stored, err := batchGetAs[snapParticipantItem](ctx, s, participantKeys)
	if err != nil {
		return SnapOwners{}, err
	}
	byID := map[string]survey.StoredParticipant{}
	for _, it := range stored {
		byID[it.SK] = it.stored()
	}
	owners := SnapOwners{ByLogin: map[string]survey.StoredParticipant{}, ByEmail: map[string]survey.StoredParticipant{}}
	for _, m := range found {
		p, ok := byID[m.ParticipantID]
		if !ok {
			continue // a marker whose participant is gone cannot be: both go in one transaction
		}
		if strings.HasSuffix(m.PK, "#LOGIN") {
			owners.ByLogin[m.SK] = p
		} else {
			owners.ByEmail[m.SK] = p
		}
	}
	return owners, nil
}

// snapImportPerTransaction is how many participants one transaction of an import adds: each
// takes at most three items (participant, login, email), and the roster check takes one.
const snapImportPerTransaction = (maxTransactItems - 1) / 3

// AddImportedSnapParticipants adds new participants for an import that holds the survey's
// roster, many per transaction. survey.ErrRosterLocked: the job does not hold the roster (it
// ended). vocab.ErrConflict: a login or email was taken meanwhile (by another delivery of the
// same chunk); the transactions before the failed one stay written, so the caller re-reads and
// re-plans.
func (s *DDBStore) AddImportedSnapParticipants(ctx context.Context, w, surveyID, jobID string, ps []survey.Participant) error {
	for start := 0; start < len(ps); start += snapImportPerTransaction {
		ops := []types.TransactWriteItem{s.rosterHeldBy(w, surveyID, jobID)}
		for _, p := range ps[start:min(start+snapImportPerTransaction, len(ps))] {
			id := ids.New(ids.SnapParticipant)
			k := snapParticipantKey(w, surveyID, id)
			put, err := s.put(snapParticipantItem{PK: k.pk, SK: k.sk, Type: "SnapParticipant", Participant: p, Version: 1}, "attribute_not_exists(pk)")
			if err != nil {
				return err
			}
			login, email := snapMarkers(w, surveyID, p)
			claims, err := s.claimMarkers(id, login, email)
			if err != nil {
				return err
			}
			ops = append(append(ops, put), claims.ops...)
		}
		if err := s.importTransact(ctx, surveyID, ops); err != nil {
			return err
		}
	}
	return nil
}

// importTransact runs one transaction of an import: survey.ErrRosterLocked if its first write,
// the check that the job holds the roster, fails; vocab.ErrConflict if another does.
func (s *DDBStore) importTransact(ctx context.Context, surveyID string, ops []types.TransactWriteItem) error {
	failed, err := s.transactConditional(ctx, ops)
	switch {
	case err != nil:
		return fmt.Errorf("store: import transaction of %d writes: %w", len(ops), err)
	case failed == 0:
		return fmt.Errorf("%w: the import no longer holds survey %s", survey.ErrRosterLocked, surveyID)
	case failed > 0:
		return vocab.ErrConflict
	}
	return nil
}
