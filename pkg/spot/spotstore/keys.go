package spotstore

import (
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/participant-roster/roster/pkg/platform/ddb"
)

// Key layout of the Spot context (doc.go has the access patterns).

func spotKeyKey(keyID string) ddb.Key       { return ddb.Key{PK: "SPOTKEY#" + keyID, SK: "SPOTKEY"} }
func spotKeysPartition(w string) string     { return ddb.WS(w) + "#SPOTKEY" }
func workspaceKey(w string) ddb.Key         { return ddb.Key{PK: ddb.WS(w), SK: "WORKSPACE"} }
func participantKey(w, id string) ddb.Key   { return ddb.Key{PK: participantsPartition(w), SK: id} }
func participantsPartition(w string) string { return ddb.WS(w) + "#PTP" }
func emailKey(w, normalizedEmail string) ddb.Key {
	return ddb.Key{PK: ddb.WS(w) + "#EMAIL#" + markerShard(normalizedEmail), SK: normalizedEmail}
}
func externalUIDKey(w, uid string) ddb.Key {
	return ddb.Key{PK: ddb.WS(w) + "#EXTUID#" + markerShard(uid), SK: uid}
}

// markerShards spreads a workspace's markers over partition keys: they are only ever read
// and written one key at a time, so an import's marker writes need not all land on one
// partition key (each takes at most 1,000 write units a second).
const markerShards = 16

func markerShard(value string) string {
	h := fnv.New32a()
	h.Write([]byte(value))
	return strconv.Itoa(int(h.Sum32() % markerShards))
}

// participantsList and rosterList are the counted lists (ddb.Counted) of a workspace's
// participants and of a screener's roster: their totals and offsets.
func participantsList(w string) ddb.Counted { return ddb.Counted{Name: participantsPartition(w)} }
func rosterList(w, scr string) ddb.Counted {
	return ddb.Counted{Name: screenerRosterPartition(w, scr)}
}

// jobLedgerPartition holds what each delivery of an import job's chunks set out to create (an
// item per delivery, its sort key led by chunkLedgerPrefix), so that the job's end can count
// what an interrupted delivery wrote.
func jobLedgerPartition(w, jobID string) string { return ddb.WS(w) + "#LEDGER#" + jobID }
func chunkLedgerPrefix(n int) string            { return fmt.Sprintf("%06d#", n) }
func screenerKey(w, id string) ddb.Key          { return ddb.Key{PK: screenersPartition(w), SK: id} }
func screenersPartition(w string) string        { return ddb.WS(w) + "#SCR" }
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
