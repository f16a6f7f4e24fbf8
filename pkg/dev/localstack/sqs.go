package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// motoCommand is the moto server executable, from the Python package
// moto[server]. It is looked up on PATH; nothing installs it.
const motoCommand = "moto_server"

// motoMissingHint ends every error that suggests moto is not installed.
const motoMissingHint = "moto_server comes from the Python package moto[server] " +
	"(pip install 'moto[server]'); it must be on PATH"

// sqsProbeBody and sqsProbeHeaders make a minimal SQS ListQueues call in the
// JSON protocol the Go SDK uses. moto routes a request to a service by the
// credential scope in Authorization (without it, it answers as S3); it does
// not check signatures, so a fixed fake one is enough.
var sqsProbeHeaders = map[string]string{
	"Content-Type":  "application/x-amz-json-1.0",
	"X-Amz-Target":  "AmazonSQS.ListQueues",
	"Authorization": "AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
}

const sqsProbeBody = `{"MaxResults":1}`

// errSQSExitedEarly marks a moto_server that died before answering.
var errSQSExitedEarly = errors.New("moto_server exited during startup")

// SQSOptions configures StartSQS.
type SQSOptions struct {
	// Port to listen on (127.0.0.1 only); 0 picks a free port.
	Port int
	// Log receives moto's output (startup banner, one line per request,
	// Python tracebacks); nil discards it. Write errors are ignored so that a
	// broken Log can never block or kill moto.
	Log io.Writer
}

// SQS is a running moto_server used as a local SQS. Call Stop when done.
//
// moto serves every AWS service it emulates on the one port, keeps all state
// in memory (lost on Stop), and builds queue URLs from the request's host,
// e.g. http://127.0.0.1:43121/123456789012/my-queue. It does not check
// signatures or credentials.
type SQS struct {
	// Endpoint is the base URL, e.g. http://127.0.0.1:43121; use it as the
	// SQS client's BaseEndpoint.
	Endpoint string
	*child   // Stop
}

// StartSQS starts `moto_server -H 127.0.0.1 -p <port>` and waits until it
// answers an SQS ListQueues call (which also loads moto's SQS backend, so the
// first real call is not slow). ctx bounds the startup only: the process
// keeps running until Stop (or until this process dies: Pdeathsig, as for
// DynamoDB Local).
func StartSQS(ctx context.Context, opts SQSOptions) (*SQS, error) {
	bin, err := exec.LookPath(motoCommand)
	if err != nil {
		return nil, fmt.Errorf("local SQS: %w; %s", err, motoMissingHint)
	}
	tries := 1
	if opts.Port == 0 {
		tries = startTries
	}
	for i := 1; ; i++ {
		s, err := startSQSOnce(ctx, bin, opts)
		if err == nil || i == tries || !retryableSQSError(err) {
			return s, err
		}
	}
}

// retryableSQSError reports whether a failure with a port we picked ourselves
// is worth another port: the port was taken between freePort and moto's bind.
func retryableSQSError(err error) bool {
	if errors.Is(err, errPortBusy) {
		return true
	}
	// werkzeug prints "Address already in use" / "Port N is in use by
	// another program" and exits 1. Any other early death (moto missing from
	// this Python, a traceback) would only repeat.
	return errors.Is(err, errSQSExitedEarly) && strings.Contains(err.Error(), "in use")
}

// startSQSOnce starts one moto_server and waits for it to become ready.
func startSQSOnce(ctx context.Context, bin string, opts SQSOptions) (*SQS, error) {
	port := opts.Port
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	// The readiness probe cannot tell our moto from another server already
	// on the port, so refuse a busy port up front.
	if err := checkLoopbackPortFree(port); err != nil {
		return nil, err
	}
	out := &tailBuffer{max: tailSize}
	c, err := startChild("moto_server", motoServerCommand(bin, port, &sink{tail: out, log: opts.Log}), out)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w; %s", bin, err, motoMissingHint)
	}
	s := &SQS{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), child: c}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// motoServerCommand builds the moto_server command. -H 127.0.0.1 is also
// moto's default, but is passed explicitly so a different default in another
// moto version can never expose the emulator on the network. The reloader
// (-r) stays off: it would fork a second process serving the same socket.
func motoServerCommand(bin string, port int, out io.Writer) *exec.Cmd {
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = motoEnv(os.Environ(), port)
	cmd.Stdout = out
	cmd.Stderr = out // same writer: exec shares one pipe, output stays ordered
	return cmd
}

// motoEnv returns env adjusted for moto_server:
//   - WERKZEUG_RUN_MAIN/WERKZEUG_SERVER_FD are dropped: inherited from a
//     werkzeug reloader they would make moto serve an inherited socket
//     instead of binding 127.0.0.1:port;
//   - MOTO_PORT is set to the real port (moto only sets it when absent, and
//     uses it to build URLs for some services);
//   - PYTHONUNBUFFERED=1 so a crash's output reaches the error message.
func motoEnv(env []string, port int) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "WERKZEUG_RUN_MAIN", "WERKZEUG_SERVER_FD", "MOTO_PORT", "PYTHONUNBUFFERED":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "MOTO_PORT="+strconv.Itoa(port), "PYTHONUNBUFFERED=1")
}

// checkLoopbackPortFree fails with errPortBusy if 127.0.0.1:port cannot be
// bound, which on Linux includes a listener on the wildcard address: both
// would receive the probe instead of our moto.
func checkLoopbackPortFree(port int) error {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("local SQS port %d: %w (%v)", port, errPortBusy, err)
	}
	return l.Close()
}

// waitReady polls an SQS ListQueues until it succeeds, the process dies, ctx
// ends or startTimeout passes.
func (s *SQS) waitReady(ctx context.Context) error {
	client := &http.Client{
		// Never through a proxy from the environment; no keep-alive, so no
		// idle connection outlives the probe.
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		Timeout:   2 * time.Second,
	}
	return s.child.waitReady(ctx, s.Endpoint, 50*time.Millisecond,
		func() bool { return s.answers(ctx, client) },
		func() error {
			return fmt.Errorf("%w (%v)%s; output:\n%s", errSQSExitedEarly, s.waitErr, s.missingHint(), s.out)
		})
}

// answers reports whether one SQS ListQueues call gets an SQS answer: a 200
// with a JSON object body.
func (s *SQS) answers(ctx context.Context, client *http.Client) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint+"/", strings.NewReader(sqsProbeBody))
	if err != nil {
		return false
	}
	for k, v := range sqsProbeHeaders {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return false
	}
	var v map[string]any
	return json.Unmarshal(bytes.TrimSpace(body), &v) == nil
}

// missingHint returns "; "+motoMissingHint when moto's output or exit status
// suggests that moto[server] is not installed for the Python that ran it
// (e.g. a pyenv shim for another Python version exits 127).
func (s *SQS) missingHint() string {
	var ee *exec.ExitError
	out := s.out.String()
	if (errors.As(s.waitErr, &ee) && ee.ExitCode() == 127) ||
		strings.Contains(out, "No module named") || strings.Contains(out, "command not found") {
		return "; " + motoMissingHint
	}
	return ""
}
