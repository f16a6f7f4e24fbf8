package spotstore

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

var _ screening.AdminStore = (*Store)(nil)

// CreateWorkspace creates a workspace.
func (s *Store) CreateWorkspace(ctx context.Context, id, name string, now time.Time) error {
	k := workspaceKey(id)
	op, err := s.Put(workspaceItem{PK: k.PK, SK: k.SK, Type: "Workspace", ID: id, Name: name, CreatedAt: ddb.FmtTime(now)}, "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	return s.TransactCreate(ctx, op)
}

// WorkspaceExists reports whether a workspace was created.
func (s *Store) WorkspaceExists(ctx context.Context, id string) (bool, error) {
	var it workspaceItem
	return s.GetItem(ctx, workspaceKey(id), &it)
}

// PutKey stores a new API key (its secret only as a hash).
func (s *Store) PutKey(ctx context.Context, k auth.Key) error {
	kk := spotKeyKey(k.ID)
	op, err := s.Put(keyItem{
		PK: kk.PK, SK: kk.SK, GSI1PK: spotKeysPartition(k.WorkspaceID), GSI1SK: k.ID, Type: "SpotApiKey",
		ID: k.ID, WorkspaceID: k.WorkspaceID, Name: k.Name, SecretHash: k.SecretHash, CreatedAt: ddb.FmtTime(k.CreatedAt),
	}, "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	return s.TransactCreate(ctx, op)
}

// RevokeKey marks a workspace's key revoked; a key of another workspace is ErrNotFound.
func (s *Store) RevokeKey(ctx context.Context, w, keyID string) error {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: spotKeyKey(keyID).AV(),
		UpdateExpression:          aws.String("SET revoked = :t"),
		ConditionExpression:       aws.String("workspaceId = :ws"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":ws": ddb.S(w)},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return vocab.ErrNotFound
	}
	return err
}

// ListKeys lists a workspace's keys (access pattern 2).
func (s *Store) ListKeys(ctx context.Context, w string) ([]auth.Key, error) {
	items, err := s.QueryAll(ctx, ddb.Partition{Index: ddb.IndexGSI1, PK: spotKeysPartition(w)})
	if err != nil {
		return nil, err
	}
	decoded, err := ddb.DecodeAll[keyItem](items)
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
func (s *Store) CreateScreener(ctx context.Context, w string, sc screening.Screener) error {
	op, err := s.Put(newScreenerItem(w, sc), "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	count, _ := s.CounterOp(ddb.CountKey(screenersPartition(w)), "", map[string]int{"count": 1})
	return s.TransactCreate(ctx, op, count)
}

// StartSession stores a new session and makes it its screener participant's latest.
func (s *Store) StartSession(ctx context.Context, w string, ses screening.Session) error {
	op, err := s.Put(newSessionItem(w, ses), "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	latest := s.latestUpdate(w, ses, "attribute_exists(pk)", nil)
	wsCount, _ := s.CounterOp(ddb.CountKey(sessionsPartition(w)), "", map[string]int{"count": 1})
	scrCount, _ := s.CounterOp(screenerKey(w, ses.ScreenerID), "attribute_exists(pk)", map[string]int{"sessionCount": 1})
	return s.TransactCreate(ctx, op, latest, wsCount, scrCount)
}

// FinishSession stores a session's completion, and the screener participant's status with it
// when the session is still its latest.
func (s *Store) FinishSession(ctx context.Context, w string, ses screening.Session, isLatest bool) error {
	u := ddb.NewUpdate()
	u.SetValue("state", ddb.S(string(ses.State)))
	u.SetValue("outcome", ddb.S(string(ses.Outcome)))
	u.SetValue("lastActiveAt", ddb.S(ddb.FmtTime(ses.LastActiveAt)))
	u.SetValue("completedAt", ddb.S(ddb.FmtTime(*ses.CompletedAt)))
	u.Values[":inProgress"] = ddb.S(string(screening.SessionInProgress))
	ops := []types.TransactWriteItem{u.Op(s.TableName, sessionKey(w, ses.ID), "#state = :inProgress")}
	if isLatest {
		ops = append(ops, s.latestUpdate(w, ses, "latestSessionId = :sid", map[string]types.AttributeValue{":sid": ddb.S(ses.ID)}))
	}
	return s.TransactCreate(ctx, ops...)
}

func (s *Store) latestUpdate(w string, ses screening.Session, condition string, extra map[string]types.AttributeValue) types.TransactWriteItem {
	u := ddb.NewUpdate()
	u.SetValue("latestSessionId", ddb.S(ses.ID))
	u.SetValue("latestState", ddb.S(string(ses.State)))
	u.SetValue("latestOutcome", ddb.S(string(ses.Outcome)))
	for k, v := range extra {
		u.Values[k] = v
	}
	return u.Op(s.TableName, screenerParticipantKey(w, ses.ScreenerParticipantID), condition)
}
