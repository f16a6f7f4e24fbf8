package store

// What cmd/bench needs to compare the store with raw DynamoDB calls on the very same items and
// keys. Nothing in the service uses these.

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

// BenchScreenerParticipantKey is the table key GetScreenerParticipant reads.
func BenchScreenerParticipantKey(w, id string) map[string]types.AttributeValue {
	return screenerParticipantKey(w, id).av()
}

// BenchRosterQuery is the Query a screener-filtered ListScreenerParticipants starts from (gsi1
// partition of the screener), without Limit or ExclusiveStartKey.
func BenchRosterQuery(table, w, screenerID string) *dynamodb.QueryInput {
	return partition{index: indexGSI1, pk: screenerRosterPartition(w, screenerID)}.query(table)
}

// BenchImportItems are the items an import writes for one new row: the participant, its email
// marker, its external-uid marker (when it has an external uid) and its screener participant,
// encoded as Apply encodes them.
func BenchImportItems(w string, p screening.Participant, sp screening.ScreenerParticipant) ([]map[string]types.AttributeValue, error) {
	records := []any{newParticipantItem(w, p)}
	var markerKeys []key
	if e := screening.NormalizeEmail(p.Email); e != "" {
		markerKeys = append(markerKeys, emailKey(w, e))
	}
	if p.ExternalUID != "" {
		markerKeys = append(markerKeys, externalUIDKey(w, p.ExternalUID))
	}
	for _, k := range markerKeys {
		records = append(records, markerItem{PK: k.pk, SK: k.sk, Type: "Marker", ParticipantID: p.ID})
	}
	records = append(records, newScreenerParticipantItem(w, sp))
	out := make([]map[string]types.AttributeValue, len(records))
	for i, r := range records {
		av, err := attributevalue.MarshalMap(r)
		if err != nil {
			return nil, fmt.Errorf("store: encode: %w", err)
		}
		out[i] = av
	}
	return out, nil
}

// BenchSnapAddOps are the writes AddSnapParticipant makes, in one TransactWriteItems, for a new
// participant of a survey: the survey's roster check, the participant item and its login and
// email markers, with the store's own item types, keys and conditions. id is the participant's
// new id.
func (s *DDBStore) BenchSnapAddOps(w, surveyID string, p survey.Participant) (id string, ops []types.TransactWriteItem, err error) {
	id = ids.New(ids.SnapParticipant)
	k := snapParticipantKey(w, surveyID, id)
	put, err := s.put(snapParticipantItem{PK: k.pk, SK: k.sk, Type: "SnapParticipant", Participant: p, Version: 1}, "attribute_not_exists(pk)")
	if err != nil {
		return "", nil, err
	}
	login, email := snapMarkers(w, surveyID, p)
	claims, err := s.claimMarkers(id, login, email)
	if err != nil {
		return "", nil, err
	}
	return id, append([]types.TransactWriteItem{s.rosterOpen(w, surveyID), put}, claims.ops...), nil
}

// BenchSnapSurveyKey is the table key of a survey item (the one every participant write checks).
func BenchSnapSurveyKey(w, surveyID string) map[string]types.AttributeValue {
	return surveyKey(w, surveyID).av()
}

// BenchSnapParticipantsQuery is the Query ListSnapParticipants pages (the survey's participant
// partition), without Limit or ExclusiveStartKey.
func BenchSnapParticipantsQuery(table, w, surveyID string) *dynamodb.QueryInput {
	return partition{pk: surveyPartition(w, surveyID, "PTP")}.query(table)
}
