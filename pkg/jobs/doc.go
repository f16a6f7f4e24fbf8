// Package jobs is the import engine: large imports as jobs, chunked, sent through a queue and
// run by a worker, the same for every API family. It knows no family: a family plugs in
// through Family (run a chunk's rows, finish a job) and submits with its rows encoded as it
// likes; the engine keeps the job model (statuses, counts, per-row results, row errors, the
// hold on a target, dry runs, cancels, the removal guard, retention), and defines the Store and
// the Queue it needs (adapters: jobstore.Store, jobqueue.SQS).
//
// # Statuses
//
//	QUEUED ──first chunk starts──> RUNNING ──finisher──> COMPLETED | FAILED
//	   │                              │
//	   └─cancel: CANCELED at once     └─cancel──> CANCELING ──finisher──> CANCELED
//	(any non-terminal status ──the Sweeper, no progress for StaleAfter──> FAILED, or CANCELED after a cancel)
//
// COMPLETED, FAILED and CANCELED are terminal. Counts always add up once a job is terminal:
// Processed + Skipped == Total (Processed: created + updated + unchanged + failed rows;
// Skipped: rows that never ran; Removed counts records, not rows).
//
// # The flow
//
//	API:     family validates -> Submitter.Submit: Plan(rows) -> chunks; Store.Create (with the
//	         target's hold, for a job that holds one); Queue.Send(one Message per chunk)
//	Worker:  Worker.Handle(delivery) -> the message's family runs the chunk's rows
//	         -> Store.CompleteChunk (once per chunk) -> the last chunk finishes the job
//	Local:   pkg/dev/poller receives from the queue and calls the worker as Lambda's event
//	         source would
//
// A chunk is at most MaxChunkRows rows and at most MaxChunkBytes of JSON message; every chunk
// is one Message: one envelope for every family, the rows in the family's encoding.
//
// # Per-row results
//
// Family.RunChunk answers one RowResult per row (its outcome, the ids it made or touched, its
// errors); the engine fills in each row's index and its fields as sent (from the message), and
// stores the chunk's results (Store.PutResults, under the attempt's token) before it counts
// the chunk, whose completion record names that attempt: results and counts always agree. The
// failed rows are also the job's row errors (the first N come with the job). Store.Results
// pages them (PageResults): payload rows in row order, then the removals; an outcome filter's
// offset counts matching results; the chunks' completion records carry per-outcome counts, so
// a page reads only the results it returns, at any offset. A terminal job's rows that no chunk
// recorded are "skipped" (without fields).
//
// # A chunk, exactly once in effect
//
// The queue delivers at least once, so a chunk may run 2 or 5 times, even at the same time.
// What keeps the records as if it ran once:
//
//   - The family's rows write only what differs, so a chunk that already ran changes nothing
//     (Family.RunChunk's contract).
//   - The chunk's completion record and its counts on the job are one conditional write: a
//     chunk is counted once. A delivery that finds the chunk done changes nothing.
//   - Results come from ChunkRun.Plan: the first attempt that writes records its per-row plan
//     before writing; a retry after a crash part-way takes that plan (when it has as many
//     rows), since its own earlier writes now look unchanged. Counts derive from the rows
//     (CountRows).
//
// # Finishing a job
//
// The worker that finds every chunk done claims the job's finishing with a conditional write
// (a lease until its own deadline). If no chunk failed and no cancel was asked it runs the
// family's Finish (a full sync's removals, announced once through Finishing.PlanRemovals, which
// records them as results and counts them before the first removal) and sets COMPLETED; a job
// with a failed chunk ends FAILED with the reason. Ending the job releases its target's hold in
// the same write. A finisher that dies leaves its message undeleted; its redelivery (after the
// visibility timeout, which outlasts the lease) finds the chunk done and finishes the job.
//
// # Dry runs
//
// A dry-run job (Request.DryRun) plans every row by the very code a real import runs and
// writes nothing: ChunkRun.Plan answers mayWrite=false and records no plan; the worker fails the
// chunk (a bug: retried, then poison) if the rows' capacity meter saw a write unit; its finish's
// PlanRemovals records the would-be removals and answers proceed=false. The job ends COMPLETED
// with the counts (and Removed) a real run would have, and RowWriteUnits 0. It never holds its
// target.
//
// # The removal guard
//
// Job.MaxRemovals (Request.MaxRemovals): a finish whose PlanRemovals names more removals gets
// proceed=false, nothing is recorded as removed, and the job ends FAILED with
// RemovalGuardReason.
//
// # Cancel
//
// Store.Cancel is durable when it answers. A QUEUED job that no chunk started ends CANCELED at
// once (every row skipped, its hold released); its chunks, delivered later, change nothing
// (Store.Start, conditional on QUEUED, races the cancel's conditional write: one wins, and a
// chunk runs only if Start reports RUNNING). A RUNNING job becomes CANCELING: chunks in flight
// finish and count; a chunk delivered later is counted done with its rows skipped (results
// "skipped" with their fields); once every chunk is done the finisher ends the job CANCELED
// without the family's Finish, so no full sync's removal ever runs after a cancel (the store
// refuses to plan removals on a CANCELING job). A full sync whose removals have been planned
// can no longer be canceled (ErrFinished, as for COMPLETED and FAILED jobs): its removals may
// be under way. Cancelling a CANCELING or CANCELED job answers it unchanged.
//
// # No job is stuck for good
//
// Store.Create, Start and CompleteChunk set Job.ProgressAt. The Sweeper (a scheduled function,
// and `make run` at its start with SweepAll, as its in-memory queue lost every chunk) lists the
// jobs that are not terminal (Store.ActiveJobs, an index, not a scan), reads each again, and
// ends one whose ProgressAt is older than StaleAfter (DefaultStaleAfter: 45 minutes, more than
// a chunk's five receives at the queue's 360 s visibility timeout) with a write conditional on
// that ProgressAt: FAILED (StaleReason), or CANCELED if a cancel was asked; its rows not run
// count skipped and its target's hold is released. A chunk of it delivered later changes
// nothing.
//
// # Retention
//
// A job and every record of it (chunks, plans, results, removals, row errors) carry ExpiresAt
// = CreatedAt + Retention (7 days) as the table's time to live (ddb.TTLAttribute); reads treat
// a job past it as not found, as DynamoDB deletes expired items only eventually.
//
// # Poison chunks
//
// A delivery that fails on its last receive (Worker.MaxReceiveCount, the queue's redrive
// policy; Worker.LastReceive) records its chunk on the job as failed (all its rows failed, the error as the job's
// reason), which counts it done, so the job ends FAILED; it still fails, so the queue moves it
// to the DLQ. A message whose body cannot be decoded is attributed to its job through its
// attributes (Message.Attributes).
//
// # No chunk waits out the visibility timeout
//
// An invocation has a deadline (the worker function's 60 s timeout; the local poller's); a
// batch of 10 chunks under load may not fit in it. The worker's SQS handler
// (jobqueue.HandlerFor, the adapter: the engine makes no SQS call) starts a chunk only while a
// third of the invocation's time is left (jobqueue.StartShare: the time the slowest chunk may
// take); the chunks it does not start, and one that overran, it hands back to the queue
// (visibility 0: received again at once) and reports as failed, so they are not deleted. A
// handback costs a receive (ApproximateReceiveCount, which Worker.LastReceive and the redrive
// policy read), so the records run most-received first, the first record of an invocation
// always runs, and a record on its last receive is never handed back while there is time: a
// healthy chunk always runs before the queue would move it to the DLQ. What a handback can
// still cost is retries: a chunk handed back k times that then keeps failing is recorded
// poison k receives earlier. The local poller runs the same handler under its deadline.
//
// # Cost
//
// The rows' own reads and writes are metered apart from the job's bookkeeping (a capacity
// meter of their own) and recorded on the chunk and the job (RowReadUnits, RowWriteUnits): an
// import of unchanged rows writes 0 row units, a dry run 0 in any case. The bookkeeping per
// chunk is one consistent read of job and chunk, one plan read (and a plan write when rows
// change), one row-error query, the results write (a few KB gzip'd) and the completion write.
package jobs
