// Package jobstore is the jobs context's DynamoDB adapter (jobs.Store) over the one table
// (pkg/platform/ddb). A large import is a job item and, in the job's own partition, one
// completion marker and one keep set per chunk, one plan per chunk that started writing, one
// results item per attempt at a chunk, the removals of its finish, and one error item per
// rejected row. Every partition but one (23) is led by the tenant; the numbering of the access
// patterns continues Spot's (1 to 12, package spotstore) and Snap's (13 to 18, package
// snapstore) for the one table.
//
//	| #  | access pattern                                  | index | key condition                                              |
//	|----|-------------------------------------------------|-------|------------------------------------------------------------|
//	| 19 | get a job; list a workspace's jobs newest first | table | pk=WS#<ws>#IMPORT, sk=<jobId> (read backwards)             |
//	| 20 | is a chunk done; every chunk's counts (results) | table | pk=WS#<ws>#IMPORT#<jobId>, sk=CHUNK#<n:05d>                |
//	| 21 | a chunk's per-row plan (its first writer's)     | table | pk=WS#<ws>#IMPORT#<jobId>, sk=PLAN#<n:05d>                 |
//	| 22 | a job's first N row errors, in row order        | table | pk=WS#<ws>#IMPORT#<jobId>, sk=ERR#<row:07d>                |
//	| 23 | every job not yet terminal (the sweeper)        | gsi2  | gsi2pk=IMPORT#ACTIVE, gsi2sk=<createdAt>#<ws>#<id>         |
//	| 24 | the keep set of a FULL_SYNC                     | table | pk=WS#<ws>#IMPORT#<jobId>, sk=KEEP#<n:05d>                 |
//	| 25 | a chunk's row results (one attempt's)           | table | pk=WS#<ws>#IMPORT#<jobId>, sk=RES#<firstRow:07d>#<attempt> |
//	| 26 | a finish's removals, 500 an item, in order      | table | pk=WS#<ws>#IMPORT#<jobId>, sk=REM#<n:05d>                  |
//
// The job item holds the counters (processed, created, updated, unchanged, removed, failed,
// skipped, chunksDone, failedChunks). Completing a chunk is one transaction: the chunk's marker
// is put with attribute_not_exists (a redelivered chunk finds it and changes nothing), its keep
// set beside it, and the chunk's counts are ADDed to the job in the same transaction, so the
// counters never count a chunk twice or miss one; it never sets a status it did not check
// (QUEUED -> RUNNING only; a CANCELING job stays CANCELING). The worker that finds
// chunksDone = chunks claims the job's finishing with a conditional UpdateItem (a lease:
// finisher token + finishLease in unix milliseconds, so a finisher that died is taken over
// once its lease ends) and sets the final status.
//
// A chunk's plan item records, gzip'd, the per-row plan of the first attempt that wrote rows:
// a retry after a crash part-way through finds its own earlier writes as "unchanged", so the
// results come from the plan, not from the retry. A results item (gzip'd JSON in a Binary
// attribute: outcomes, ids, errors and the rows as sent) is keyed by the attempt that wrote it,
// and the chunk's marker names the attempt it counted, so the results read are always those
// counted (another attempt's item is left to expire). The marker holds no keep set (24 does)
// so that reading every chunk's marker, which a results page does to find where its offset
// falls, costs a few read units even for a 100-chunk FULL_SYNC; the page then reads only the
// results items (25) and removal items (26) it returns: its cost does not grow with the
// offset.
//
// A job that is not terminal carries gsi2pk/gsi2sk, which put it in the sparse index of
// active jobs (23); every write that ends a job removes them, so the sweeper reads the jobs
// that may be stuck, across workspaces, without a scan. Its partition IMPORT#ACTIVE is the
// table's one tenant-free key besides the credential lookups; it starts with no WS#, so it
// meets no workspace's gsi2 partition (Spot's pattern 12). Ending a job that has not finished
// (Fail, a cancel at once, the sweeper) counts its rows not run as skipped, conditional on the
// counters it read, so a chunk counted meanwhile is not lost.
//
// Every item of a job carries ddb.TTLAttribute (epoch seconds) = the job's expiresAt
// (createdAt + jobs.Retention); reads treat a job past it as gone. List (19) reads the whole
// jobs partition backwards with the filters and the expiry as a FilterExpression, counting the
// matches as it goes (DynamoDB has no offset): a workspace's jobs of the last seven days, about
// 1 KB each, so a few read units a page.
//
// Ids are ULIDs, so pattern 19 lists jobs in creation order. Row error sort keys are zero-padded
// row indexes, so a Query with Limit N returns the first N rows with errors.
//
// A job that holds its target (jobs.Job.HoldsTarget: a Snap import holds its survey's roster)
// takes the hold in the transaction that creates it and releases it in the one that ends it:
// the family's adapter gives the writes (TargetHolder), so this package knows no family's
// keys.
package jobstore
