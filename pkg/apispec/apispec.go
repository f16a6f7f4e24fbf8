// Package apispec loads the project's API reference, api/openapi.yaml, and checks real
// request/response pairs against it with kin-openapi's openapi3filter. Tests use it to prove
// that what the handlers answer is what the reference documents: the status is listed for the
// operation, the body matches the schema (unknown fields included, since the response schemas
// forbid additional properties) and the documented response headers are present.
//
// The document is found by walking up from the working directory (and, failing that, from this
// source file) to the directory holding go.mod. It is meant for tests and developer tools, not
// for the Lambda functions, which have no repository around them.
package apispec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// RelPath is where the API reference lives, relative to the repository root.
const RelPath = "api/openapi.yaml"

// Spec is the loaded, validated API reference.
type Spec struct {
	doc    *openapi3.T
	path   string
	ops    []Operation
	routes []route
}

// Operation is one documented method and path template, e.g. GET /screener-participants/{id}.
type Operation struct {
	Method      string // upper case, as in routes.Route.Method
	Path        string // the OpenAPI path template, with {param} placeholders
	OperationID string
}

// route is one operation with its path template split into segments for matching.
type route struct {
	op       Operation
	segments []string // a segment "{name}" matches any one non-empty path segment
	literals int      // number of literal segments, to prefer /a/b over /a/{x}
	item     *openapi3.PathItem
	oper     *openapi3.Operation
}

var (
	loadOnce sync.Once
	loaded   *Spec
	loadErr  error
)

// Load reads and validates api/openapi.yaml once per process and returns the same *Spec on
// every call.
func Load() (*Spec, error) {
	loadOnce.Do(func() { loaded, loadErr = load() })
	return loaded, loadErr
}

func load() (*Spec, error) {
	path, err := locate()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("apispec: load %s: %w", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("apispec: %s is not a valid OpenAPI document: %w", path, err)
	}
	s := &Spec{doc: doc, path: path}
	for tmpl, item := range doc.Paths.Map() {
		segs := splitPath(tmpl)
		lit := 0
		for _, seg := range segs {
			if !isParam(seg) {
				lit++
			}
		}
		for method, oper := range item.Operations() {
			op := Operation{Method: strings.ToUpper(method), Path: tmpl, OperationID: oper.OperationID}
			s.ops = append(s.ops, op)
			s.routes = append(s.routes, route{op: op, segments: segs, literals: lit, item: item, oper: oper})
		}
	}
	sort.Slice(s.ops, func(i, j int) bool {
		if s.ops[i].Path != s.ops[j].Path {
			return s.ops[i].Path < s.ops[j].Path
		}
		return s.ops[i].Method < s.ops[j].Method
	})
	return s, nil
}

// locate finds RelPath under the nearest directory holding go.mod, starting from the working
// directory, then from this source file's directory.
func locate() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				p := filepath.Join(dir, filepath.FromSlash(RelPath))
				if _, err := os.Stat(p); err == nil {
					return p, nil
				}
				break // a module root without the document: try the next start
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("apispec: %s not found above %v", RelPath, starts)
}

// Doc returns the loaded document. Callers must not modify it.
func (s *Spec) Doc() *openapi3.T { return s.doc }

// Path returns the file the document was loaded from.
func (s *Spec) Path() string { return s.path }

// Operations lists every documented operation, sorted by path and then method.
func (s *Spec) Operations() []Operation {
	out := make([]Operation, len(s.ops))
	copy(out, s.ops)
	return out
}

// ValidateResponse checks one exchange against the document: rawURL (a path such as
// "/screener-participants/scpar_...?x=1", or an absolute URL) and method select the operation;
// status must be documented for it; the documented response headers must be present and
// valid; the body must be JSON of the documented schema, with a Content-Type the operation
// lists. For error bodies, requestId must equal the X-Request-Id header. Security requirements
// are not checked. The error, when not nil, says everything that is wrong.
func (s *Spec) ValidateResponse(method, rawURL string, reqHeaders http.Header, status int, respHeaders http.Header, body []byte) error {
	method = strings.ToUpper(method)
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("apispec: bad URL %q: %w", rawURL, err)
	}
	r, params, err := s.find(method, u)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u.String(), nil)
	if err != nil {
		return fmt.Errorf("apispec: %w", err)
	}
	if reqHeaders != nil {
		req.Header = reqHeaders.Clone()
	}
	if respHeaders == nil {
		respHeaders = http.Header{}
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		// Name the failing path and reason, not the whole schema and value.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route: &routers.Route{
				Spec:      s.doc,
				Path:      r.op.Path,
				PathItem:  r.item,
				Method:    r.op.Method,
				Operation: r.oper,
			},
			Options: opts,
		},
		Status:  status,
		Header:  respHeaders,
		Options: opts,
	}
	in.SetBodyBytes(body)
	where := fmt.Sprintf("%s %s (%s) status %d", method, u.Path, r.op.Path, status)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("apispec: %s: %w", where, err)
	}
	if status >= 400 {
		var e struct {
			RequestID *string `json:"requestId"`
		}
		if json.Unmarshal(body, &e) == nil && e.RequestID != nil {
			if h := respHeaders.Get("X-Request-Id"); h != *e.RequestID {
				return fmt.Errorf("apispec: %s: body requestId %q differs from X-Request-Id header %q", where, *e.RequestID, h)
			}
		}
	}
	return nil
}

// find returns the documented operation serving method and u's path, and the path parameters.
func (s *Spec) find(method string, u *url.URL) (*route, map[string]string, error) {
	segs := splitPath(u.EscapedPath())
	for i, seg := range segs {
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return nil, nil, fmt.Errorf("apispec: bad path %q: %w", u.EscapedPath(), err)
		}
		segs[i] = dec
	}
	var best *route
	var bestParams map[string]string
	pathKnown := false
	for i := range s.routes {
		r := &s.routes[i]
		params, ok := match(r.segments, segs)
		if !ok {
			continue
		}
		pathKnown = true
		if r.op.Method != method {
			continue
		}
		if best == nil || r.literals > best.literals {
			best, bestParams = r, params
		}
	}
	switch {
	case best != nil:
		return best, bestParams, nil
	case pathKnown:
		return nil, nil, fmt.Errorf("apispec: %s %s: %w", method, u.Path, ErrMethodNotDocumented)
	default:
		return nil, nil, fmt.Errorf("apispec: %s %s: %w", method, u.Path, ErrPathNotDocumented)
	}
}

// ErrPathNotDocumented and ErrMethodNotDocumented say why ValidateResponse found no operation.
var (
	ErrPathNotDocumented   = errors.New("no documented path matches")
	ErrMethodNotDocumented = errors.New("the path is documented but not for this method")
)

func match(tmpl, segs []string) (map[string]string, bool) {
	if len(tmpl) != len(segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, t := range tmpl {
		if isParam(t) {
			if segs[i] == "" {
				return nil, false
			}
			params[t[1:len(t)-1]] = segs[i]
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return params, true
}

func splitPath(p string) []string {
	return strings.Split(strings.TrimPrefix(p, "/"), "/")
}

func isParam(seg string) bool {
	return len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}'
}
