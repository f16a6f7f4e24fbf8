// Package jobstore is the jobs context's DynamoDB adapter (jobs.Store) over the one table
// (pkg/platform/ddb). A large import is a job item, one completion marker per chunk, one plan
// per chunk that started writing, and one error item per rejected row. Every partition is led
// by the tenant; the numbering of the access patterns continues Spot's (1 to 12, package
// spotstore) and Snap's (13 to 18, package snapstore) for the one table.
//
//	| #  | access pattern                                   | index | key condition                                    |
//	|----|--------------------------------------------------|-------|--------------------------------------------------|
//	| 19 | get / list a workspace's import jobs             | table | pk=WS#<ws>#IMPORT, sk=<jobId>                    |
//	| 20 | is a chunk done; the keep set of a FULL_SYNC     | table | pk=WS#<ws>#IMPORT#<jobId>, sk=CHUNK#<n:05d>      |
//	| 21 | a chunk's counts as its first attempt planned    | table | pk=WS#<ws>#IMPORT#<jobId>, sk=PLAN#<n:05d>       |
//	| 22 | a job's first N row errors, in row order         | table | pk=WS#<ws>#IMPORT#<jobId>, sk=ERR#<row:07d>      |
//
// The job item holds the counters (processed, created, updated, unchanged, removed, failed,
// chunksDone, failedChunks). Completing a chunk is one transaction: the chunk's marker is put
// with attribute_not_exists (a redelivered chunk finds it and changes nothing) and the chunk's
// counts are ADDed to the job in the same transaction, so the counters never count a chunk
// twice or miss one. The worker that finds chunksDone = chunks claims the job's finishing with a
// conditional UpdateItem (a lease: finisher token + finishLease in unix milliseconds, so a
// finisher that died is taken over once its lease ends) and sets the final status.
//
// A chunk's plan item records the counts of the first attempt that wrote rows: a retry after a
// crash part-way through finds its own earlier writes as "unchanged", so the counts come from
// the plan, not from the retry.
//
// Ids are ULIDs, so pattern 19 lists jobs in creation order. Row error sort keys are zero-padded
// row indexes, so a Query with Limit N returns the first N rows with errors.
//
// A job that holds its target (jobs.Job.HoldsTarget: a Snap import holds its survey's roster)
// takes the hold in the transaction that creates it and releases it in the one that ends it:
// the family's adapter gives the writes (TargetHolder), so this package knows no family's
// keys.
package jobstore
