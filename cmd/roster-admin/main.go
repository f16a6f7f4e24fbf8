// Command roster-admin is the operator's tool: it creates workspaces, issues and revokes Spot
// API keys, and creates screeners, participants and sessions; for Snap XMP Online it creates
// API users and their keys, surveys and responses. It writes straight to the table.
//
//	roster-admin [-table T] [-endpoint URL] [-json] <command> [flags]
//
//	workspace create   -name N
//	key issue          -workspace W -name N          (prints the secret once; only its hash is stored)
//	key revoke         -workspace W -key K
//	key list           -workspace W
//	screener create    -workspace W -title T [-description D]
//	participant add    -workspace W -screener S -email E -name N [-external-uid U]
//	session start      -workspace W -screener-participant SP
//	session complete   -workspace W -session S -outcome qualified|disqualified
//
//	snap-user create   -workspace W -username EMAIL -fullname NAME   (prints the API key once)
//	snap-user key      -username EMAIL               (a new API key, printed once)
//	snap-user revoke   -username EMAIL
//	survey create      -workspace W -owner USERNAME -file definition.json   (prints the GUID)
//	survey share       -workspace W -survey GUID -username EMAIL
//	response add       -workspace W -survey GUID [-status S] -values 'V46=2,V48=1;3,V50=text' | -file values.json
//
// The survey definition format is in README.md; examples/survey-definition.json is one.
//
// -table defaults to $TABLE_NAME, else roster-local. -endpoint defaults to $DYNAMODB_ENDPOINT
// when it is set, else to http://127.0.0.1:8000 (the DynamoDB Local of `make run`); an empty
// endpoint (-endpoint "" or DYNAMODB_ENDPOINT=) means real AWS with the ordinary AWS credentials
// and region. The global flags may also follow the command. Output is plain lines, or JSON with -json. Errors go to stderr with
// exit status 1; bad usage exits 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/localenv"
)

// The defaults reach the DynamoDB Local that `make run` starts.
const defaultTable = localenv.Table

var defaultEndpoint = localenv.DynamoDBEndpoint

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// globals are the flags every command takes.
type globals struct {
	table    string
	endpoint string
	json     bool
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.table, "table", g.table, "DynamoDB table name; $TABLE_NAME when set")
	fs.StringVar(&g.endpoint, "endpoint", g.endpoint, "DynamoDB endpoint; $DYNAMODB_ENDPOINT when set, else the DynamoDB Local of make run; empty (-endpoint \"\") means real AWS with the ordinary AWS credentials and region")
	fs.BoolVar(&g.json, "json", g.json, "print JSON instead of plain lines")
}

// usageError is bad usage: exit status 2, with the command's usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// run is the whole command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	g := &globals{table: os.Getenv("TABLE_NAME"), endpoint: envOr("DYNAMODB_ENDPOINT", defaultEndpoint)}
	if g.table == "" {
		g.table = defaultTable
	}
	top := flag.NewFlagSet("roster-admin", flag.ContinueOnError)
	top.SetOutput(stderr)
	g.register(top)
	top.Usage = func() { printUsage(stderr, top) }
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := top.Args()
	if len(rest) == 0 {
		printUsage(stderr, top)
		return 2
	}
	if len(rest) < 2 {
		fmt.Fprintf(stderr, "roster-admin: %q needs an action\n", rest[0])
		printUsage(stderr, top)
		return 2
	}
	name := rest[0] + " " + rest[1]
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "roster-admin: unknown command %q\n", name)
		printUsage(stderr, top)
		return 2
	}

	fs := flag.NewFlagSet("roster-admin "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.register(fs)
	exec := cmd.setup(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: roster-admin %s %s\n\n%s\n\nFlags:\n", name, cmd.args, cmd.summary)
		fs.PrintDefaults()
	}
	if err := fs.Parse(rest[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "roster-admin %s: unexpected argument %q\n", name, fs.Arg(0))
		fs.Usage()
		return 2
	}
	if missing := missingRequired(fs, cmd.required); len(missing) > 0 {
		fmt.Fprintf(stderr, "roster-admin %s: missing %s\n", name, strings.Join(missing, ", "))
		fs.Usage()
		return 2
	}

	ctx := context.Background()
	client, err := app.NewDynamoDBClient(ctx, g.endpoint)
	if err != nil {
		fmt.Fprintln(stderr, "roster-admin:", err)
		return 1
	}
	a := app.New(client, g.table, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	out, err := exec(ctx, a)
	var usage usageError
	switch {
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "roster-admin %s: %s\n", name, usage.msg)
		fs.Usage()
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "roster-admin %s: %s\n", name, describe(err, g))
		return 1
	}
	if err := out.write(stdout, stderr, g.json); err != nil {
		fmt.Fprintln(stderr, "roster-admin:", err)
		return 1
	}
	return 0
}

// missingRequired lists the required flags that were not given a non-empty value.
func missingRequired(fs *flag.FlagSet, required []string) []string {
	var missing []string
	for _, name := range required {
		if f := fs.Lookup(name); f == nil || strings.TrimSpace(f.Value.String()) == "" {
			missing = append(missing, "-"+name)
		}
	}
	return missing
}

// envOr returns the variable's value, or def when it is unset; set but empty stays empty.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// describe turns an AWS error into something an operator can act on.
func describe(err error, g *globals) string {
	var noTable *types.ResourceNotFoundException
	if errors.As(err, &noTable) {
		where := g.endpoint
		if where == "" {
			where = "AWS (default credentials and region)"
		}
		return fmt.Sprintf("table %q does not exist at %s (set -table / $TABLE_NAME and -endpoint / $DYNAMODB_ENDPOINT)", g.table, where)
	}
	return err.Error()
}

func printUsage(w io.Writer, top *flag.FlagSet) {
	fmt.Fprintln(w, "usage: roster-admin [-table T] [-endpoint URL] [-json] <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return commands[names[i]].order < commands[names[j]].order })
	for _, n := range names {
		fmt.Fprintf(w, "  %-18s %s\n", n, commands[n].args)
	}
	fmt.Fprintln(w, "\n`roster-admin <command> -h` describes a command. Global flags (also accepted after the command):")
	top.PrintDefaults()
}
