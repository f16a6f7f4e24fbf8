package localapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/participant-roster/roster/pkg/dev/apispec"
	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/localapi"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/dev/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// server is a running local API over a fresh table seeded with the demo workspace.
type server struct {
	t    *testing.T
	url  string
	addr string
	data demo.Data
}

func startServer(t *testing.T) *server {
	t.Helper()
	env := testkit.NewEnv(t)
	data, err := demo.Seed(context.Background(), env.App)
	if err != nil {
		t.Fatal(err)
	}
	url := env.StartAPI()
	return &server{t: t, url: url, addr: strings.TrimPrefix(url, "http://"), data: data}
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (s *server) do(method, pathAndQuery string, headers map[string]string, body []byte) result {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+pathAndQuery, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

func demoKey() map[string]string {
	return map[string]string{"X-Spot-Api-Key": demo.KeyID, "X-Spot-Api-Secret": demo.Secret}
}

type page struct {
	Type  string `json:"_type"`
	Total int
	Limit int
	Items []struct {
		ID, ScreenerID, Name, Email, Status string
	}
}

func decode(t *testing.T, r result, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
}

func TestServer(t *testing.T) {
	s := startServer(t)
	screener := s.data.Screeners[0].ID

	t.Run("list with the demo key", func(t *testing.T) {
		r := s.do("GET", "/screener-participants", demoKey(), nil)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		var p page
		decode(t, r, &p)
		if p.Total != len(demo.Rows) || len(p.Items) != len(demo.Rows) {
			t.Fatalf("total %d, %d items; want the %d demo rows", p.Total, len(p.Items), len(demo.Rows))
		}
		for i, it := range p.Items {
			if it.ID != s.data.ScreenerParticipants[i].ID || it.Email != demo.Rows[i].Email {
				t.Errorf("item %d = %+v, want demo screener participant %s (%s)", i, it, s.data.ScreenerParticipants[i].ID, demo.Rows[i].Email)
			}
		}
		if r.header.Get("Content-Type") != "application/json" || r.header.Get("Apigw-Requestid") == "" ||
			r.header.Get("Apigw-Requestid") != r.header.Get("X-Request-Id") {
			t.Errorf("headers %v: want JSON, and the function's X-Request-Id equal to the gateway's request id", r.header)
		}
	})

	t.Run("filter and limit", func(t *testing.T) {
		for _, q := range []string{
			"?filter[screenerId][eq]=" + screener + "&pagination[limit]=2",                              // as curl -g sends it
			"?" + url.Values{"filter[screenerId][eq]": {screener}, "pagination[limit]": {"2"}}.Encode(), // percent-encoded
		} {
			r := s.do("GET", "/screener-participants"+q, demoKey(), nil)
			if r.status != 200 {
				t.Fatalf("%s: status %d: %s", q, r.status, r.body)
			}
			var p page
			decode(t, r, &p)
			if len(p.Items) != 2 || p.Total != 5 || p.Limit != 2 {
				t.Fatalf("%s: %d items, total %d, limit %d; want 2 items of 5", q, len(p.Items), p.Total, p.Limit)
			}
			for _, it := range p.Items {
				if it.ScreenerID != screener {
					t.Errorf("%s: item of screener %s", q, it.ScreenerID)
				}
			}
		}
	})

	t.Run("get by id", func(t *testing.T) {
		want := s.data.ScreenerParticipants[0]
		r := s.do("GET", "/screener-participants/"+want.ID, demoKey(), nil)
		var got struct{ ID, Status string }
		decode(t, r, &got)
		if r.status != 200 || got.ID != want.ID || got.Status != "QUALIFIED" {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})

	t.Run("no credentials", func(t *testing.T) {
		r := s.do("GET", "/screener-participants", nil, nil)
		var p struct{ Code string }
		decode(t, r, &p)
		if r.status != 401 || p.Code != "UNAUTHORIZED" {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})

	t.Run("no route: the $default function answers", func(t *testing.T) {
		spec, err := apispec.Load()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			method, path string
			status       int
			allow        string
		}{
			{"GET", "/nope", 404, ""},
			{"GET", "/screeners/", 404, ""},
			{"PUT", "/screeners", 405, "GET"},  // a path served, but not for this method
			{"HEAD", "/screeners", 405, "GET"}, // HTTP APIs do not answer HEAD for GET routes
			{"POST", "/screeners/x", 405, "GET"},
			{"GET", "/snaponline/api/nope", 404, ""},
			{"DELETE", "/snaponline/api/surveys", 405, "GET"},
		} {
			r := s.do(c.method, c.path, demoKey(), nil)
			if r.status != c.status || r.header.Get("Allow") != c.allow {
				t.Errorf("%s %s: %d (Allow %q) %s, want %d (Allow %q)", c.method, c.path, r.status, r.header.Get("Allow"), r.body, c.status, c.allow)
				continue
			}
			if c.method == "HEAD" {
				continue // no body to check
			}
			if err := spec.ValidateUnrouted(c.method, c.path, r.status, r.header, r.body); err != nil {
				t.Error(err)
			}
		}
	})

	// API Gateway matches the decoded path, so an id holding an encoded slash reaches no route;
	// the $default function answers what the route answers for an id that names nothing.
	t.Run("encoded slash in an id: the route's answer for an id that names nothing", func(t *testing.T) {
		snapKey := map[string]string{"X-USERNAME": demo.SnapUsername, "X-API-KEY": demo.SnapAPIKey}
		survey := "/snaponline/api/surveys/" + demo.GroupSurveyID
		for _, c := range []struct {
			slash, missing string // the path with a slash id, and with an id that names nothing
			headers        map[string]string
		}{
			{"/screener-participants/%2F", "/screener-participants/scpar_01jcqgsym60000000000000zzz", demoKey()},
			{"/screener-participants/a/b", "/screener-participants/scpar_01jcqgsym60000000000000zzz", demoKey()},
			{"/snaponline/api/surveys/%2F", "/snaponline/api/surveys/00000000-0000-4000-8000-000000000000", snapKey},
			{survey + "/participants/p%2F1", survey + "/participants/no-such-participant", snapKey},
		} {
			got, want := s.do("GET", c.slash, c.headers, nil), s.do("GET", c.missing, c.headers, nil)
			if got.status != want.status || withoutRequestID(t, got.body) != withoutRequestID(t, want.body) {
				t.Errorf("GET %s: %d %s; want the route's answer for GET %s: %d %s", c.slash, got.status, got.body, c.missing, want.status, want.body)
			}
			if v := want.header.Get("api-supported-versions"); got.header.Get("api-supported-versions") != v {
				t.Errorf("GET %s: api-supported-versions %q, want %q as the route sends", c.slash, got.header.Get("api-supported-versions"), v)
			}
		}
	})

	t.Run("import", func(t *testing.T) {
		rows := []map[string]any{}
		for _, r := range demo.Rows {
			rows = append(rows, map[string]any{"externalUid": r.ExternalUID, "email": r.Email, "name": r.Name})
		}
		rows = append(rows, map[string]any{"externalUid": "crm-099", "email": "new@example.com", "name": "New Person"})
		body, _ := json.Marshal(map[string]any{"screenerId": screener, "importMode": "UPDATES_ONLY", "participants": rows})
		h := demoKey()
		h["Content-Type"] = "application/json"
		r := s.do("POST", "/screener-participants-import", h, body)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		var got []struct{ ID, Email string }
		decode(t, r, &got)
		if len(got) != len(rows) || got[0].ID != s.data.ScreenerParticipants[0].ID || got[len(got)-1].Email != "new@example.com" {
			t.Fatalf("import answered %s", r.body)
		}
		after := s.do("GET", "/screener-participants?filter[screenerId][eq]="+screener, demoKey(), nil)
		var p page
		decode(t, after, &p)
		if p.Total != len(rows) {
			t.Fatalf("after the import the screener has %d screener participants, want %d", p.Total, len(rows))
		}
	})

	t.Run("malformed escapes", func(t *testing.T) {
		for _, target := range []string{
			"/screener-participants/%zz",
			"/screener-participants/%",
			"/screener-participants?filter%zz=1",
			"/screener-participants?pagination[limit]=%zz",
		} {
			status := rawGet(t, s.addr, target)
			if status < 400 || status > 499 {
				if !strings.Contains(target, "?") || status != 200 {
					t.Errorf("GET %s: status %d, want 4xx (or 200 for an ignored query parameter)", target, status)
				}
			}
		}
	})

	t.Run("body over 10 MB", func(t *testing.T) {
		h := demoKey()
		h["Content-Type"] = "application/json"
		r := s.do("POST", "/screener-participants-import", h, bytes.Repeat([]byte(" "), localapi.MaxBodyBytes+1))
		if r.status != 413 || string(r.body) != `{"message":"Request Entity Too Large"}` {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})
}

// withoutRequestID is a JSON body with its requestId (each request's own) taken out.
func withoutRequestID(t *testing.T, body []byte) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	delete(v, "requestId")
	out, _ := json.Marshal(v)
	return string(out)
}

// rawGet sends a request line as is (Go's client refuses to send a malformed URL) and returns
// the status.
func rawGet(t *testing.T, addr, target string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nX-Spot-Api-Key: %s\r\nX-Spot-Api-Secret: %s\r\nConnection: close\r\n\r\n",
		target, addr, demo.KeyID, demo.Secret)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestEventFromRequest(t *testing.T) {
	route := samtemplate.HTTPRoute{LogicalID: "GetScreenerFunction", Method: "GET", Path: "/screeners/{id}"}
	body := []byte{0xff, 0xfe, 'x'}
	r := httptest.NewRequest("GET", "http://api.local:3000/screeners/scr_1?a=1&a=2&b=x%20y&filter%5Bemail%5D%5Beq%5D=a%40b.c", bytes.NewReader(body))
	r.RemoteAddr = "192.0.2.7:5555"
	r.Header.Add("X-Custom", "one")
	r.Header.Add("X-Custom", "two")
	r.Header.Add("Cookie", "a=1; b=2")
	r.Header.Add("Cookie", "c=3")
	r.Header.Set("User-Agent", "probe/1")
	r.Header.Set("Connection", "keep-alive")
	ev := localapi.EventFromRequest(r, route, body)

	if ev.Version != "2.0" || ev.RouteKey != "GET /screeners/{id}" || ev.RequestContext.RouteKey != ev.RouteKey {
		t.Errorf("version %q, routeKey %q / %q", ev.Version, ev.RouteKey, ev.RequestContext.RouteKey)
	}
	if ev.RawPath != "/screeners/scr_1" || ev.RequestContext.HTTP.Path != ev.RawPath {
		t.Errorf("rawPath %q, http.path %q", ev.RawPath, ev.RequestContext.HTTP.Path)
	}
	if ev.RawQueryString != "a=1&a=2&b=x%20y&filter%5Bemail%5D%5Beq%5D=a%40b.c" {
		t.Errorf("rawQueryString %q: want the query as sent", ev.RawQueryString)
	}
	wantQS := map[string]string{"a": "1,2", "b": "x y", "filter[email][eq]": "a@b.c"}
	if !reflect.DeepEqual(ev.QueryStringParameters, wantQS) {
		t.Errorf("queryStringParameters %v, want %v", ev.QueryStringParameters, wantQS)
	}
	if !reflect.DeepEqual(ev.PathParameters, map[string]string{"id": "scr_1"}) {
		t.Errorf("pathParameters %v", ev.PathParameters)
	}
	if !reflect.DeepEqual(ev.Cookies, []string{"a=1", "b=2", "c=3"}) {
		t.Errorf("cookies %v", ev.Cookies)
	}
	h := ev.Headers
	for name := range h {
		if name != strings.ToLower(name) {
			t.Errorf("header %q is not lower-case", name)
		}
	}
	if h["x-custom"] != "one,two" || h["host"] != "api.local:3000" || h["user-agent"] != "probe/1" ||
		h["x-forwarded-for"] != "192.0.2.7" || h["x-forwarded-port"] != "3000" || h["x-forwarded-proto"] != "http" ||
		h["content-length"] != "3" || h["x-amzn-trace-id"] == "" {
		t.Errorf("headers %v", h)
	}
	for _, gone := range []string{"cookie", "connection"} {
		if _, ok := h[gone]; ok {
			t.Errorf("header %q should not be passed on", gone)
		}
	}
	rc := ev.RequestContext
	if rc.Stage != "$default" || rc.RequestID == "" || rc.TimeEpoch == 0 || rc.Time == "" ||
		rc.HTTP.Method != "GET" || rc.HTTP.SourceIP != "192.0.2.7" || rc.HTTP.Protocol != "HTTP/1.1" ||
		rc.HTTP.UserAgent != "probe/1" || rc.DomainName != "api.local:3000" || rc.DomainPrefix != "api" {
		t.Errorf("requestContext %+v", rc)
	}
	if d := time.Since(time.UnixMilli(rc.TimeEpoch)); d < 0 || d > time.Minute {
		t.Errorf("timeEpoch %d is not now", rc.TimeEpoch)
	}
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString(body) {
		t.Errorf("a non-UTF-8 body should be base64: %q, %v", ev.Body, ev.IsBase64Encoded)
	}

	// A text body stays text; no query, no path parameters: those maps are absent.
	r = httptest.NewRequest("POST", "/screener-participants-import", strings.NewReader(`{"a":"é"}`))
	ev = localapi.EventFromRequest(r, samtemplate.HTTPRoute{Method: "POST", Path: "/screener-participants-import"}, []byte(`{"a":"é"}`))
	if ev.IsBase64Encoded || ev.Body != `{"a":"é"}` || ev.QueryStringParameters != nil || ev.PathParameters != nil || ev.Cookies != nil {
		t.Errorf("text event: %+v", ev)
	}
	if again := localapi.EventFromRequest(r, route, nil); again.RequestContext.RequestID == ev.RequestContext.RequestID {
		t.Error("two events share a request id")
	}
}

func TestWriteResponse(t *testing.T) {
	w := httptest.NewRecorder()
	localapi.WriteResponse(w, events.APIGatewayV2HTTPResponse{
		StatusCode:        201,
		Headers:           map[string]string{"Content-Type": "application/octet-stream", "X-One": "1"},
		MultiValueHeaders: map[string][]string{"X-Many": {"a", "b"}},
		Cookies:           []string{"s=1; Path=/", "t=2"},
		Body:              base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff}),
		IsBase64Encoded:   true,
	})
	res := w.Result()
	if res.StatusCode != 201 || !bytes.Equal(w.Body.Bytes(), []byte{0, 1, 2, 0xff}) {
		t.Errorf("status %d, body %v", res.StatusCode, w.Body.Bytes())
	}
	if res.Header.Get("X-One") != "1" || !reflect.DeepEqual(res.Header.Values("X-Many"), []string{"a", "b"}) ||
		!reflect.DeepEqual(res.Header.Values("Set-Cookie"), []string{"s=1; Path=/", "t=2"}) ||
		res.Header.Get("Content-Type") != "application/octet-stream" || res.Header.Get("Content-Length") != "4" {
		t.Errorf("headers %v", res.Header)
	}

	for _, bad := range []events.APIGatewayV2HTTPResponse{
		{StatusCode: 200, Body: "not base64!", IsBase64Encoded: true},
		{StatusCode: 0, Body: "{}"},
	} {
		w := httptest.NewRecorder()
		localapi.WriteResponse(w, bad)
		if w.Code != 500 || w.Body.String() != `{"message":"Internal Server Error"}` {
			t.Errorf("%+v: %d %s, want API Gateway's 500", bad, w.Code, w.Body)
		}
	}
}

func TestPathParameters(t *testing.T) {
	cases := []struct {
		template, path string
		want           map[string]string
		ok             bool
	}{
		{"/screeners", "/screeners", map[string]string{}, true},
		{"/screeners", "/screeners/", nil, false},
		{"/screeners/{id}", "/screeners/scr_1", map[string]string{"id": "scr_1"}, true},
		{"/screeners/{id}", "/screeners/", nil, false},
		{"/screeners/{id}", "/screeners/a/b", nil, false},
		{"/files/{key+}", "/files/a/b/c", map[string]string{"key": "a/b/c"}, true},
		{"/files/{key+}", "/files/", nil, false},
	}
	for _, c := range cases {
		got, ok := localapi.PathParameters(c.template, c.path)
		if ok != c.ok || (ok && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("PathParameters(%q, %q) = %v, %v; want %v, %v", c.template, c.path, got, ok, c.want, c.ok)
		}
	}
}

// Match prefers literal segments over parameters, and a route's own method over ANY, as API
// Gateway does.
func TestMatch(t *testing.T) {
	routes := []samtemplate.HTTPRoute{
		{LogicalID: "GetScreenerFunction", Method: "GET", Path: "/x/{id}"},
		{LogicalID: "ListScreenersFunction", Method: "GET", Path: "/x/list"},
		{LogicalID: "GetParticipantFunction", Method: "ANY", Path: "/x/list"},
		{LogicalID: "ListParticipantsFunction", Method: "GET", Path: "/x/{rest+}"},
		{LogicalID: "DefaultRouteFunction", Method: "ANY", Path: "$default"}, // no match: what nothing matches goes to it
	}
	srv, err := localapi.New(app.New(nil, "unused", 0, slog.New(slog.NewTextHandler(io.Discard, nil))), routes, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/x/list", "ListScreenersFunction"},
		{"DELETE", "/x/list", "GetParticipantFunction"},
		{"GET", "/x/abc", "GetScreenerFunction"},
		{"GET", "/x/a/b", "ListParticipantsFunction"},
		{"POST", "/x/abc", ""},
		{"GET", "/y", ""},
		{"GET", "/$default", ""},
	} {
		r, ok := srv.Match(c.method, c.path)
		if (c.want == "" && ok) || (c.want != "" && r.LogicalID != c.want) {
			t.Errorf("Match(%s %s) = %s, %v; want %q", c.method, c.path, r.LogicalID, ok, c.want)
		}
	}
	ev := localapi.EventFromRequest(httptest.NewRequest("POST", "/nothing/here", nil), routes[len(routes)-1], nil)
	if ev.RouteKey != "$default" || ev.RequestContext.RouteKey != "$default" || ev.PathParameters != nil {
		t.Errorf("$default event: routeKey %q / %q, pathParameters %v; want $default and none", ev.RouteKey, ev.RequestContext.RouteKey, ev.PathParameters)
	}
	if _, err := localapi.New(app.New(nil, "unused", 0, slog.Default()), []samtemplate.HTTPRoute{{LogicalID: "NoSuchFunction", Method: "GET", Path: "/z"}}, slog.Default()); err == nil {
		t.Error("New accepted a route whose function has no handler")
	}
}
