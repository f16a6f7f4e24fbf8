// Command local-api serves the API on this machine the way `sam local start-api` would, without
// Docker (`make run`, `make run FRESH=1`, `make run LAMBDA=emulator`):
//
//	go run ./cmd/local-api [-fresh] [-port 3000] [-ddb-port 8000] [-sqs-port 9324] [-table roster-local] [-lambda inprocess|emulator] [-warm lazy|eager]
//
// It installs DynamoDB Local if needed and starts it with its data kept in .local/data (wiped
// first with -fresh), creates the table from template.yaml's definition, seeds the demo
// workspace (pkg/dev/demo), ends the import jobs an earlier run left unfinished (their chunks
// were lost with its in-memory queue), and serves every HttpApi route of template.yaml on
// 127.0.0.1 (pkg/dev/localrun does all this): through the functions' Lambda handlers in this
// process (-lambda inprocess, the default), or through each function's own bootstrap under the
// Lambda Runtime Interface Emulator with template.yaml's environment for it (-lambda
// emulator; -warm eager starts every emulator before serving, as sam local start-api
// --warm-containers EAGER, instead of on each function's first request). The functions' JSON
// log lines go to stdout; this command's own messages (the demo credentials, a curl example)
// go to stderr.
// Ctrl-C (SIGINT) or SIGTERM stops the server, the emulators, the local SQS and DynamoDB Local.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/localenv"
	"github.com/participant-roster/roster/pkg/dev/localrun"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
)

// The -warm values, as sam local start-api's --warm-containers names them.
const (
	warmLazy  = "lazy"
	warmEager = "eager"
)

type options struct {
	port         int
	ddbPort      int
	sqsPort      int
	table        string
	fresh        bool
	dataDir      string
	authCacheTTL time.Duration
	lambda       localrun.Mode
	warm         string
	buildDir     string
	snapLimits   ratelimit.Limits
}

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
	fs.IntVar(&o.sqsPort, "sqs-port", localenv.SQSPort, "the local SQS's (moto_server's) port (a free one is picked if it is busy; 0: any free port)")
	fs.StringVar(&o.table, "table", localenv.Table, "DynamoDB table name")
	fs.BoolVar(&o.fresh, "fresh", false, "wipe the local data ("+localrun.DataSubdir+") before starting")
	fs.StringVar(&o.dataDir, "data-dir", "", "where DynamoDB Local keeps its data (default <repo>/"+localrun.DataSubdir+")")
	fs.DurationVar(&o.authCacheTTL, "auth-cache-ttl", app.DefaultAuthCacheTTL, "how long a verified API key is trusted without re-reading it, as in a warm function (in process)")
	lambda := fs.String("lambda", string(localrun.InProcess), "how the functions run: "+string(localrun.InProcess)+" (their handlers in this process) or "+
		string(localrun.Emulator)+" (their bootstraps under the Lambda Runtime Interface Emulator)")
	fs.StringVar(&o.buildDir, "build-dir", "", "with -lambda "+string(localrun.Emulator)+": where the bootstraps are built (default <repo>/"+localrun.BuildSubdir+", git-ignored)")
	fs.StringVar(&o.warm, "warm", warmLazy, "with -lambda "+string(localrun.Emulator)+": "+warmLazy+" starts a function's emulator on its first request, "+warmEager+" all of them before serving")
	fs.IntVar(&o.snapLimits.PerSecond, "snap-rate-per-sec", localrun.LocalSnapLimits.PerSecond, "Snap calls a user may make per second (the vendor's limit, and the template's default, is 1)")
	fs.IntVar(&o.snapLimits.PerMinute, "snap-rate-per-min", localrun.LocalSnapLimits.PerMinute, "Snap calls a user may make per minute (the vendor's limit, and the template's default, is 10)")
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
	mode, err := localrun.ParseMode(*lambda)
	if err == nil && o.warm != warmLazy && o.warm != warmEager {
		err = fmt.Errorf("-warm %q: want %s or %s", o.warm, warmLazy, warmEager)
	}
	if err == nil {
		err = o.snapLimits.Validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, "local-api:", err)
		return o, 2
	}
	o.lambda = mode
	return o, -1
}

// serve runs the local API until ctx is done, printing the banner once it serves.
func serve(ctx context.Context, o options, stdout, stderr io.Writer) error {
	return localrun.Run(ctx, localrun.Options{
		Port: o.port, DynamoDBPort: o.ddbPort, SQSPort: o.sqsPort, Table: o.table, Fresh: o.fresh, DataDir: o.dataDir,
		AuthCacheTTL: o.authCacheTTL, Lambda: o.lambda, WarmEager: o.warm == warmEager, BuildDir: o.buildDir,
		SnapLimits: o.snapLimits,
		Log:        stdout, Messages: stderr,
	}, func(r localrun.Running) { printBanner(stderr, r) })
}

// exitWithParent asks the kernel to send us SIGTERM when our parent dies, so that killing
// `go run` or make (which do not forward SIGTERM) still stops DynamoDB Local through the
// normal shutdown path.
func exitWithParent() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
}
