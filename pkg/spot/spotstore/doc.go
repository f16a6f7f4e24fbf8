// Package spotstore is the Spot Thought context's DynamoDB adapter (screening.Store,
// screening.AdminStore, auth.KeyStore) over the one table (pkg/platform/ddb): workspaces, Spot
// API keys, tenant participants, screeners, screener participants and sessions. It is the only
// package that builds their keys. The Snap context's patterns (13 to 18) are in package
// snapstore, the jobs' (19 to 26) in package jobstore and idempotency records' (27) in package
// idemstore: one numbering for the one table.
//
// # Access patterns
//
//	| #  | access pattern                                   | index | key condition                                   |
//	|----|--------------------------------------------------|-------|-------------------------------------------------|
//	| 1  | verify a Spot API key by key id                  | table | pk=SPOTKEY#<keyId>, sk=SPOTKEY                  |
//	| 2  | list a workspace's API keys (admin)              | gsi1  | gsi1pk=WS#<ws>#SPOTKEY                          |
//	| 3  | get a workspace                                  | table | pk=WS#<ws>, sk=WORKSPACE                        |
//	| 4  | get a participant; list them in list order       | table | pk=WS#<ws>#PTP, sk=<ptpId>                      |
//	|    |                                                  | gsi2  | gsi2pk=WS#<ws>#PTP, gsi2sk=<seq>                |
//	| 5  | find a participant by email (unique marker)      | table | pk=WS#<ws>#EMAIL#<shard>, sk=<lower-case email> |
//	| 6  | find a participant by external uid (marker)      | table | pk=WS#<ws>#EXTUID#<shard>, sk=<externalUid>     |
//	| 7  | get / list screeners in creation order           | table | pk=WS#<ws>#SCR, sk=<scrId>                      |
//	| 8  | get / list screener participants (all screeners) | table | pk=WS#<ws>#SCPAR, sk=<scparId>                  |
//	| 9  | list a screener's participants (and its roster)  | gsi1  | gsi1pk=WS#<ws>#SCR#<scrId>#SCPAR, gsi1sk=<seq>  |
//	| 10 | get / list screener sessions                     | table | pk=WS#<ws>#SES, sk=<scsesId>                    |
//	| 11 | list a screener participant's sessions           | gsi1  | gsi1pk=WS#<ws>#SCPAR#<scparId>#SES              |
//	| 12 | list a screener's sessions                       | gsi2  | gsi2pk=WS#<ws>#SCR#<scrId>#SES                  |
//	| 29 | a counted list's next place, buckets and counts  | table | pk=<list>#SEQ, <list>#BKT, <list>#IDX           |
//	| 30 | an import chunk delivery's ledger                | table | pk=WS#<ws>#LEDGER#<jobId>, sk=<chunk>#<ulid>    |
//
// The key lookup (1) is, with Snap's (13), the only partition not led by the tenant: it is what
// finds the tenant. Every other key starts WS#<workspace>.
//
// Ids are ULIDs, so every sort key that is an id lists in creation order. No key holds a
// mutable attribute except the email marker, which a change of email replaces (delete and
// put) in the same transaction as the participant.
//
// Markers (5, 6) are only ever read and written key by key, so they are spread over 16
// partition keys per kind (<shard> is FNV-1a of the value, mod 16): an import's marker writes
// do not all land on one partition key, which takes at most 1,000 write units a second.
//
// # Totals and offsets: counted lists
//
// A workspace's participants (4, in gsi2) and a screener's roster (9, in gsi1) are counted
// lists (ddb.Counted, pattern 29, <list> being the list's partition key): each record takes a
// place (seq, a number handed out by one ADD per write call) when it is written, lists in
// place order (the index sort key is the zero-padded place), and counts in the bucket of its
// place (100 places a bucket; the counts of 100 buckets in one index item). A page at any
// offset reads the index items (10 for 100,000 records), starts its Query at the bucket the
// offset falls in and skips fewer than 100 records: its cost does not grow with the offset. A
// bucket's members item holds the places added (m) and removed (r) as number sets, and every
// change to them is conditioned on the place not being there yet, in the same transaction as
// the index count it moves: counting a record twice counts it once (ddb.AssertMembership).
// Places are never reused, so a list has gaps where records left or writes failed.
//
// Screeners (7), all screener participants (8) and sessions (10) are counted by a counter item
// at the head of their partition, at sort key "#COUNT", which sorts before every id: the Query
// that reads a page meets the total first, so a page is one call (offsets there read what they
// skip). A screener's sessions (12, gsi2) are headed by the screener item itself
// (gsi2sk=#COUNT), whose sessionCount is their total. A screener participant's sessions (11)
// are few and are counted as they are read.
//
// # Cursors
//
// A list page read with a cursor (screening.Page.Cursor, the API's pagination[cursor]) is one
// Query of the same partition that starts after the cursor's record (ExclusiveStartKey), with
// Limit one more than the page to know whether a next page exists, and a read of the total
// (the counter item alone, or a counted list's index items): it reads what it returns, at any
// depth. The cursor (ddb.Partition.Cursor) holds only the last record's sort keys (for gsi1 and
// gsi2 also its table sort key) and a tag over the partition and those keys; the partition keys
// of the start key come from the request (workspace and filter; ddb.Partition.ItemPK is an
// index partition's table partition), so a cursor cannot reach another workspace or filter,
// and one made for another is screening.ErrInvalidCursor. Lists read whole (a filter on email
// or external uid, a screener participant's sessions) page their few records in memory with
// the same cursors under a scope of the workspace and the filter values. Every page, offset or
// cursor, carries the cursor of its last record when more follow (screening.List.Next).
//
// # Invariants
//
//   - Email and external uid are unique per workspace: a participant exists only once its
//     marker items name it. Apply writes the markers (absent, or already the participant's)
//     in the same transaction as the participant. ApplyChunk (an import job's chunk) inserts
//     them first (PartiQL INSERT in BatchExecuteStatement, each statement conditional and
//     priced as a single put, ddb.InsertAll), with a claim (ddb.MarkerClaim: claimedUntil and
//     the delivery's token on the marker), and then puts the participant and its screener
//     participant in BatchWriteItem, without a condition, before the claim's deadline: no one
//     else can be writing them, because a marker left naming no participant (a chunk
//     interrupted between the two) is taken over by the next import of that email, under the
//     same participant id, only once the claim has run out (the delivery's deadline, at most ClaimWindow, and
//     ddb.ClaimMargin), and the same holds
//     for writing a screener participant that a participant so made names and lacks (the
//     participant carries claimedUntil). What the deadline or a lost answer leaves uncertain is
//     written by conditional inserts, never by a second unconditional put.
//   - A participant's links map (screener id -> screener participant id) makes (screener,
//     participant) unique: a link is added only if absent, under the participant's version;
//     a link the participant names and the store lacks is written under that id.
//   - Counts never drift: Apply moves the count buckets and counters in the same transaction
//     as the records; ApplyChunk writes its ledger (pattern 30: what it sets out to create,
//     with the places it took) first and counts what it wrote at the end, deleting the ledger
//     in the same transaction; the ledgers that deliveries cut short leave are counted when
//     the job ends (SettleJob: the worker's finish and the sweeper, through jobs.Settler).
//     Counting is idempotent, so overlapping deliveries count each record once.
//   - Name, email and external uid are copied onto screener participants (a list page is one
//     Query); a change to the participant updates every copy in the same transaction.
//
// Reads that only route a plan are eventually consistent (markers, screener participants):
// every write the plan makes is conditioned on what it expects, so a stale read fails a
// condition and the plan is made again. Participants, on which a plan decides, are read
// consistently.
//
// Every call asks for consumed capacity (ddb.MeterOption, package capacity).
package spotstore
