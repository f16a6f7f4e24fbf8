// Package apispec loads the project's API references, one per API family, and checks real
// request/response pairs against them with kin-openapi's openapi3filter. Tests use it to prove
// that what the handlers answer is what the reference documents: the status is listed for the
// operation, the body matches the schema (unknown fields included, since the response schemas
// forbid additional properties) and the documented response headers are present.
//
// Two documents are loaded: api/openapi.yaml (Spot Thought, paths at the root) and
// api/snap-openapi.yaml (Snap XMP Online, every path under /snaponline/api/). A request path
// selects its document by that prefix.
//
// The documents are found by walking up from the working directory (and, failing that, from
// this source file) to the directory holding go.mod. It is meant for tests and developer tools,
// not for the Lambda functions, which have no repository around them.
package apispec

import (
	"bytes"
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

	"github.com/participant-roster/roster/pkg/snap/snapapi"
)

// Where the API references live, relative to the repository root.
const (
	// RelPath is the Spot Thought reference; it documents every path outside SnapPrefix.
	RelPath = "api/openapi.yaml"
	// SnapRelPath is the Snap XMP Online reference; it documents the paths under SnapPrefix.
	SnapRelPath = "api/snap-openapi.yaml"
	// SnapPrefix starts every Snap XMP Online path.
	SnapPrefix = snapapi.PathPrefix
)

// Spec is the loaded, validated API references of both families.
type Spec struct {
	spot, snap *Document
	ops        []Operation
}

// Document is one loaded, validated API reference.
type Document struct {
	relPath string
	doc     *openapi3.T
	path    string
	ops     []Operation
	routes  []route
	// requestIDInBody: the document's error envelope repeats X-Request-Id as requestId (Spot).
	requestIDInBody bool
}

// Operation is one documented method and path template, e.g. GET /screener-participants/{id}.
type Operation struct {
	Method      string // upper case, as in routes.Route.Method
	Path        string // the OpenAPI path template, with {param} placeholders
	OperationID string
	Document    string // the RelPath of the document that holds it: RelPath or SnapRelPath
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

// Load reads and validates api/openapi.yaml and api/snap-openapi.yaml once per process and
// returns the same *Spec on every call.
func Load() (*Spec, error) {
	loadOnce.Do(func() { loaded, loadErr = load() })
	return loaded, loadErr
}

func load() (*Spec, error) {
	root, err := locate()
	if err != nil {
		return nil, err
	}
	spot, err := loadDocument(root, RelPath)
	if err != nil {
		return nil, err
	}
	spot.requestIDInBody = true
	snap, err := loadDocument(root, SnapRelPath)
	if err != nil {
		return nil, err
	}
	for _, op := range spot.ops {
		if isSnapPath(op.Path) {
			return nil, fmt.Errorf("apispec: %s documents %s %s, a path under %s that %s documents", RelPath, op.Method, op.Path, SnapPrefix, SnapRelPath)
		}
	}
	for _, op := range snap.ops {
		if !isSnapPath(op.Path) {
			return nil, fmt.Errorf("apispec: %s documents %s %s, a path outside %s", SnapRelPath, op.Method, op.Path, SnapPrefix)
		}
	}
	s := &Spec{spot: spot, snap: snap}
	s.ops = append(append(s.ops, spot.ops...), snap.ops...)
	sortOps(s.ops)
	return s, nil
}

func loadDocument(root, rel string) (*Document, error) {
	path := filepath.Join(root, filepath.FromSlash(rel))
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("apispec: load %s: %w", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("apispec: %s is not a valid OpenAPI document: %w", path, err)
	}
	d := &Document{relPath: rel, doc: doc, path: path}
	for tmpl, item := range doc.Paths.Map() {
		segs := splitPath(tmpl)
		lit := 0
		for _, seg := range segs {
			if !isParam(seg) {
				lit++
			}
		}
		for method, oper := range item.Operations() {
			op := Operation{Method: strings.ToUpper(method), Path: tmpl, OperationID: oper.OperationID, Document: rel}
			d.ops = append(d.ops, op)
			d.routes = append(d.routes, route{op: op, segments: segs, literals: lit, item: item, oper: oper})
		}
	}
	sortOps(d.ops)
	return d, nil
}

func sortOps(ops []Operation) {
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
}

// locate finds the nearest directory holding go.mod and RelPath, starting from the working
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
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(RelPath))); err == nil {
					return dir, nil
				}
				break // a module root without the documents: try the next start
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

// isSnapPath reports whether a request path (or path template) belongs to the Snap family.
func isSnapPath(p string) bool {
	return strings.HasPrefix(p, SnapPrefix) || p == strings.TrimSuffix(SnapPrefix, "/")
}

// Doc returns the Spot Thought document (api/openapi.yaml). Callers must not modify it.
func (s *Spec) Doc() *openapi3.T { return s.spot.doc }

// Path returns the file the Spot Thought document was loaded from.
func (s *Spec) Path() string { return s.spot.path }

// Spot returns the Spot Thought document.
func (s *Spec) Spot() *Document { return s.spot }

// Snap returns the Snap XMP Online document.
func (s *Spec) Snap() *Document { return s.snap }

// Documents returns both documents, Spot first.
func (s *Spec) Documents() []*Document { return []*Document{s.spot, s.snap} }

// DocumentFor returns the document that documents a request path (or path template): Snap
// for paths under SnapPrefix, Spot for every other.
func (s *Spec) DocumentFor(path string) *Document {
	if isSnapPath(path) {
		return s.snap
	}
	return s.spot
}

// Operations lists every documented operation of both documents, sorted by path and then
// method.
func (s *Spec) Operations() []Operation {
	out := make([]Operation, len(s.ops))
	copy(out, s.ops)
	return out
}

// Doc returns the loaded document. Callers must not modify it.
func (d *Document) Doc() *openapi3.T { return d.doc }

// Path returns the file the document was loaded from.
func (d *Document) Path() string { return d.path }

// RelPath returns where the document lives relative to the repository root.
func (d *Document) RelPath() string { return d.relPath }

// Operations lists the document's operations, sorted by path and then method.
func (d *Document) Operations() []Operation {
	out := make([]Operation, len(d.ops))
	copy(out, d.ops)
	return out
}

// ValidateResponse checks one exchange against the documents: rawURL (a path such as
// "/screener-participants/scpar_...?x=1", or an absolute URL) selects the document (Snap for
// paths under SnapPrefix, else Spot) and, with method, the operation; status must be documented
// for it; the documented response headers must be present and valid; the body must be JSON of
// the documented schema, with a Content-Type the operation lists, or empty when the response is
// documented without content. For Spot error bodies, requestId must equal the X-Request-Id
// header. Security requirements are not checked. The error, when not nil, says everything that
// is wrong.
func (s *Spec) ValidateResponse(method, rawURL string, reqHeaders http.Header, status int, respHeaders http.Header, body []byte) error {
	method = strings.ToUpper(method)
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("apispec: bad URL %q: %w", rawURL, err)
	}
	d := s.DocumentFor(u.Path)
	r, params, err := d.find(method, u)
	if err != nil {
		return err
	}
	return d.validate(method, u, reqHeaders, r, params, status, respHeaders, body)
}

// ValidateWithoutUser checks, as ValidateResponse does, an answer its function gave without
// knowing the caller: the $default route's answer for an id holding a slash, which reads no
// credentials. Such an answer counts no call, so it must carry none of Snap's per-user rate
// headers (snapapi.RateHeaders, which the document requires on answers to a verified user);
// with that checked, it is validated as if it carried them, so the rest of it (status, body,
// other headers) must be what the route documents.
func (s *Spec) ValidateWithoutUser(method, rawURL string, status int, respHeaders http.Header, body []byte) error {
	filled := respHeaders.Clone()
	if filled == nil {
		filled = http.Header{}
	}
	for _, h := range snapapi.RateHeaders {
		if v := respHeaders.Get(h); v != "" {
			return fmt.Errorf("apispec: %s %s answered %d to no known user with %s: %s", method, rawURL, status, h, v)
		}
		filled.Set(h, "1")
	}
	return s.ValidateResponse(method, rawURL, nil, status, filled, body)
}

// unrouted names the responses the documents give for a request no operation serves, by status
// (the $default route's answers, routes.Default).
var unrouted = map[int]string{http.StatusNotFound: "NoRoute", http.StatusMethodNotAllowed: "MethodNotAllowed"}

// ValidateUnrouted checks the answer to a request no documented operation serves (the $default
// route's 404 or 405) against the document's own response for it (components.responses
// NoRoute or MethodNotAllowed), as ValidateResponse checks an operation's.
func (s *Spec) ValidateUnrouted(method, rawURL string, status int, respHeaders http.Header, body []byte) error {
	method = strings.ToUpper(method)
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("apispec: bad URL %q: %w", rawURL, err)
	}
	d := s.DocumentFor(u.Path)
	resp := d.doc.Components.Responses[unrouted[status]]
	if resp == nil {
		return fmt.Errorf("apispec: %s documents no response for an unrouted request answered %d", d.relPath, status)
	}
	oper := openapi3.NewOperation()
	oper.Responses = openapi3.NewResponses(openapi3.WithStatus(status, resp))
	r := &route{op: Operation{Method: method, Path: u.Path, Document: d.relPath}, item: &openapi3.PathItem{}, oper: oper}
	return d.validate(method, u, nil, r, nil, status, respHeaders, body)
}

// validate checks one exchange against the operation r documents (ValidateResponse).
func (d *Document) validate(method string, u *url.URL, reqHeaders http.Header, r *route, params map[string]string, status int, respHeaders http.Header, body []byte) error {
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
				Spec:      d.doc,
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
	where := fmt.Sprintf("%s %s (%s %s) status %d", method, u.Path, d.relPath, r.op.Path, status)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("apispec: %s: %w", where, err)
	}
	// openapi3filter accepts any body where the document lists no content: there, insist on
	// none (a Snap DELETE answers 200 with an empty body).
	if resp := documentedResponse(r.oper, status); resp != nil && len(resp.Content) == 0 && len(bytes.TrimSpace(body)) > 0 {
		return fmt.Errorf("apispec: %s: the response is documented without a body, got %d bytes", where, len(body))
	}
	if status >= 400 && d.requestIDInBody {
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

// documentedResponse is the response the operation documents for status (or its default).
func documentedResponse(oper *openapi3.Operation, status int) *openapi3.Response {
	ref := oper.Responses.Status(status)
	if ref == nil {
		ref = oper.Responses.Default()
	}
	if ref == nil {
		return nil
	}
	return ref.Value
}

// find returns the documented operation serving method and u's path, and the path parameters.
func (d *Document) find(method string, u *url.URL) (*route, map[string]string, error) {
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
	for i := range d.routes {
		r := &d.routes[i]
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
		return nil, nil, fmt.Errorf("apispec: %s %s (%s): %w", method, u.Path, d.relPath, ErrMethodNotDocumented)
	default:
		return nil, nil, fmt.Errorf("apispec: %s %s (%s): %w", method, u.Path, d.relPath, ErrPathNotDocumented)
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
