// Package imports runs large Spot screener-participant imports as jobs, through SQS.
//
// # The flow
//
//	API:     Plan(rows) -> chunks; store.CreateImportJob; Enqueue(chunks)    (Submit does all three)
//	Worker:  HandleSQS(batch) -> one chunk per record -> rows through screening.Service.Import
//	         -> store.CompleteImportChunk (one transaction) -> the last chunk finishes the job
//	Local:   Poller receives from the queue and calls HandleSQS as Lambda's event source would
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
//     participants (a lost race is screening.ErrConflict, and the chunk re-plans).
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
