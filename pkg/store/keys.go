package store

import "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

// Attribute names of the table's keys and indexes (template.yaml defines the same).
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrGSI1PK = "gsi1pk"
	attrGSI1SK = "gsi1sk"
	attrGSI2PK = "gsi2pk"
	attrGSI2SK = "gsi2sk"
	indexGSI1  = "gsi1"
	indexGSI2  = "gsi2"
)

type key struct{ pk, sk string }

// countSK is the sort key of a list's counter. '#' sorts before every id, so the Query that
// reads a page of a partition meets the partition's total first, in the same call.
const countSK = "#COUNT"

func countKey(partition string) key { return key{partition, countSK} }

func (k key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(k.pk), attrSK: str(k.sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func ws(w string) string { return "WS#" + w }

func spotKeyKey(keyID string) key           { return key{"SPOTKEY#" + keyID, "SPOTKEY"} }
func spotKeysPartition(w string) string     { return ws(w) + "#SPOTKEY" }
func workspaceKey(w string) key             { return key{ws(w), "WORKSPACE"} }
func participantKey(w, id string) key       { return key{participantsPartition(w), id} }
func participantsPartition(w string) string { return ws(w) + "#PTP" }
func emailKey(w, normalizedEmail string) key {
	return key{ws(w) + "#EMAIL", normalizedEmail}
}
func externalUIDKey(w, uid string) key              { return key{ws(w) + "#EXTUID", uid} }
func screenerKey(w, id string) key                  { return key{screenersPartition(w), id} }
func screenersPartition(w string) string            { return ws(w) + "#SCR" }
func screenerParticipantKey(w, id string) key       { return key{screenerParticipantsPartition(w), id} }
func screenerParticipantsPartition(w string) string { return ws(w) + "#SCPAR" }
func screenerRosterPartition(w, scr string) string  { return ws(w) + "#SCR#" + scr + "#SCPAR" }
func sessionKey(w, id string) key                   { return key{sessionsPartition(w), id} }
func sessionsPartition(w string) string             { return ws(w) + "#SES" }
func screenerSessionsPartition(w, scr string) string {
	return ws(w) + "#SCR#" + scr + "#SES"
}
func participantSessionsPartition(w, scpar string) string {
	return ws(w) + "#SCPAR#" + scpar + "#SES"
}
