package store

// What cmd/bench needs to compare the store with raw DynamoDB calls on the very same items and
// keys. Nothing in the service uses these.

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/screening"
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
