// Package testkit gives tests a real DynamoDB Local table made from template.yaml, the wired
// service over it, tenants with credentials, and Lambda invocations built from API Gateway v2
// event literals.
package testkit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/participant-roster/roster/pkg/dev/apispec"
	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/localstack"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
)

// TableLogicalID is the table's name in template.yaml.
const TableLogicalID = "RosterTable"

var endpoint string

// Main runs a package's tests with one DynamoDB Local: the one `make test` started
// (DYNAMODB_ENDPOINT), or one started here and stopped after. Use it from TestMain.
func Main(m *testing.M) {
	ep, stop, err := localstack.DynamoDBEndpoint(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "testkit: DynamoDB Local:", err)
		os.Exit(1)
	}
	endpoint = ep
	code := m.Run()
	stop()
	os.Exit(code)
}

// Env is one fresh table and the service wired over it.
type Env struct {
	T      testing.TB
	Client *dynamodb.Client
	Table  string
	App    *app.App
}

// NewEnv creates a table from template.yaml's definition, named for this test run.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	if endpoint == "" {
		t.Fatal("testkit: call testkit.Main from TestMain")
	}
	ctx := context.Background()
	client, err := app.NewDynamoDBClient(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	table := localstack.UniqueTableName("test")
	if err := CreateTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	// Request lines are noise in tests; errors (a 500's cause) are what a failure needs.
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a := app.New(client, table, 0, log)
	a.ImportWriteBudget = ImportWriteBudget
	a.SetSnapLimits(SnapLimits)
	return &Env{T: t, Client: client, Table: table, App: a}
}

// ImportWriteBudget is the write budget per partition key of an Env's paced import worker:
// high enough that the pacer never waits on DynamoDB Local, so that an import test runs at the
// table's speed instead of AWS's partition limit. The worker is still paced (every write is
// charged); that the pacer holds a partition key to its budget is pkg/platform/ddb's test, and
// what the deployed budget sustains is the benchmark's.
const ImportWriteBudget = 100 * ddb.DefaultPartitionWriteBudget

// SnapLimits are the per-user limits of an Env's Snap handlers: far above what any test makes
// of calls a second, so that only a throttling test, which sets its own, meets a limit. The
// calls are still counted and answered with their rate headers.
var SnapLimits = ratelimit.Limits{PerSecond: 1_000_000, PerMinute: 1_000_000}

var (
	templateOnce sync.Once
	template     *samtemplate.Template
	templateErr  error
)

// loadTemplate reads template.yaml once per test binary.
func loadTemplate() (*samtemplate.Template, error) {
	templateOnce.Do(func() {
		root, err := samtemplate.FindRoot()
		if err != nil {
			templateErr = err
			return
		}
		template, templateErr = samtemplate.Load(root + "/template.yaml")
	})
	return template, templateErr
}

// CreateTable makes a table from template.yaml's RosterTable definition.
func CreateTable(ctx context.Context, client *dynamodb.Client, name string) error {
	tpl, err := loadTemplate()
	if err != nil {
		return err
	}
	in, err := tpl.TableInput(TableLogicalID, name)
	if err != nil {
		return err
	}
	return localstack.CreateTable(ctx, client, in)
}

// Tenant is a workspace with a Spot API key.
type Tenant struct {
	WorkspaceID, KeyID, Secret string
}

// NewTenant creates a workspace and an API key for it.
func (e *Env) NewTenant() Tenant {
	e.T.Helper()
	ctx := context.Background()
	ws := ids.New(ids.Workspace)
	if err := e.App.Store.CreateWorkspace(ctx, ws, "test workspace", time.Now()); err != nil {
		e.T.Fatal(err)
	}
	keyID, secret, hash := auth.NewSecret()
	if err := e.App.Store.PutKey(ctx, auth.Key{ID: keyID, WorkspaceID: ws, Name: "test key", SecretHash: hash, CreatedAt: time.Now()}); err != nil {
		e.T.Fatal(err)
	}
	return Tenant{WorkspaceID: ws, KeyID: keyID, Secret: secret}
}

// Headers are the tenant's credential headers.
func (tn Tenant) Headers() map[string]string {
	return map[string]string{"x-spot-api-key": tn.KeyID, "x-spot-api-secret": tn.Secret}
}

var requestSeq atomic.Int64

// Event builds an API Gateway HTTP API (payload 2.0) event as API Gateway sends it: lower-case
// header names, the raw query string, and the parsed query parameters.
func Event(method, rawPath, rawQuery string, headers map[string]string, body string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{}
	for k, v := range headers {
		h[strings.ToLower(k)] = v
	}
	qs := map[string]string{}
	if vals, err := url.ParseQuery(rawQuery); err == nil {
		for k, v := range vals {
			qs[k] = strings.Join(v, ",")
		}
	}
	id := fmt.Sprintf("test-%d", requestSeq.Add(1))
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: rawPath, RawQueryString: rawQuery,
		Headers: h, QueryStringParameters: qs, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: id, Stage: "$default", DomainName: "api.example.test", APIID: "test",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: rawPath, Protocol: "HTTP/1.1", SourceIP: "127.0.0.1"},
		},
	}
}

// Response is a Lambda response with its body decoded on demand.
type Response struct {
	events.APIGatewayV2HTTPResponse
	T testing.TB
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r Response) JSON(v any) {
	r.T.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		r.T.Fatalf("body is not JSON: %v\n%s", err, r.Body)
	}
}

// Invoke calls a function's Lambda handler with an event and checks the response against the
// API reference (api/openapi.yaml): a status or body the reference does not document fails
// the test.
func (e *Env) Invoke(logicalID string, ev events.APIGatewayV2HTTPRequest) Response {
	e.T.Helper()
	return e.InvokeContext(context.Background(), logicalID, ev)
}

// InvokeContext is Invoke with a context, e.g. one carrying a capacity meter.
func (e *Env) InvokeContext(ctx context.Context, logicalID string, ev events.APIGatewayV2HTTPRequest) Response {
	e.T.Helper()
	resp := e.InvokeUnchecked(ctx, logicalID, ev)
	if err := validate(ev, resp.APIGatewayV2HTTPResponse); err != nil {
		e.T.Errorf("%s %s: response does not match api/openapi.yaml: %v\nbody: %s", ev.RequestContext.HTTP.Method, ev.RawPath, err, resp.Body)
	}
	return resp
}

// InvokeUnchecked calls the handler without checking the response against the reference, for
// events API Gateway would never send (another function's path, say).
func (e *Env) InvokeUnchecked(ctx context.Context, logicalID string, ev events.APIGatewayV2HTTPRequest) Response {
	e.T.Helper()
	h, err := e.App.LambdaHandler(logicalID)
	if err != nil {
		e.T.Fatal(err)
	}
	resp, err := h(ctx, ev)
	if err != nil {
		e.T.Fatalf("%s returned an error instead of a response: %v", logicalID, err)
	}
	return Response{APIGatewayV2HTTPResponse: resp, T: e.T}
}

var (
	specOnce sync.Once
	spec     *apispec.Spec
	specErr  error
)

func validate(ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) error {
	specOnce.Do(func() { spec, specErr = apispec.Load() })
	if specErr != nil {
		return specErr
	}
	reqHeaders, respHeaders := http.Header{}, http.Header{}
	for k, v := range ev.Headers {
		reqHeaders.Set(k, v)
	}
	for k, v := range resp.Headers {
		respHeaders.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			respHeaders.Add(k, v)
		}
	}
	u := ev.RawPath
	if ev.RawQueryString != "" {
		u += "?" + ev.RawQueryString
	}
	return spec.ValidateResponse(ev.RequestContext.HTTP.Method, u, reqHeaders, resp.StatusCode, respHeaders, []byte(resp.Body))
}

// AtOnce makes n calls at the same time and returns their answers, in call order.
func AtOnce(n int, call func() Response) []Response {
	out := make([]Response, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i] = call() })
	}
	wg.Wait()
	return out
}
