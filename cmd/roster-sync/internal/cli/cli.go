// Package cli is roster-sync: its subcommands, flags, output and exit codes. main only hands
// it the process's streams, environment and signals, so tests run it in process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/participant-roster/roster/cmd/roster-sync/internal/spotclient"
	"github.com/participant-roster/roster/pkg/platform/backoff"
)

// Exit codes (documented in the usage text).
const (
	ExitOK       = 0   // done; an import: every row imported and the job COMPLETED
	ExitFailed   = 1   // some rows failed, or the job ended FAILED or CANCELED
	ExitUsage    = 2   // bad flags or input, or a request the API refused or never got
	ExitCanceled = 130 // interrupted with Ctrl-C (the job canceled, or left running)
)

// Environment variables read when the flags are not given.
const (
	EnvAPI    = "ROSTER_API_URL"
	EnvKey    = "SPOT_API_KEY"
	EnvSecret = "SPOT_API_SECRET"
)

// DefaultAPI is the local API `make run` serves.
const DefaultAPI = "http://localhost:3000"

// System is what the command uses of the process.
type System struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	StdinTTY       bool // answers can be asked for (Ctrl-C's "Cancel the job?")
	StdoutTTY      bool // progress is a live bar, not plain lines
	Columns        int  // the terminal's width, 0 if unknown
	Getenv         func(string) string
	Interrupts     <-chan os.Signal // Ctrl-C
	Now            func() time.Time
	PollEvery      time.Duration  // how often a running job is read
	PlainEvery     time.Duration  // how often plain progress writes a line
	Retry          backoff.Policy // waits between retries of a request
}

// OS is the real process: its streams, environment and SIGINT.
func OS() System {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt)
	columns, _, _ := term.GetSize(int(os.Stdout.Fd()))
	return System{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())), Columns: columns,
		Getenv: os.Getenv, Interrupts: sig, Now: time.Now,
		PollEvery: time.Second, PlainEvery: 5 * time.Second, Retry: spotclient.DefaultRetry,
	}
}

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, sys System, args []string) int
}

func commands() []command {
	return []command{
		{"import", "-screener scr_… -file roster.csv [-full-sync] [-dry-run] [-max-removals N] [-new]",
			"import a CSV roster into a screener as a job, with progress", runImport},
		{"jobs", "[-screener scr_…] [-status S] [-limit N] [-offset N]", "list import jobs, newest first", runJobs},
		{"results", "-job job_… [-outcome O] [-csv FILE]", "show or download a job's per-row results", runResults},
		{"cancel", "-job job_… [-wait]", "cancel a running import job", runCancel},
	}
}

// Run runs roster-sync with its arguments (without the program name) and returns the exit code.
func Run(ctx context.Context, args []string, sys System) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(sys.Stderr)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, sys, args[1:])
		}
	}
	fmt.Fprintf(sys.Stderr, "roster-sync: unknown command %q\n\n", args[0])
	usage(sys.Stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "roster-sync keeps a screener's roster in sync with a CRM export, through the Spot import API.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  roster-sync %s %s\n      %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes -api URL -key acct_… -secret sk_…, or reads "+EnvAPI+", "+EnvKey+" and")
	fmt.Fprintln(w, EnvSecret+" (flags win; the environment keeps the secret out of `ps`). The API defaults to")
	fmt.Fprintln(w, DefaultAPI+", the one `make run` serves.")
	fmt.Fprintln(w, "`roster-sync <command> -h` describes a command's flags.")
	fmt.Fprintln(w, exitCodesText)
}

const exitCodesText = `
Exit codes: 0 done (an import: every row imported, the job COMPLETED); 1 rows failed, or the job
ended FAILED or CANCELED; 2 bad flags or input, or a request the API refused or never got;
130 interrupted with Ctrl-C.`

// flagSet is a subcommand's flags with the connection flags every command takes.
type flagSet struct {
	*flag.FlagSet
	api, key, secret string
}

func newFlagSet(sys System, name, about string) *flagSet {
	var args string
	for _, c := range commands() {
		if c.name == name {
			args = c.args
		}
	}
	fs := &flagSet{FlagSet: flag.NewFlagSet("roster-sync "+name, flag.ContinueOnError)}
	fs.SetOutput(sys.Stderr)
	fs.StringVar(&fs.api, "api", "", "API base URL (default $"+EnvAPI+", else "+DefaultAPI+")")
	fs.StringVar(&fs.key, "key", "", "Spot API key id, acct_… (default $"+EnvKey+")")
	fs.StringVar(&fs.secret, "secret", "", "Spot API secret, sk_… (default $"+EnvSecret+")")
	fs.Usage = func() {
		fmt.Fprintf(sys.Stderr, "Usage: roster-sync %s %s\n\n%s\n\nFlags:\n", name, args, about)
		fs.PrintDefaults()
		fmt.Fprintln(sys.Stderr, exitCodesText)
	}
	return fs
}

// parse parses the flags; it returns an exit code and false when the command should stop
// (-h: 0; a bad flag or a stray argument: 2).
func (fs *flagSet) parse(args []string) (int, bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return ExitOK, false
	case err != nil:
		return ExitUsage, false
	case fs.NArg() > 0:
		fmt.Fprintf(fs.Output(), "roster-sync: unexpected argument %q (flags come as -name value)\n", fs.Arg(0))
		return ExitUsage, false
	}
	return 0, true
}

// given reports whether the flag was set on the command line.
func (fs *flagSet) given(name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// client is the API client the flags and environment name.
func (fs *flagSet) client(sys System) (*spotclient.Client, error) {
	pick := func(flagValue, env, fallback string) string {
		if flagValue != "" {
			return flagValue
		}
		if v := sys.Getenv(env); v != "" {
			return v
		}
		return fallback
	}
	api, key, secret := pick(fs.api, EnvAPI, DefaultAPI), pick(fs.key, EnvKey, ""), pick(fs.secret, EnvSecret, "")
	var missing []string
	if key == "" {
		missing = append(missing, "an API key (-key or $"+EnvKey+")")
	}
	if secret == "" {
		missing = append(missing, "an API secret (-secret or $"+EnvSecret+")")
	}
	if len(missing) > 0 {
		return nil, errors.New("roster-sync needs " + strings.Join(missing, " and "))
	}
	c, err := spotclient.New(api, key, secret)
	if err != nil {
		return nil, err
	}
	c.Retry = sys.Retry
	c.OnRetry = func(attempt int, wait time.Duration, err error) {
		fmt.Fprintf(sys.Stderr, "roster-sync: %v; retrying in %s (attempt %d of %d)\n", err, wait.Round(100*time.Millisecond), attempt+1, c.Attempts)
	}
	return c, nil
}

// setup parses the flags and makes the client; ok false means stop with code.
func (fs *flagSet) setup(sys System, args []string) (c *spotclient.Client, code int, ok bool) {
	if code, ok := fs.parse(args); !ok {
		return nil, code, false
	}
	c, err := fs.client(sys)
	if err != nil {
		fmt.Fprintln(sys.Stderr, "roster-sync:", err)
		return nil, ExitUsage, false
	}
	return c, 0, true
}

// onInterrupt returns a context that the first Ctrl-C cancels, and a stop that ends the watch
// for it and reports whether it came.
func onInterrupt(ctx context.Context, sys System) (context.Context, func() bool) {
	ctx, cancel := context.WithCancel(ctx)
	done, fired := make(chan struct{}), make(chan bool, 1)
	go func() {
		select {
		case <-sys.Interrupts:
			cancel()
			fired <- true
		case <-done:
			fired <- false
		}
	}()
	return ctx, func() bool {
		close(done)
		f := <-fired
		cancel()
		return f
	}
}
