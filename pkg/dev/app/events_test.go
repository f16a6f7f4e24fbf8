package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/participant-roster/roster/pkg/dev/allroutes"
	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"

	"github.com/participant-roster/roster/pkg/platform/routes"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// TestSampleEvents invokes every events/*.json (what `make invoke` sends) against its function
// on a table seeded with the demo workspace: the GET events share one, every other event has
// its own so that the DELETE and import events cannot disturb the others. Each route's must be a well-formed HTTP API v2 event
// for its function's route, and answer 2xx with a JSON body that the API reference documents
// (testkit.Invoke checks that); the worker's and the scheduled functions' are checked below.
func TestSampleEvents(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	samples, err := allroutes.SampleEvents(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 {
		t.Fatal("events/ holds no .json events")
	}
	for _, sample := range samples {
		t.Run(strings.TrimSuffix(filepath.Base(sample.Path), ".json"), func(t *testing.T) {
			t.Parallel()
			if sample.Worker {
				checkWorkerEvent(t, sample.LogicalID, sample.Path)
				return
			}
			if sample.Scheduled {
				checkScheduledEvent(t, sample.LogicalID, sample.Path)
				return
			}
			if sample.Fallback {
				checkFallbackEvent(t, sample.Path)
				return
			}
			route, _ := routeOf(sample.LogicalID)
			ev := readEvent(t, sample.Path)
			checkEventShape(t, route, ev)

			env := seededEnv(t, route.Method == "GET")
			resp := env.Invoke(route.LogicalID, ev)
			if resp.StatusCode < 200 || resp.StatusCode > 299 {
				t.Fatalf("%s answered %d, want 2xx\n%s", route.LogicalID, resp.StatusCode, resp.Body)
			}
			if resp.Body == "" && route.Family == routes.Snap && route.Method == "DELETE" {
				return // documented: Snap deletes answer 200 with no body
			}
			if ct := resp.Headers["Content-Type"]; !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			var body any
			resp.JSON(&body)
			checkNamesDemoRecords(t, ev, body)
		})
	}
}

// checkFallbackEvent runs a $default sample event: an HTTP API v2 event on the $default route
// key for a path or method no route takes, answered 4xx in its family's shape.
func checkFallbackEvent(t *testing.T, path string) {
	ev := readEvent(t, path)
	if ev.RouteKey != routes.DefaultPath || ev.RequestContext.RouteKey != routes.DefaultPath || ev.PathParameters != nil {
		t.Errorf("routeKey %q / %q, pathParameters %v; want %s and none", ev.RouteKey, ev.RequestContext.RouteKey, ev.PathParameters, routes.DefaultPath)
	}
	if r := routes.Resolve(allroutes.All, ev.RequestContext.HTTP.Method, ev.RawPath); r.Route == nil && len(r.Allow) == 0 {
		t.Errorf("%s %s is no route's path: the sample should show a slash id or a 405", ev.RequestContext.HTTP.Method, ev.RawPath)
	}
	resp := seededEnv(t, true).InvokeUnchecked(context.Background(), routes.Default.LogicalID, ev)
	var body map[string]any
	resp.JSON(&body)
	if resp.StatusCode < 400 || resp.StatusCode > 499 || body["message"] == nil {
		t.Errorf("%s answered %d %s, want a 4xx in the family's shape", routes.Default.LogicalID, resp.StatusCode, resp.Body)
	}
}

// readTable is the one demo table every GET event reads: a read changes nothing another
// event could meet, so the read events share a seed (the seed is most of such a test's time).
var readTable struct {
	once sync.Once
	env  *testkit.Env
}

// seededEnv is a table seeded with the demo workspace, with imports enabled (as deployed: the
// import functions have IMPORT_QUEUE_URL): readTable for a read, else a fresh one.
func seededEnv(t *testing.T, read bool) *testkit.Env {
	t.Helper()
	seed := func(t *testing.T) *testkit.Env {
		env := testkit.NewEnv(t)
		if _, err := demo.Seed(context.Background(), env.App); err != nil {
			t.Fatal(err)
		}
		env.EnableImports()
		return env
	}
	if !read {
		return seed(t)
	}
	readTable.once.Do(func() { readTable.env = seed(t) })
	if readTable.env == nil {
		t.Fatal("the shared demo table for the read events could not be made")
	}
	env := *readTable.env
	env.T = t // failures are this event's
	return &env
}

// routeOf is a route by its function's logical id.
func routeOf(logicalID string) (routes.Route, bool) {
	for _, r := range allroutes.All {
		if r.LogicalID == logicalID {
			return r, true
		}
	}
	return routes.Route{}, false
}

// checkScheduledEvent runs a scheduled function's sample EventBridge event on a table seeded
// with the demo workspace, whose import jobs are all finished: the sweep ends none, and fails
// nothing.
func checkScheduledEvent(t *testing.T, logicalID, path string) {
	t.Helper()
	ev := readStrict[events.EventBridgeEvent](t, path, "an EventBridge event")
	if ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" {
		t.Fatalf("%s is not an EventBridge scheduled event: %+v", path, ev)
	}
	env := testkit.NewEnv(t)
	if _, err := demo.Seed(context.Background(), env.App); err != nil {
		t.Fatal(err)
	}
	h, err := env.App.ScheduledHandler(logicalID)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := h(context.Background(), ev); err != nil || res.Ended != 0 {
		t.Fatalf("%s on the demo: %+v, %v; want no job ended (the demo's jobs are finished)", logicalID, res, err)
	}
}

// checkWorkerEvent runs a worker's sample SQS event as Lambda would deliver it: on a table
// seeded with the demo workspace, with the import job its chunks belong to stored (as the API
// function stores it before sending the chunks), the worker must process every record (an
// empty batchItemFailures) and, the event carrying every chunk of the job, complete the job.
func checkWorkerEvent(t *testing.T, logicalID, path string) {
	t.Helper()
	ev := readStrict[events.SQSEvent](t, path, "an SQS event")
	if len(ev.Records) == 0 {
		t.Fatalf("%s has no records", path)
	}
	ctx := context.Background()
	env := testkit.NewEnv(t)
	if _, err := demo.Seed(ctx, env.App); err != nil {
		t.Fatal(err)
	}
	for _, rec := range ev.Records {
		if rec.EventSource != "aws:sqs" || rec.MessageId == "" || rec.ReceiptHandle == "" {
			t.Errorf("record %q lacks eventSource aws:sqs, messageId or receiptHandle", rec.MessageId)
		}
		if m, err := jobs.DecodeMessage(rec.Body); err != nil || m.WorkspaceID != demo.WorkspaceID {
			t.Errorf("record %s: not a chunk of a demo workspace's job (%v)", rec.MessageId, err)
		}
	}
	stored, err := demo.StoreJobsOf(ctx, env.App.Jobs, ev)
	if err != nil || len(stored) == 0 {
		t.Fatalf("storing the event's jobs: %v, %v", stored, err)
	}
	h, err := env.App.WorkerHandler(logicalID)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h(ctx, ev)
	if err != nil {
		t.Fatalf("%s failed the batch: %v", logicalID, err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%s reported failures %v, want none", logicalID, resp.BatchItemFailures)
	}
	for _, id := range stored {
		job, rowErrs, err := env.App.Jobs.Get(ctx, demo.WorkspaceID, id, 100)
		if err != nil {
			t.Fatal(err)
		}
		if job.Status != jobs.Completed || job.Counts.Processed != job.Total || job.Counts.Failed != 0 || len(rowErrs) != 0 {
			t.Errorf("job %s after the event: status %s, counts %+v, row errors %v; want COMPLETED with every row processed", id, job.Status, job.Counts, rowErrs)
		}
	}
}

// readEvent decodes an event strictly: a misspelt field would otherwise be dropped silently.
func readEvent(t *testing.T, path string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	return readStrict[events.APIGatewayV2HTTPRequest](t, path, "an API Gateway HTTP API v2 event")
}

// readStrict decodes an event file as the event type E, refusing a field E does not have.
func readStrict[E any](t *testing.T, path, kind string) E {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ev E
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("%s is not %s: %v", path, kind, err)
	}
	return ev
}

// checkEventShape checks that the event is one API Gateway would send for the route.
func checkEventShape(t *testing.T, r routes.Route, ev events.APIGatewayV2HTTPRequest) {
	t.Helper()
	rc := ev.RequestContext
	if ev.Version != "2.0" {
		t.Errorf("version = %q, want 2.0", ev.Version)
	}
	if ev.RouteKey != r.Pattern() || rc.RouteKey != r.Pattern() {
		t.Errorf("routeKey = %q, requestContext.routeKey = %q, want %q", ev.RouteKey, rc.RouteKey, r.Pattern())
	}
	if rc.HTTP.Method != r.Method {
		t.Errorf("requestContext.http.method = %q, want %q", rc.HTTP.Method, r.Method)
	}
	if rc.HTTP.Path != ev.RawPath {
		t.Errorf("requestContext.http.path = %q, rawPath = %q: they should agree", rc.HTTP.Path, ev.RawPath)
	}
	params, ok := matchTemplate(r.Path, ev.RawPath)
	if !ok {
		t.Errorf("rawPath %q does not match the route's path %s", ev.RawPath, r.Path)
	} else if !reflect.DeepEqual(params, ev.PathParameters) && (len(params) > 0 || len(ev.PathParameters) > 0) {
		t.Errorf("pathParameters = %v, the path gives %v", ev.PathParameters, params)
	}
	if rc.RequestID == "" || rc.Stage != "$default" || rc.TimeEpoch == 0 || rc.HTTP.SourceIP == "" {
		t.Errorf("requestContext lacks requestId, stage $default, timeEpoch or http.sourceIp: %+v", rc)
	}
	for name := range ev.Headers {
		if name != strings.ToLower(name) {
			t.Errorf("header %q is not lower-case, as API Gateway sends header names", name)
		}
	}
	creds := map[string]string{"x-spot-api-key": demo.KeyID, "x-spot-api-secret": demo.Secret}
	if r.Family == routes.Snap {
		creds = map[string]string{"x-username": demo.SnapUsername, "x-api-key": demo.SnapAPIKey}
	}
	for h, want := range creds {
		if ev.Headers[h] != want {
			t.Errorf("header %s = %q, want the demo credential %q", h, ev.Headers[h], want)
		}
	}
	values, err := url.ParseQuery(ev.RawQueryString)
	if err != nil {
		t.Errorf("rawQueryString %q: %v", ev.RawQueryString, err)
	}
	want := map[string]string{}
	for k, v := range values {
		want[k] = strings.Join(v, ",")
	}
	if len(want) == 0 {
		want = nil
	}
	if !reflect.DeepEqual(want, ev.QueryStringParameters) && (len(want) > 0 || len(ev.QueryStringParameters) > 0) {
		t.Errorf("queryStringParameters = %v, rawQueryString decodes to %v", ev.QueryStringParameters, want)
	}
}

// matchTemplate matches a path against a route path with {name} segments.
func matchTemplate(template, path string) (map[string]string, bool) {
	ts := strings.Split(template, "/")
	ps := strings.Split(path, "/")
	if len(ts) != len(ps) {
		return nil, false
	}
	params := map[string]string{}
	for i, s := range ts {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if ps[i] == "" {
				return nil, false
			}
			params[strings.Trim(s, "{}")] = ps[i]
		} else if s != ps[i] {
			return nil, false
		}
	}
	return params, true
}

// checkNamesDemoRecords checks that an event names records the demo seed made: a single
// record comes back with the id in the path, and a list (a record's own, such as an import's
// results, too) is not empty.
func checkNamesDemoRecords(t *testing.T, ev events.APIGatewayV2HTTPRequest, body any) {
	t.Helper()
	obj, _ := body.(map[string]any)
	if obj != nil && strings.HasPrefix(asString(obj["_type"]), "Paginated") {
		if items, _ := obj["items"].([]any); len(items) == 0 {
			t.Errorf("the list is empty: the event's filters name no demo record")
		}
		return
	}
	for param, field := range map[string]string{"id": "id", "importId": "importId"} {
		// A path that ends at a record answers that record (not one under it: an import's results).
		if id := ev.PathParameters[param]; id != "" && strings.HasSuffix(ev.RawPath, "/"+id) && (obj == nil || obj[field] != id) {
			t.Errorf("response is not the record %s: %v", id, body)
		}
	}
}

func asString(v any) string { s, _ := v.(string); return s }
