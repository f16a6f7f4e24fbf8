// Package snapstore is the Snap XMP Online context's DynamoDB adapter (survey.Store,
// snapjobs.Store, auth.KeyStore for Snap users' keys, and the jobs adapter's hold on a survey's
// roster) over the one table (pkg/platform/ddb). It is the only package that builds the keys
// of Snap's records; the numbering of its access patterns continues Spot's (package
// spotstore, 1 to 12) for the one table.
//
// # Access patterns
//
//	| #  | access pattern                                   | index | key condition                                   |
//	|----|--------------------------------------------------|-------|-------------------------------------------------|
//	| 13 | verify a Snap user's API key by username         | table | pk=SNAPUSER#<lower username>, sk=SNAPUSER       |
//	| 14 | get / list a workspace's surveys                 | table | pk=WS#<ws>#SURVEY, sk=<guid>                    |
//	| 15 | page a survey's participants in creation order   | table | pk=WS#<ws>#SURVEY#<guid>#PTP, sk=<sptpId>       |
//	| 16 | find a survey participant by login (marker)      | table | pk=WS#<ws>#SURVEY#<guid>#LOGIN, sk=<lower login>|
//	| 17 | find a survey participant by email (marker)      | table | pk=WS#<ws>#SURVEY#<guid>#EMAIL, sk=<lower email>|
//	| 18 | page a survey's responses in creation order      | table | pk=WS#<ws>#SURVEY#<guid>#RESP, sk=<respId>      |
//
// The user lookup (13) is the only partition here not led by the tenant: it is what finds the
// tenant. Pages (15, 18) resume after a progress token's id with ExclusiveStartKey, so a token
// stays valid when records are added or deleted.
//
// # The roster hold
//
// A survey item's importJobId marks its roster held by a bulk import job: set in the
// transaction that creates the job and removed in the one that ends it (the jobs adapter runs
// TakeHold and ReleaseHold in its own transactions), so a job that exists and is not finished
// always holds its roster, and a finished one never does. Every participant write of the API
// checks that it is absent (rosterOpen), and every write of the import that it names the job
// (rosterHeldBy), with a ConditionCheck in the same transaction: no window between check and
// write. Login and email are unique per survey by marker items written in the same
// transaction as the participant.
package snapstore
