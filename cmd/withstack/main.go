// Command withstack runs a command with a fresh local stack: an in-memory
// DynamoDB Local and a moto_server standing in for SQS.
//
//	go run ./cmd/withstack -- go test ./...
//
// It starts both concurrently on free 127.0.0.1 ports, runs the command with
// DYNAMODB_ENDPOINT=http://127.0.0.1:<port> and
// SQS_ENDPOINT=http://127.0.0.1:<port> added to its environment and stdio
// passed through, then stops both whatever happened and exits with the
// command's exit code. Every package test then shares one DynamoDB Local and
// one moto_server instead of starting its own (see
// localstack.DynamoDBEndpoint and localstack.SQSEndpoint).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"

	"github.com/participant-roster/roster/pkg/dev/localstack"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run returns the exit code; it is separate from main so that its deferred
// cleanup runs before os.Exit.
func run(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: withstack -- <command> [args...]")
		return 2
	}
	exitWithParent()

	// Catch signals from here on: we must never die before stopping java
	// and moto.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)

	st, err := startStack(sigs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 1
	}
	defer st.stop()
	fmt.Fprintf(os.Stderr, "withstack: DynamoDB Local (in memory) at %s\n", st.db.Endpoint)
	fmt.Fprintf(os.Stderr, "withstack: SQS (moto_server, in memory) at %s\n", st.sqs.Endpoint)
	return runChild(args, []string{
		localstack.EndpointEnv + "=" + st.db.Endpoint,
		localstack.SQSEndpointEnv + "=" + st.sqs.Endpoint,
	}, sigs)
}

// stack is the set of running local services.
type stack struct {
	db  *localstack.DynamoDB
	sqs *localstack.SQS
}

// stop stops every service that is running, concurrently, and reports
// failures on stderr.
func (st *stack) stop() {
	var wg sync.WaitGroup
	if st.db != nil {
		wg.Go(func() {
			if err := st.db.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "withstack: stopping DynamoDB Local:", err)
			}
		})
	}
	if st.sqs != nil {
		wg.Go(func() {
			if err := st.sqs.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "withstack: stopping moto_server:", err)
			}
		})
	}
	wg.Wait()
}

// startStack starts DynamoDB Local and moto_server concurrently, giving up
// early if a signal arrives. If either fails, the other is stopped (or
// cancelled) before it returns, so nothing is left running on error.
func startStack(sigs <-chan os.Signal) (*stack, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	defer close(started)
	go func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(os.Stderr, "withstack: %v during startup, aborting\n", sig)
			cancel()
		case <-started:
		}
	}()

	st := &stack{}
	var dbErr, sqsErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		st.db, dbErr = localstack.StartDynamoDB(ctx, localstack.DynamoDBOptions{})
		if dbErr != nil {
			cancel() // no point waiting for moto
		}
	})
	wg.Go(func() {
		st.sqs, sqsErr = localstack.StartSQS(ctx, localstack.SQSOptions{})
		if sqsErr != nil {
			cancel()
		}
	})
	wg.Wait()
	if dbErr == nil && sqsErr == nil {
		return st, nil
	}
	st.stop() // whichever did start
	return nil, startupError(dbErr, sqsErr)
}

// startupError reports the failures that were not just the cancellation
// caused by the other service failing (or by a signal, when that is all
// there is).
func startupError(errs ...error) error {
	var failed, canceled []error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			canceled = append(canceled, err)
		default:
			failed = append(failed, err)
		}
	}
	if len(failed) == 0 {
		return canceled[0]
	}
	return errors.Join(failed...)
}

// runChild runs the command with env added to its environment, forwarding
// SIGINT/SIGTERM to it, and returns its exit code.
func runChild(args []string, env []string, sigs <-chan os.Signal) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Later entries win in exec, so this overrides an inherited value.
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 127
	}
	done := make(chan struct{})
	defer close(done)
	go forwardSignals(sigs, cmd.Process, done)
	return exitCode(cmd.Wait())
}

// forwardSignals relays signals to the child until done. A terminal Ctrl-C
// already reaches the child (same process group); relaying it too is
// harmless and needed for signals sent to withstack alone (kill, make).
func forwardSignals(sigs <-chan os.Signal, p *os.Process, done <-chan struct{}) {
	for {
		select {
		case sig := <-sigs:
			_ = p.Signal(sig)
		case <-done:
			return
		}
	}
}

// exitCode maps the child's Wait error to an exit code, using the shell
// convention 128+N for a child killed by signal N.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 1
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// exitWithParent asks the kernel to send us SIGTERM when our parent dies.
// Under `go run`, killing the go command would otherwise orphan withstack,
// the command, DynamoDB Local and moto_server; with this, the SIGTERM goes
// through the normal forward-and-clean-up path.
func exitWithParent() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
}
