// Package jobs is the import engine: large imports as jobs, chunked, sent through a queue and
// run by a worker, the same for every API family. It knows no family: a family plugs in
// through Family (run a chunk's rows, finish a job) and submits with its rows encoded as it
// likes; the engine keeps the job model (statuses, counts, row errors, the hold on a target),
// and defines the Store and the Queue it needs (adapters: jobstore.Store, jobqueue.SQS).
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
// # A chunk, exactly once in effect
//
// The queue delivers at least once, so a chunk may run 2 or 5 times, even at the same time.
// What keeps the records as if it ran once:
//
//   - The family's rows write only what differs, so a chunk that already ran changes nothing
//     (Family.RunChunk's contract).
//   - The chunk's completion record and its counts on the job are one conditional write: a
//     chunk is counted once. A delivery that finds the chunk done changes nothing.
//   - Counts come from ChunkRun.Plan: the first attempt that writes records its counts before
//     writing; a retry after a crash part-way takes those, since its own earlier writes now
//     look unchanged.
//
// # Finishing a job
//
// The worker that finds every chunk done claims the job's finishing with a conditional write
// (a lease until its own deadline). If no chunk failed it runs the family's Finish (a full
// sync's removals, counted once through Finishing.PlanRemovals) and sets COMPLETED; a job with
// a failed chunk ends FAILED with the reason. Ending the job releases its target's hold in the
// same write. A finisher that dies leaves its message undeleted; its redelivery (after the
// visibility timeout, which outlasts the lease) finds the chunk done and finishes the job.
//
// # Poison chunks
//
// A delivery that fails on its last receive (Worker.MaxReceiveCount, the queue's redrive
// policy) records its chunk on the job as failed (all its rows failed, the error as the job's
// reason), which counts it done, so the job ends FAILED; it still fails, so the queue moves it
// to the DLQ. A message whose body cannot be decoded is attributed to its job through its
// attributes (Message.Attributes).
//
// # Cost
//
// The rows' own reads and writes are metered apart from the job's bookkeeping (a capacity
// meter of their own) and recorded on the chunk and the job (RowReadUnits, RowWriteUnits): an
// import of unchanged rows writes 0 row units. The bookkeeping per chunk is one consistent read
// of job and chunk, one plan read (and a plan write when rows change), one row-error query, and
// the completion write.
package jobs
