package imports

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/store"
	"github.com/participant-roster/roster/pkg/vocab"
)

const (
	// DefaultMaxReceiveCount is the redrive policy's maxReceiveCount the worker assumes when
	// Worker.MaxReceiveCount is 0.
	DefaultMaxReceiveCount = 5
	// defaultFinishLease bounds a finisher's claim when its context has no deadline (a Lambda
	// invocation's always has one: the function's timeout).
	defaultFinishLease = 15 * time.Minute
	// maxConflictRetries bounds how often a chunk re-plans after vocab.ErrConflict (another
	// delivery of the same chunk, or another chunk naming the same participant, won a race).
	maxConflictRetries = 8
	maxReasonLen       = 1000
	// DefaultPartitionWriteBudget is what one worker may write to one partition key, in write
	// units per second: DynamoDB's 1,000 per partition, less a fifth kept for the API's own
	// writes, shared by the worker function's MaximumConcurrency of 2 (template.yaml).
	DefaultPartitionWriteBudget = 1000 * 0.8 / 2
	// poisonTimeout bounds recording a poison chunk, which runs even if the invocation's
	// context has ended.
	poisonTimeout = 30 * time.Second
)

// Worker is the import worker: HandleSQS is its Lambda handler (SQS event source with
// ReportBatchItemFailures).
type Worker struct {
	// Service imports the rows; its Store is wrapped per chunk to see what the rows change.
	Service *screening.Service
	// Store keeps the jobs.
	Store *store.DDBStore
	// MaxReceiveCount is the queue's redrive maxReceiveCount: a record that fails on that
	// receive is its chunk's last chance. 0 means DefaultMaxReceiveCount.
	MaxReceiveCount int
	// Log gets a line per chunk and one per failure; nil logs nothing.
	Log *slog.Logger
}

// HandleSQS processes each record (one chunk each) on its own, in order, and reports exactly
// the records that failed in BatchItemFailures, for SQS to deliver again (or move to the DLQ).
// It returns an error, failing the whole batch, only when a record that failed has no message
// id to report it by.
func (w *Worker) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, rec := range ev.Records {
		if err := w.handleRecord(ctx, rec); err != nil {
			if rec.MessageId == "" {
				return events.SQSEventResponse{}, fmt.Errorf("imports: a record without a messageId failed: %w", err)
			}
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

func (w *Worker) handleRecord(ctx context.Context, rec events.SQSMessage) error {
	task, err := w.taskOf(rec.Body)
	if err == nil {
		err = protect(func() error { return w.processChunk(ctx, task) })
	}
	if err == nil {
		return nil
	}
	count := receiveCount(rec)
	last := count >= w.maxReceiveCount()
	w.log().Warn("import chunk failed", "messageId", rec.MessageId, "receiveCount", count, "lastReceive", last, "error", err.Error())
	if last {
		if perr := w.recordPoison(ctx, rec, count, err); perr != nil {
			w.log().Error("import chunk failed for good and could not be recorded on its job", "messageId", rec.MessageId, "error", perr.Error())
		}
	}
	return err
}

// chunkTask is one chunk as the worker runs it, whatever its family.
type chunkTask struct {
	ws, jobID, family, target string
	targetKind                string // "screener" or "survey", for messages
	n, firstRow, rows         int
	// run imports the chunk's rows and returns its completion record and its row errors.
	run func(ctx context.Context, job store.ImportJob) (store.ImportChunk, []store.ImportRowError, error)
}

// taskOf decodes a chunk message of either family (a message without a family is Spot's).
func (w *Worker) taskOf(body string) (chunkTask, error) {
	var head struct {
		Family string `json:"family"`
	}
	if err := json.Unmarshal([]byte(body), &head); err != nil {
		return chunkTask{}, fmt.Errorf("imports: undecodable chunk message: %w", err)
	}
	if head.Family == FamilySnap {
		m, err := DecodeSnapMessage(body)
		return w.snapTask(m), err
	}
	m, err := DecodeMessage(body)
	return chunkTask{
		ws: m.WorkspaceID, jobID: m.JobID, family: FamilySpot, target: m.ScreenerID, targetKind: "screener",
		n: m.Chunk, firstRow: m.FirstRow, rows: len(m.Rows),
		run: func(ctx context.Context, job store.ImportJob) (store.ImportChunk, []store.ImportRowError, error) {
			return w.runRows(ctx, job, m)
		},
	}, err
}

// protect turns a panic into an error, so one record cannot take the batch down.
func protect(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("imports: panic: %v", r)
		}
	}()
	return f()
}

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

func (w *Worker) service() *screening.Service {
	if w.Service != nil {
		return w.Service
	}
	return screening.NewService(w.Store)
}

func receiveCount(rec events.SQSMessage) int {
	n, err := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	if err != nil {
		return 1
	}
	return n
}

// processChunk runs one chunk, unless it is done already, then finishes the job if it was the
// last.
func (w *Worker) processChunk(ctx context.Context, t chunkTask) error {
	job, done, err := w.Store.ImportChunkState(ctx, t.ws, t.jobID, t.n)
	if errors.Is(err, vocab.ErrNotFound) {
		return fmt.Errorf("imports: job %s of workspace %s not found", t.jobID, t.ws)
	}
	if err != nil {
		return err
	}
	if job.Family != t.family || job.Target != t.target || t.n >= job.Chunks {
		return fmt.Errorf("imports: message (family %s, %s %s, chunk %d) does not match job %s (family %s, target %s, %d chunks)",
			t.family, t.targetKind, t.target, t.n, job.ID, job.Family, job.Target, job.Chunks)
	}
	if job.Terminal() {
		return nil
	}
	if done {
		return w.maybeFinish(ctx, t.ws, t.jobID)
	}
	if job.Status == store.ImportQueued {
		if err := w.Store.StartImportJob(ctx, t.ws, t.jobID, w.now()); err != nil {
			return err
		}
	}
	started := time.Now()
	chunk, rowErrs, err := t.run(ctx, job)
	switch {
	case errors.Is(err, vocab.ErrNotFound): // the screener or survey is gone: no retry can help
		chunk = failedChunk(t.n, t.firstRow, t.rows, fmt.Sprintf("the %s %s was not found", t.targetKind, job.Target))
	case errors.Is(err, survey.ErrRosterLocked) && w.ended(ctx, t):
		return nil // another delivery of this chunk finished the job meanwhile, freeing the roster
	case err != nil:
		return err
	case t.rows > 0:
		if err := w.Store.ReplaceImportRowErrors(ctx, t.ws, t.jobID, t.firstRow, t.firstRow+t.rows-1, rowErrs); err != nil {
			return err
		}
	}
	applied, err := w.Store.CompleteImportChunk(ctx, t.ws, t.jobID, chunk, w.now())
	if errors.Is(err, store.ErrImportJobClosed) {
		return nil
	}
	if err != nil {
		return err
	}
	w.log().Info("import chunk", "job", t.jobID, "chunk", t.n, "rows", t.rows, "applied", applied,
		"created", chunk.Counts.Created, "updated", chunk.Counts.Updated, "unchanged", chunk.Counts.Unchanged,
		"failed", chunk.Counts.Failed, "readUnits", chunk.ReadUnits, "writeUnits", chunk.WriteUnits,
		"ms", time.Since(started).Milliseconds())
	return w.maybeFinish(ctx, t.ws, t.jobID)
}

// ended reports whether a chunk's job is finished (read again, consistently).
func (w *Worker) ended(ctx context.Context, t chunkTask) bool {
	job, _, err := w.Store.ImportChunkState(ctx, t.ws, t.jobID, t.n)
	return err == nil && job.Terminal()
}

func (w *Worker) now() time.Time {
	if s := w.service(); s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func failedChunk(n, firstRow, rows int, reason string) store.ImportChunk {
	return store.ImportChunk{
		N: n, FirstRow: firstRow, Rows: rows, Counts: store.ImportCounts{Processed: rows, Failed: rows},
		Failed: true, Reason: truncate(reason),
	}
}

// runRows imports a chunk's rows in UPDATES_ONLY mode and returns its completion record and its
// row errors. The service validates a request as a whole, so rows it rejects are recorded and
// dropped, and the rest run again; a lost race (ErrConflict) re-plans the chunk.
func (w *Worker) runRows(ctx context.Context, job store.ImportJob, m Message) (store.ImportChunk, []store.ImportRowError, error) {
	rows := make([]screening.ImportRow, len(m.Rows))
	for i, r := range m.Rows {
		rows[i] = r.domain()
	}
	actor := vocab.Actor{Type: "SystemActor", ID: job.ID}
	if job.Actor != nil {
		actor = *job.Actor
	}
	base := w.service()
	// The rows' own work gets a meter of its own; the bookkeeping stays on ctx's.
	rowCtx, meter := capacity.WithMeter(ctx)
	pending := make([]int, len(rows)) // chunk-local indexes of the rows still to import
	for i := range pending {
		pending[i] = i
	}
	errsByRow := map[int][]store.ImportFieldError{} // by chunk-local index
	var counts store.ImportCounts
	var matched []string
	for conflicts := 0; ; {
		if len(pending) == 0 {
			counts = store.ImportCounts{Processed: len(rows), Failed: len(rows)}
			break
		}
		in := make([]screening.ImportRow, len(pending))
		for i, local := range pending {
			in[i] = rows[local]
		}
		cs := &chunkStore{
			Store: base.Store, jobs: w.Store, book: ctx, ws: m.WorkspaceID, job: m.JobID, chunk: m.Chunk,
			valid: len(in), failed: len(rows) - len(in),
		}
		svc := &screening.Service{Store: cs, Now: base.Now, NewID: base.NewID}
		result, err := svc.Import(rowCtx, m.WorkspaceID, actor, screening.ImportRequest{ScreenerID: job.Target, Mode: screening.UpdatesOnly, Rows: in})
		var invalid *screening.ValidationError
		switch {
		case err == nil:
			if cs.counts == nil {
				return store.ImportChunk{}, nil, errors.New("imports: the import wrote without planning") // Import always applies
			}
			counts = *cs.counts
			for _, sp := range result {
				matched = append(matched, sp.ParticipantID)
			}
		case errors.As(err, &invalid):
			dropped := collectRowErrors(invalid, pending, m.FirstRow, errsByRow)
			if len(dropped) == 0 {
				return store.ImportChunk{}, nil, err // not about rows: nothing to drop
			}
			var rest []int
			for _, local := range pending {
				if !dropped[local] {
					rest = append(rest, local)
				}
			}
			pending = rest
			continue
		case errors.Is(err, vocab.ErrConflict) && conflicts < maxConflictRetries:
			conflicts++
			if err := sleep(ctx, conflicts); err != nil {
				return store.ImportChunk{}, nil, err
			}
			continue
		default:
			return store.ImportChunk{}, nil, err
		}
		break
	}
	rowErrs := make([]store.ImportRowError, 0, len(errsByRow))
	for local := range rows {
		if fe, ok := errsByRow[local]; ok {
			rowErrs = append(rowErrs, store.ImportRowError{Row: m.FirstRow + local, Errors: fe})
		}
	}
	chunk := store.ImportChunk{N: m.Chunk, FirstRow: m.FirstRow, Rows: len(rows), Counts: counts}
	if job.Mode == string(screening.FullSync) {
		// A FULL_SYNC keeps every participant a row names, a rejected row's too.
		named, err := namedBy(rowCtx, base.Store, m.WorkspaceID, rows, errsByRow)
		if err != nil {
			return store.ImportChunk{}, nil, err
		}
		chunk.Matched = append(matched, named...)
	}
	chunk.ReadUnits, chunk.WriteUnits = meter.Units()
	return chunk, rowErrs, nil
}

var (
	fieldRow   = regexp.MustCompile(`^participants\[(\d+)\]`)
	messageRow = regexp.MustCompile(`\brow (\d+)\b`)
)

// collectRowErrors records a validation error's row errors by chunk-local index and returns
// the rows it names. The service numbers rows as it got them (pending); the records name rows
// by their index in the whole payload, in fields ("participants[i].email") and in messages
// ("email repeats row i") alike.
func collectRowErrors(invalid *screening.ValidationError, pending []int, firstRow int, into map[int][]store.ImportFieldError) map[int]bool {
	global := func(i int) (int, bool) {
		if i < 0 || i >= len(pending) {
			return 0, false
		}
		return firstRow + pending[i], true
	}
	renumber := func(re *regexp.Regexp, s, format string) string {
		return re.ReplaceAllStringFunc(s, func(match string) string {
			i, _ := strconv.Atoi(re.FindStringSubmatch(match)[1])
			if g, ok := global(i); ok {
				return fmt.Sprintf(format, g)
			}
			return match
		})
	}
	dropped := map[int]bool{}
	for _, fe := range invalid.Fields {
		if fe.Row == nil {
			continue
		}
		if _, ok := global(*fe.Row); !ok {
			continue
		}
		local := pending[*fe.Row]
		into[local] = append(into[local], store.ImportFieldError{
			Field:   renumber(fieldRow, fe.Field, "participants[%d]"),
			Code:    fe.Code,
			Message: renumber(messageRow, fe.Message, "row %d"),
		})
		dropped[local] = true
	}
	return dropped
}

// namedBy returns the participants that the rejected rows name by external uid or email.
func namedBy(ctx context.Context, st screening.Store, ws string, rows []screening.ImportRow, rejected map[int][]store.ImportFieldError) ([]string, error) {
	var uids, emails []string
	usable := func(s string) bool { return s != "" && len(s) <= 1024 && utf8.ValidString(s) } // a key DynamoDB takes
	for local := range rejected {
		r := rows[local]
		if r.ExternalUID != nil && usable(*r.ExternalUID) {
			uids = append(uids, *r.ExternalUID)
		}
		if e := screening.NormalizeEmail(r.Email); usable(e) {
			emails = append(emails, e)
		}
	}
	if len(uids)+len(emails) == 0 {
		return nil, nil
	}
	byUID, byEmail, err := st.FindParticipantIDs(ctx, ws, uids, emails)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range []map[string]string{byUID, byEmail} {
		for _, id := range m {
			out = append(out, id)
		}
	}
	return out, nil
}

// chunkStore is the service's Store for one attempt at one chunk. It sees the changes the
// service plans for the chunk's rows and counts them: a change that links the participant to
// the screener is a created screener participant, any other change an updated one, and a
// valid row without a change is unchanged. Before the first write it records the counts as the
// chunk's plan; a later attempt, which finds its predecessor's writes unchanged, takes the
// plan's counts instead of its own.
type chunkStore struct {
	screening.Store
	jobs          *store.DDBStore
	book          context.Context // the invocation's context, for the plan's bookkeeping
	ws, job       string
	chunk         int
	valid, failed int
	counts        *store.ImportCounts
}

func (c *chunkStore) Apply(ctx context.Context, ws, scr string, changes []screening.Change) error {
	created, updated := 0, 0
	for _, ch := range changes {
		if ch.Link != nil {
			created++
		} else {
			updated++
		}
	}
	counts := store.ImportCounts{
		Processed: c.valid + c.failed, Created: created, Updated: updated,
		Unchanged: c.valid - created - updated, Failed: c.failed,
	}
	earlier, found, err := c.jobs.ImportChunkPlan(c.book, c.ws, c.job, c.chunk)
	switch {
	case err != nil:
		return err
	case found && earlier.Processed == counts.Processed:
		counts = earlier
	case len(changes) > 0:
		if counts, err = c.jobs.PutImportChunkPlan(c.book, c.ws, c.job, c.chunk, counts); err != nil {
			return err
		}
	}
	c.counts = &counts
	return c.Store.Apply(ctx, ws, scr, changes)
}

// maybeFinish finishes the job if every chunk is done and no other worker is finishing it.
func (w *Worker) maybeFinish(ctx context.Context, ws, jobID string) error {
	job, _, err := w.Store.GetImportJob(ctx, ws, jobID, 0)
	if err != nil {
		return err
	}
	if job.Terminal() || job.ChunksDone < job.Chunks {
		return nil
	}
	now := time.Now()
	until := now.Add(defaultFinishLease)
	if d, ok := ctx.Deadline(); ok {
		until = d
	}
	token := newToken()
	job, ok, err := w.Store.ClaimImportFinish(ctx, ws, jobID, token, now, until)
	if err != nil || !ok {
		return err // !ok: finished, or another worker holds the lease and will finish it
	}
	return w.finish(ctx, job, token)
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// finish runs a claimed job's FULL_SYNC removals and sets its final status.
func (w *Worker) finish(ctx context.Context, job store.ImportJob, token string) error {
	rowCtx, meter := capacity.WithMeter(ctx)
	status, reason := store.ImportCompleted, ""
	switch {
	case job.FailedChunks > 0:
		status = store.ImportFailed
		reason = job.Reason
		if job.FailedChunks > 1 || reason == "" {
			reason = fmt.Sprintf("%d of %d chunks failed; the first: %s", job.FailedChunks, job.Chunks, reason)
		}
		if job.Mode == string(screening.FullSync) {
			reason += " (FULL_SYNC removed nothing)"
		}
	case job.Mode == string(screening.FullSync):
		if err := w.removeAbsent(ctx, rowCtx, job, token); err != nil {
			if errors.Is(err, store.ErrImportLeaseLost) {
				return nil // another worker took over
			}
			return err
		}
	}
	r, wu := meter.Units()
	err := w.Store.FinishImportJob(ctx, job, token, status, truncate(reason), w.now(), r, wu)
	if errors.Is(err, store.ErrImportLeaseLost) {
		return nil
	}
	if err == nil {
		w.log().Info("import job finished", "job", job.ID, "status", status, "reason", reason, "chunks", job.Chunks)
	}
	return err
}

// removeAbsent unlinks the screener participants whose participant no chunk's rows name. The
// rows' work runs on rowCtx (its own meter), the job's bookkeeping on ctx.
func (w *Worker) removeAbsent(ctx, rowCtx context.Context, job store.ImportJob, token string) error {
	st := w.service().Store
	keep, err := w.Store.ImportKeepSet(ctx, job.WorkspaceID, job.ID)
	if err != nil {
		return err
	}
	planned := false
	for conflicts := 0; ; {
		roster, err := st.Roster(rowCtx, job.WorkspaceID, job.Target)
		if err != nil {
			return err
		}
		var gone []screening.ScreenerParticipant
		var owners []string
		for _, sp := range roster {
			if !keep[sp.ParticipantID] {
				gone = append(gone, sp)
				owners = append(owners, sp.ParticipantID)
			}
		}
		if !planned {
			if _, err := w.Store.PlanImportRemovals(ctx, job.WorkspaceID, job.ID, token, len(gone)); err != nil {
				return err
			}
			planned = true
		}
		if len(gone) == 0 {
			return nil
		}
		parts, err := st.GetParticipants(rowCtx, job.WorkspaceID, owners)
		if err != nil {
			return err
		}
		var changes []screening.Change
		for _, sp := range gone {
			p, ok := parts[sp.ParticipantID]
			if !ok || p.Links[job.Target] != sp.ID {
				continue // the roster index is behind: this one is gone already
			}
			after := p
			changes = append(changes, screening.Change{Before: &p, After: &after, Unlink: &sp})
		}
		if len(changes) == 0 {
			return nil
		}
		err = st.Apply(rowCtx, job.WorkspaceID, job.Target, changes)
		if errors.Is(err, vocab.ErrConflict) && conflicts < maxConflictRetries {
			conflicts++
			if err := sleep(ctx, conflicts); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// recordPoison records a record's chunk on its job as failed for good: its rows count failed,
// the error is the job's reason, and the chunk counts as done, so the job can end (FAILED).
func (w *Worker) recordPoison(ctx context.Context, rec events.SQSMessage, count int, cause error) error {
	ref, ok := w.chunkRefOf(rec)
	if !ok {
		return fmt.Errorf("imports: the message names no job (no usable body or message attributes): %w", cause)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), poisonTimeout)
	defer cancel()
	reason := fmt.Sprintf("chunk %d (rows %d to %d) failed %d times: %v", ref.chunk, ref.firstRow, ref.firstRow+ref.rows-1, count, cause)
	applied, err := w.Store.CompleteImportChunk(ctx, ref.ws, ref.job, failedChunk(ref.chunk, ref.firstRow, ref.rows, reason), w.now())
	switch {
	case errors.Is(err, store.ErrImportJobClosed):
		return nil
	case err != nil:
		return err
	case applied:
		w.log().Error("import chunk failed for good; its rows are counted failed", "job", ref.job, "chunk", ref.chunk, "reason", reason)
		return w.maybeFinish(ctx, ref.ws, ref.job)
	}
	// The chunk was done before: what keeps failing is finishing the job. One more try, then
	// the job ends FAILED rather than waiting for a message that is going to the DLQ.
	if err := w.maybeFinish(ctx, ref.ws, ref.job); err == nil {
		return nil
	}
	return w.Store.FailImportJob(ctx, ref.ws, ref.job, truncate("finishing the job failed: "+cause.Error()), w.now(), true)
}

type chunkRef struct {
	ws, job               string
	chunk, firstRow, rows int
}

// chunkRefOf names a record's job and chunk, from its body or else its message attributes.
func (w *Worker) chunkRefOf(rec events.SQSMessage) (chunkRef, bool) {
	if t, err := w.taskOf(rec.Body); err == nil {
		return chunkRef{ws: t.ws, job: t.jobID, chunk: t.n, firstRow: t.firstRow, rows: t.rows}, true
	}
	str := func(name string) string {
		if a, ok := rec.MessageAttributes[name]; ok && a.StringValue != nil {
			return *a.StringValue
		}
		return ""
	}
	num := func(name string) (int, bool) {
		n, err := strconv.Atoi(str(name))
		return n, err == nil && n >= 0
	}
	ref := chunkRef{ws: str(attrWorkspace), job: str(attrJobID)}
	var ok1, ok2, ok3 bool
	ref.chunk, ok1 = num(attrChunk)
	ref.firstRow, ok2 = num(attrFirstRow)
	ref.rows, ok3 = num(attrRows)
	return ref, ref.ws != "" && ValidJobID(ref.job) && ok1 && ok2 && ok3
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
