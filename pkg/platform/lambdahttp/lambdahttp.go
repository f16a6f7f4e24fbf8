// Package lambdahttp turns an API Gateway HTTP API (payload 2.0) event into a net/http request
// for one route's handler and its response back into the event's answer, with the request's
// one JSON log line (what it cost in DynamoDB units) and the family's error shape for what
// fails outside the handler.
package lambdahttp

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/platform/httpx"
	"github.com/participant-roster/roster/pkg/platform/routes"
)

// Handler is what API Gateway (HTTP API, payload 2.0) calls.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// ErrorWriter writes a family's error body, for failures outside its handlers.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int, message string)

// adapter is one function's route, handler, error shape and log.
type adapter struct {
	route  routes.Route
	errors ErrorWriter
	log    *slog.Logger
}

// New returns the Lambda handler of one route's function. It converts the event itself
// rather than through the proxy library's Proxy, which answers 504 to an event it cannot turn
// into a request (a bad %-escape in the path, a broken base64 body): those are the client's
// fault and get a 400 in the family's shape.
func New(route routes.Route, h http.Handler, errs ErrorWriter, log *slog.Logger) Handler {
	a := &adapter{route: route, errors: errs, log: log}
	mux := http.NewServeMux()
	mux.Handle(route.Pattern(), h)
	return a.handler(func(w http.ResponseWriter, r *http.Request) { a.serve(mux, route, w, r) })
}

// NewDefault returns the Lambda handler of the $default route's function (routes.Default):
// every request goes to h, whatever its method and path, with no mux between them, which
// would redirect a path that is not clean ("/screeners//", a decoded "/screeners/%2F").
func NewDefault(route routes.Route, h http.Handler, errs ErrorWriter, log *slog.Logger) Handler {
	a := &adapter{route: route, errors: errs, log: log}
	return a.handler(func(w http.ResponseWriter, r *http.Request) { a.recovering(h, w, r) })
}

// handler turns events into requests for serve and its answers back into responses.
func (a *adapter) handler(serve http.HandlerFunc) Handler {
	route := a.route
	var accessor core.RequestAccessorV2
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		start := time.Now()
		meter := capacity.FromContext(ctx) // a caller (test, benchmark) may bring its own
		if meter == nil {
			ctx, meter = capacity.WithMeter(ctx)
		}
		requestID := ev.RequestContext.RequestID
		ctx = routes.WithRoute(httpx.WithRequestID(ctx, requestID), route)
		w := core.NewProxyResponseWriterV2()
		var req *http.Request
		convErr := readable(ev)
		if convErr == nil {
			req, convErr = accessor.EventToRequestWithContext(ctx, ev)
		}
		if convErr != nil {
			req, _ = http.NewRequestWithContext(ctx, ev.RequestContext.HTTP.Method, "/", nil)
			a.errors(w, req, http.StatusBadRequest, "The request could not be read: its path or body is malformed.")
		} else {
			serve(w, req)
		}
		w.Header().Set("X-Request-Id", requestID)
		resp, err := w.GetProxyResponse()
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("response: %w", err)
		}
		a.logRequest(ctx, route, ev, resp.StatusCode, start, meter)
		return resp, nil
	}
}

// readable checks what the proxy library would fail on (and log as plain text) first.
func readable(ev events.APIGatewayV2HTTPRequest) error {
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	if _, err := url.Parse("https://host" + path); err != nil {
		return err
	}
	if ev.IsBase64Encoded {
		if _, err := base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return err
		}
	}
	return nil
}

// serve runs the route's mux; a request the route does not match (another path or method,
// which API Gateway never sends but a hand-made event can) gets the family's 404 or 405, and a
// panic becomes a logged 500 instead of a crashed function.
func (a *adapter) serve(mux *http.ServeMux, route routes.Route, w http.ResponseWriter, r *http.Request) {
	if _, pattern := mux.Handler(r); pattern == "" {
		status, msg := http.StatusNotFound, routes.MsgNoRoute
		if r.Method != route.Method && pathMatches(route, r) {
			status, msg = http.StatusMethodNotAllowed, routes.MsgMethodNotAllowed(r.Method)
			w.Header().Set("Allow", route.Method)
		}
		a.errors(w, r, status, msg)
		return
	}
	a.recovering(mux, w, r)
}

// recovering runs h; a panic becomes a logged 500 instead of a crashed function.
func (a *adapter) recovering(h http.Handler, w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			a.log.ErrorContext(r.Context(), "panic", slog.Any("panic", p), slog.String("requestId", httpx.RequestID(r.Context())))
			a.errors(w, r, http.StatusInternalServerError, "Internal error; the request id identifies it in our logs.")
		}
	}()
	h.ServeHTTP(w, r)
}

func pathMatches(route routes.Route, r *http.Request) bool {
	probe := r.Clone(r.Context())
	probe.Method = route.Method
	m := http.NewServeMux()
	m.Handle(route.Pattern(), http.NotFoundHandler())
	_, pattern := m.Handler(probe)
	return pattern != ""
}

// logRequest writes the request's one JSON log line, with what it cost in DynamoDB units.
func (a *adapter) logRequest(ctx context.Context, route routes.Route, ev events.APIGatewayV2HTTPRequest, status int, start time.Time, m *capacity.Meter) {
	rcu, wcu := m.Units()
	a.log.InfoContext(ctx, "request",
		slog.String("requestId", ev.RequestContext.RequestID),
		slog.String("function", route.LogicalID),
		slog.String("method", ev.RequestContext.HTTP.Method),
		slog.String("path", ev.RawPath),
		slog.Int("status", status),
		slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000),
		slog.Int("dynamodbCalls", m.Calls()),
		slog.Float64("readUnits", rcu),
		slog.Float64("writeUnits", wcu),
	)
}
