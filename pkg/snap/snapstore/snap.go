package snapstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/backoff"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Store is the Snap context's adapter over the one table: Snap users and their keys, surveys,
// their participants (with login and email markers) and responses, and the import jobs' hold
// on a survey's roster.
type Store struct {
	*ddb.Table
}

// New returns the Snap store over a table.
func New(t *ddb.Table) *Store { return &Store{Table: t} }

// Store keeps the survey service's records.
var _ survey.Store = (*Store)(nil)

func snapUserKey(username string) ddb.Key {
	return ddb.Key{PK: "SNAPUSER#" + strings.ToLower(username), SK: "SNAPUSER"}
}
func surveysPartition(w string) string { return ddb.WS(w) + "#SURVEY" }
func surveyKey(w, id string) ddb.Key   { return ddb.Key{PK: surveysPartition(w), SK: id} }
func surveyPartition(w, id, kind string) string {
	return surveysPartition(w) + "#" + id + "#" + kind
}
func snapParticipantKey(w, surveyID, id string) ddb.Key {
	return ddb.Key{PK: surveyPartition(w, surveyID, "PTP"), SK: id}
}
func loginKey(w, surveyID, login string) ddb.Key {
	return ddb.Key{PK: surveyPartition(w, surveyID, "LOGIN"), SK: strings.ToLower(login)}
}
func snapEmailKey(w, surveyID, email string) ddb.Key {
	return ddb.Key{PK: surveyPartition(w, surveyID, "EMAIL"), SK: strings.ToLower(email)}
}

type snapUserItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	ID          string `dynamodbav:"id"`
	WorkspaceID string `dynamodbav:"workspaceId"`
	Username    string `dynamodbav:"username"`
	Fullname    string `dynamodbav:"fullname"`
	SecretHash  string `dynamodbav:"secretHash"`
	Revoked     bool   `dynamodbav:"revoked"`
	CreatedAt   string `dynamodbav:"createdAt"`
}

type surveyItem struct {
	PK      string        `dynamodbav:"pk"`
	SK      string        `dynamodbav:"sk"`
	Type    string        `dynamodbav:"type"`
	Survey  survey.Survey `dynamodbav:"survey"`
	CaseSeq int           `dynamodbav:"caseSeq"`
	// Version is the survey's, bumped with its hold item's in every change of the survey.
	Version int64 `dynamodbav:"version"`
}

type snapParticipantItem struct {
	PK          string             `dynamodbav:"pk"`
	SK          string             `dynamodbav:"sk"`
	Type        string             `dynamodbav:"type"`
	Participant survey.Participant `dynamodbav:"participant"`
	Version     int64              `dynamodbav:"version"`
}

type responseItem struct {
	PK     string            `dynamodbav:"pk"`
	SK     string            `dynamodbav:"sk"`
	Type   string            `dynamodbav:"type"`
	CaseID int               `dynamodbav:"caseId"`
	Status string            `dynamodbav:"status"`
	Values map[string]string `dynamodbav:"values"`
}

// SnapKeys is the credential store of the Snap family: the key id is the username.
func (s *Store) SnapKeys() auth.KeyStore { return snapKeys{s} }

type snapKeys struct{ s *Store }

func (k snapKeys) GetKey(ctx context.Context, username string) (auth.Key, error) {
	var it snapUserItem
	found, err := k.s.GetItem(ctx, snapUserKey(username), &it)
	if err != nil {
		return auth.Key{}, err
	}
	if !found || it.SecretHash == "" {
		return auth.Key{}, auth.ErrKeyNotFound
	}
	return auth.Key{ID: it.ID, WorkspaceID: it.WorkspaceID, Name: it.Username, SecretHash: it.SecretHash, Revoked: it.Revoked, CreatedAt: ddb.ParseTime(it.CreatedAt)}, nil
}

// GetSnapUser reads a user by username.
func (s *Store) GetSnapUser(ctx context.Context, username string) (survey.User, error) {
	var it snapUserItem
	found, err := s.GetItem(ctx, snapUserKey(username), &it)
	if err != nil {
		return survey.User{}, err
	}
	if !found {
		return survey.User{}, vocab.ErrNotFound
	}
	return survey.User{ID: it.ID, WorkspaceID: it.WorkspaceID, Username: it.Username, Fullname: it.Fullname, CreatedAt: ddb.ParseTime(it.CreatedAt)}, nil
}

// PutSnapUser creates a user with its API key's hash; a username is unique across workspaces
// (it is how the credential is found).
func (s *Store) PutSnapUser(ctx context.Context, u survey.User, secretHash string) error {
	k := snapUserKey(u.Username)
	op, err := s.Put(snapUserItem{PK: k.PK, SK: k.SK, Type: "SnapUser", ID: u.ID, WorkspaceID: u.WorkspaceID,
		Username: u.Username, Fullname: u.Fullname, SecretHash: secretHash, CreatedAt: ddb.FmtTime(u.CreatedAt)}, "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	return s.TransactCreate(ctx, op)
}

// SetSnapUserKey replaces a user's API key hash (issue a new key) or revokes it.
func (s *Store) SetSnapUserKey(ctx context.Context, w, username, secretHash string, revoked bool) error {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: snapUserKey(username).AV(),
		UpdateExpression:    aws.String("SET secretHash = :h, revoked = :r"),
		ConditionExpression: aws.String("workspaceId = :ws"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":h": ddb.S(secretHash), ":r": &types.AttributeValueMemberBOOL{Value: revoked}, ":ws": ddb.S(w),
		},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return vocab.ErrNotFound
	}
	return err
}

// GetSurvey reads a survey of a workspace, and whether an import holds its roster (one
// eventually consistent call for the survey and its hold item).
func (s *Store) GetSurvey(ctx context.Context, w, id string) (survey.Survey, bool, error) {
	return s.getSurvey(ctx, w, id, false)
}

// GetSurveyConsistent is GetSurvey with a strongly consistent read.
func (s *Store) GetSurveyConsistent(ctx context.Context, w, id string) (survey.Survey, bool, error) {
	return s.getSurvey(ctx, w, id, true)
}

func (s *Store) getSurvey(ctx context.Context, w, id string, consistent bool) (survey.Survey, bool, error) {
	read := s.BatchGetEventual
	if consistent {
		read = s.BatchGet
	}
	items, err := read(ctx, []ddb.Key{surveyKey(w, id), holdKey(w, id)})
	if err != nil {
		return survey.Survey{}, false, err
	}
	var sv surveyItem
	var hold *holdItem
	for _, it := range items {
		var target any = &sv
		if pk, ok := it[ddb.AttrPK].(*types.AttributeValueMemberS); !ok || pk.Value != surveysPartition(w) {
			hold = &holdItem{}
			target = hold
		}
		if err := attributevalue.UnmarshalMap(it, target); err != nil {
			return survey.Survey{}, false, err
		}
	}
	if sv.PK == "" {
		return survey.Survey{}, false, vocab.ErrNotFound
	}
	switch {
	case hold != nil:
		return sv.survey(), hold.ImportJobID != "", nil
	case sv.Version > 0: // deleted between the two reads (its hold item went with it), or just made and its hold not yet seen
		return survey.Survey{}, false, vocab.ErrNotFound
	}
	if err := s.addMissingHold(ctx, w, sv.SK); err != nil {
		return survey.Survey{}, false, err
	}
	return sv.survey(), false, nil
}

// addMissingHold gives a survey stored before surveys had hold items (so without a version)
// its hold item, at version 0, so that participant writes can check it; if the survey has
// changed or gone meanwhile (and so has its own hold item, or none is wanted) nothing is
// written. A table is upgraded with no import job running (README), so no such survey is held.
func (s *Store) addMissingHold(ctx context.Context, w, id string) error {
	k := holdKey(w, id)
	put, err := s.Put(holdItem{PK: k.PK, SK: k.SK, Type: "SurveyHold"}, "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	_, err = s.TransactConditional(ctx, []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{
		TableName: &s.TableName, Key: surveyKey(w, id).AV(),
		ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(version)"),
	}}, put})
	if err != nil {
		return fmt.Errorf("store: add the hold item of survey %s: %w", id, err)
	}
	return nil
}

// survey is the stored survey at its version.
func (it surveyItem) survey() survey.Survey {
	sv := it.Survey
	sv.Version = it.Version
	return sv
}

// ListSurveys reads every survey of a workspace, in id order.
func (s *Store) ListSurveys(ctx context.Context, w string) ([]survey.Survey, error) {
	items, err := s.QueryAll(ctx, ddb.Partition{PK: surveysPartition(w)})
	if err != nil {
		return nil, err
	}
	decoded, err := ddb.DecodeAll[surveyItem](items)
	if err != nil {
		return nil, err
	}
	out := make([]survey.Survey, len(decoded))
	for i, it := range decoded {
		out[i] = it.survey()
	}
	return out, nil
}

// PutSurvey creates a survey with its hold item, or replaces its definition keeping its hold
// and case sequence; either way the survey's version moves on (on both items, in one
// transaction), so no participant write decided under the survey as it was goes through.
func (s *Store) PutSurvey(ctx context.Context, w string, sv survey.Survey) error {
	av, err := attributevalue.Marshal(sv)
	if err != nil {
		return err
	}
	one := &types.AttributeValueMemberN{Value: "1"}
	return s.TransactWrite(ctx, []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.TableName, Key: surveyKey(w, sv.ID).AV(),
			UpdateExpression:         aws.String("SET survey = :s, #type = :t, caseSeq = if_not_exists(caseSeq, :zero) ADD version :one"),
			ExpressionAttributeNames: map[string]string{"#type": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":s": av, ":t": ddb.S("Survey"), ":zero": &types.AttributeValueMemberN{Value: "0"}, ":one": one,
			},
		}},
		{Update: &types.Update{
			TableName: &s.TableName, Key: holdKey(w, sv.ID).AV(),
			UpdateExpression:          aws.String("SET #type = :t ADD version :one"),
			ExpressionAttributeNames:  map[string]string{"#type": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": ddb.S("SurveyHold"), ":one": one},
		}},
	})
}

// DeleteSurvey deletes a survey with its hold item, in one transaction, unless an import holds
// its roster (survey.ErrRosterLocked); from then on no participant write of it goes through.
// Its participants, markers and responses are deleted after.
func (s *Store) DeleteSurvey(ctx context.Context, w, id string) error {
	failed, err := s.TransactConditional(ctx, []types.TransactWriteItem{
		s.DeleteOp(surveyKey(w, id), "attribute_exists(pk)", nil),
		s.DeleteOp(holdKey(w, id), "attribute_not_exists(importJobId)", nil),
	})
	switch {
	case err != nil:
		return fmt.Errorf("store: delete survey %s: %w", id, err)
	case failed == 0:
		return vocab.ErrNotFound
	case failed == 1:
		return survey.ErrRosterLocked
	}
	for _, kind := range []string{"PTP", "LOGIN", "EMAIL", "RESP"} {
		if err := s.deletePartition(ctx, surveyPartition(w, id, kind)); err != nil {
			return err
		}
	}
	return nil
}

// deletePartition deletes every item of a partition.
func (s *Store) deletePartition(ctx context.Context, pk string) error {
	items, err := s.QueryAll(ctx, ddb.Partition{PK: pk})
	if err != nil {
		return err
	}
	deletes := make([]types.WriteRequest, len(items))
	for i, it := range items {
		deletes[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: ddb.Item{ddb.AttrPK: it[ddb.AttrPK], ddb.AttrSK: it[ddb.AttrSK]}}}
	}
	return s.BatchWrite(ctx, deletes)
}

// GetSnapParticipant finds a participant by its unique id: the login on a logged-on survey,
// else the email address.
func (s *Store) GetSnapParticipant(ctx context.Context, w string, sv survey.Survey, uniqueID string) (survey.StoredParticipant, error) {
	mk := snapEmailKey(w, sv.ID, uniqueID)
	if sv.Logins {
		mk = loginKey(w, sv.ID, uniqueID)
	}
	var m ddb.Marker
	found, err := s.GetItem(ctx, mk, &m)
	if err != nil {
		return survey.StoredParticipant{}, err
	}
	if !found {
		return survey.StoredParticipant{}, vocab.ErrNotFound
	}
	var it snapParticipantItem
	found, err = s.GetItem(ctx, snapParticipantKey(w, sv.ID, m.ParticipantID), &it)
	if err != nil {
		return survey.StoredParticipant{}, err
	}
	if !found {
		return survey.StoredParticipant{}, vocab.ErrNotFound
	}
	return it.stored(), nil
}

func (it snapParticipantItem) stored() survey.StoredParticipant {
	return survey.StoredParticipant{ID: it.SK, Version: it.Version, Participant: it.Participant}
}

// ListSnapParticipants pages a survey's participants in creation order after the participant
// with id after ("" for the start). more says whether anything follows the page.
func (s *Store) ListSnapParticipants(ctx context.Context, w, surveyID, after string, max int) ([]survey.StoredParticipant, bool, error) {
	items, more, err := s.pageAfter(ctx, surveyPartition(w, surveyID, "PTP"), after, max)
	if err != nil {
		return nil, false, err
	}
	decoded, err := ddb.DecodeAll[snapParticipantItem](items)
	if err != nil {
		return nil, false, err
	}
	out := make([]survey.StoredParticipant, len(decoded))
	for i, it := range decoded {
		out[i] = it.stored()
	}
	return out, more, nil
}

// pageAfter reads up to max items of a partition after sort key after, and whether more follow.
func (s *Store) pageAfter(ctx context.Context, pk, after string, max int) ([]ddb.Item, bool, error) {
	in := ddb.Partition{PK: pk}.Query(s.TableName)
	if after != "" {
		in.ExclusiveStartKey = ddb.Key{PK: pk, SK: after}.AV()
	}
	var out []ddb.Item
	for {
		// One more than asked tells whether more follow; DynamoDB still stops at 1 MB a response.
		in.Limit = aws.Int32(int32(max - len(out) + 1))
		res, err := s.Client.Query(ctx, in)
		if err != nil {
			return nil, false, fmt.Errorf("store: query %s: %w", pk, err)
		}
		out = append(out, res.Items...)
		if len(out) > max {
			return out[:max], true, nil
		}
		if res.LastEvaluatedKey == nil {
			return out, false, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// snapMarkers are the unique markers a participant holds: its login and its email.
func snapMarkers(w, surveyID string, p survey.Participant) (login, email *ddb.Key) {
	l, e := p.UniqueKeys()
	if l != "" {
		k := loginKey(w, surveyID, l)
		login = &k
	}
	if e != "" {
		k := snapEmailKey(w, surveyID, e)
		email = &k
	}
	return login, email
}

// AddSnapParticipant stores a new participant with its unique markers.
func (s *Store) AddSnapParticipant(ctx context.Context, w string, sv survey.Survey, p survey.Participant) (survey.StoredParticipant, error) {
	surveyID := sv.ID
	sp := survey.StoredParticipant{ID: ids.New(ids.SnapParticipant), Version: 1, Participant: p}
	k := snapParticipantKey(w, surveyID, sp.ID)
	put, err := s.Put(snapParticipantItem{PK: k.PK, SK: k.SK, Type: "SnapParticipant", Participant: p, Version: 1}, "attribute_not_exists(pk)")
	if err != nil {
		return sp, err
	}
	ops := []types.TransactWriteItem{s.rosterOpen(w, surveyID, sv.Version), put}
	login, email := snapMarkers(w, surveyID, p)
	claims, err := s.claimMarkers(sp.ID, login, email)
	if err != nil {
		return sp, err
	}
	return sp, s.snapTransact(ctx, append(ops, claims.ops...), claims)
}

type markerClaims struct {
	ops              []types.TransactWriteItem
	loginAt, emailAt int // index among ops (offset added by snapTransact), -1 if none
}

func (s *Store) claimMarkers(participantID string, login, email *ddb.Key) (markerClaims, error) {
	c := markerClaims{loginAt: -1, emailAt: -1}
	for _, m := range []struct {
		k  *ddb.Key
		at *int
	}{{login, &c.loginAt}, {email, &c.emailAt}} {
		if m.k == nil {
			continue
		}
		op, err := s.MarkerPut(*m.k, participantID)
		if err != nil {
			return c, err
		}
		*m.at = len(c.ops)
		c.ops = append(c.ops, op)
	}
	return c, nil
}

// snapTransact writes a participant change, retrying what DynamoDB cancels for contention
// (every write to a survey checks the same hold item, so concurrent writes can collide), and
// names what failed: the survey's check, a taken login or email, or (a version check) a
// concurrent change.
func (s *Store) snapTransact(ctx context.Context, ops []types.TransactWriteItem, claims markerClaims) error {
	for attempt := 0; ; attempt++ {
		_, err := s.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
		if err == nil {
			return nil
		}
		retry, conflict := ddb.Classify(err)
		switch {
		case conflict:
			return whyCanceled(err, len(ops)-len(claims.ops), claims)
		case !retry || attempt+1 >= ddb.MaxAttempts:
			return fmt.Errorf("store: participant write: %w", err)
		}
		if err := backoff.Store.Wait(ctx, attempt+1); err != nil {
			return err
		}
	}
}

// whyCanceled maps the failed condition of a canceled participant write to its error; first is
// the index of the first marker claim among the ops. The survey's check (the first op) failing
// is survey.ErrSurveyChanged: the caller reads the survey again to learn how.
func whyCanceled(err error, first int, claims markerClaims) error {
	var canceled *types.TransactionCanceledException
	errors.As(err, &canceled)
	for i, r := range canceled.CancellationReasons {
		if aws.ToString(r.Code) != "ConditionalCheckFailed" {
			continue
		}
		switch {
		case i == 0:
			return survey.ErrSurveyChanged
		case claims.loginAt >= 0 && i == first+claims.loginAt:
			return survey.ErrLoginTaken
		case claims.emailAt >= 0 && i == first+claims.emailAt:
			return survey.ErrEmailTaken
		}
	}
	return vocab.ErrConflict // the participant's version moved: it changed meanwhile
}

// ReplaceSnapParticipant writes a participant's new state under its version, moving its email
// marker if the email changed (the login, its unique id on logged-on surveys, cannot change).
func (s *Store) ReplaceSnapParticipant(ctx context.Context, w string, sv survey.Survey, before survey.StoredParticipant, after survey.Participant) error {
	surveyID := sv.ID
	k := snapParticipantKey(w, surveyID, before.ID)
	put, err := s.Put(snapParticipantItem{PK: k.PK, SK: k.SK, Type: "SnapParticipant", Participant: after, Version: before.Version + 1},
		"version = :v")
	if err != nil {
		return err
	}
	put.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(before.Version, 10)}}
	ops := []types.TransactWriteItem{s.rosterOpen(w, surveyID, sv.Version), put}
	oldLogin, oldEmail := snapMarkers(w, surveyID, before.Participant)
	newLogin, newEmail := snapMarkers(w, surveyID, after)
	var claimLogin, claimEmail *ddb.Key
	for _, m := range []struct {
		old, new *ddb.Key
		claim    **ddb.Key
	}{{oldLogin, newLogin, &claimLogin}, {oldEmail, newEmail, &claimEmail}} {
		if m.old != nil && (m.new == nil || *m.old != *m.new) {
			ops = append(ops, s.DeleteOp(*m.old, "participantId = :me", map[string]types.AttributeValue{":me": ddb.S(before.ID)}))
		}
		if m.new != nil && (m.old == nil || *m.old != *m.new) {
			*m.claim = m.new
		}
	}
	claims, err := s.claimMarkers(before.ID, claimLogin, claimEmail)
	if err != nil {
		return err
	}
	return s.snapTransact(ctx, append(ops, claims.ops...), claims)
}

// DeleteSnapParticipant removes a participant and frees its login and email.
func (s *Store) DeleteSnapParticipant(ctx context.Context, w string, sv survey.Survey, p survey.StoredParticipant) error {
	surveyID := sv.ID
	ops := []types.TransactWriteItem{
		s.rosterOpen(w, surveyID, sv.Version),
		s.DeleteOp(snapParticipantKey(w, surveyID, p.ID), "attribute_exists(pk)", nil),
	}
	login, email := snapMarkers(w, surveyID, p.Participant)
	for _, m := range []*ddb.Key{login, email} {
		if m != nil {
			ops = append(ops, s.DeleteOp(*m, "participantId = :me", map[string]types.AttributeValue{":me": ddb.S(p.ID)}))
		}
	}
	return s.snapTransact(ctx, ops, markerClaims{loginAt: -1, emailAt: -1})
}

// AddResponse stores a response with the survey's next case id.
func (s *Store) AddResponse(ctx context.Context, w, surveyID string, r survey.Response) (survey.Response, error) {
	out, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.TableName, Key: surveyKey(w, surveyID).AV(),
		UpdateExpression: aws.String("ADD caseSeq :one"), ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return r, vocab.ErrNotFound
	}
	if err != nil {
		return r, err
	}
	if err := attributevalue.Unmarshal(out.Attributes["caseSeq"], &r.CaseID); err != nil {
		return r, err
	}
	r.ID = ids.New(ids.SnapResponse)
	k := ddb.Key{PK: surveyPartition(w, surveyID, "RESP"), SK: r.ID}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.TableName, Item: ddb.MustMarshal(responseItem{
		PK: k.PK, SK: k.SK, Type: "SnapResponse", CaseID: r.CaseID, Status: r.Status, Values: r.Values,
	})})
	return r, err
}

// ListResponses pages a survey's responses in creation order after response id after.
func (s *Store) ListResponses(ctx context.Context, w, surveyID, after string, max int) ([]survey.Response, bool, error) {
	items, more, err := s.pageAfter(ctx, surveyPartition(w, surveyID, "RESP"), after, max)
	if err != nil {
		return nil, false, err
	}
	decoded, err := ddb.DecodeAll[responseItem](items)
	if err != nil {
		return nil, false, err
	}
	out := make([]survey.Response, len(decoded))
	for i, it := range decoded {
		out[i] = survey.Response{ID: it.SK, CaseID: it.CaseID, Status: it.Status, Values: it.Values}
	}
	return out, more, nil
}
