package localrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"
)

// startTimeout bounds a test's start: DynamoDB Local's JVM and moto, and with WarmEager every
// function's build.
const startTimeout = 5 * time.Minute

// Start runs the local API for a test, as `make run` does, until the test ends, and returns
// once it serves: its URL, and the demo workspace's credentials and ids in Running.Demo (the
// same fixed ones as pkg/dev/demo's constants). The zero Options are make run's defaults but
// for the places: any free port for the API and DynamoDB Local, a data directory and (in
// Emulator mode) a build directory of the test's own, unless given. Log and Messages, when
// nil, are kept and shown if the test fails. At the end of the test, Start stops it as Ctrl-C
// does and fails the test if it does not return cleanly, or if any process of its emulators
// (a bootstrap or aws-lambda-rie under the build directory) is still running.
func Start(t testing.TB, o Options) Running {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.BuildDir == "" {
		o.BuildDir = t.TempDir()
	}
	out := &Output{}
	if o.Log == nil {
		o.Log = out
	}
	if o.Messages == nil {
		o.Messages = out
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan Running, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o, func(r Running) { ready <- r }) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("localrun: Run after its context ended: %v", err)
			}
		case <-time.After(time.Minute):
			t.Errorf("localrun: Run did not return a minute after its context ended")
		}
		if left, err := ProcessesUnder(o.BuildDir); err != nil || left != "" {
			t.Errorf("localrun: processes of the emulators still running after the stop (%v):\n%s", err, left)
		}
		if t.Failed() {
			t.Logf("localrun output:\n%s", out)
		}
	}
	select {
	case r := <-ready:
		t.Cleanup(stop)
		return r
	case err := <-done:
		cancel()
		t.Fatalf("localrun: Run returned before serving: %v\n%s", err, out)
	case <-time.After(startTimeout):
		stop()
		t.Fatalf("localrun: not serving after %v", startTimeout)
	}
	return Running{}
}

// ProcessesUnder lists (pgrep -a) the processes whose command line names dir: under an
// emulator mode's build directory, the emulators (their bootstrap's path is an argument) and
// the bootstraps they run. "" means none.
func ProcessesUnder(dir string) (string, error) {
	out, err := exec.Command("pgrep", "-a", "-f", regexp.QuoteMeta(dir)).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return "", nil // pgrep: no process matched
	}
	if err != nil {
		return "", fmt.Errorf("pgrep: %w", err)
	}
	return string(bytes.TrimSpace(out)), nil
}

// Output is a bytes.Buffer that the server's goroutines may write (Options.Log, Messages)
// while a test reads it.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Output) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Output) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
