package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/vocab"
)

const (
	// DefaultMaxReceiveCount is the redrive policy's maxReceiveCount the worker assumes when
	// Worker.MaxReceiveCount is 0.
	DefaultMaxReceiveCount = 5
	// defaultFinishLease bounds a finisher's claim when its context has no deadline (a Lambda
	// invocation's always has one: the function's timeout).
	defaultFinishLease = 15 * time.Minute
	maxReasonLen       = 1000
	// poisonTimeout bounds recording a poison chunk, which runs even if the invocation's
	// context has ended.
	poisonTimeout = 30 * time.Second
)

// Delivery is one received chunk message, as the queue's event source hands it over.
type Delivery struct {
	ID           string
	Body         string
	ReceiveCount int               // how often the queue has delivered it, this time included
	Attributes   map[string]string // the message's attributes (Message.Attributes)
}

// Worker runs chunks: each delivery is one chunk of one job, of any family.
type Worker struct {
	Store    Store
	Families []Family
	// MaxReceiveCount is the queue's redrive maxReceiveCount: a delivery that fails on that
	// receive is its chunk's last chance. 0 means DefaultMaxReceiveCount.
	MaxReceiveCount int
	// Log gets a line per chunk and one per failure; nil logs nothing.
	Log *slog.Logger
	Now func() time.Time // nil: time.Now
}

// Handle runs one delivery's chunk, unless it is done already, then finishes the job if that
// was its last chunk. An error means the delivery should come again; on its last receive the
// chunk is first recorded on its job as failed for good (its rows failed), so the job can end.
func (w *Worker) Handle(ctx context.Context, d Delivery) error {
	err := protect(func() error { return w.run(ctx, d.Body) })
	if err == nil {
		return nil
	}
	last := w.LastReceive(d)
	w.log().Warn("import chunk failed", "messageId", d.ID, "receiveCount", d.ReceiveCount, "lastReceive", last, "error", err.Error())
	if last {
		if perr := w.recordPoison(ctx, d, err); perr != nil {
			w.log().Error("import chunk failed for good and could not be recorded on its job", "messageId", d.ID, "error", perr.Error())
		}
	}
	return err
}

// protect turns a panic into an error, so one delivery cannot take the batch down.
func protect(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("jobs: panic: %v", r)
		}
	}()
	return f()
}

func (w *Worker) run(ctx context.Context, body string) error {
	m, err := DecodeMessage(body)
	if err != nil {
		return err
	}
	fam, ok := w.family(m.Family)
	if !ok {
		return fmt.Errorf("jobs: chunk message of unknown family %q", m.Family)
	}
	return w.processChunk(ctx, fam, m)
}

func (w *Worker) family(name string) (Family, bool) {
	for _, f := range w.Families {
		if f.Name() == name {
			return f, true
		}
	}
	return nil, false
}

// LastReceive reports whether d is its chunk's last chance: the queue's redrive policy moves
// the message to the dead-letter queue rather than deliver it again.
func (w *Worker) LastReceive(d Delivery) bool { return d.ReceiveCount >= w.maxReceiveCount() }

func (w *Worker) maxReceiveCount() int {
	if w.MaxReceiveCount > 0 {
		return w.MaxReceiveCount
	}
	return DefaultMaxReceiveCount
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

// processChunk runs one chunk, unless it is done already, then finishes the job if it was the
// last. A chunk delivered after a cancel is skipped instead (its rows counted skipped); one of
// a job that ended without it (canceled at once, swept, never fully queued) changes nothing.
func (w *Worker) processChunk(ctx context.Context, fam Family, m Message) error {
	job, done, err := w.state(ctx, fam, m)
	if err != nil {
		return err
	}
	if job.Status == Queued && !done {
		running, err := w.Store.Start(ctx, m.WorkspaceID, m.JobID, w.now())
		if err != nil {
			return err
		}
		if !running { // a cancel won the race: read what it made of the job
			if job, done, err = w.state(ctx, fam, m); err != nil {
				return err
			}
		} else {
			job.Status = Running
		}
	}
	switch {
	case done && job.Terminal():
		return nil
	case done:
		return w.maybeFinish(ctx, fam, m.WorkspaceID, m.JobID)
	case job.Terminal():
		return nil // the job ended without this chunk (canceled at once, swept): its rows count skipped
	case job.Status == Canceling:
		return w.skipChunk(ctx, fam, job, m)
	}
	started := time.Now()
	result, rows, err := w.runRows(ctx, fam, job, m)
	if errors.Is(err, ErrHoldLost) && w.ended(ctx, m) {
		return nil // another delivery of this chunk finished the job meanwhile, freeing its target
	}
	if err != nil {
		return err
	}
	applied, err := w.complete(ctx, job, result, rows)
	if err != nil {
		return err
	}
	w.log().Info("import chunk", "job", m.JobID, "family", m.Family, "chunk", m.Chunk, "rows", len(m.Rows), "applied", applied,
		"created", result.Counts.Created, "updated", result.Counts.Updated, "unchanged", result.Counts.Unchanged,
		"failed", result.Counts.Failed, "dryRun", job.DryRun, "readUnits", result.ReadUnits, "writeUnits", result.WriteUnits,
		"ms", time.Since(started).Milliseconds())
	return w.maybeFinish(ctx, fam, m.WorkspaceID, m.JobID)
}

// state reads a chunk's job and whether the chunk is done, and checks that the message is the
// job's.
func (w *Worker) state(ctx context.Context, fam Family, m Message) (Job, bool, error) {
	job, done, err := w.Store.ChunkState(ctx, m.WorkspaceID, m.JobID, m.Chunk)
	if errors.Is(err, vocab.ErrNotFound) {
		return Job{}, false, fmt.Errorf("jobs: job %s of workspace %s not found", m.JobID, m.WorkspaceID)
	}
	if err != nil {
		return Job{}, false, err
	}
	if job.Family != m.Family || job.Target != m.Target || m.Chunk >= job.Chunks {
		return Job{}, false, fmt.Errorf("jobs: message (family %s, %s %s, chunk %d) does not match job %s (family %s, target %s, %d chunks)",
			m.Family, fam.TargetKind(), m.Target, m.Chunk, job.ID, job.Family, job.Target, job.Chunks)
	}
	return job, done, nil
}

// complete stores a chunk's results, then counts it on its job (once). A job that ended
// meanwhile (ErrClosed) keeps the results and counts nothing.
func (w *Worker) complete(ctx context.Context, job Job, result ChunkResult, rows []RowResult) (bool, error) {
	result.Attempt = newToken()
	if err := w.Store.PutResults(ctx, job, result.Attempt, result.FirstRow, rows); err != nil {
		return false, err
	}
	applied, err := w.Store.CompleteChunk(ctx, job, result, w.now())
	if errors.Is(err, ErrClosed) {
		return false, nil
	}
	return applied, err
}

// skipChunk counts a chunk of a CANCELING job done without running it: its rows are skipped.
func (w *Worker) skipChunk(ctx context.Context, fam Family, job Job, m Message) error {
	rows := skippedRows(m)
	result := ChunkResult{N: m.Chunk, FirstRow: m.FirstRow, Rows: len(rows), Counts: CountRows(rows)}
	if _, err := w.complete(ctx, job, result, rows); err != nil {
		return err
	}
	return w.maybeFinish(ctx, fam, m.WorkspaceID, m.JobID)
}

// skippedRows are a chunk's rows as results of rows that never ran.
func skippedRows(m Message) []RowResult {
	return rowsWithOutcome(m.FirstRow, m.Rows, OutcomeSkipped, nil)
}

// rowsWithOutcome are results of rows that all had one outcome (and the same errors).
func rowsWithOutcome(firstRow int, fields []json.RawMessage, outcome string, errs []FieldError) []RowResult {
	out := make([]RowResult, len(fields))
	for i, f := range fields {
		out[i] = RowResult{Row: firstRow + i, Outcome: outcome, Errors: errs, Fields: f}
	}
	return out
}

// ChunkFailedCode is the code of the error each row of a chunk that failed for good carries.
const ChunkFailedCode = "CHUNK_FAILED"

// failedRows are a failed chunk's rows as results: each failed with the chunk's reason.
func failedRows(firstRow int, fields []json.RawMessage, reason string) []RowResult {
	return rowsWithOutcome(firstRow, fields, OutcomeFailed, []FieldError{{Code: ChunkFailedCode, Message: truncate(reason)}})
}

// runRows runs a chunk's rows through its family, with a capacity meter of their own (the
// bookkeeping stays on ctx's), records its row errors, and returns its completion record and
// its rows' results. A target that is gone fails the chunk for good: no retry can help. A
// family that answers for other rows than the chunk's, or writes on a dry run, has a bug: the
// chunk fails (and is retried, then poison).
func (w *Worker) runRows(ctx context.Context, fam Family, job Job, m Message) (ChunkResult, []RowResult, error) {
	rowCtx, meter := capacity.WithMeter(ctx)
	run := &ChunkRun{Job: job, Chunk: Chunk{N: m.Chunk, FirstRow: m.FirstRow, Rows: m.Rows}, store: w.Store, book: ctx}
	out, err := fam.RunChunk(rowCtx, run)
	if errors.Is(err, vocab.ErrNotFound) {
		reason := fmt.Sprintf("the %s %s was not found", fam.TargetKind(), job.Target)
		return failedChunk(m.Chunk, m.FirstRow, len(m.Rows), reason), failedRows(m.FirstRow, m.Rows, reason), nil
	}
	if err != nil {
		return ChunkResult{}, nil, err
	}
	readUnits, writeUnits := meter.Units()
	switch {
	case len(out.Rows) != len(m.Rows):
		return ChunkResult{}, nil, fmt.Errorf("jobs: family %s answered %d row results for a chunk of %d rows", fam.Name(), len(out.Rows), len(m.Rows))
	case job.DryRun && writeUnits > 0:
		return ChunkResult{}, nil, fmt.Errorf("jobs: family %s wrote %g units in a dry run", fam.Name(), writeUnits)
	}
	rows := withFields(out.Rows, m)
	if len(m.Rows) > 0 {
		last := m.FirstRow + len(m.Rows) - 1
		if err := w.Store.ReplaceRowErrors(ctx, job, m.FirstRow, last, rowErrors(rows)); err != nil {
			return ChunkResult{}, nil, err
		}
	}
	result := ChunkResult{N: m.Chunk, FirstRow: m.FirstRow, Rows: len(m.Rows), Counts: CountRows(rows), Keep: out.Keep,
		ReadUnits: readUnits, WriteUnits: writeUnits}
	return result, rows, nil
}

// withFields are a family's row results numbered in the payload and with the rows as sent.
func withFields(rows []RowResult, m Message) []RowResult {
	out := make([]RowResult, len(rows))
	for i, r := range rows {
		r.Row = m.FirstRow + i
		if len(r.Fields) == 0 {
			r.Fields = m.Rows[i]
		}
		out[i] = r
	}
	return out
}

// rowErrors are the failed rows among results, as the job's row errors.
func rowErrors(rows []RowResult) []RowError {
	var out []RowError
	for _, r := range rows {
		if r.Outcome == OutcomeFailed {
			out = append(out, RowError{Row: r.Row, Errors: r.Errors})
		}
	}
	return out
}

// ended reports whether a chunk's job is finished (read again, consistently).
func (w *Worker) ended(ctx context.Context, m Message) bool {
	job, _, err := w.Store.ChunkState(ctx, m.WorkspaceID, m.JobID, m.Chunk)
	return err == nil && job.Terminal()
}

// maybeFinish finishes the job if every chunk is done and no other worker is finishing it.
func (w *Worker) maybeFinish(ctx context.Context, fam Family, ws, jobID string) error {
	job, _, err := w.Store.Get(ctx, ws, jobID, 0)
	if err != nil {
		return err
	}
	if job.Terminal() || !job.AllChunksDone() {
		return nil
	}
	now := time.Now()
	until := now.Add(defaultFinishLease)
	if d, ok := ctx.Deadline(); ok {
		until = d
	}
	token := newToken()
	job, ok, err := w.Store.ClaimFinish(ctx, ws, jobID, token, now, until)
	if err != nil || !ok {
		return err // !ok: finished, or another worker holds the lease and will finish it
	}
	return w.finish(ctx, fam, job, token)
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// finish runs a claimed job's family finish (only when no chunk failed and no cancel was
// asked) and sets its final status: CANCELED after a cancel (no removal runs), FAILED after a
// failed chunk or a refused removal guard, else COMPLETED. What the family's finish costs
// counts as the rows' work.
func (w *Worker) finish(ctx context.Context, fam Family, job Job, token string) error {
	rowCtx, meter := capacity.WithMeter(ctx)
	status, reason := Completed, ""
	switch {
	case job.Status == Canceling:
		status = Canceled
	case job.FailedChunks > 0:
		status, reason = Failed, failureReason(job)+fam.FailureNote(job)
	default:
		fin := &Finishing{Job: job, token: token, store: w.Store, book: ctx}
		if err := fam.Finish(rowCtx, fin); err != nil {
			if errors.Is(err, ErrLeaseLost) {
				return nil // another worker took over
			}
			return err
		}
		switch {
		case fin.canceled:
			status = Canceled
		case fin.refusal != "":
			status, reason = Failed, fin.refusal // it says already that nothing was removed
		}
	}
	if s, ok := fam.(Settler); ok && !job.DryRun {
		if err := s.Settle(rowCtx, job); err != nil {
			return err
		}
	}
	r, wu := meter.Units()
	if job.DryRun && wu > 0 {
		return fmt.Errorf("jobs: family %s wrote %g units finishing a dry run", fam.Name(), wu)
	}
	err := w.Store.Finish(ctx, job, token, status, truncate(reason), w.now(), r, wu)
	if errors.Is(err, ErrLeaseLost) {
		return nil
	}
	if err == nil {
		w.log().Info("import job finished", "job", job.ID, "family", job.Family, "status", status, "reason", reason, "chunks", job.Chunks)
	}
	return err
}

// failureReason is why a job with failed chunks failed: the first chunk's reason, with how
// many failed when more than one did.
func failureReason(job Job) string {
	if job.FailedChunks > 1 || job.Reason == "" {
		return fmt.Sprintf("%d of %d chunks failed; the first: %s", job.FailedChunks, job.Chunks, job.Reason)
	}
	return job.Reason
}

// recordPoison records a delivery's chunk on its job as failed for good: its rows count
// failed, the error is the job's reason, and the chunk counts as done, so the job can end
// (FAILED).
func (w *Worker) recordPoison(ctx context.Context, d Delivery, cause error) error {
	ref, ok := refOf(d)
	if !ok {
		return fmt.Errorf("jobs: the message names no job (no usable body or message attributes): %w", cause)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), poisonTimeout)
	defer cancel()
	job, _, err := w.Store.Get(ctx, ref.ws, ref.job, 0)
	switch {
	case errors.Is(err, vocab.ErrNotFound):
		return nil // nothing to record it on
	case err != nil:
		return err
	}
	reason := fmt.Sprintf("chunk %d (rows %d to %d) failed %d times: %v", ref.chunk, ref.firstRow, ref.firstRow+ref.rows-1, d.ReceiveCount, cause)
	failed := failedChunk(ref.chunk, ref.firstRow, ref.rows, reason)
	if ref.fields != nil { // the rows as sent, when the body could be read
		failed.Attempt = newToken()
		if err := w.Store.PutResults(ctx, job, failed.Attempt, ref.firstRow, failedRows(ref.firstRow, ref.fields, reason)); err != nil {
			return err
		}
	}
	applied, err := w.Store.CompleteChunk(ctx, job, failed, w.now())
	switch {
	case errors.Is(err, ErrClosed):
		return nil
	case err != nil:
		return err
	}
	if applied {
		w.log().Error("import chunk failed for good; its rows are counted failed", "job", ref.job, "chunk", ref.chunk, "reason", reason)
	}
	// The chunk was done before (applied false) when what keeps failing is finishing the job:
	// one more try, then the job ends FAILED rather than waiting for a message that is going
	// to the DLQ.
	ferr := w.finishAny(ctx, ref)
	if applied || ferr == nil {
		return ferr
	}
	return w.Store.Fail(ctx, ref.ws, ref.job, truncate("finishing the job failed: "+cause.Error()), w.now(), true)
}

// finishAny finishes a poison delivery's job, by the family its message names or, when its
// body named none, by the job's own.
func (w *Worker) finishAny(ctx context.Context, ref chunkRef) error {
	name := ref.family
	if name == "" {
		job, _, err := w.Store.Get(ctx, ref.ws, ref.job, 0)
		if err != nil {
			return err
		}
		name = job.Family
	}
	fam, ok := w.family(name)
	if !ok {
		return fmt.Errorf("jobs: job %s has unknown family %q", ref.job, name)
	}
	return w.maybeFinish(ctx, fam, ref.ws, ref.job)
}

func truncate(s string) string {
	if len(s) <= maxReasonLen {
		return s
	}
	cut := maxReasonLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
