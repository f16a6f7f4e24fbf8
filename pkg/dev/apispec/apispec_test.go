package apispec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/participant-roster/roster/pkg/dev/allroutes"
	"github.com/participant-roster/roster/pkg/platform/routes"
)

func mustLoad(t *testing.T) *Spec {
	t.Helper()
	s, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func TestDocumentIsValidOpenAPI(t *testing.T) {
	s := mustLoad(t)
	for _, d := range s.Documents() {
		if err := d.Doc().Validate(context.Background()); err != nil {
			t.Errorf("%s: openapi3.T.Validate: %v", d.RelPath(), err)
		}
		if got := d.Doc().OpenAPI; got != "3.0.3" {
			t.Errorf("%s: openapi = %q, want 3.0.3", d.RelPath(), got)
		}
		if len(d.Operations()) == 0 {
			t.Errorf("%s: no operations", d.RelPath())
		}
	}
	if s.Spot().RelPath() != RelPath || s.Snap().RelPath() != SnapRelPath {
		t.Errorf("documents %s, %s; want %s, %s", s.Spot().RelPath(), s.Snap().RelPath(), RelPath, SnapRelPath)
	}
	if s.Doc() != s.Spot().Doc() || s.Path() != s.Spot().Path() {
		t.Errorf("Doc/Path are not the Spot document's")
	}
	if n := len(s.Spot().Operations()) + len(s.Snap().Operations()); len(s.Operations()) != n {
		t.Errorf("Operations() has %d operations, the documents %d", len(s.Operations()), n)
	}
	again, err := Load()
	if err != nil || again != s {
		t.Errorf("second Load = %p, %v; want the same *Spec %p", again, err, s)
	}
}

// The document a path selects.
func TestDocumentFor(t *testing.T) {
	s := mustLoad(t)
	for path, want := range map[string]*Document{
		"/screener-participants":                       s.Spot(),
		"/snaponline/api/account":                      s.Snap(),
		"/snaponline/api/surveys/x/participants/y":     s.Snap(),
		"/snaponline/api":                              s.Snap(),
		"/snaponline/apix":                             s.Spot(),
		"/snaponline":                                  s.Spot(),
		"/participants/ptp_01jbz7q0a1b2c3d4e5f6g7h8j9": s.Spot(),
	} {
		if got := s.DocumentFor(path); got != want {
			t.Errorf("DocumentFor(%q) = %s, want %s", path, got.RelPath(), want.RelPath())
		}
	}
}

// familyDocument is the reference that documents a route family.
func familyDocument(t *testing.T, s *Spec, f routes.Family) *Document {
	t.Helper()
	switch f {
	case routes.Spot:
		return s.Spot()
	case routes.Snap:
		return s.Snap()
	}
	t.Fatalf("family %q has no API reference", f)
	return nil
}

// Every route the registry serves is documented in its family's document, which is also the
// document its path selects, and the documents list nothing the registry does not serve.
func TestEveryRouteIsDocumented(t *testing.T) {
	s := mustLoad(t)
	documented := map[string]string{} // pattern -> document
	for _, op := range s.Operations() {
		documented[op.Method+" "+op.Path] = op.Document
	}
	served := map[string]bool{}
	families := map[routes.Family]bool{}
	for _, r := range allroutes.All {
		families[r.Family] = true
		d := familyDocument(t, s, r.Family)
		served[r.Pattern()] = true
		if got := s.DocumentFor(r.Path); got != d {
			t.Errorf("route %s (%s, family %s): its path selects %s, not %s", r.Pattern(), r.LogicalID, r.Family, got.RelPath(), d.RelPath())
		}
		if doc, ok := documented[r.Pattern()]; !ok {
			t.Errorf("route %s (%s) has no operation in %s", r.Pattern(), r.LogicalID, d.RelPath())
		} else if doc != d.RelPath() {
			t.Errorf("route %s (%s) is documented in %s, not %s", r.Pattern(), r.LogicalID, doc, d.RelPath())
		}
	}
	for op, doc := range documented {
		if !served[op] {
			t.Errorf("%s documents %s, which no route serves", doc, op)
		}
	}
	if !families[routes.Spot] || !families[routes.Snap] {
		t.Errorf("allroutes.All covers families %v; want both spot and snap", families)
	}
}

// Operation-level conventions every Spot operation follows.
func TestOperationConventions(t *testing.T) {
	s := mustLoad(t)
	for _, r := range s.Spot().routes {
		name := r.op.Method + " " + r.op.Path
		if r.op.OperationID == "" {
			t.Errorf("%s: no operationId", name)
		}
		hasVersion := false
		for _, p := range r.oper.Parameters {
			if p.Value != nil && p.Value.In == "header" && p.Value.Name == "X-Spot-Api-Version" && !p.Value.Required {
				hasVersion = true
			}
		}
		if !hasVersion {
			t.Errorf("%s: no optional X-Spot-Api-Version header parameter", name)
		}
		for _, code := range []int{400, 401, 500} {
			if r.oper.Responses.Status(code) == nil {
				t.Errorf("%s: response %d not documented", name, code)
			}
		}
		if strings.Contains(r.op.Path, "{id}") && r.oper.Responses.Status(404) == nil {
			t.Errorf("%s: response 404 not documented", name)
		}
		for code, resp := range r.oper.Responses.Map() {
			if resp.Value.Headers["X-Request-Id"] == nil {
				t.Errorf("%s %s: X-Request-Id header not documented", name, code)
			}
			if strings.HasPrefix(code, "2") && resp.Value.Headers["X-Spot-Api-Version"] == nil {
				t.Errorf("%s %s: X-Spot-Api-Version header not documented", name, code)
			}
		}
	}
	sec := s.Doc().Security
	if len(sec) != 1 || len(sec[0]) != 2 || sec[0]["SpotApiKey"] == nil || sec[0]["SpotApiSecret"] == nil {
		t.Errorf("global security = %v, want both SpotApiKey and SpotApiSecret in one requirement", sec)
	}
	lim := s.Doc().Components.Parameters["PaginationLimit"].Value.Schema.Value
	if lim.Max != nil {
		t.Errorf("pagination[limit] has maximum %v; larger values are clamped, not rejected", *lim.Max)
	}
	if !strings.Contains(s.Doc().Info.Description, "## Decisions") {
		t.Errorf("info.description has no Decisions heading")
	}
}

const (
	spID   = "scpar_01jbz8x1k2m3n4p5q6r7s8t9v0"
	scrID  = "scr_01jbz7c4d5e6f7g8h9j0k1m2n3"
	ptpID  = "ptp_01jbz7q0a1b2c3d4e5f6g7h8j9"
	sesID  = "scses_01jc0a2b3c4d5e6f7g8h9j0k1m"
	reqID  = "b1946ac9-2c7f-4d4e-9a36-0c1f2a3b4c5d"
	jsonCT = "application/json"
)

func goodSP() map[string]any {
	return map[string]any{
		"_type":                  "ScreenerParticipant",
		"id":                     spID,
		"screenerId":             scrID,
		"participantId":          ptpID,
		"externalParticipantUid": "crm-001",
		"currentSessionId":       sesID,
		"name":                   "Alex Lee",
		"email":                  "alex@example.com",
		"status":                 "IN_PROGRESS",
	}
}

func okHeaders() http.Header {
	return http.Header{
		"Content-Type":       {"application/json; charset=utf-8"},
		"X-Request-Id":       {reqID},
		"X-Spot-Api-Version": {"1.0.0"},
	}
}

func errHeaders() http.Header {
	return http.Header{"Content-Type": {jsonCT}, "X-Request-Id": {reqID}}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func with(m map[string]any, edit func(map[string]any)) map[string]any {
	c := map[string]any{}
	for k, v := range m {
		c[k] = v
	}
	edit(c)
	return c
}

func errBody(status int, code string, errs ...map[string]any) map[string]any {
	if errs == nil {
		errs = []map[string]any{}
	}
	return map[string]any{
		"_type": "Error", "status": status, "code": code,
		"message": "Something is wrong.", "requestId": reqID, "errors": errs,
	}
}

func TestValidateResponse(t *testing.T) {
	s := mustLoad(t)
	reqH := http.Header{"X-Spot-Api-Key": {"acct_123"}, "X-Spot-Api-Secret": {"sk_live_abcd"}}
	getSP := "/screener-participants/" + spID
	unauthorized := errBody(401, "UNAUTHORIZED")
	unauthorized["message"] = "Missing or invalid API credentials."

	cases := []struct {
		name    string
		method  string
		url     string
		status  int
		headers http.Header
		body    any
		ok      bool
	}{
		{"good screener participant", "GET", getSP, 200, okHeaders(), goodSP(), true},
		{"absolute URL", "GET", "https://api.example.com" + getSP + "?x=1", 200, okHeaders(), goodSP(), true},
		{"no externalParticipantUid, null session", "GET", getSP, 200, okHeaders(),
			with(goodSP(), func(m map[string]any) {
				delete(m, "externalParticipantUid")
				m["currentSessionId"] = nil
				m["status"] = "NOT_STARTED"
			}), true},
		{"wrong _type", "GET", getSP, 200, okHeaders(),
			with(goodSP(), func(m map[string]any) { m["_type"] = "Participant" }), false},
		{"missing status", "GET", getSP, 200, okHeaders(),
			with(goodSP(), func(m map[string]any) { delete(m, "status") }), false},
		{"missing currentSessionId", "GET", getSP, 200, okHeaders(),
			with(goodSP(), func(m map[string]any) { delete(m, "currentSessionId") }), false},
		{"extra field", "GET", getSP, 200, okHeaders(),
			with(goodSP(), func(m map[string]any) { m["createdAt"] = "2024-11-20T09:30:00.000Z" }), false},
		{"null externalParticipantUid", "GET", getSP, 200, okHeaders(),
			with(goodSP(), func(m map[string]any) { m["externalParticipantUid"] = nil }), false},
		{"malformed id", "GET", getSP, 200, okHeaders(),
			with(goodSP(), func(m map[string]any) { m["id"] = "scpar_123" }), false},
		{"REMOVED outside DELETE", "GET", getSP, 200, okHeaders(),
			with(goodSP(), func(m map[string]any) { m["status"] = "REMOVED" }), false},
		{"unknown status", "GET", getSP, 200, okHeaders(),
			with(goodSP(), func(m map[string]any) { m["status"] = "PENDING" }), false},
		{"DELETE answers REMOVED", "DELETE", getSP, 200, okHeaders(),
			with(goodSP(), func(m map[string]any) { m["status"] = "REMOVED" }), true},
		{"DELETE must answer REMOVED", "DELETE", getSP, 200, okHeaders(), goodSP(), false},
		{"missing X-Request-Id", "GET", getSP, 200,
			http.Header{"Content-Type": {jsonCT}, "X-Spot-Api-Version": {"1.0.0"}}, goodSP(), false},
		{"missing X-Spot-Api-Version", "GET", getSP, 200,
			http.Header{"Content-Type": {jsonCT}, "X-Request-Id": {reqID}}, goodSP(), false},
		{"wrong content type", "GET", getSP, 200,
			http.Header{"Content-Type": {"text/plain"}, "X-Request-Id": {reqID}, "X-Spot-Api-Version": {"1.0.0"}}, goodSP(), false},
		{"undocumented status", "GET", getSP, 409, errHeaders(), errBody(409, "CONFLICT"), false},
		{"good list", "GET", "/screener-participants?filter%5BscreenerId%5D%5Beq%5D=" + scrID, 200, okHeaders(),
			map[string]any{"_type": "PaginatedScreenerParticipant", "total": 1, "limit": 500, "offset": 0, "nextCursor": nil, "items": []any{goodSP()}}, true},
		{"list with a next cursor", "GET", "/screener-participants", 200, okHeaders(),
			map[string]any{"_type": "PaginatedScreenerParticipant", "total": 2, "limit": 1, "offset": 0, "nextCursor": "1AbC-_9", "items": []any{goodSP()}}, true},
		{"cursor page (offset null)", "GET", "/participants?pagination%5Bcursor%5D=1AbC-_9", 200, okHeaders(),
			map[string]any{"_type": "PaginatedParticipant", "total": 0, "limit": 100, "offset": nil, "nextCursor": nil, "items": []any{}}, true},
		{"list without nextCursor", "GET", "/screener-participants", 200, okHeaders(),
			map[string]any{"_type": "PaginatedScreenerParticipant", "total": 1, "limit": 100, "offset": 0, "items": []any{goodSP()}}, false},
		{"nextCursor not url-safe", "GET", "/screeners", 200, okHeaders(),
			map[string]any{"_type": "PaginatedScreener", "total": 1, "limit": 100, "offset": 0, "nextCursor": "a/b+c=", "items": []any{}}, false},
		{"nextCursor of a number", "GET", "/screeners", 200, okHeaders(),
			map[string]any{"_type": "PaginatedScreener", "total": 1, "limit": 100, "offset": 0, "nextCursor": 5, "items": []any{}}, false},
		{"list limit above 500", "GET", "/screener-participants", 200, okHeaders(),
			map[string]any{"_type": "PaginatedScreenerParticipant", "total": 1, "limit": 501, "offset": 0, "nextCursor": nil, "items": []any{goodSP()}}, false},
		{"list without _type", "GET", "/screener-participants", 200, okHeaders(),
			map[string]any{"total": 1, "limit": 100, "offset": 0, "nextCursor": nil, "items": []any{goodSP()}}, false},
		{"good import", "POST", "/screener-participants-import", 200, okHeaders(), []any{goodSP(), goodSP()}, true},
		{"import 413", "POST", "/screener-participants-import", 413, errHeaders(),
			errBody(413, "PAYLOAD_TOO_LARGE", map[string]any{"field": "participants", "code": "TOO_LONG", "message": "Too many rows."}), true},
		{"import row error", "POST", "/screener-participants-import", 400, errHeaders(),
			errBody(400, "VALIDATION_FAILED", map[string]any{"field": "participants[3].email", "code": "INVALID_EMAIL", "message": "Not an email.", "row": 3}), true},
		{"import 400 with a 404 code", "POST", "/screener-participants-import", 400, errHeaders(),
			errBody(400, "NOT_FOUND"), false},
		{"get 400 with a body code", "GET", getSP, 400, errHeaders(), errBody(400, "VALIDATION_FAILED"), false},
		{"good 401", "GET", "/participants", 401, errHeaders(), unauthorized, true},
		{"401 with another message", "GET", "/participants", 401, errHeaders(),
			with(unauthorized, func(m map[string]any) { m["message"] = "Bad secret." }), false},
		{"error without errors array", "GET", getSP, 404, errHeaders(),
			with(errBody(404, "NOT_FOUND"), func(m map[string]any) { delete(m, "errors") }), false},
		{"error status differs from HTTP status", "GET", getSP, 404, errHeaders(), errBody(400, "NOT_FOUND"), false},
		{"error requestId differs from header", "GET", getSP, 404, errHeaders(),
			with(errBody(404, "NOT_FOUND"), func(m map[string]any) { m["requestId"] = "other" }), false},
		{"unknown field-error code", "GET", "/screeners", 400, errHeaders(),
			errBody(400, "INVALID_QUERY", map[string]any{"field": "filter[foo][eq]", "code": "NOPE", "message": "x"}), false},
		{"good participant", "GET", "/participants/" + ptpID, 200, okHeaders(), map[string]any{
			"_type": "Participant", "id": ptpID, "externalUid": nil, "email": "a@example.com", "name": "A",
			"createdBy": map[string]any{"_type": "ApplicationActor", "id": "acct_123", "name": "CRM"},
			"createdAt": "2024-11-20T09:30:00.000Z", "updatedBy": nil, "updatedAt": "2024-11-20T09:30:00.000Z"}, true},
		{"participant timestamp without milliseconds", "GET", "/participants/" + ptpID, 200, okHeaders(), map[string]any{
			"_type": "Participant", "id": ptpID, "externalUid": nil, "email": "a@example.com", "name": "A",
			"createdBy": nil, "createdAt": "2024-11-20T09:30:00Z", "updatedBy": nil, "updatedAt": "2024-11-20T09:30:00.000Z"}, false},
		{"participant with bad actor type", "GET", "/participants/" + ptpID, 200, okHeaders(), map[string]any{
			"_type": "Participant", "id": ptpID, "externalUid": nil, "email": "a@example.com", "name": "A",
			"createdBy": map[string]any{"_type": "Robot", "id": "x", "name": "y"},
			"createdAt": "2024-11-20T09:30:00.000Z", "updatedBy": nil, "updatedAt": "2024-11-20T09:30:00.000Z"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.ValidateResponse(c.method, c.url, reqH, c.status, c.headers, mustJSON(t, c.body))
			if c.ok && err != nil {
				t.Errorf("want valid, got %v", err)
			}
			if !c.ok && err == nil {
				t.Errorf("want an error, got none")
			}
			if err != nil {
				t.Logf("%v", err)
			}
		})
	}
}

func TestValidateResponseUnknownOperation(t *testing.T) {
	s := mustLoad(t)
	err := s.ValidateResponse("GET", "/nope", nil, 200, okHeaders(), []byte(`{}`))
	if !errors.Is(err, ErrPathNotDocumented) {
		t.Errorf("unknown path: got %v", err)
	}
	// A Snap path is looked up in the Snap document only, and a Spot path in the Spot one.
	err = s.ValidateResponse("GET", "/snaponline/api/screeners", nil, 200, okHeaders(), []byte(`{}`))
	if !errors.Is(err, ErrPathNotDocumented) {
		t.Errorf("Spot path under the Snap prefix: got %v", err)
	}
	err = s.ValidateResponse("GET", "/surveys", nil, 200, snapHeaders(), []byte(`[]`))
	if !errors.Is(err, ErrPathNotDocumented) {
		t.Errorf("unknown path: got %v", err)
	}
	err = s.ValidateResponse("PUT", "/screener-participants/"+spID, nil, 200, okHeaders(), mustJSON(t, goodSP()))
	if !errors.Is(err, ErrMethodNotDocumented) {
		t.Errorf("unknown method: got %v", err)
	}
	err = s.ValidateResponse("GET", "/screener-participants/", nil, 200, okHeaders(), mustJSON(t, goodSP()))
	if err == nil {
		t.Errorf("empty path parameter matched an operation")
	}
}

// Every example in both documents passes ValidateResponse for its own operation and status,
// and every response without content validates with an empty body.
func TestExamplesValidate(t *testing.T) {
	s := mustLoad(t)
	for _, d := range s.Documents() {
		n := 0
		snap := d == s.Snap()
		for _, r := range d.routes {
			name := r.op.Method + " " + r.op.Path
			url := r.op.Path
			for _, p := range append(append(openapi3.Parameters{}, r.item.Parameters...), r.oper.Parameters...) {
				if p.Value.In == "path" {
					if p.Value.Example == nil {
						t.Errorf("%s: path parameter %s has no example", name, p.Value.Name)
					}
					url = strings.ReplaceAll(url, "{"+p.Value.Name+"}", fmt.Sprint(p.Value.Example))
				}
			}
			for code, resp := range r.oper.Responses.Map() {
				status, _ := strconv.Atoi(code)
				headers := func() http.Header {
					switch {
					case snap && (status == 201 || status == 202):
						h := snapHeaders()
						h.Set("Location", "https://api.example.com"+url+"/x")
						return h
					case snap:
						return snapHeaders()
					case status == 202: // an import job: Location names it
						h := okHeaders()
						h.Set("Location", "/screener-participants-imports/job_01jd3m00000000000000000jb2")
						return h
					case status < 400:
						return okHeaders()
					}
					return errHeaders()
				}
				if len(resp.Value.Content) == 0 {
					if !snap || r.op.Method != "DELETE" || status != 200 {
						t.Errorf("%s %s: no content (only a Snap DELETE answers 200 without a body)", name, code)
						continue
					}
					h := headers()
					h.Del("Content-Type")
					if err := s.ValidateResponse(r.op.Method, url, nil, status, h, nil); err != nil {
						t.Errorf("empty body of %s %s: %v", name, code, err)
					}
					n++
					continue
				}
				mt := resp.Value.Content.Get(jsonCT)
				if mt == nil {
					t.Errorf("%s %s: no application/json content", name, code)
					continue
				}
				var examples []any
				if mt.Example != nil {
					examples = append(examples, mt.Example)
				}
				keys := make([]string, 0, len(mt.Examples))
				for k := range mt.Examples {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					examples = append(examples, mt.Examples[k].Value.Value)
				}
				if len(examples) == 0 {
					t.Errorf("%s %s: no example", name, code)
				}
				for _, ex := range examples {
					h := headers()
					if m, ok := ex.(map[string]any); ok {
						if id, ok := m["requestId"].(string); ok {
							h.Set("X-Request-Id", id)
						}
					}
					if err := s.ValidateResponse(r.op.Method, url, nil, status, h, mustJSON(t, ex)); err != nil {
						t.Errorf("example of %s %s: %v", name, code, err)
					}
					n++
				}
			}
		}
		if n < 30 {
			t.Errorf("%s: only %d examples checked", d.RelPath(), n)
		}
	}
}

// vendorEmail is the vendor's email rule, whose lookaheads Go's regexp lacks: they are
// checked by hand here.
var vendorEmailRest = regexp.MustCompile(`^([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)

func vendorEmail(s string) bool {
	return !strings.HasPrefix(s, ".") && !strings.Contains(s, "..") && vendorEmailRest.MatchString(s)
}

// The document's lookahead-free email pattern accepts exactly what the vendor's rule accepts.
func TestEmailPatternMatchesVendorRule(t *testing.T) {
	s := mustLoad(t)
	pat := s.Doc().Components.Schemas["ImportParticipant"].Value.Properties["email"].Value.Pattern
	ours := regexp.MustCompile(pat)
	check := func(e string) {
		if got, want := ours.MatchString(e), vendorEmail(e); got != want {
			t.Errorf("%q: document pattern says %v, vendor rule says %v", e, got, want)
		}
	}
	for _, e := range []string{
		"alex@example.com", "a@b.co", "o'neil@example.com", "first.last+tag@sub.example.org",
		".alex@example.com", "al..ex@example.com", "alex.@example.com", "alex'@example.com",
		"alex@example", "alex@example.c", "alex@-example.com", "alex@example..com", "@example.com",
		"a_b-c@x-y.io", "a@b.c1", "ALEX@EXAMPLE.COM", "a b@example.com",
	} {
		check(e)
	}
	// Every local part up to length 6 over a telling alphabet, with telling domains.
	alpha := []string{"a", ".", "'", "-", "_"}
	domains := []string{"@ex.com", "@ex..com", "@.ex.com", "@ex.c", "@-ex.com", "@e-x.co", "@ex.com."}
	var walk func(prefix string, depth int)
	walk = func(prefix string, depth int) {
		for _, d := range domains {
			check(prefix + d)
		}
		if depth == 0 {
			return
		}
		for _, c := range alpha {
			walk(prefix+c, depth-1)
		}
	}
	walk("", 6)
	// And random strings over a small alphabet.
	rng := rand.New(rand.NewSource(1))
	small := "ab.'-_+@1"
	for range 50000 {
		b := make([]byte, 1+rng.Intn(12))
		for i := range b {
			b[i] = small[rng.Intn(len(small))]
		}
		check(string(b))
	}
}

// The import request schema says what the handler accepts.
func TestImportRequestSchema(t *testing.T) {
	s := mustLoad(t)
	op := s.Doc().Paths.Find("/screener-participants-import").Post
	mt := op.RequestBody.Value.Content.Get(jsonCT)
	row := func(edit func(map[string]any)) map[string]any {
		r := map[string]any{"externalUid": "crm-001", "email": "alex@example.com", "name": "Alex Lee"}
		if edit != nil {
			edit(r)
		}
		return r
	}
	body := func(edit func(map[string]any)) any {
		b := map[string]any{"screenerId": scrID, "importMode": "FULL_SYNC", "participants": []any{row(nil)}}
		if edit != nil {
			edit(b)
		}
		// Round-trip through JSON so numbers and slices look as a decoder makes them.
		var v any
		raw, _ := json.Marshal(b)
		_ = json.Unmarshal(raw, &v)
		return v
	}
	many := make([]any, 1001)
	for i := range many {
		many[i] = row(nil)
	}
	cases := []struct {
		name string
		v    any
		ok   bool
	}{
		{"document example", mt.Example, true},
		{"good", body(nil), true},
		{"importMode null", body(func(b map[string]any) { b["importMode"] = nil }), true},
		{"importMode absent", body(func(b map[string]any) { delete(b, "importMode") }), true},
		{"no externalUid", body(func(b map[string]any) {
			b["participants"] = []any{row(func(r map[string]any) { delete(r, "externalUid") })}
		}), true},
		{"empty participants", body(func(b map[string]any) { b["participants"] = []any{} }), true},
		{"importMode unknown", body(func(b map[string]any) { b["importMode"] = "MERGE" }), false},
		{"unknown top-level field", body(func(b map[string]any) { b["dryRun"] = true }), false},
		{"unknown row field", body(func(b map[string]any) { b["participants"] = []any{row(func(r map[string]any) { r["phone"] = "1" })} }), false},
		{"missing screenerId", body(func(b map[string]any) { delete(b, "screenerId") }), false},
		{"empty screenerId", body(func(b map[string]any) { b["screenerId"] = "" }), false},
		{"missing participants", body(func(b map[string]any) { delete(b, "participants") }), false},
		{"1001 rows", body(func(b map[string]any) { b["participants"] = many }), false},
		{"empty name", body(func(b map[string]any) { b["participants"] = []any{row(func(r map[string]any) { r["name"] = "" })} }), false},
		{"long name", body(func(b map[string]any) {
			b["participants"] = []any{row(func(r map[string]any) { r["name"] = strings.Repeat("é", 257) })}
		}), false},
		{"name of 256 characters", body(func(b map[string]any) {
			b["participants"] = []any{row(func(r map[string]any) { r["name"] = strings.Repeat("é", 256) })}
		}), true},
		{"bad email", body(func(b map[string]any) {
			b["participants"] = []any{row(func(r map[string]any) { r["email"] = "alex..lee@example.com" })}
		}), false},
		{"missing email", body(func(b map[string]any) { b["participants"] = []any{row(func(r map[string]any) { delete(r, "email") })} }), false},
		{"long email", body(func(b map[string]any) {
			b["participants"] = []any{row(func(r map[string]any) { r["email"] = strings.Repeat("a", 250) + "@b.co" })}
		}), false},
		{"empty externalUid", body(func(b map[string]any) {
			b["participants"] = []any{row(func(r map[string]any) { r["externalUid"] = "" })}
		}), false},
	}
	for _, c := range cases {
		err := mt.Schema.Value.VisitJSON(c.v, openapi3.MultiErrors(), openapi3.DisableSchemaErrorDetails())
		if c.ok && err != nil {
			t.Errorf("%s: want valid, got %v", c.name, err)
		}
		if !c.ok && err == nil {
			t.Errorf("%s: want an error, got none", c.name)
		}
	}
}
