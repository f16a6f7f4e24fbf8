// Package store keeps every record of the service in one DynamoDB table. It is the only package
// that builds keys. Tenant (workspace) id leads every partition key except the credential
// lookup, which necessarily happens before the tenant is known.
//
// # Access patterns
//
//	| #  | access pattern                                   | index | key condition                                   |
//	|----|--------------------------------------------------|-------|-------------------------------------------------|
//	| 1  | verify a Spot API key by key id                  | table | pk=SPOTKEY#<keyId>, sk=SPOTKEY                  |
//	| 2  | list a workspace's API keys (admin)              | gsi1  | gsi1pk=WS#<ws>#SPOTKEY                          |
//	| 3  | get a workspace and its counters                 | table | pk=WS#<ws>, sk=WORKSPACE                        |
//	| 4  | get / list participants in creation order        | table | pk=WS#<ws>#PTP, sk=<ptpId>                      |
//	| 5  | find a participant by email (unique marker)      | table | pk=WS#<ws>#EMAIL, sk=<lower-case email>         |
//	| 6  | find a participant by external uid (marker)      | table | pk=WS#<ws>#EXTUID, sk=<externalUid>             |
//	| 7  | get / list screeners in creation order           | table | pk=WS#<ws>#SCR, sk=<scrId>                      |
//	| 8  | get / list screener participants (all screeners) | table | pk=WS#<ws>#SCPAR, sk=<scparId>                  |
//	| 9  | list a screener's participants (and its roster)  | gsi1  | gsi1pk=WS#<ws>#SCR#<scrId>#SCPAR, gsi1sk=<id>   |
//	| 10 | get / list screener sessions                     | table | pk=WS#<ws>#SES, sk=<scsesId>                    |
//	| 11 | list a screener's sessions                       | gsi1  | gsi1pk=WS#<ws>#SCR#<scrId>#SES                  |
//	| 12 | list a screener participant's sessions           | gsi2  | gsi2pk=WS#<ws>#SCPAR#<scparId>#SES              |
//
// Ids are ULIDs, so every sort key that is an id lists in creation order. No key holds a
// mutable attribute except the email marker, which a change of email replaces (delete and
// put) in the same transaction as the participant.
//
// # Invariants kept by transactions
//
//   - Email and external uid are unique per workspace: their marker items are written with
//     attribute_not_exists in the same transaction as the participant.
//   - A participant's links map (screener id -> screener participant id) makes (screener,
//     participant) unique: a link is added only if absent, under the participant's version.
//   - List totals are counters on the workspace and screener items, changed in the same
//     transaction as the records they count, so a total never needs a scan.
//   - Name, email and external uid are copied onto screener participants (a list page is one
//     Query); a change to the participant updates every copy in the same transaction.
//
// Every call asks for consumed capacity (see package capacity).
package store
