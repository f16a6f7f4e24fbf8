// Package rie runs the functions as Lambda runs them, without Docker: each function's bootstrap
// is built with its own Makefile line (make build-<LogicalId>) for the host architecture, and
// run under the AWS Lambda Runtime Interface Emulator (aws-lambda-rie, the emulator the SAM CLI
// runs inside its containers; pinned in go.mod as a tool) with the environment template.yaml
// gives the function. An event is POSTed to the emulator, which hands it to the bootstrap through
// the Lambda Runtime API, and the function's answer comes back as Lambda would return it.
//
// # The environment
//
// The emulator passes its own environment on to the function, so it is started with exactly
// this one and nothing of the caller's (a developer's AWS_PROFILE or AUTH_CACHE_TTL cannot leak
// in):
//
//   - template.yaml's variables for the function: Globals.Function.Environment.Variables merged
//     with the function's own, the function's winning (samtemplate.Function.Environment). A
//     value only the deployed stack knows (samtemplate.Function.StackValues) is given the local
//     stack's: a Ref to RosterTable is the local table's name, a Ref to ImportQueue the local
//     queue's URL. Any other such value (another resource, a pseudo parameter, Fn::GetAtt...) is
//     an error naming the variable, so a new template variable cannot be missed silently.
//   - DYNAMODB_ENDPOINT: the functions talk to DynamoDB Local instead of AWS (their wiring
//     reads it; with it set, the client uses fixed dummy credentials and region).
//   - SQS_ENDPOINT, only for a function with a variable set to the local queue: it sends to
//     moto_server instead of AWS (read the same way).
//   - AWS_REGION (us-east-1, the region the local clients use), AWS_ACCESS_KEY_ID and
//     AWS_SECRET_ACCESS_KEY (dummy values): Lambda always gives a function its region and its
//     role's credentials, so a function may rely on them; dummy ones can never sign a request
//     that AWS would accept.
//
// and the emulator's own settings, taken from the template as Lambda takes them:
// AWS_LAMBDA_FUNCTION_NAME (the logical id), AWS_LAMBDA_FUNCTION_TIMEOUT (Timeout) and
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE (MemorySize). The emulator adds the runtime's variables
// (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, ...) itself.
//
// # One invoke at a time
//
// An emulator serves one invoke at a time (a second concurrent one crashes it), so Invoke
// serialises its callers. A timeout is answered 200 "Task timed out after N seconds" by the
// emulator; Invoke reports it as ErrTimeout, never as the function's answer.
package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// invokePath is where the emulator takes invocations (the Lambda Invoke API's path).
const invokePath = "/2015-03-31/functions/function/invocations"

// ErrTimeout is the emulator's answer when the function ran out of its timeout.
var ErrTimeout = errors.New("rie: the function timed out")

// FunctionError is a function's failure as Lambda reports it: the handler returned an error or
// panicked, and the runtime sent it to the Runtime API's error endpoint.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("rie: the function failed: %s (%s)", e.Message, e.Type)
}

// Emulator is a running aws-lambda-rie serving one bootstrap.
type Emulator struct {
	url     string
	timeout time.Duration // the function's, plus what the emulator takes around it
	client  *http.Client
	cmd     *exec.Cmd
	out     *tail
	exited  chan struct{}
	waitErr error

	invokeMu sync.Mutex // one invoke at a time
	stopOnce sync.Once
}

// Options say how to start an emulator.
type Options struct {
	Emulator  string            // the aws-lambda-rie executable (Builder.Emulator)
	Bootstrap string            // the function's bootstrap
	Env       map[string]string // the whole environment (Environment)
	// Log receives the emulator's and the function's output (START/END/REPORT lines, the
	// function's log lines); nil discards it. The last lines are kept for error messages anyway.
	Log io.Writer
}

// startAttempts bounds retries when the ports picked turn out to be taken by the time the
// emulator binds them.
const startAttempts = 3

// Start starts the emulator on two free loopback ports (its own and the Runtime API's) and
// waits until it takes connections. Stop it when done.
func Start(ctx context.Context, o Options) (*Emulator, error) {
	var err error
	for range startAttempts {
		var e *Emulator
		if e, err = startOnce(ctx, o); err == nil {
			return e, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

func startOnce(ctx context.Context, o Options) (*Emulator, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(o.Emulator,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		o.Bootstrap)
	cmd.Dir = filepath.Dir(o.Bootstrap) // Lambda's working directory is the code's (/var/task)
	cmd.Env = envList(o.Env)
	out := &tail{}
	var w io.Writer = out
	if o.Log != nil {
		w = io.MultiWriter(out, o.Log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // Stop signals the group: the emulator and the bootstrap it runs
		Pdeathsig: syscall.SIGTERM, // a killed caller does not leak an emulator
	}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("rie: start %s: %w", o.Emulator, err)
	}
	timeout := 300 * time.Second // the emulator's default
	if s, err := strconv.Atoi(o.Env[timeoutEnv]); err == nil && s > 0 {
		timeout = time.Duration(s) * time.Second
	}
	e := &Emulator{
		url: "http://" + addr + invokePath, timeout: timeout + 10*time.Second,
		client: &http.Client{}, cmd: cmd, out: out, exited: make(chan struct{}),
	}
	go func() {
		e.waitErr = cmd.Wait()
		close(e.exited)
	}()
	if err := e.waitReady(ctx, addr); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// readyTimeout is how long the emulator may take to listen (it starts the bootstrap lazily, on
// the first invoke).
const readyTimeout = 15 * time.Second

func (e *Emulator) waitReady(ctx context.Context, addr string) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-e.exited:
			return fmt.Errorf("rie: the emulator exited before it listened on %s (%v); output:\n%s", addr, e.waitErr, e.out)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("rie: the emulator did not listen on %s within %v; output:\n%s", addr, readyTimeout, e.out)
		}
	}
}

// Invoke sends one event and returns the function's answer, the JSON its handler returned.
// Callers are served one at a time.
func (e *Emulator) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	e.invokeMu.Lock()
	defer e.invokeMu.Unlock()
	select {
	case <-e.exited:
		return nil, fmt.Errorf("rie: the emulator has exited (%v); output:\n%s", e.waitErr, e.out)
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rie: invoke: %w; output:\n%s", err, e.out)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("rie: invoke: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("rie: the emulator answered %d: %s; output:\n%s", resp.StatusCode, body, e.out)
	}
	return answer(body)
}

// answer tells the function's answer from the emulator's reports of a timeout or a failure.
func answer(body []byte) ([]byte, error) {
	if bytes.HasPrefix(body, []byte("Task timed out after")) {
		return nil, fmt.Errorf("%w: %s", ErrTimeout, body)
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil || fields["errorMessage"] == nil || fields["errorType"] == nil {
		return body, nil
	}
	for name := range fields {
		if name != "errorMessage" && name != "errorType" && name != "stackTrace" {
			return body, nil // an answer that merely has such fields
		}
	}
	fe := &FunctionError{}
	if err := json.Unmarshal(body, fe); err != nil {
		return body, nil
	}
	return nil, fe
}

// Output is the tail of the emulator's and the function's output.
func (e *Emulator) Output() string { return e.out.String() }

// stopGrace is how long the emulator has to stop its bootstrap and exit after SIGTERM.
const stopGrace = 3 * time.Second

// Stop ends the emulator and the bootstrap it runs (SIGTERM to its process group, SIGKILL
// after a grace period) and waits for it. It is safe to call more than once.
func (e *Emulator) Stop() {
	e.stopOnce.Do(func() {
		pgid := e.cmd.Process.Pid // Setpgid: the group's id is the emulator's pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-e.exited:
			return
		case <-time.After(stopGrace):
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-e.exited
	})
}

// freePorts returns n distinct loopback ports free at the time of the call.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("rie: free port: %w", err)
		}
		defer l.Close() // held until all are picked, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func envList(env map[string]string) []string {
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	slices.Sort(list)
	return list
}

// tailSize bounds the output kept for error messages.
const tailSize = 16 << 10

// tail keeps the last tailSize bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - tailSize; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
