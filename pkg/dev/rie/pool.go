package rie

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"

	"github.com/participant-roster/roster/pkg/dev/samtemplate"
)

// ErrPoolStopped is what a Pool answers once Stop has been called.
var ErrPoolStopped = errors.New("rie: the pool is stopped")

// Pool keeps one warm emulator per function, as the SAM CLI keeps one warm container per
// function (sam local start-api --warm-containers LAZY): a function's emulator is started on
// its first invoke, its bootstrap built first if it is not yet, and kept until Stop. Each
// emulator serves one invoke at a time (Emulator.Invoke), so concurrent invokes of one
// function wait for each other, and invokes of different functions run at once.
type Pool struct {
	builder *Builder
	tpl     *samtemplate.Template
	stack   Stack
	log     *syncWriter // nil: discard

	ctx    context.Context // the emulators' starts; cancelled by Stop
	cancel context.CancelFunc

	mu      sync.Mutex
	running map[string]*poolStart // by logical id
	stopped bool
	starts  sync.WaitGroup
}

// poolStart is one function's emulator, started once; done is closed when em or err is set.
type poolStart struct {
	done chan struct{}
	em   *Emulator
	err  error
}

// NewPool serves template tpl's functions built by b, against stack. The emulators' and the
// functions' output goes to log (nil discards it) a whole line at a time, so that the lines of
// functions running at once do not mix.
func NewPool(b *Builder, tpl *samtemplate.Template, stack Stack, log io.Writer) *Pool {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{builder: b, tpl: tpl, stack: stack, ctx: ctx, cancel: cancel, running: map[string]*poolStart{}}
	if log != nil {
		p.log = &syncWriter{w: log}
	}
	return p
}

// Invoke sends event to logicalID's function and returns its answer, as Emulator.Invoke; the
// function's emulator is started first if it is not running (a cold start).
func (p *Pool) Invoke(ctx context.Context, logicalID string, event []byte) ([]byte, error) {
	em, err := p.emulator(ctx, logicalID)
	if err != nil {
		return nil, err
	}
	return em.Invoke(ctx, event)
}

// Start starts the emulators of the functions named now, rather than on their first invokes,
// and returns the first error.
func (p *Pool) Start(ctx context.Context, logicalIDs ...string) error {
	errs := make([]error, len(logicalIDs))
	var wg sync.WaitGroup
	for i, id := range logicalIDs {
		wg.Go(func() { _, errs[i] = p.emulator(ctx, id) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// emulator returns logicalID's running emulator, starting it if there is none or the last one
// has exited. A start that failed is tried again by the next caller.
func (p *Pool) emulator(ctx context.Context, logicalID string) (*Emulator, error) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return nil, ErrPoolStopped
	}
	s, ok := p.running[logicalID]
	if ok && s.exited() {
		ok = false
	}
	if !ok {
		s = &poolStart{done: make(chan struct{})}
		p.running[logicalID] = s
		p.starts.Add(1)
		go p.start(logicalID, s)
	}
	p.mu.Unlock()
	select {
	case <-s.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.err != nil {
		p.forget(logicalID, s)
		return nil, s.err
	}
	return s.em, nil
}

// start runs under the pool's context, not a caller's: a caller that gives up does not fail
// the start for the others waiting on it.
func (p *Pool) start(logicalID string, s *poolStart) {
	defer p.starts.Done()
	var log io.Writer
	if p.log != nil {
		log = &lineWriter{out: p.log}
	}
	s.em, s.err = p.builder.StartFunction(p.ctx, p.tpl, logicalID, p.stack, log)
	close(s.done)
}

// forget drops a failed start, unless another has replaced it already.
func (p *Pool) forget(logicalID string, s *poolStart) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running[logicalID] == s {
		delete(p.running, logicalID)
	}
}

// exited reports whether the start is done and its emulator is gone (it crashed or was killed).
func (s *poolStart) exited() bool {
	select {
	case <-s.done:
	default:
		return false
	}
	if s.em == nil {
		return false
	}
	select {
	case <-s.em.exited:
		return true
	default:
		return false
	}
}

// Started is the number of emulators started so far that are still running.
func (p *Pool) Started() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, s := range p.running {
		select {
		case <-s.done:
			if s.em != nil && !s.exited() {
				n++
			}
		default:
		}
	}
	return n
}

// Stop stops every emulator, waiting for those being started; later invokes get
// ErrPoolStopped. It is safe to call more than once.
func (p *Pool) Stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.cancel()
	p.starts.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range p.running {
		if s.em != nil {
			wg.Go(s.em.Stop)
		}
	}
	wg.Wait()
}

// syncWriter serialises the writes of several lineWriters to one writer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// lineWriter passes one process's output on a whole line at a time, so that the output of
// processes writing to one syncWriter at once is not cut mid-line. A last line without a
// newline is held.
type lineWriter struct {
	out *syncWriter
	buf []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	i := bytes.LastIndexByte(l.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	_, err := l.out.Write(l.buf[:i+1])
	l.buf = append(l.buf[:0], l.buf[i+1:]...)
	return len(p), err
}
