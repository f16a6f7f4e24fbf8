// Command invoke runs one function once with an event file, like `sam local invoke`, without
// Docker (`make invoke FN=<LogicalID> EVENT=events/<file>.json`):
//
//	go run ./cmd/invoke -fn GetScreenerParticipantFunction -event events/get-screener-participant.json
//
// The function's handler is built exactly as in Lambda (lambdahttp.Handler) over the table named
// by TABLE_NAME (default roster-local) at DYNAMODB_ENDPOINT (default http://127.0.0.1:8000,
// the DynamoDB Local that `make run` starts; set it empty to use real AWS with the ordinary
// AWS credentials and region). The response is printed to stdout as indented JSON and the
// function's log lines go to stderr. The exit code is 0 whenever the function returned a
// response, whatever its status, as with sam local invoke.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/localapi"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
)

const (
	defaultTable    = "roster-local"
	defaultEndpoint = "http://127.0.0.1:8000"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fn := fs.String("fn", "", "logical id of the function in template.yaml, e.g. GetScreenerParticipantFunction")
	eventPath := fs.String("event", "", "API Gateway HTTP API v2 event file, e.g. events/get-screener-participant.json")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: invoke -fn <LogicalID> -event <file.json>\n\n"+
			"Environment: TABLE_NAME (default "+defaultTable+"), DYNAMODB_ENDPOINT (default "+defaultEndpoint+"; empty for real AWS).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *fn == "" || *eventPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "invoke: -fn and -event are required, and nothing else")
		fs.Usage()
		return 2
	}
	if err := invoke(context.Background(), *fn, *eventPath, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "invoke:", err)
		return 1
	}
	return 0
}

func invoke(ctx context.Context, fn, eventPath string, stdout, stderr io.Writer) error {
	route, err := templateRoute(fn)
	if err != nil {
		return err
	}
	ev, err := readEvent(eventPath)
	if err != nil {
		return err
	}
	if _, ok := localapi.PathParameters(route.Path, ev.RawPath); !ok || ev.RequestContext.HTTP.Method != route.Method {
		fmt.Fprintf(stderr, "invoke: warning: the event is a %s %s, but %s serves %s %s (API Gateway would not send it this event)\n",
			ev.RequestContext.HTTP.Method, ev.RawPath, fn, route.Method, route.Path)
	}

	table := envOr("TABLE_NAME", defaultTable)
	endpoint := envOr("DYNAMODB_ENDPOINT", defaultEndpoint)
	client, err := app.NewDynamoDBClient(ctx, endpoint)
	if err != nil {
		return err
	}
	if endpoint != "" {
		if err := checkTable(ctx, client, table, endpoint); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	a := app.New(client, table, app.DefaultAuthCacheTTL, log)
	// As on Lambda, the import functions send jobs to IMPORT_QUEUE_URL (make run prints its
	// queue and SQS endpoint; its poller then works the job).
	if queue := os.Getenv("IMPORT_QUEUE_URL"); queue != "" {
		sc, err := jobqueue.NewClient(ctx, os.Getenv("SQS_ENDPOINT"))
		if err != nil {
			return err
		}
		a.EnableImports(sc, queue)
	}
	handler, err := a.LambdaHandler(fn)
	if err != nil {
		return err
	}
	resp, err := handler(ctx, ev)
	if err != nil {
		return fmt.Errorf("%s returned an error instead of a response: %w", fn, err)
	}
	out, err := json.MarshalIndent(resp, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", out)
	return err
}

// templateRoute is the HttpApi route of a function of template.yaml.
func templateRoute(fn string) (samtemplate.HTTPRoute, error) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		return samtemplate.HTTPRoute{}, err
	}
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return samtemplate.HTTPRoute{}, err
	}
	var known []string
	for _, r := range tpl.HTTPRoutes() {
		if r.LogicalID == fn {
			return r, nil
		}
		known = append(known, r.LogicalID)
	}
	slices.Sort(known)
	return samtemplate.HTTPRoute{}, fmt.Errorf("unknown function %q; template.yaml's functions are:\n  %s", fn, strings.Join(known, "\n  "))
}

// readEvent reads an API Gateway HTTP API (payload 2.0) event, rejecting anything else: a
// field the event type does not have is a typo or another event format.
func readEvent(path string) (events.APIGatewayV2HTTPRequest, error) {
	var ev events.APIGatewayV2HTTPRequest
	data, err := os.ReadFile(path)
	if err != nil {
		return ev, fmt.Errorf("event file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return ev, fmt.Errorf("event file %s is not an API Gateway HTTP API v2 event: %w", path, err)
	}
	if dec.More() {
		return ev, fmt.Errorf("event file %s has data after the event", path)
	}
	if ev.Version != "2.0" || ev.RequestContext.HTTP.Method == "" {
		return ev, fmt.Errorf("event file %s is not an API Gateway HTTP API v2 event: it needs \"version\": \"2.0\" and requestContext.http.method (see events/ for examples)", path)
	}
	return ev, nil
}

// checkTable fails fast, with a hint, when the local table is not there (instead of the
// function answering 500 after the SDK's retries).
func checkTable(ctx context.Context, c *dynamodb.Client, table, endpoint string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, func(o *dynamodb.Options) {
		o.Retryer = aws.NopRetryer{}
	})
	if err != nil {
		return fmt.Errorf("table %s at %s is not reachable (is `make run` running? set TABLE_NAME and DYNAMODB_ENDPOINT to what it printed): %w", table, endpoint, err)
	}
	return nil
}

// envOr returns the variable's value, or def when it is unset; set but empty stays empty.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
