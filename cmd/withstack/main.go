// Command withstack runs a command with a fresh in-memory DynamoDB Local:
//
//	go run ./cmd/withstack -- go test ./...
//
// It starts DynamoDB Local on a free port, runs the command with
// DYNAMODB_ENDPOINT=http://127.0.0.1:<port> added to its environment and
// stdio passed through, then stops DynamoDB Local whatever happened and exits
// with the command's exit code. Every package test then shares one DynamoDB
// Local instead of starting a JVM each (see localstack.DynamoDBEndpoint).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/participant-roster/roster/pkg/localstack"
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

	// Catch signals from here on: we must never die before stopping java.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)

	db, err := startStack(sigs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 1
	}
	defer func() {
		if err := db.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "withstack: stopping DynamoDB Local:", err)
		}
	}()
	fmt.Fprintf(os.Stderr, "withstack: DynamoDB Local (in memory) at %s\n", db.Endpoint)
	return runChild(args, db.Endpoint, sigs)
}

// startStack starts DynamoDB Local, giving up early if a signal arrives.
func startStack(sigs <-chan os.Signal) (*localstack.DynamoDB, error) {
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
	return localstack.StartDynamoDB(ctx, localstack.DynamoDBOptions{})
}

// runChild runs the command, forwarding SIGINT/SIGTERM to it, and returns
// its exit code.
func runChild(args []string, endpoint string, sigs <-chan os.Signal) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Later entries win in exec, so this overrides an inherited value.
	cmd.Env = append(os.Environ(), localstack.EndpointEnv+"="+endpoint)
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
// the command and DynamoDB Local; with this, the SIGTERM goes through the
// normal forward-and-clean-up path.
func exitWithParent() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
}
