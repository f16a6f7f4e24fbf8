// Package localapi serves the template's HTTP API on a local port the way API Gateway (HTTP API,
// payload format 2.0) fronts the functions, without Docker: each request is matched against the
// template's HttpApi routes, turned into the event API Gateway would send, handed to that
// function's Lambda handler (the $default route's when no route matches), and the handler's
// response is written back as API Gateway would.
// `make run` (cmd/local-api) and this package's tests use it.
package localapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/platform/routes"
)

// MaxBodyBytes is API Gateway's HTTP API payload limit; a larger request body gets 413 without
// reaching a function.
const MaxBodyBytes = 10 << 20

// shutdownGrace bounds how long Serve waits for requests in flight once asked to stop.
const shutdownGrace = 5 * time.Second

// TemplateRoutes reads the HttpApi routes of root/template.yaml.
func TemplateRoutes(root string) ([]samtemplate.HTTPRoute, error) {
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	routes := tpl.HTTPRoutes()
	if len(routes) == 0 {
		return nil, errors.New("template.yaml declares no HttpApi events")
	}
	return routes, nil
}

// Server is a local API Gateway over the template's routes. It is an http.Handler.
type Server struct {
	routes  []samtemplate.HTTPRoute
	invoker Invoker
	log     *slog.Logger
}

// New serves routes through the app's handlers, in this process (InProcess).
func New(a *app.App, routes []samtemplate.HTTPRoute, log *slog.Logger) (*Server, error) {
	inProcess, err := NewInProcess(a, routes)
	if err != nil {
		return nil, err
	}
	return NewWith(inProcess, routes, log)
}

// NewWith serves routes through invoker: the request becomes the route's event, invoker runs
// the route's function on it, and its response is written back. It fails if a route's path
// cannot be served.
func NewWith(invoker Invoker, routes []samtemplate.HTTPRoute, log *slog.Logger) (*Server, error) {
	for _, r := range routes {
		if err := checkTemplatePath(r.Path); r.Path != defaultPath && err != nil {
			return nil, fmt.Errorf("%s %s (%s): %w", r.Method, r.Path, r.LogicalID, err)
		}
	}
	return &Server{routes: routes, invoker: invoker, log: log}, nil
}

// Routes returns the routes served.
func (s *Server) Routes() []samtemplate.HTTPRoute { return s.routes }

// Serve answers requests on l until ctx is done, then shuts down gracefully: it stops
// accepting, lets requests in flight finish (for up to a few seconds) and returns.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := hs.Shutdown(shutdownCtx)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

// ServeHTTP routes one request the way API Gateway would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	route, ok := s.Match(r.Method, r.URL.Path)
	if !ok {
		route, ok = s.fallback()
	}
	if !ok {
		s.gatewayError(w, r, "", http.StatusNotFound, "Not Found", "no route matches")
		return
	}
	if r.ContentLength > MaxBodyBytes {
		s.gatewayError(w, r, route.LogicalID, http.StatusRequestEntityTooLarge, "Request Entity Too Large", "body over the 10 MB limit")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	switch {
	case err != nil:
		s.gatewayError(w, r, route.LogicalID, http.StatusBadRequest, "Bad Request", "reading the body: "+err.Error())
		return
	case len(body) > MaxBodyBytes:
		s.gatewayError(w, r, route.LogicalID, http.StatusRequestEntityTooLarge, "Request Entity Too Large", "body over the 10 MB limit")
		return
	}
	ev := EventFromRequest(r, route, body)
	// A Lambda invocation is not cancelled when the client goes away.
	resp, err := s.invoker.Invoke(context.WithoutCancel(r.Context()), route.LogicalID, ev)
	if err != nil {
		s.log.Error("function failed", slog.String("source", "local-api"), slog.String("function", route.LogicalID),
			slog.String("requestId", ev.RequestContext.RequestID), slog.Any("error", err),
			slog.Float64("durationMs", msSince(start)))
		writeGatewayMessage(w, ev.RequestContext.RequestID, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	w.Header().Set("Apigw-Requestid", ev.RequestContext.RequestID)
	WriteResponse(w, resp)
}

// Match returns the route serving method and (decoded) path. As in API Gateway, a route with
// more literal segments wins over one with path parameters, a greedy {name+} parameter loses to
// both, and a route's own method wins over ANY. The $default route is no match: it takes what
// nothing matches (fallback). So an id holding an encoded slash (/screeners/%2F, decoded
// /screeners//) matches no route, as in API Gateway.
func (s *Server) Match(method, path string) (samtemplate.HTTPRoute, bool) {
	var best samtemplate.HTTPRoute
	bestScore, found := -1, false
	for _, r := range s.routes {
		m := strings.ToUpper(r.Method)
		if m != method && m != "ANY" || r.Path == defaultPath {
			continue
		}
		_, score, ok := matchPath(r.Path, path)
		if !ok {
			continue
		}
		score *= 2
		if m != "ANY" {
			score++
		}
		if score > bestScore {
			best, bestScore, found = r, score, true
		}
	}
	return best, found
}

// defaultPath is the $default route's path (routes.DefaultPath; New's parameter hides the package).
const defaultPath = routes.DefaultPath

// fallback is the template's $default route, if it has one.
func (s *Server) fallback() (samtemplate.HTTPRoute, bool) {
	for _, r := range s.routes {
		if r.Path == defaultPath {
			return r, true
		}
	}
	return samtemplate.HTTPRoute{}, false
}

// PathParameters matches a (decoded) path against a route path such as /screeners/{id}, and
// returns the path parameters if it matches.
func PathParameters(template, path string) (map[string]string, bool) {
	params, _, ok := matchPath(template, path)
	return params, ok
}

// matchPath matches a path against a template path such as /screeners/{id} or /files/{key+}.
// score ranks specificity: literal segments count most, then single-segment parameters.
func matchPath(template, path string) (params map[string]string, score int, ok bool) {
	tseg := strings.Split(strings.TrimPrefix(template, "/"), "/")
	pseg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	params = map[string]string{}
	for i, t := range tseg {
		name, isParam := strings.CutPrefix(t, "{")
		if isParam {
			name = strings.TrimSuffix(name, "}")
		}
		if isParam && strings.HasSuffix(name, "+") { // greedy, always last
			rest := strings.Join(pseg[min(i, len(pseg)):], "/")
			if rest == "" {
				return nil, 0, false
			}
			params[strings.TrimSuffix(name, "+")] = rest
			return params, score, true
		}
		if i >= len(pseg) {
			return nil, 0, false
		}
		switch {
		case isParam && pseg[i] != "":
			params[name] = pseg[i]
			score += 1
		case !isParam && pseg[i] == t:
			score += 1000
		default:
			return nil, 0, false
		}
	}
	if len(pseg) != len(tseg) {
		return nil, 0, false
	}
	return params, score, true
}

func checkTemplatePath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return errors.New("path must start with /")
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, seg := range segs {
		if strings.HasSuffix(seg, "+}") && i != len(segs)-1 {
			return errors.New("a greedy {name+} parameter must be the last segment")
		}
	}
	return nil
}

// WriteResponse writes a function's payload 2.0 response as API Gateway does: the status,
// headers and multiValueHeaders, each cookie as a Set-Cookie header, and the body, decoded
// from base64 when isBase64Encoded. A response API Gateway could not use (a status outside
// 100-599, a body that is not base64 though flagged so) becomes API Gateway's 500.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeGatewayMessage(w, "", http.StatusInternalServerError, "Internal Server Error")
			return
		}
		body = decoded
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		writeGatewayMessage(w, "", http.StatusInternalServerError, "Internal Server Error")
		return
	}
	h := w.Header()
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		if len(h.Values(k)) == 0 {
			h.Set(k, v)
		} else if !contains(h.Values(k), v) {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// gatewayError answers as API Gateway does when no function runs, and logs why.
func (s *Server) gatewayError(w http.ResponseWriter, r *http.Request, fn string, status int, message, why string) {
	id := newRequestID()
	s.log.Warn("gateway response", slog.String("source", "local-api"), slog.String("requestId", id),
		slog.String("function", fn), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.String("reason", why))
	writeGatewayMessage(w, id, status, message)
}

// writeGatewayMessage writes API Gateway's own error body, {"message":"..."}.
func writeGatewayMessage(w http.ResponseWriter, requestID string, status int, message string) {
	body := `{"message":"` + message + `"}`
	if requestID != "" {
		w.Header().Set("Apigw-Requestid", requestID)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }
