package spotstore

import "github.com/participant-roster/roster/pkg/platform/ddb"

// Key layout of the Spot context (doc.go has the access patterns).

func spotKeyKey(keyID string) ddb.Key       { return ddb.Key{PK: "SPOTKEY#" + keyID, SK: "SPOTKEY"} }
func spotKeysPartition(w string) string     { return ddb.WS(w) + "#SPOTKEY" }
func workspaceKey(w string) ddb.Key         { return ddb.Key{PK: ddb.WS(w), SK: "WORKSPACE"} }
func participantKey(w, id string) ddb.Key   { return ddb.Key{PK: participantsPartition(w), SK: id} }
func participantsPartition(w string) string { return ddb.WS(w) + "#PTP" }
func emailKey(w, normalizedEmail string) ddb.Key {
	return ddb.Key{PK: ddb.WS(w) + "#EMAIL", SK: normalizedEmail}
}
func externalUIDKey(w, uid string) ddb.Key { return ddb.Key{PK: ddb.WS(w) + "#EXTUID", SK: uid} }
func screenerKey(w, id string) ddb.Key     { return ddb.Key{PK: screenersPartition(w), SK: id} }
func screenersPartition(w string) string   { return ddb.WS(w) + "#SCR" }
func screenerParticipantKey(w, id string) ddb.Key {
	return ddb.Key{PK: screenerParticipantsPartition(w), SK: id}
}
func screenerParticipantsPartition(w string) string { return ddb.WS(w) + "#SCPAR" }
func screenerRosterPartition(w, scr string) string  { return ddb.WS(w) + "#SCR#" + scr + "#SCPAR" }
func sessionKey(w, id string) ddb.Key               { return ddb.Key{PK: sessionsPartition(w), SK: id} }
func sessionsPartition(w string) string             { return ddb.WS(w) + "#SES" }
func screenerSessionsPartition(w, scr string) string {
	return ddb.WS(w) + "#SCR#" + scr + "#SES"
}
func participantSessionsPartition(w, scpar string) string {
	return ddb.WS(w) + "#SCPAR#" + scpar + "#SES"
}
