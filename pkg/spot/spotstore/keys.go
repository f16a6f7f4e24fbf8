package spotstore

import "github.com/participant-roster/roster/pkg/platform/ddb"

// Key layout of the Spot context (doc.go has the access patterns).

func spotKeyKey(keyID string) ddb.Key       { return ddb.Key{"SPOTKEY#" + keyID, "SPOTKEY"} }
func spotKeysPartition(w string) string     { return ddb.WS(w) + "#SPOTKEY" }
func workspaceKey(w string) ddb.Key         { return ddb.Key{ddb.WS(w), "WORKSPACE"} }
func participantKey(w, id string) ddb.Key   { return ddb.Key{participantsPartition(w), id} }
func participantsPartition(w string) string { return ddb.WS(w) + "#PTP" }
func emailKey(w, normalizedEmail string) ddb.Key {
	return ddb.Key{ddb.WS(w) + "#EMAIL", normalizedEmail}
}
func externalUIDKey(w, uid string) ddb.Key { return ddb.Key{ddb.WS(w) + "#EXTUID", uid} }
func screenerKey(w, id string) ddb.Key     { return ddb.Key{screenersPartition(w), id} }
func screenersPartition(w string) string   { return ddb.WS(w) + "#SCR" }
func screenerParticipantKey(w, id string) ddb.Key {
	return ddb.Key{screenerParticipantsPartition(w), id}
}
func screenerParticipantsPartition(w string) string { return ddb.WS(w) + "#SCPAR" }
func screenerRosterPartition(w, scr string) string  { return ddb.WS(w) + "#SCR#" + scr + "#SCPAR" }
func sessionKey(w, id string) ddb.Key               { return ddb.Key{sessionsPartition(w), id} }
func sessionsPartition(w string) string             { return ddb.WS(w) + "#SES" }
func screenerSessionsPartition(w, scr string) string {
	return ddb.WS(w) + "#SCR#" + scr + "#SES"
}
func participantSessionsPartition(w, scpar string) string {
	return ddb.WS(w) + "#SCPAR#" + scpar + "#SES"
}
