package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// ErrExists is returned when creating a record whose id is taken.
var ErrExists = errors.New("store: already exists")

var _ screening.AdminStore = (*DDBStore)(nil)

// CreateWorkspace creates a workspace.
func (s *DDBStore) CreateWorkspace(ctx context.Context, id, name string, now time.Time) error {
	k := workspaceKey(id)
	op, err := s.put(workspaceItem{PK: k.pk, SK: k.sk, Type: "Workspace", ID: id, Name: name, CreatedAt: fmtTime(now)}, "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	return s.transactCreate(ctx, op)
}

// WorkspaceExists reports whether a workspace was created.
func (s *DDBStore) WorkspaceExists(ctx context.Context, id string) (bool, error) {
	var it workspaceItem
	return s.getItem(ctx, workspaceKey(id), &it)
}

// PutKey stores a new API key (its secret only as a hash).
func (s *DDBStore) PutKey(ctx context.Context, k auth.Key) error {
	kk := spotKeyKey(k.ID)
	op, err := s.put(keyItem{
		PK: kk.pk, SK: kk.sk, GSI1PK: spotKeysPartition(k.WorkspaceID), GSI1SK: k.ID, Type: "SpotApiKey",
		ID: k.ID, WorkspaceID: k.WorkspaceID, Name: k.Name, SecretHash: k.SecretHash, CreatedAt: fmtTime(k.CreatedAt),
	}, "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	return s.transactCreate(ctx, op)
}

// RevokeKey marks a workspace's key revoked; a key of another workspace is ErrNotFound.
func (s *DDBStore) RevokeKey(ctx context.Context, w, keyID string) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: spotKeyKey(keyID).av(),
		UpdateExpression:          aws.String("SET revoked = :t"),
		ConditionExpression:       aws.String("workspaceId = :ws"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":ws": str(w)},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return vocab.ErrNotFound
	}
	return err
}

// ListKeys lists a workspace's keys (access pattern 2).
func (s *DDBStore) ListKeys(ctx context.Context, w string) ([]auth.Key, error) {
	items, err := s.queryAll(ctx, partition{index: indexGSI1, pk: spotKeysPartition(w)})
	if err != nil {
		return nil, err
	}
	decoded, err := decodeAll[keyItem](items)
	if err != nil {
		return nil, err
	}
	out := make([]auth.Key, len(decoded))
	for i, it := range decoded {
		out[i] = it.domain()
	}
	return out, nil
}

// CreateScreener stores a screener and counts it on its workspace.
func (s *DDBStore) CreateScreener(ctx context.Context, w string, sc screening.Screener) error {
	op, err := s.put(newScreenerItem(w, sc), "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	count, _ := s.counterOp(countKey(screenersPartition(w)), "", map[string]int{"count": 1})
	return s.transactCreate(ctx, op, count)
}

// StartSession stores a new session and makes it its screener participant's latest.
func (s *DDBStore) StartSession(ctx context.Context, w string, ses screening.Session) error {
	op, err := s.put(newSessionItem(w, ses), "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	latest := s.latestUpdate(w, ses, "attribute_exists(pk)", nil)
	wsCount, _ := s.counterOp(countKey(sessionsPartition(w)), "", map[string]int{"count": 1})
	scrCount, _ := s.counterOp(screenerKey(w, ses.ScreenerID), "attribute_exists(pk)", map[string]int{"sessionCount": 1})
	return s.transactCreate(ctx, op, latest, wsCount, scrCount)
}

// FinishSession stores a session's completion, and the screener participant's status with it
// when the session is still its latest.
func (s *DDBStore) FinishSession(ctx context.Context, w string, ses screening.Session, isLatest bool) error {
	u := newUpdate()
	u.setValue("state", str(string(ses.State)))
	u.setValue("outcome", str(string(ses.Outcome)))
	u.setValue("lastActiveAt", str(fmtTime(ses.LastActiveAt)))
	u.setValue("completedAt", str(fmtTime(*ses.CompletedAt)))
	u.values[":inProgress"] = str(string(screening.SessionInProgress))
	ops := []types.TransactWriteItem{u.op(s.table, sessionKey(w, ses.ID), "#state = :inProgress")}
	if isLatest {
		ops = append(ops, s.latestUpdate(w, ses, "latestSessionId = :sid", map[string]types.AttributeValue{":sid": str(ses.ID)}))
	}
	return s.transactCreate(ctx, ops...)
}

func (s *DDBStore) latestUpdate(w string, ses screening.Session, condition string, extra map[string]types.AttributeValue) types.TransactWriteItem {
	u := newUpdate()
	u.setValue("latestSessionId", str(ses.ID))
	u.setValue("latestState", str(string(ses.State)))
	u.setValue("latestOutcome", str(string(ses.Outcome)))
	for k, v := range extra {
		u.values[k] = v
	}
	return u.op(s.table, screenerParticipantKey(w, ses.ScreenerParticipantID), condition)
}

// transactCreate writes ops together; a failed condition means a record was missing or
// already there.
func (s *DDBStore) transactCreate(ctx context.Context, ops ...types.TransactWriteItem) error {
	err := s.transactWrite(ctx, ops)
	if errors.Is(err, vocab.ErrConflict) {
		return fmt.Errorf("%w (or a record it needs is missing)", ErrExists)
	}
	return err
}
