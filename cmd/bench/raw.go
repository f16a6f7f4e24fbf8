package main

// The raw DynamoDB client's view of the items and keys the service writes and reads: built
// here, by the bench, from the table's layout (the adapters' package docs list it), with the SDK
// alone, as a hand-written client would write them. They are not taken from the adapters, so
// that a raw baseline is raw; checkRawSpot, checkRawSnap and (measure 7) checkRawImportRow
// compare them with what the service really wrote before anything is measured, and stop the
// run when they differ.

import (
	"fmt"
	"hash/fnv"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
)

type rawItem = map[string]types.AttributeValue

func rawKey(pk, sk string) rawItem {
	return rawItem{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}
}

func rawWorkspace(w string) string { return "WS#" + w }

func rawParticipantKey(w, id string) rawItem { return rawKey(rawWorkspace(w)+"#PTP", id) }
func rawEmailMarkerKey(w, normalizedEmail string) rawItem {
	return rawKey(rawWorkspace(w)+"#EMAIL#"+rawMarkerShard(normalizedEmail), normalizedEmail)
}
func rawExternalUIDMarkerKey(w, uid string) rawItem {
	return rawKey(rawWorkspace(w)+"#EXTUID#"+rawMarkerShard(uid), uid)
}

// rawMarkerShard is the shard of a marker's partition key: FNV-1a of the value, mod 16.
func rawMarkerShard(value string) string {
	h := fnv.New32a()
	h.Write([]byte(value))
	return strconv.Itoa(int(h.Sum32() % 16))
}

// rawSeqKey is a counted list's sort key for a record at place seq.
func rawSeqKey(seq int64) string { return fmt.Sprintf("%012d", seq) }
func rawScreenerParticipantKey(w, id string) rawItem {
	return rawKey(rawWorkspace(w)+"#SCPAR", id)
}
func rawRosterPartition(w, screener string) string {
	return rawWorkspace(w) + "#SCR#" + screener + "#SCPAR"
}

// rawRateCounterKey is a Snap user's rate counter of the minute of at (snapstore's access
// pattern 29).
func rawRateCounterKey(w, userID string, at time.Time) rawItem {
	return rawKey(rawRatePartition(w, userID), fmt.Sprintf("M#%d", rawMinute(at)))
}
func rawRatePartition(w, userID string) string { return rawWorkspace(w) + "#RATE#" + userID }

// rawMinute is the UNIX time of the start of at's minute.
func rawMinute(at time.Time) int64 { return at.Unix() / 60 * 60 }

func rawSurveyKey(w, surveyID string) rawItem { return rawKey(rawWorkspace(w)+"#SURVEY", surveyID) }
func rawSurveyHoldKey(w, surveyID string) rawItem {
	return rawKey(rawSurveyPartition(w, surveyID, "HOLD"), "HOLD")
}
func rawSurveyPartition(w, surveyID, kind string) string {
	return rawWorkspace(w) + "#SURVEY#" + surveyID + "#" + kind
}
func rawSnapParticipantKey(w, surveyID, id string) rawItem {
	return rawKey(rawSurveyPartition(w, surveyID, "PTP"), id)
}
func rawSnapLoginKey(w, surveyID, login string) rawItem {
	return rawKey(rawSurveyPartition(w, surveyID, "LOGIN"), strings.ToLower(login))
}
func rawSnapEmailKey(w, surveyID, email string) rawItem {
	return rawKey(rawSurveyPartition(w, surveyID, "EMAIL"), strings.ToLower(email))
}

// rawRosterQuery is the Query of a screener's roster in gsi1 (headed by the screener item),
// without Limit or ExclusiveStartKey.
func rawRosterQuery(table, w, screener string) *dynamodb.QueryInput {
	return rawPartitionQuery(table, "gsi1", "gsi1pk", rawRosterPartition(w, screener))
}

// rawSnapParticipantsQuery is the Query of a survey's participant partition, without Limit or
// ExclusiveStartKey.
func rawSnapParticipantsQuery(table, w, surveyID string) *dynamodb.QueryInput {
	return rawPartitionQuery(table, "", "pk", rawSurveyPartition(w, surveyID, "PTP"))
}

func rawPartitionQuery(table, index, pkAttr, pk string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String(pkAttr + " = :pk"),
		ExpressionAttributeValues: rawItem{":pk": &types.AttributeValueMemberS{Value: pk}},
	}
	if index != "" {
		in.IndexName = aws.String(index)
	}
	return in
}

type rawActor struct {
	Type string `dynamodbav:"type"`
	ID   string `dynamodbav:"id"`
	Name string `dynamodbav:"name"`
}

type rawParticipant struct {
	PK           string            `dynamodbav:"pk"`
	SK           string            `dynamodbav:"sk"`
	GSI2PK       string            `dynamodbav:"gsi2pk"`
	GSI2SK       string            `dynamodbav:"gsi2sk"`
	Seq          int64             `dynamodbav:"seq"`
	Type         string            `dynamodbav:"type"`
	ID           string            `dynamodbav:"id"`
	ExternalUID  string            `dynamodbav:"externalUid,omitempty"`
	Email        string            `dynamodbav:"email"`
	Name         string            `dynamodbav:"name"`
	CreatedBy    rawActor          `dynamodbav:"createdBy"`
	CreatedAt    string            `dynamodbav:"createdAt"`
	UpdatedBy    rawActor          `dynamodbav:"updatedBy"`
	UpdatedAt    string            `dynamodbav:"updatedAt"`
	Links        map[string]string `dynamodbav:"links"`
	Version      int64             `dynamodbav:"version"`
	ClaimedUntil int64             `dynamodbav:"claimedUntil,omitempty"`
}

type rawMarker struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	Type          string `dynamodbav:"type"`
	ParticipantID string `dynamodbav:"participantId"`
	ClaimedUntil  int64  `dynamodbav:"claimedUntil,omitempty"`
	Claim         string `dynamodbav:"claim,omitempty"`
}

// rawClaim is the claim an import job's chunk writes on a new row's markers and participant
// (until when, and whose), or none (claimed false: a synchronous import).
func rawClaim(claimed bool, at time.Time) (claimedUntil int64, claim string) {
	if !claimed {
		return 0, ""
	}
	return at.Add(spotstore.DefaultClaimWindow).UnixMilli(), ids.New("")
}

type rawScreenerParticipant struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	GSI1PK        string `dynamodbav:"gsi1pk"`
	GSI1SK        string `dynamodbav:"gsi1sk"`
	Seq           int64  `dynamodbav:"seq"`
	Type          string `dynamodbav:"type"`
	ID            string `dynamodbav:"id"`
	ScreenerID    string `dynamodbav:"screenerId"`
	ParticipantID string `dynamodbav:"participantId"`
	ExternalUID   string `dynamodbav:"externalUid,omitempty"`
	Name          string `dynamodbav:"name"`
	Email         string `dynamodbav:"email"`
	CreatedAt     string `dynamodbav:"createdAt"`
}

type rawSnapParticipant struct {
	PK          string             `dynamodbav:"pk"`
	SK          string             `dynamodbav:"sk"`
	Type        string             `dynamodbav:"type"`
	Participant survey.Participant `dynamodbav:"participant"`
	Version     int64              `dynamodbav:"version"`
}

func rawMarshal(records ...any) ([]rawItem, error) {
	out := make([]rawItem, len(records))
	for i, r := range records {
		av, err := attributevalue.MarshalMap(r)
		if err != nil {
			return nil, fmt.Errorf("raw item: %w", err)
		}
		out[i] = av
	}
	return out, nil
}

func rawTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func keyStrings(k rawItem) (pk, sk string) {
	return k["pk"].(*types.AttributeValueMemberS).Value, k["sk"].(*types.AttributeValueMemberS).Value
}

// rawImportRowItems are the four items an import of a new row into screener writes, in this
// order: the participant (by actor, linked to its screener participant, at place ptpSeq of
// the workspace's list), its email marker, its external-uid marker and its screener
// participant (at place spSeq of the roster). claimed: written by an import job's chunk, whose
// new rows carry the claim on their markers (rawClaim).
func (b *bench) rawImportRowItems(screener string, r importRow, participantID, screenerParticipantID string, ptpSeq, spSeq int64, at time.Time, claimed bool) ([]rawItem, error) {
	a := b.actor()
	actor := rawActor{Type: a.Type, ID: a.ID, Name: a.Name}
	ppk, psk := keyStrings(rawParticipantKey(b.ws, participantID))
	epk, esk := keyStrings(rawEmailMarkerKey(b.ws, screening.NormalizeEmail(r.Email)))
	upk, usk := keyStrings(rawExternalUIDMarkerKey(b.ws, r.ExternalUID))
	spk, ssk := keyStrings(rawScreenerParticipantKey(b.ws, screenerParticipantID))
	claimedUntil, claim := rawClaim(claimed, at)
	return rawMarshal(
		rawParticipant{
			PK: ppk, SK: psk, GSI2PK: ppk, GSI2SK: rawSeqKey(ptpSeq), Seq: ptpSeq, Type: "Participant", ID: participantID, ExternalUID: r.ExternalUID, Email: r.Email, Name: r.Name,
			CreatedBy: actor, CreatedAt: rawTime(at), UpdatedBy: actor, UpdatedAt: rawTime(at),
			Links: map[string]string{screener: screenerParticipantID}, Version: 1, ClaimedUntil: claimedUntil,
		},
		rawMarker{PK: epk, SK: esk, Type: "Marker", ParticipantID: participantID, ClaimedUntil: claimedUntil, Claim: claim},
		rawMarker{PK: upk, SK: usk, Type: "Marker", ParticipantID: participantID, ClaimedUntil: claimedUntil, Claim: claim},
		rawScreenerParticipant{
			PK: spk, SK: ssk, GSI1PK: rawRosterPartition(b.ws, screener), GSI1SK: rawSeqKey(spSeq), Seq: spSeq,
			Type: "ScreenerParticipant", ID: screenerParticipantID, ScreenerID: screener, ParticipantID: participantID,
			ExternalUID: r.ExternalUID, Name: r.Name, Email: r.Email, CreatedAt: rawTime(at),
		},
	)
}

// rawSeq hands out the places of the raw side's records (rawImportItems): unique, as the
// store's are.
var rawSeq atomic.Int64

// rawImportItems are the items an import of rs into screener writes, every row new, with fresh
// ids, four items a row (rawImportRowItems, claimed as there).
func (b *bench) rawImportItems(screener string, rs []importRow, claimed bool) ([]rawItem, error) {
	var out []rawItem
	for _, r := range rs {
		seq := rawSeq.Add(1)
		items, err := b.rawImportRowItems(screener, r, ids.New(ids.Participant), ids.New(ids.ScreenerParticipant), seq, seq, time.Now(), claimed)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return out, nil
}

// rawSnapAddOps are the writes of adding participant p, with id id, to a survey at version
// version in one TransactWriteItems: the check on the survey's hold item that the survey is at
// that version and no import holds its roster, the participant, and its login and email
// markers (those it has).
func (b *bench) rawSnapAddOps(surveyID string, version int64, id string, p survey.Participant) ([]types.TransactWriteItem, error) {
	pk, sk := keyStrings(rawSnapParticipantKey(b.ws, surveyID, id))
	records := []any{rawSnapParticipant{PK: pk, SK: sk, Type: "SnapParticipant", Participant: p, Version: 1}}
	login, email := p.UniqueKeys()
	for _, k := range []rawItem{rawSnapLoginKey(b.ws, surveyID, login), rawSnapEmailKey(b.ws, surveyID, email)} {
		if mpk, msk := keyStrings(k); msk != "" {
			records = append(records, rawMarker{PK: mpk, SK: msk, Type: "Marker", ParticipantID: id})
		}
	}
	items, err := rawMarshal(records...)
	if err != nil {
		return nil, err
	}
	ops := []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(b.table), Key: rawSurveyHoldKey(b.ws, surveyID),
		ConditionExpression:       aws.String("version = :v AND attribute_not_exists(importJobId)"),
		ExpressionAttributeValues: rawItem{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}},
	}}}
	for _, it := range items {
		ops = append(ops, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(b.table), Item: it, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
	}
	return ops, nil
}

// rawSnapCount is the UpdateItem that counts a call a Snap user makes at at, as the rate limiter
// counts every Snap call: one ADD to the minute's count and to its second's, side by side in the
// minute's counter item, which expires a minute after the minute ends; the new counts come back
// with the write (UPDATED_NEW), for the X-RateLimit-Remaining headers and the verdict.
func (b *bench) rawSnapCount(userID string, at time.Time) *dynamodb.UpdateItemInput {
	minute := rawMinute(at)
	return &dynamodb.UpdateItemInput{
		TableName:                aws.String(b.table),
		Key:                      rawRateCounterKey(b.ws, userID, at),
		UpdateExpression:         aws.String("ADD #m :one, #s :one SET #ttl = :ttl"),
		ExpressionAttributeNames: map[string]string{"#m": "calls", "#s": fmt.Sprintf("s%02d", at.Unix()-minute), "#ttl": "ttl"},
		ExpressionAttributeValues: rawItem{
			":one": &types.AttributeValueMemberN{Value: "1"},
			":ttl": &types.AttributeValueMemberN{Value: strconv.FormatInt(minute+120, 10)},
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	}
}

// rawSnapCounts are the second's and the minute's counts that the UpdateItem in returned.
func rawSnapCounts(in *dynamodb.UpdateItemInput, out *dynamodb.UpdateItemOutput) (second, minute int64, err error) {
	if second, err = requireNumber(out.Attributes, in.ExpressionAttributeNames["#s"]); err != nil {
		return 0, 0, fmt.Errorf("rate count: %w", err)
	}
	if minute, err = requireNumber(out.Attributes, in.ExpressionAttributeNames["#m"]); err != nil {
		return 0, 0, fmt.Errorf("rate count: %w", err)
	}
	return second, minute, nil
}

// checkRawSnapCount fails unless rawSnapCount writes the counter item the rate limiter wrote for
// user, who made one call: it counts one call of a user no call has counted, in the limiter's
// window (read back from its item, so that the clock moving on cannot part them), and compares
// the two counters, partition keys aside.
func (b *bench) checkRawSnapCount(user string) error {
	out, err := b.client.Query(b.ctx, rawPartitionQuery(b.table, "", "pk", rawRatePartition(b.ws, user)))
	if err != nil {
		return err
	}
	if len(out.Items) != 1 {
		return fmt.Errorf("the raw rate counter Query of user %s finds %d items, want the 1 minute counter", user, len(out.Items))
	}
	limiter := out.Items[0]
	at, err := rawCountedAt(limiter)
	if err != nil {
		return fmt.Errorf("the rate limiter's counter: %w", err)
	}
	in := b.rawSnapCount(ids.New(ids.SnapUser), at)
	res, err := b.client.UpdateItem(b.ctx, in)
	if err != nil {
		return err
	}
	if second, minute, err := rawSnapCounts(in, res); err != nil || second != 1 || minute != 1 {
		return fmt.Errorf("the raw rate count of a first call returned counts %d a second, %d a minute (%v), want 1 and 1", second, minute, err)
	}
	got, err := b.rawGet(b.table, in.Key)
	if err != nil {
		return err
	}
	want := maps.Clone(limiter)
	want["pk"] = in.Key["pk"]
	if diffs := itemDiff("", want, got); len(diffs) > 0 {
		return fmt.Errorf("the bench's raw rate count does not write what the rate limiter writes:\n  %s", strings.Join(diffs, "\n  "))
	}
	return nil
}

// rawCountedAt is the second a counter item holding one call counted it in: its minute (the sort
// key) plus the offset its one second attribute is named by.
func rawCountedAt(counter rawItem) (time.Time, error) {
	var minute int64
	if _, err := fmt.Sscanf(stringAttr(counter, "sk"), "M#%d", &minute); err != nil {
		return time.Time{}, fmt.Errorf("sort key %q: %w", stringAttr(counter, "sk"), err)
	}
	var offsets []int64
	for name := range counter {
		var s int64
		if n, err := fmt.Sscanf(name, "s%d", &s); err == nil && n == 1 && name == fmt.Sprintf("s%02d", s) {
			offsets = append(offsets, s)
		}
	}
	if len(offsets) != 1 {
		return time.Time{}, fmt.Errorf("%d second attributes, want the 1 of its one call", len(offsets))
	}
	return time.Unix(minute+offsets[0], 0), nil
}

// checkRawSpot imports one row through the import handler, then checks that what the service
// wrote for it is what the raw side writes for a row (checkRawImportRow).
func (b *bench) checkRawSpot() error {
	scr, err := b.newScreener("Raw items check")
	if err != nil {
		return err
	}
	r := rows("k", 1)[0]
	body, err := importBody(scr, []importRow{r})
	if err != nil {
		return err
	}
	if _, err := b.invoke(b.ctx, "ImportScreenerParticipantsFunction", b.event("POST", "/screener-participants-import", "", body)); err != nil {
		return err
	}
	return b.checkRawImportRow(b.table, scr, r, false)
}

// checkRawImportRow finds the items the service wrote for row r of an import into screener by
// the raw keys alone (email marker, then its participant, then the participant's link to the
// screener), and fails unless they are the items rawImportRowItems builds with those ids, and
// the raw roster Query and GetItem find the screener participant (claimed as there).
func (b *bench) checkRawImportRow(table, screener string, r importRow, claimed bool) error {
	marker, err := b.rawGet(table, rawEmailMarkerKey(b.ws, screening.NormalizeEmail(r.Email)))
	if err != nil {
		return err
	}
	participantID, err := requireString(marker, "participantId")
	if err != nil {
		return fmt.Errorf("email marker: %w", err)
	}
	participant, err := b.rawGet(table, rawParticipantKey(b.ws, participantID))
	if err != nil {
		return err
	}
	links, ok := participant["links"].(*types.AttributeValueMemberM)
	if !ok {
		return fmt.Errorf("participant %s has no links map", participantID)
	}
	spID, err := requireString(links.Value, screener)
	if err != nil {
		return fmt.Errorf("participant %s links: %w", participantID, err)
	}
	ptpSeq, err := requireNumber(participant, "seq")
	if err != nil {
		return fmt.Errorf("participant %s: %w", participantID, err)
	}
	sp, err := b.rawGet(table, rawScreenerParticipantKey(b.ws, spID))
	if err != nil {
		return err
	}
	spSeq, err := requireNumber(sp, "seq")
	if err != nil {
		return fmt.Errorf("screener participant %s: %w", spID, err)
	}
	want, err := b.rawImportRowItems(screener, r, participantID, spID, ptpSeq, spSeq, time.Now(), claimed)
	if err != nil {
		return err
	}
	if err := b.checkWritten(table, want); err != nil {
		return fmt.Errorf("import of row %s: %w", r.ExternalUID, err)
	}
	out, err := b.client.Query(b.ctx, rawRosterQuery(table, b.ws, screener))
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(out.Items, func(it rawItem) bool { return stringAttr(it, "sk") == spID }) {
		return fmt.Errorf("the raw roster Query of screener %s does not find screener participant %s", screener, spID)
	}
	return nil
}

// checkRawSnap adds one participant through the Add handler, finds it by its raw login marker,
// and fails unless the items the service wrote are the puts of rawSnapAddOps for it, the raw
// survey key reads the survey, the raw participant Query finds the participant, and the raw rate
// count writes the counter the rate limiter wrote for the Add (checkRawSnapCount).
func (b *bench) checkRawSnap() error {
	t, err := b.newSnapTenant("Raw items check")
	if err != nil {
		return err
	}
	login := "k-0000001"
	ev := t.event("POST", snapBase+t.surveyID+"/participants", "", fmt.Sprintf(loginOnlyBody, login))
	if _, err := b.invokeStatus(b.ctx, "SnapAddParticipantFunction", ev, 201); err != nil {
		return err
	}
	marker, err := b.rawGet(b.table, rawSnapLoginKey(b.ws, t.surveyID, login))
	if err != nil {
		return err
	}
	id, err := requireString(marker, "participantId")
	if err != nil {
		return fmt.Errorf("login marker: %w", err)
	}
	p, err := t.participant(login)
	if err != nil {
		return err
	}
	ops, err := b.rawSnapAddOps(t.surveyID, t.version, id, p)
	if err != nil {
		return err
	}
	var puts []rawItem
	for _, op := range ops {
		if op.Put != nil {
			puts = append(puts, op.Put.Item)
		}
	}
	if err := b.checkWritten(b.table, puts); err != nil {
		return fmt.Errorf("snap add: %w", err)
	}
	sv, err := b.rawGet(b.table, rawSurveyKey(b.ws, t.surveyID))
	if err != nil {
		return err
	}
	if typ := stringAttr(sv, "type"); typ != "Survey" {
		return fmt.Errorf("the raw survey key reads an item of type %q, not the survey", typ)
	}
	hold, err := b.rawGet(b.table, rawSurveyHoldKey(b.ws, t.surveyID))
	if err != nil {
		return err
	}
	if typ := stringAttr(hold, "type"); typ != "SurveyHold" {
		return fmt.Errorf("the raw survey hold key reads an item of type %q, not the survey's hold", typ)
	}
	out, err := b.client.Query(b.ctx, rawSnapParticipantsQuery(b.table, b.ws, t.surveyID))
	if err != nil {
		return err
	}
	if len(out.Items) != 1 {
		return fmt.Errorf("the raw participant Query of survey %s finds %d items, want the 1 participant", t.surveyID, len(out.Items))
	}
	if sk := stringAttr(out.Items[0], "sk"); sk != id {
		return fmt.Errorf("the raw participant Query of survey %s finds %s, want %s", t.surveyID, sk, id)
	}
	return b.checkRawSnapCount(t.user.ID)
}

// checkWritten reads each raw item's key back and fails, naming every difference, unless the
// service wrote exactly that item there.
func (b *bench) checkWritten(table string, want []rawItem) error {
	var diffs []string
	for _, w := range want {
		pk, sk := keyStrings(w)
		got, err := b.rawGet(table, rawKey(pk, sk))
		if err != nil {
			return err
		}
		for _, d := range itemDiff("", w, got) {
			diffs = append(diffs, fmt.Sprintf("item %s / %s: %s", pk, sk, d))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the bench's raw items are not what the service writes:\n  %s", strings.Join(diffs, "\n  "))
	}
	return nil
}

func (b *bench) rawGet(table string, key rawItem) (rawItem, error) {
	out, err := b.client.GetItem(b.ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	if out.Item == nil {
		pk, sk := keyStrings(key)
		return nil, fmt.Errorf("the service wrote no item at the raw key %s / %s", pk, sk)
	}
	return out.Item, nil
}

// requireString is a string attribute an item must have.
func requireString(it rawItem, name string) (string, error) {
	s, ok := it[name].(*types.AttributeValueMemberS)
	if !ok {
		return "", fmt.Errorf("no string attribute %q", name)
	}
	return s.Value, nil
}

func requireNumber(it rawItem, name string) (int64, error) {
	n, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("no number attribute %q", name)
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

// rawTimeAttrs hold the time of a write: the two sides write at different moments, so these
// need only hold a well-formed time.
var rawTimeAttrs = map[string]bool{"createdAt": true, "updatedAt": true}

// rawPerWriteAttrs differ from write to write (a claim's time and token): compared by type.
var rawPerWriteAttrs = map[string]bool{"claimedUntil": true, "claim": true}

// itemDiff lists how got (what the service wrote) differs from want (the raw item): attribute
// names, kinds and values, maps and lists element by element.
func itemDiff(path string, want, got rawItem) []string {
	names := make([]string, 0, len(want)+len(got))
	for n := range want {
		names = append(names, n)
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []string
	for _, n := range names {
		w, inWant := want[n]
		g, inGot := got[n]
		switch {
		case !inWant:
			out = append(out, fmt.Sprintf("%s%s: the service writes it (%s), the bench does not", path, n, showValue(g)))
		case !inGot:
			out = append(out, fmt.Sprintf("%s%s: the bench writes it (%s), the service does not", path, n, showValue(w)))
		default:
			out = append(out, valueDiff(path, n, w, g)...)
		}
	}
	return out
}

func valueDiff(path, name string, want, got types.AttributeValue) []string {
	at := path + name
	if reflect.TypeOf(want) != reflect.TypeOf(got) {
		return []string{fmt.Sprintf("%s: the bench writes %s, the service %s", at, showValue(want), showValue(got))}
	}
	if rawPerWriteAttrs[name] {
		return nil
	}
	switch w := want.(type) {
	case *types.AttributeValueMemberM:
		return itemDiff(at+".", w.Value, got.(*types.AttributeValueMemberM).Value)
	case *types.AttributeValueMemberL:
		g := got.(*types.AttributeValueMemberL).Value
		if len(w.Value) != len(g) {
			return []string{fmt.Sprintf("%s: the bench writes %d elements, the service %d", at, len(w.Value), len(g))}
		}
		var out []string
		for i := range w.Value {
			out = append(out, valueDiff(at, fmt.Sprintf("[%d]", i), w.Value[i], g[i])...)
		}
		return out
	case *types.AttributeValueMemberS:
		if rawTimeAttrs[name] {
			if _, err := time.Parse(time.RFC3339Nano, got.(*types.AttributeValueMemberS).Value); err != nil {
				return []string{fmt.Sprintf("%s: the service writes %s, not a time", at, showValue(got))}
			}
			return nil
		}
	}
	if !reflect.DeepEqual(want, got) {
		return []string{fmt.Sprintf("%s: the bench writes %s, the service %s", at, showValue(want), showValue(got))}
	}
	return nil
}

func showValue(v types.AttributeValue) string {
	var x any
	if err := attributevalue.Unmarshal(v, &x); err != nil {
		return fmt.Sprintf("%T", v)
	}
	return fmt.Sprintf("%T %v", v, x)
}
