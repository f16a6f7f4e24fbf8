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
//	| 28 | check / take / release a survey's roster hold    | table | pk=WS#<ws>#SURVEY#<guid>#HOLD, sk=HOLD          |
//	| 29 | count a Snap user's calls in a minute and second | table | pk=WS#<ws>#RATE#<userId>, sk=M#<unix minute>    |
//
// The user lookup (13) is the only partition here not led by the tenant: it is what finds the
// tenant. Pages (15, 18) resume after a progress token's id with ExclusiveStartKey, so a token
// stays valid when records are added or deleted.
//
// # Rate counters
//
// The rate limiter (pkg/platform/ratelimit) counts each Snap user's calls in one item per user
// and minute (29, the minute's start in UNIX seconds): a calls attribute for the minute and an
// sNN attribute for each second NN of it. One UpdateItem (ADD) counts a call in its minute and
// its second at once and returns both counts; an item per second and another per minute would
// take two writes, and an item per second-and-minute pair could not count the minute. The item
// carries ddb.TTLAttribute a minute after its minute ends; nothing reads a passed minute.
//
// # The roster hold
//
// Each survey has a small hold item of its own (28), written in the transaction that creates
// the survey and deleted in the one that deletes it. It carries the survey's version, which
// every change of the survey moves on (on the survey item and the hold item, in one
// transaction), and, while a bulk import job holds the roster, the job's importJobId: set in
// the transaction that creates the job and removed in the one that ends it (the jobs adapter
// runs TakeHold and ReleaseHold in its own transactions), so a job that exists and is not
// finished always holds its roster, and a finished one never does.
//
// Every participant write of the API checks, with a ConditionCheck of the hold item in the
// same transaction (rosterOpen), that the survey is still at the version the write was decided
// under and that no import holds the roster; every write of an import checks that the hold
// names its job (rosterHeldBy). No window between check and write, and the check prices a
// small item, not the survey's whole definition. Because of the version, the survey service
// may decide a write under a cached copy of the survey (survey.Service.SurveyToWrite): a survey
// changed, deleted or held since fails the check (survey.ErrSurveyChanged), and is read again.
// Login and email are unique per survey by marker items written in the same transaction as
// the participant.
package snapstore
