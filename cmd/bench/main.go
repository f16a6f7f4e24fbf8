// Command bench measures the service's Lambda handlers against raw DynamoDB calls on the same
// items, prices list pages and imports in capacity units, times each function's cold start and
// runs a large import end to end through SQS and the worker, overlapping imports from many
// clients and a FULL_SYNC of a large roster; it prints the tables and rewrites
// BENCHMARK.md with them:
//
//	make bench    # go run ./cmd/withstack -- go run ./cmd/bench
//
// Everything runs in one process against one DynamoDB Local (the one withstack started, see
// localstack.DynamoDBEndpoint), in a fresh table made from template.yaml; measures 7 and 9 also
// use withstack's moto_server (localstack.SQSEndpoint) and tables of their own.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/participant-roster/roster/pkg/dev/allroutes"
	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/localstack"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/platform/lambdahttp"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// config holds the sizes of the run; the defaults are what BENCHMARK.md reports.
type config struct {
	getRequests  int // measure 1: requests of each kind
	listRequests int // measure 2: requests of each kind
	seedRows     int // measure 2: participants of the big screener
	offsetRounds int // measure 2: requests per offset
	importRounds int // measure 3
	coldStarts   int // measure 4: timed starts per function
	snapAdds     int // measure 5: requests of each kind
	snapWalkRows int // measure 6: participants of the walked survey
	snapWalks    int // measure 6: timed walks of each kind
	bigImport    int // measure 7: rows of the end-to-end import
	bigSerial    int // measure 7: rows of the one-writer raw run
	syncRows     int // measure 9: participants of the synced roster
	only         map[string]bool
	out          string
	previous     string
	cpuProfile   string
}

func main() {
	var c config
	flag.IntVar(&c.getRequests, "get", 2000, "GET requests of each kind (handler, raw GetItem)")
	flag.IntVar(&c.listRequests, "list", 1000, "list requests of each kind (handler, raw Query)")
	flag.IntVar(&c.seedRows, "seed", 11000, "participants imported into the big screener, in 1,000-row imports (>= 10,100)")
	flag.IntVar(&c.offsetRounds, "offset-rounds", 5, "list requests at each offset (read units, latency)")
	flag.IntVar(&c.importRounds, "import-rounds", 5, "rounds of the 1,000-row import comparison")
	flag.IntVar(&c.coldStarts, "starts", 5, "timed cold starts per function")
	flag.IntVar(&c.snapAdds, "snap-add", 1000, "Snap Add Participant requests of each kind (handler, raw TransactWriteItems)")
	flag.IntVar(&c.snapWalkRows, "snap-walk-seed", 20000, "participants of the survey whose list is walked in pages of 5,000")
	flag.IntVar(&c.snapWalks, "snap-walks", 3, "timed walks of the participant list of each kind (handler, raw Query)")
	flag.IntVar(&c.bigImport, "big-import", 50000, "rows of the end-to-end import through SQS and the worker (and of its raw comparison)")
	flag.IntVar(&c.bigSerial, "big-import-serial", 5000, "rows of the one-writer raw BatchWriteItem run of measure 7, for reference (0: all of -big-import)")
	flag.IntVar(&c.syncRows, "sync-rows", 100000, "participants of the screener roster of measure 9's FULL_SYNC (85% sent unchanged, 10% renamed, 5% absent, as many new)")
	only := flag.String("only", "1,2,3,4,5,6,7,8,9", "measures to run, comma-separated (a partial run is for trying things out)")
	flag.StringVar(&c.out, "out", "", "report path (default <repo root>/BENCHMARK.md; - for stdout only)")
	flag.StringVar(&c.previous, "previous", "", "report whose figures each changed figure shows beside it (default the one -out replaces; - for none)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the run (this process only) to this file")
	flag.Parse()
	c.only = map[string]bool{}
	for _, m := range strings.Split(*only, ",") {
		c.only[strings.TrimSpace(m)] = true
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// bench is the wired service over a fresh table, and one tenant with a key.
type bench struct {
	ctx      context.Context
	root     string
	endpoint string
	client   *dynamodb.Client
	table    string
	app      *app.App
	handlers map[string]lambdahttp.Handler

	ws, keyID, keyName, secret string
}

func run(c config) error {
	start := time.Now()
	ctx := context.Background()
	root, err := samtemplate.FindRoot()
	if err != nil {
		return err
	}
	if c.out == "" {
		c.out = filepath.Join(root, "BENCHMARK.md")
	}
	if c.previous == "" && c.out != "-" {
		c.previous = c.out
	}
	before := previous{}
	if c.previous != "" && c.previous != "-" {
		if before, err = readPrevious(c.previous); err != nil {
			return fmt.Errorf("previous report: %w", err)
		}
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	endpoint, stop, err := localstack.DynamoDBEndpoint(ctx)
	if err != nil {
		return fmt.Errorf("DynamoDB Local: %w", err)
	}
	defer stop()
	b, err := newBench(ctx, root, endpoint)
	if err != nil {
		return err
	}
	progress("table %s at %s", b.table, endpoint)
	// Before any raw baseline is timed: the bench's raw items and keys are the service's.
	if err := b.checkRawSpot(); err != nil {
		return fmt.Errorf("raw items: %w", err)
	}
	if err := b.checkRawSnap(); err != nil {
		return fmt.Errorf("raw items: %w", err)
	}
	progress("raw items and keys match what the import and Add handlers wrote")

	var sections []section
	var seed seeded
	// How long each part took, so that `make bench` can be kept under its time budget.
	var parts []string
	if c.only["1"] || c.only["2"] {
		t := time.Now()
		if seed, err = b.seed(c.seedRows); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		parts = append(parts, "seed of 1 and 2: "+time.Since(t).Round(time.Second).String())
	}
	steps := []struct {
		name string
		run  func() (section, error)
	}{
		{"1", func() (section, error) { return b.measureGet(c.getRequests, seed.sample) }},
		{"2", func() (section, error) { return b.measureList(c, seed) }},
		{"3", func() (section, error) { return b.measureImport(c.importRounds) }},
		{"4", func() (section, error) { return b.measureColdStarts(c.coldStarts) }},
		{"5", func() (section, error) { return b.measureSnapAdd(c.snapAdds) }},
		{"6", func() (section, error) { return b.measureSnapWalk(c.snapWalkRows, c.snapWalks) }},
		{"7", func() (section, error) { return b.measureBigImport(c.bigImport, c.bigSerial) }},
		{"8", func() (section, error) { return b.measureOverlap() }},
		{"9", func() (section, error) { return b.measureFullSync(c.syncRows) }},
	}
	// A measure that fails is reported as failed, and the run goes on: one failure late in a
	// long run should not cost the figures of the others. The run still exits non-zero.
	var failed []string
	for _, step := range steps {
		if !c.only[step.name] {
			continue
		}
		t := time.Now()
		s, err := step.run()
		parts = append(parts, step.name+": "+time.Since(t).Round(time.Second).String())
		if err != nil {
			progress("measure %s failed: %v", step.name, err)
			failed = append(failed, fmt.Sprintf("measure %s: %v", step.name, err))
			s = failedSection(step.name, s, err)
		}
		sections = append(sections, s)
	}

	doc := document(machineInfo(root, endpoint, time.Since(start), parts), sections, before)
	fmt.Print(doc)
	if c.out != "-" {
		if err := os.WriteFile(c.out, []byte(doc), 0o644); err != nil {
			return err
		}
		progress("wrote %s in %s", c.out, time.Since(start).Round(time.Second))
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "\n"))
	}
	return nil
}

// failedSection stands in the report for a measure that failed: what failed, and the tables
// of what it measured before (partial, when the measure returns them with its error).
func failedSection(measure string, partial section, err error) section {
	title := partial.title
	if title == "" {
		title = measure + "."
	}
	return section{title: title + " (failed)", tables: partial.tables,
		intro: "**This measure failed**; only what it measured before is below:\n\n```\n" + err.Error() + "\n```"}
}

func newBench(ctx context.Context, root, endpoint string) (*bench, error) {
	client, err := app.NewDynamoDBClient(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	table := localstack.UniqueTableName("bench")
	if err := testkit.CreateTable(ctx, client, table); err != nil {
		return nil, err
	}
	// As deployed: JSON request lines (formatted, then dropped instead of written to stdout) and
	// the deployed auth cache lifetime.
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	b := &bench{
		ctx: ctx, root: root, endpoint: endpoint, client: client, table: table,
		app:      app.New(client, table, app.DefaultAuthCacheTTL, log),
		handlers: map[string]lambdahttp.Handler{},
	}
	b.app.SetSnapLimits(benchSnapLimits)
	for _, r := range allroutes.All {
		h, err := b.app.LambdaHandler(r.LogicalID)
		if err != nil {
			return nil, err
		}
		b.handlers[r.LogicalID] = h
	}
	if err := b.createTenant("bench workspace"); err != nil {
		return nil, err
	}
	return b, nil
}

// createTenant makes b act for a new workspace, named name, with a key of its own.
func (b *bench) createTenant(name string) error {
	b.ws = ids.New(ids.Workspace)
	if err := b.app.Store.CreateWorkspace(b.ctx, b.ws, name, time.Now()); err != nil {
		return err
	}
	var hash string
	b.keyID, b.secret, hash = auth.NewSecret()
	b.keyName = "bench key"
	return b.app.Store.PutKey(b.ctx, auth.Key{ID: b.keyID, WorkspaceID: b.ws, Name: b.keyName, SecretHash: hash, CreatedAt: time.Now()})
}

// withTenant is a copy of b acting for a new workspace of its own in the same table, for a
// measure that counts a workspace's records.
func (b *bench) withTenant(name string) (*bench, error) {
	t := *b
	return &t, t.createTenant(name)
}

// event is an API Gateway v2 event carrying the tenant's credentials.
func (b *bench) event(method, path, rawQuery, body string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"x-spot-api-key": b.keyID, "x-spot-api-secret": b.secret}
	if body != "" {
		h["content-type"] = "application/json"
	}
	return testkit.Event(method, path, rawQuery, h, body)
}

// invoke calls a function's handler and insists on a 200.
func (b *bench) invoke(ctx context.Context, fn string, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	resp, err := b.handlers[fn](ctx, ev)
	if err != nil {
		return resp, fmt.Errorf("%s: %w", fn, err)
	}
	if resp.StatusCode != 200 {
		return resp, fmt.Errorf("%s %s?%s: status %d: %.500s", fn, ev.RawPath, ev.RawQueryString, resp.StatusCode, resp.Body)
	}
	return resp, nil
}

func (b *bench) actor() vocab.Actor {
	return vocab.Actor{Type: "ApplicationActor", ID: b.keyID, Name: b.keyName}
}

func (b *bench) newScreener(title string) (string, error) {
	s, err := b.app.Admin.CreateScreener(b.ctx, b.ws, vocab.Actor{Type: "SystemActor", ID: "bench", Name: "bench"}, title, nil)
	return s.ID, err
}

// importRow is a row as the import body carries it.
type importRow struct {
	ExternalUID string `json:"externalUid"`
	Email       string `json:"email"`
	Name        string `json:"name"`
}

// rows makes n distinct rows; tag keeps sets apart and every row the same size.
func rows(tag string, n int) []importRow {
	out := make([]importRow, n)
	for i := range out {
		out[i] = importRow{
			ExternalUID: fmt.Sprintf("crm-%s-%06d", tag, i),
			Email:       fmt.Sprintf("person.%s.%06d@example.com", tag, i),
			Name:        fmt.Sprintf("Person %s %06d", strings.ToUpper(tag), i),
		}
	}
	return out
}

func (r importRow) domain() screening.ImportRow {
	uid := r.ExternalUID
	return screening.ImportRow{ExternalUID: &uid, Email: r.Email, Name: r.Name}
}

func importBody(screenerID string, rs []importRow) (string, error) {
	return importBodyMode(screenerID, screening.UpdatesOnly, rs)
}

// importBodyMode is an import body in any mode, of rows of any shape.
func importBodyMode[R any](screenerID string, mode screening.ImportMode, rs []R) (string, error) {
	b, err := json.Marshal(map[string]any{"screenerId": screenerID, "importMode": mode, "participants": rs})
	return string(b), err
}

var began = time.Now()

// progress reports on stderr, with the time since the program started.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: %6.1fs "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
}

// gc settles the heap between phases so one phase's garbage is not collected in the next.
func gc() { runtime.GC() }
