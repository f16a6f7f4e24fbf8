// Package spotstore is the Spot Thought context's DynamoDB adapter (screening.Store,
// screening.AdminStore, auth.KeyStore) over the one table (pkg/platform/ddb): workspaces, Spot
// API keys, tenant participants, screeners, screener participants and sessions. It is the only
// package that builds their keys. The Snap context's patterns (13 to 18) are in package
// snapstore and the jobs' (19 to 26) in package jobstore: one numbering for the one table.
//
// # Access patterns
//
//	| #  | access pattern                                   | index | key condition                                   |
//	|----|--------------------------------------------------|-------|-------------------------------------------------|
//	| 1  | verify a Spot API key by key id                  | table | pk=SPOTKEY#<keyId>, sk=SPOTKEY                  |
//	| 2  | list a workspace's API keys (admin)              | gsi1  | gsi1pk=WS#<ws>#SPOTKEY                          |
//	| 3  | get a workspace                                  | table | pk=WS#<ws>, sk=WORKSPACE                        |
//	| 4  | get / list participants in creation order        | table | pk=WS#<ws>#PTP, sk=<ptpId>                      |
//	| 5  | find a participant by email (unique marker)      | table | pk=WS#<ws>#EMAIL, sk=<lower-case email>         |
//	| 6  | find a participant by external uid (marker)      | table | pk=WS#<ws>#EXTUID, sk=<externalUid>             |
//	| 7  | get / list screeners in creation order           | table | pk=WS#<ws>#SCR, sk=<scrId>                      |
//	| 8  | get / list screener participants (all screeners) | table | pk=WS#<ws>#SCPAR, sk=<scparId>                  |
//	| 9  | list a screener's participants (and its roster)  | gsi1  | gsi1pk=WS#<ws>#SCR#<scrId>#SCPAR, gsi1sk=<id>   |
//	| 10 | get / list screener sessions                     | table | pk=WS#<ws>#SES, sk=<scsesId>                    |
//	| 11 | list a screener participant's sessions           | gsi1  | gsi1pk=WS#<ws>#SCPAR#<scparId>#SES              |
//	| 12 | list a screener's sessions                       | gsi2  | gsi2pk=WS#<ws>#SCR#<scrId>#SES                  |
//
// The key lookup (1) is, with Snap's (13), the only partition not led by the tenant: it is what
// finds the tenant. Every other key starts WS#<workspace>.
//
// Ids are ULIDs, so every sort key that is an id lists in creation order. No key holds a
// mutable attribute except the email marker, which a change of email replaces (delete and
// put) in the same transaction as the participant.
//
// # Totals
//
// Each listed partition starts with its counter item, at sort key "#COUNT", which sorts before
// every id: the Query that reads a page meets the total first, so a list page is one call.
// The table's partitions (4, 7, 8, 10) have a counter item of their own ({pk, sk=#COUNT,
// count}); a screener's partitions in gsi1 and gsi2 (9, 12) are headed by the screener item
// itself (gsi1sk/gsi2sk=#COUNT), whose participantCount and sessionCount are their totals.
// A screener participant's sessions (11) are few and are counted as they are read.
//
// # Cursors
//
// A list page read with a cursor (screening.Page.Cursor, the API's pagination[cursor]) is one
// Query of the same partition that starts after the cursor's record (ExclusiveStartKey), with
// Limit one more than the page to know whether a next page exists, and one Query of the
// counter item alone (sort key #COUNT) for the exact total: it reads what it returns, at any
// depth. The cursor (ddb.Partition.Cursor) holds only the last record's sort keys (for gsi1 and
// gsi2 also its table sort key) and a tag over the partition and those keys; the partition keys
// of the start key come from the request (workspace and filter; ddb.Partition.ItemPK is an
// index partition's table partition), so a cursor cannot reach another workspace or filter,
// and one made for another is screening.ErrInvalidCursor. Lists read whole (a filter on email
// or external uid, a screener participant's sessions) page their few records in memory with
// the same cursors under a scope of the workspace and the filter values. Every page, offset or
// cursor, carries the cursor of its last record when more follow (screening.List.Next).
//
// # Invariants kept by transactions
//
//   - Email and external uid are unique per workspace: their marker items are written with
//     attribute_not_exists in the same transaction as the participant.
//   - A participant's links map (screener id -> screener participant id) makes (screener,
//     participant) unique: a link is added only if absent, under the participant's version.
//   - Counters change in the same transaction as the records they count, so a total never
//     needs a scan and never drifts.
//   - Name, email and external uid are copied onto screener participants (a list page is one
//     Query); a change to the participant updates every copy in the same transaction.
//
// Every call asks for consumed capacity (ddb.MeterOption, package capacity).
package spotstore
