// Package imports runs large imports as jobs, through SQS: Spot screener-participant imports
// (UPDATES_ONLY or FULL_SYNC, rows through screening.Service) and Snap bulk participant imports
// (ADD, see snap.go). Both share the job records, the chunking, the queue and the worker.
//
// # The flow
//
//	API:     Plan(rows) -> chunks; store.CreateImportJob; Enqueue(chunks)    (Submit does all three;
//	         SubmitSnap for Snap, whose job takes the survey's roster in the same transaction)
//	Worker:  HandleSQS(batch) -> one chunk per record (its family read from the message)
//	         -> its rows written -> store.CompleteImportChunk (one transaction)
//	         -> the last chunk finishes the job (a Snap job frees its roster in that transaction)
//	Local:   Poller receives from the queue and calls HandleSQS as Lambda's event source would
//
// # Snap chunks
//
// A Snap chunk's participants were validated by the API. The worker reads, consistently, who
// holds their logins and emails: a participant already there as the row says (statuses aside)
// is unchanged, a login or email another participant holds fails the row with Add
// Participant's message, and the rest are added, up to 33 per transaction, each transaction
// checking that this job still holds the roster. Another delivery of the same chunk then finds
// them unchanged, and a lost race for a marker re-reads and re-plans; the counts come from the
// chunk's plan, as for Spot.
//
// # Pacing
//
// The worker's store is paced (store.Pacer): each transaction of rows waits until every
// partition key it writes is within a budget of write units per second, so that all workers
// together stay under DynamoDB's 1,000 WCU/s per partition (template.yaml has the arithmetic).
//
// A chunk is at most MaxChunkRows rows and at most MaxChunkBytes of JSON message. Each chunk is
// one SQS message (Message), sent with SendMessageBatch.
//
// # A chunk, exactly once in effect
//
// SQS delivers at least once, so a chunk may run 2 or 5 times, even at the same time. What keeps
// the table as if it ran once:
//
//   - The rows go through screening.Service.Import in UPDATES_ONLY mode, which writes only what
//     differs: a chunk that already ran finds its rows unchanged and writes nothing. Its
//     uniqueness markers make concurrent runs of one chunk converge instead of duplicating
//     participants (a lost race is vocab.ErrConflict, and the chunk re-plans).
//   - The chunk's completion marker and its counts on the job are one transaction, conditional
//     on the marker being absent: a chunk is counted once. A delivery that finds the marker
//     changes nothing.
//   - Counts come from the changes the service asks its Store to apply (this package wraps the
//     service's Store to see them, see chunkStore): a change with a Link is a created screener
//     participant, any other change an updated one, a row without a change is unchanged. The
//     first attempt that writes records its counts in a plan item before writing; a retry after
//     a crash part-way uses those counts, since its own earlier writes now look unchanged.
//
// Rows are validated per row: the service rejects a whole request when any row is invalid, so
// the worker records the rows it names as row errors (failed), drops them and runs the rest. A
// bad row never fails its chunk.
//
// # Finishing a job
//
// The worker that finds chunksDone = chunks after its chunk claims the job's finishing with a
// conditional UpdateItem (a lease until its own deadline). For FULL_SYNC, and only if no chunk
// failed, it then unlinks the screener's participants that no chunk's rows name (the chunk
// markers keep the participant ids their rows name, rows with errors included, so a row that
// failed validation never removes the participant it names), and sets COMPLETED; a job with a
// failed chunk ends FAILED with the reason. A second identical FULL_SYNC finds nothing absent and
// removes nothing. A finisher that dies leaves its message undeleted; its redelivery (after the
// visibility timeout, which outlasts the lease) finds the chunk done and finishes the job.
//
// # Poison chunks
//
// A record that fails with ApproximateReceiveCount >= MaxReceiveCount (the queue's redrive
// policy) is on its last delivery: the worker records its chunk on the job as failed (all its
// rows failed, the error as the job's reason), which counts it done, so the job ends FAILED;
// and still reports it failed, so SQS moves it to the DLQ. A message whose body cannot be
// decoded is attributed to its job through its message attributes (Enqueue sets jobId,
// workspaceId, chunk, firstRow and rows on every message).
//
// # Cost
//
// The rows' own reads and writes are metered apart from the job's bookkeeping (a capacity
// meter of their own) and recorded on the chunk marker and the job (rowReadUnits,
// rowWriteUnits): an import of unchanged rows has rowWriteUnits 0. The bookkeeping per chunk is
// one consistent BatchGetItem (job + marker), one plan read (and a plan write when rows
// change), one error-range Query, and the completion transaction.
package imports
