// Command invoke runs one function once with an event file, as Lambda runs it, like `sam local
// invoke` but without Docker (`make invoke FN=<LogicalID> EVENT=events/<file>.json`):
//
//	go run ./cmd/invoke -fn GetScreenerParticipantFunction -event events/get-screener-participant.json
//
// The function is built with its own Makefile line for the host architecture and run under the
// Lambda Runtime Interface Emulator with template.yaml's environment for it (pkg/dev/rie),
// against the local stack `make run` starts: the table named by TABLE_NAME (default
// roster-local) at DYNAMODB_ENDPOINT (default http://127.0.0.1:8000), and, for the functions
// that queue import jobs and the worker (which hands back to it what a batch has no time for),
// the queue at IMPORT_QUEUE_URL on the SQS at SQS_ENDPOINT (make run prints both; without them
// those functions are not run). An HTTP function takes an API
// Gateway HTTP API v2 event; the import worker an SQS event, whose jobs are stored first
// (QUEUED) unless they exist, as the API function that queued the chunks would have; a
// scheduled function (the import sweeper) an EventBridge scheduled event.
//
// The answer is printed to stdout as indented JSON; the emulator's and the function's log lines
// go to stderr. The exit code is 0 whenever the function answered, whatever the status, as with
// sam local invoke.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/localapi"
	"github.com/participant-roster/roster/pkg/dev/localenv"
	"github.com/participant-roster/roster/pkg/dev/rie"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/jobs/jobstore"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/snap/snapstore"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fn := fs.String("fn", "", "logical id of the function in template.yaml, e.g. GetScreenerParticipantFunction")
	eventPath := fs.String("event", "", "event file: API Gateway HTTP API v2 (an SQS event for the worker, an EventBridge scheduled event for the sweeper), e.g. events/get-screener-participant.json")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: invoke -fn <LogicalID> -event <file.json>\n\n"+
			"Environment: TABLE_NAME (default "+localenv.Table+"), DYNAMODB_ENDPOINT (default "+localenv.DynamoDBEndpoint+"),\n"+
			"IMPORT_QUEUE_URL and SQS_ENDPOINT (as `make run` prints them; needed by the import functions).\n\nFlags:")
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
	root, err := samtemplate.FindRoot()
	if err != nil {
		return err
	}
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	f, ok := tpl.Function(fn)
	if !ok {
		return fmt.Errorf("unknown function %q; template.yaml's functions are:\n  %s", fn, strings.Join(tpl.Functions(), "\n  "))
	}
	event, err := os.ReadFile(eventPath)
	if err != nil {
		return fmt.Errorf("event file: %w", err)
	}
	route, worker, scheduled := eventSource(f)
	var jobs events.SQSEvent
	switch {
	case worker:
		jobs, err = readSQSEvent(eventPath, event)
	case scheduled:
		err = checkScheduledEvent(eventPath, event)
	case route != nil:
		err = checkHTTPEvent(*route, eventPath, event, stderr)
	default:
		err = fmt.Errorf("%s has no HttpApi, SQS or Schedule event in template.yaml", fn)
	}
	if err != nil {
		return err
	}

	stack, client, err := localStack(ctx)
	if err != nil {
		return err
	}
	if _, err := rie.Environment(f, stack); err != nil {
		return fmt.Errorf("%w\n(set IMPORT_QUEUE_URL and SQS_ENDPOINT to what `make run` printed)", err)
	}
	if worker {
		table := ddb.New(client, stack.Table)
		stored, err := demo.StoreJobsOf(ctx, jobstore.New(table, snapstore.New(table)), jobs)
		if err != nil {
			return err
		}
		for _, id := range stored {
			fmt.Fprintf(stderr, "invoke: stored job %s (QUEUED) for the event's chunks, as the API function would before queueing them\n", id)
		}
	}

	answer, err := runEmulated(ctx, root, tpl, fn, stack, event, stderr)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, answer, "", "  "); err != nil {
		return fmt.Errorf("%s answered something that is not JSON: %w\n%s", fn, err, answer)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", bytes.TrimSpace(out.Bytes()))
	return err
}

// runEmulated builds the function for this machine and runs the event through it under the
// emulator; the build goes to a directory removed afterwards.
func runEmulated(ctx context.Context, root string, tpl *samtemplate.Template, fn string, stack rie.Stack, event []byte, stderr io.Writer) ([]byte, error) {
	dir, err := os.MkdirTemp("", "invoke-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(stderr, "invoke: make build-%s LAMBDA_ARCH=%s, then run it under aws-lambda-rie\n", fn, runtime.GOARCH)
	em, err := rie.NewBuilder(root, dir).StartFunction(ctx, tpl, fn, stack, stderr)
	if err != nil {
		return nil, err
	}
	defer em.Stop()
	answer, err := em.Invoke(ctx, event)
	if err != nil {
		return nil, fmt.Errorf("%s gave no answer: %w", fn, err)
	}
	return answer, nil
}

// localStack is `make run`'s DynamoDB Local and SQS as the environment names them, after
// checking that the table is there.
func localStack(ctx context.Context) (rie.Stack, *dynamodb.Client, error) {
	stack := rie.Stack{
		Table:            envOr("TABLE_NAME", localenv.Table),
		DynamoDBEndpoint: envOr("DYNAMODB_ENDPOINT", localenv.DynamoDBEndpoint),
		QueueURL:         os.Getenv("IMPORT_QUEUE_URL"),
		SQSEndpoint:      os.Getenv("SQS_ENDPOINT"),
	}
	if stack.DynamoDBEndpoint == "" {
		return stack, nil, errors.New("DYNAMODB_ENDPOINT is empty: invoke runs functions against the local stack only (`make run`)")
	}
	client, err := app.NewDynamoDBClient(ctx, stack.DynamoDBEndpoint)
	if err != nil {
		return stack, nil, err
	}
	return stack, client, checkTable(ctx, client, stack.Table, stack.DynamoDBEndpoint)
}

// eventSource is what feeds the function in template.yaml: its HttpApi route, an SQS queue,
// or an EventBridge schedule.
func eventSource(f samtemplate.Function) (route *samtemplate.Event, sqs, schedule bool) {
	for _, ev := range f.Events {
		switch ev.Type {
		case "HttpApi":
			route = &ev
		case "SQS":
			sqs = true
		case "Schedule":
			schedule = true
		}
	}
	return route, sqs, schedule
}

// checkScheduledEvent checks that the file is an EventBridge scheduled event, as strictly.
func checkScheduledEvent(path string, data []byte) error {
	var ev events.EventBridgeEvent
	if err := decodeStrict(data, &ev); err != nil {
		return fmt.Errorf("event file %s is not an EventBridge event: %w", path, err)
	}
	if ev.DetailType != "Scheduled Event" {
		return fmt.Errorf("event file %s is not an EventBridge scheduled event: its detail-type is %q (see events/import-sweeper.json)", path, ev.DetailType)
	}
	return nil
}

// checkHTTPEvent checks that the file is an API Gateway HTTP API (payload 2.0) event, and
// warns when it is not one the function's route would be sent.
func checkHTTPEvent(route samtemplate.Event, path string, data []byte, stderr io.Writer) error {
	ev, err := readEvent(path, data)
	if err != nil {
		return err
	}
	if route.Path == routes.DefaultPath { // it is sent what no route matches, whatever the method
		return nil
	}
	if _, ok := localapi.PathParameters(route.Path, ev.RawPath); !ok || ev.RequestContext.HTTP.Method != route.Method {
		fmt.Fprintf(stderr, "invoke: warning: the event is a %s %s, but the function serves %s %s (API Gateway would not send it this event)\n",
			ev.RequestContext.HTTP.Method, ev.RawPath, route.Method, route.Path)
	}
	return nil
}

// readEvent reads an API Gateway HTTP API (payload 2.0) event, rejecting anything else: a
// field the event type does not have is a typo or another event format.
func readEvent(path string, data []byte) (events.APIGatewayV2HTTPRequest, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := decodeStrict(data, &ev); err != nil {
		return ev, fmt.Errorf("event file %s is not an API Gateway HTTP API v2 event: %w", path, err)
	}
	if ev.Version != "2.0" || ev.RequestContext.HTTP.Method == "" {
		return ev, fmt.Errorf("event file %s is not an API Gateway HTTP API v2 event: it needs \"version\": \"2.0\" and requestContext.http.method (see events/ for examples)", path)
	}
	return ev, nil
}

// readSQSEvent reads the SQS event a worker is sent, as strictly.
func readSQSEvent(path string, data []byte) (events.SQSEvent, error) {
	var ev events.SQSEvent
	if err := decodeStrict(data, &ev); err != nil {
		return ev, fmt.Errorf("event file %s is not an SQS event: %w", path, err)
	}
	if len(ev.Records) == 0 {
		return ev, fmt.Errorf("event file %s is not an SQS event: it has no Records (see events/import-worker.json)", path)
	}
	return ev, nil
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the event")
	}
	return nil
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
