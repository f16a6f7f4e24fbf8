package enginetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/vocab"
)

// The steps of a fakeFamily's work at which a script may step in.
const (
	atRun     = "run"     // a chunk's attempt, before it reads its target
	atWritten = "written" // a chunk's attempt, after its writes
	atFinish  = "finish"  // a finish, before it reads the keep set
	atRemoved = "removed" // a finish, after its first removal
)

// step is where a fakeFamily is in its work, for its script.
type step struct {
	at      string
	chunk   int // for atRun and atWritten
	attempt int // the how-manieth RunChunk of that chunk, or Finish of the job, from 1
}

// fakeFamily is a scripted jobs.Family over an in-memory target, which behaves as
// Family.RunChunk requires: a row is a record's key (a JSON string) and creates that record,
// or finds it there and changes nothing, so a chunk that ran already changes nothing, and its
// counts come from ChunkRun.Plan. A row whose key starts with "!" is rejected. Each record
// written costs one write unit on the rows' meter. In FULL_SYNC mode the finish removes the
// records no chunk kept. script, if set, is called at each step: an error it returns is the
// step's, and it may block (to hold attempts at the same point).
type fakeFamily struct {
	name   string
	note   string // FailureNote
	script func(step) error
	// writesOnDryRun makes it write even when ChunkRun.Plan says it may not (a family's bug).
	writesOnDryRun bool

	mu       sync.Mutex
	records  map[string]bool
	runs     map[int]int // RunChunk calls, by chunk
	finishes int         // Finish calls
}

const fullSync = "FULL_SYNC"

func newFamily(name string, records ...string) *fakeFamily {
	f := &fakeFamily{name: name, records: map[string]bool{}, runs: map[int]int{}}
	for _, r := range records {
		f.records[r] = true
	}
	return f
}

func (f *fakeFamily) Name() string       { return f.name }
func (f *fakeFamily) TargetKind() string { return "thing" }

func (f *fakeFamily) FailureNote(jobs.Job) string { return f.note }

func (f *fakeFamily) at(s step) error {
	if f.script == nil {
		return nil
	}
	return f.script(s)
}

func (f *fakeFamily) RunChunk(ctx context.Context, run *jobs.ChunkRun) (jobs.Outcome, error) {
	f.mu.Lock()
	f.runs[run.Chunk.N]++
	s := step{at: atRun, chunk: run.Chunk.N, attempt: f.runs[run.Chunk.N]}
	f.mu.Unlock()
	if err := f.at(s); err != nil {
		return jobs.Outcome{}, err
	}
	keys, err := jobs.DecodeRows[string](run.Chunk.Rows)
	if err != nil {
		return jobs.Outcome{}, err
	}
	out, create := f.read(run.Chunk.FirstRow, keys)
	held, mayWrite, err := run.Plan(out.Rows, len(create) > 0)
	if err != nil {
		return jobs.Outcome{}, err
	}
	out.Rows = held
	if mayWrite || f.writesOnDryRun {
		f.write(ctx, create)
	}
	s.at = atWritten
	if err := f.at(s); err != nil {
		return jobs.Outcome{}, err
	}
	return out, nil
}

// read says what a chunk's rows would do to the target, and which records they create. A row's
// result names its record (ids "key").
func (f *fakeFamily) read(firstRow int, keys []string) (jobs.Outcome, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := jobs.Outcome{Rows: make([]jobs.RowResult, len(keys))}
	var create []string
	for i, k := range keys {
		r := &out.Rows[i]
		r.Row = firstRow + i
		switch {
		case strings.HasPrefix(k, "!"):
			r.Outcome = jobs.OutcomeFailed
			r.Errors = []jobs.FieldError{{Field: "key", Code: "invalid", Message: "rejected: " + k}}
			continue
		case f.records[k]:
			r.Outcome = jobs.OutcomeUnchanged
		default:
			r.Outcome = jobs.OutcomeCreated
			create = append(create, k)
		}
		r.IDs = map[string]string{"key": k}
		out.Keep = append(out.Keep, k)
	}
	return out, create
}

func (f *fakeFamily) write(ctx context.Context, create []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range create {
		if !f.records[k] {
			f.records[k] = true
			capacity.FromContext(ctx).Add(0, 1)
		}
	}
}

func (f *fakeFamily) Finish(ctx context.Context, fin *jobs.Finishing) error {
	f.mu.Lock()
	f.finishes++
	s := step{at: atFinish, attempt: f.finishes}
	f.mu.Unlock()
	if err := f.at(s); err != nil {
		return err
	}
	if fin.Job.Mode != fullSync {
		return nil
	}
	keep, err := fin.Keep()
	if err != nil {
		return err
	}
	remove := f.absent(keep)
	removed := make([]jobs.RowResult, len(remove))
	for i, k := range remove {
		removed[i] = jobs.RowResult{Outcome: jobs.OutcomeRemoved, IDs: map[string]string{"key": k}, Fields: encodeOne(k)}
	}
	proceed, err := fin.PlanRemovals(removed)
	if err != nil || !proceed {
		return err
	}
	for i, k := range remove {
		f.remove(ctx, k)
		if i == 0 {
			s.at = atRemoved
			if err := f.at(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// absent returns the records not in keep, sorted.
func (f *fakeFamily) absent(keep map[string]bool) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.records {
		if !keep[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func (f *fakeFamily) remove(ctx context.Context, k string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.records, k)
	capacity.FromContext(ctx).Add(0, 1)
}

// recordKeys returns the target's records, sorted.
func (f *fakeFamily) recordKeys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.records))
	for k := range f.records {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (f *fakeFamily) runsOf(chunk int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs[chunk]
}

func (f *fakeFamily) finishCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.finishes
}

// memQueue is a jobs.Queue that keeps what it is sent, or fails with err.
type memQueue struct {
	mu   sync.Mutex
	sent []jobs.Message
	err  error
}

func (q *memQueue) Send(_ context.Context, msgs []jobs.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.sent = append(q.sent, msgs...)
	return nil
}

// engine is a submitter and a worker over one memStore, memQueue and fakeFamily.
type engine struct {
	t      *testing.T
	ctx    context.Context
	store  *memStore
	queue  *memQueue
	family *fakeFamily
	worker *jobs.Worker
	sub    *jobs.Submitter
}

const (
	ws     = "ws_test"
	target = "thing_1"
)

var actor = vocab.Actor{Type: "ApplicationActor", ID: "acct_test", Name: "test"}

func newEngine(t *testing.T, f *fakeFamily) *engine {
	st, q := newMemStore(), &memQueue{}
	return &engine{
		t: t, ctx: context.Background(), store: st, queue: q, family: f,
		worker: &jobs.Worker{Store: st, Families: []jobs.Family{f}},
		sub:    &jobs.Submitter{Store: st, Queue: q, Planner: jobs.Planner{MaxRows: 2}},
	}
}

// keys returns n record keys from "k000".
func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("k%03d", i)
	}
	return out
}

// encodeOne is a key in the rows' encoding.
func encodeOne(k string) json.RawMessage {
	b, _ := json.Marshal(k) // a string: cannot fail
	return b
}

func encode(t *testing.T, keys []string) []json.RawMessage {
	t.Helper()
	raw, err := jobs.EncodeRows(keys)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// submit makes a job of rows for the target, holding it, in chunks of 2 rows; edits change the
// request first.
func (e *engine) submit(mode string, rows []string, edits ...func(*jobs.Request)) jobs.Job {
	e.t.Helper()
	req := jobs.Request{
		WorkspaceID: ws, Family: e.family.name, Target: target, Mode: mode, HoldsTarget: true, Actor: actor,
		Rows: encode(e.t, rows),
	}
	for _, edit := range edits {
		edit(&req)
	}
	j, err := e.sub.Submit(e.ctx, req)
	if err != nil {
		e.t.Fatal(err)
	}
	return j
}

// message is the message the queue was sent for a job's chunk n.
func (e *engine) message(jobID string, n int) jobs.Message {
	e.t.Helper()
	e.queue.mu.Lock()
	defer e.queue.mu.Unlock()
	for _, m := range e.queue.sent {
		if m.JobID == jobID && m.Chunk == n {
			return m
		}
	}
	e.t.Fatalf("no message for chunk %d of job %s", n, jobID)
	return jobs.Message{}
}

// delivery is a message as the queue delivers it on its receive-th receive.
func delivery(t *testing.T, m jobs.Message, receive int) jobs.Delivery {
	t.Helper()
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return jobs.Delivery{ID: fmt.Sprintf("msg-%s-%d", m.JobID, m.Chunk), Body: string(body), ReceiveCount: receive, Attributes: attributes(m)}
}

// attributes are a message's attributes as a queue hands them back.
func attributes(m jobs.Message) map[string]string {
	out := map[string]string{}
	for _, a := range m.Attributes() {
		out[a.Name] = a.Value
	}
	return out
}

// deliver hands chunk n of a job to the worker, on its first receive.
func (e *engine) deliver(jobID string, n int) error {
	e.t.Helper()
	return e.worker.Handle(e.ctx, delivery(e.t, e.message(jobID, n), 1))
}

// mustDeliver delivers chunk n and fails the test if the worker asks for it again.
func (e *engine) mustDeliver(jobID string, n int) {
	e.t.Helper()
	if err := e.deliver(jobID, n); err != nil {
		e.t.Fatalf("chunk %d: %v", n, err)
	}
}

func (e *engine) job(id string) (jobs.Job, []jobs.RowError) {
	e.t.Helper()
	j, errs, err := e.store.Get(e.ctx, ws, id, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return j, errs
}

// wantJob asserts a job's status, counts and done chunks.
func (e *engine) wantJob(id, status string, counts jobs.Counts, chunksDone int) jobs.Job {
	e.t.Helper()
	j, _ := e.job(id)
	if j.Status != status || j.Counts != counts || j.ChunksDone != chunksDone {
		e.t.Errorf("job: status %s, counts %+v, chunks done %d/%d (reason %q); want %s, %+v, %d done",
			j.Status, j.Counts, j.ChunksDone, j.Chunks, j.Reason, status, counts, chunksDone)
	}
	return j
}

// wantHeld asserts whether the job still holds the target.
func (e *engine) wantHeld(jobID string, held bool) {
	e.t.Helper()
	holder, ok := e.store.holder(ws, e.family.name, target)
	if got := ok && holder == jobID; got != held {
		e.t.Errorf("job %s holds the target: %v, want %v (holder %q)", jobID, got, held, holder)
	}
}
