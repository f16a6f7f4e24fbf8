package apispec

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/participant-roster/roster/pkg/platform/ratelimit"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

const (
	snapSurvey  = "20dbe888-ec99-4895-b094-e34084f9408f"
	snapBase    = "/snaponline/api/surveys/" + snapSurvey
	snapPtp     = snapBase + "/participants/E"
	snapSubject = snapPtp + "/subjects/L1"
)

func snapHeaders() http.Header {
	h := http.Header{
		"Content-Type":           {"application/json"},
		"X-Request-Id":           {reqID},
		"Api-Supported-Versions": {"1.0, 2.0"},
	}
	for name, v := range map[string]string{
		snapapi.HeaderLimitPerSec: "1", snapapi.HeaderRemainingPerSec: "0", snapapi.HeaderResetPerSec: "1767225601",
		snapapi.HeaderLimitPerMin: "10", snapapi.HeaderRemainingPerMin: "9", snapapi.HeaderResetPerMin: "1767225660",
	} {
		h.Set(name, v)
	}
	return h
}

// withoutRateHeaders are the headers of an answer to no known user (a credentials 401).
func withoutRateHeaders(h http.Header) {
	for _, name := range snapapi.RateHeaders {
		h.Del(name)
	}
}

func snapHeadersWith(edit func(http.Header)) http.Header {
	h := snapHeaders()
	edit(h)
	return h
}

func goodSnapSubject() map[string]any {
	return map[string]any{"subjectName": "L1", "questionnaireSeeding": map[string]any{"V53": "L1", "V48": "2;3"}, "status": "NotStarted"}
}

func goodSnapParticipant() map[string]any {
	return map[string]any{
		"enabled": true,
		"invitationSection": map[string]any{
			"optedOut": false, "sendInvitations": true, "emailAddress": "a@example.com",
			"inviteSeeding": map[string]any{"forenames": "E", "surname": "E"},
		},
		"loginSection": map[string]any{
			"login": "E", "password": nil, "interviewer": nil, "status": "NotStarted",
			"subjects": []any{goodSnapSubject()},
		},
	}
}

func goodSnapSurvey() map[string]any {
	return map[string]any{
		"id": snapSurvey, "ownerId": "usr_01jc2k7m8n9p0q1r2s3t4v5w6x", "ownerName": "Alex Lee",
		"name": "Feedback", "path": []any{"Research"}, "title": "How did we do?",
		"url": "https://x/s", "interviewUrl": "https://x/i", "interviewPreviewUrl": "https://x/p",
		"interviewingState": "Started",
	}
}

func goodSnapVariable() map[string]any {
	return map[string]any{
		"order": 1, "variableId": "V46", "label": "Age", "name": "Q1", "questionText": "Age?",
		"variableTypeId": 1, "responseTypeId": 1, "variableType": "Question", "responseType": "Single",
		"codeCount": 1, "codes": []any{map[string]any{"codeIndex": 1, "codeValue": "1", "codeLabel": "Young"}},
	}
}

// deep copies a JSON-like value through JSON, so cases can edit nested maps freely.
func deep(t *testing.T, v any) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(mustJSON(t, v), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func section(m map[string]any, name string) map[string]any { return m[name].(map[string]any) }

func TestValidateSnapResponse(t *testing.T) {
	s := mustLoad(t)
	reqH := http.Header{"X-Username": {"alex@example.com"}, "X-Api-Key": {"key"}, "X-Version": {"2.0"}}
	p := func(edit func(m map[string]any)) map[string]any {
		m := deep(t, goodSnapParticipant())
		if edit != nil {
			edit(m)
		}
		return m
	}
	msg := func(m string) map[string]any { return map[string]any{"message": m} }
	created := snapHeadersWith(func(h http.Header) { h.Set("Location", "https://api.example.com"+snapPtp) })
	page := func(v2 bool, items ...any) map[string]any {
		items = append([]any{}, items...)
		m := map[string]any{"surveyId": snapSurvey, "startingFrom": "0", "progress": "abc", "upToDate": true, "responses": items}
		if v2 {
			m["filter"] = nil
		}
		return m
	}
	v1item := map[string]any{"status": "Completed", "values": []any{map[string]any{"variableId": "V46", "value": "1"}}}
	v2item := map[string]any{"caseId": 7, "s": "Completed", "values": []any{map[string]any{"id": "V46", "v": "1"}}}
	listPage := func(items ...any) map[string]any {
		items = append([]any{}, items...)
		return map[string]any{"surveyId": snapSurvey, "startingFrom": "0", "progress": "0", "upToDate": true, "participants": items}
	}
	listItem := map[string]any{
		"enabled":           true,
		"invitationSection": map[string]any{"optedOut": false, "sendInvitations": true, "emailAddress": "a@example.com"},
		"loginSection":      map[string]any{"login": "E", "password": nil, "interviewer": "", "status": "Started"},
	}
	noCT := snapHeadersWith(func(h http.Header) { h.Del("Content-Type") })

	cases := []struct {
		name    string
		method  string
		url     string
		status  int
		headers http.Header
		body    any // nil: no body
		ok      bool
	}{
		// Participants.
		{"good participant", "GET", snapPtp, 200, snapHeaders(), p(nil), true},
		{"absolute URL", "GET", "https://api.example.com" + snapPtp + "?x=1", 200, snapHeaders(), p(nil), true},
		{"percent-encoded id", "GET", snapBase + "/participants/a%40example.com", 200, snapHeaders(), p(nil), true},
		{"invite-only participant", "GET", snapPtp, 200, snapHeaders(), p(func(m map[string]any) { delete(m, "loginSection") }), true},
		{"login-only participant", "GET", snapPtp, 200, snapHeaders(), p(func(m map[string]any) { delete(m, "invitationSection") }), true},
		{"participant with an extra field", "GET", snapPtp, 200, snapHeaders(), p(func(m map[string]any) { m["id"] = "x" }), false},
		{"invitation section with an extra field", "GET", snapPtp, 200, snapHeaders(),
			p(func(m map[string]any) { section(m, "invitationSection")["phone"] = "1" }), false},
		{"invitationSeeding spelling in a response", "GET", snapPtp, 200, snapHeaders(), p(func(m map[string]any) {
			inv := section(m, "invitationSection")
			inv["invitationSeeding"] = inv["inviteSeeding"]
			delete(inv, "inviteSeeding")
		}), false},
		{"seeding value not a string", "GET", snapPtp, 200, snapHeaders(),
			p(func(m map[string]any) {
				section(m, "invitationSection")["inviteSeeding"] = map[string]any{"forenames": 1}
			}), false},
		{"missing enabled", "GET", snapPtp, 200, snapHeaders(), p(func(m map[string]any) { delete(m, "enabled") }), false},
		{"missing subjects in full participant", "GET", snapPtp, 200, snapHeaders(),
			p(func(m map[string]any) { delete(section(m, "loginSection"), "subjects") }), false},
		{"null login section status", "GET", snapPtp, 200, snapHeaders(),
			p(func(m map[string]any) { section(m, "loginSection")["status"] = nil }), true},
		{"unknown status", "GET", snapPtp, 200, snapHeaders(),
			p(func(m map[string]any) { section(m, "loginSection")["status"] = "Live" }), false},
		{"null email", "GET", snapPtp, 200, snapHeaders(),
			p(func(m map[string]any) { section(m, "invitationSection")["emailAddress"] = nil }), false},
		{"missing api-supported-versions", "GET", snapPtp, 200,
			snapHeadersWith(func(h http.Header) { h.Del("Api-Supported-Versions") }), p(nil), false},
		{"wrong api-supported-versions", "GET", snapPtp, 200,
			snapHeadersWith(func(h http.Header) { h.Set("Api-Supported-Versions", "2.0") }), p(nil), false},
		{"missing X-Request-Id", "GET", snapPtp, 200,
			snapHeadersWith(func(h http.Header) { h.Del("X-Request-Id") }), p(nil), false},
		{"error without api-supported-versions", "GET", snapPtp, 404,
			snapHeadersWith(func(h http.Header) { h.Del("Api-Supported-Versions") }), msg("Participant not found."), false},
		{"add answers 201 with Location", "POST", snapBase + "/participants", 201, created, p(nil), true},
		{"add without Location", "POST", snapBase + "/participants", 201, snapHeaders(), p(nil), false},
		{"add answering 200", "POST", snapBase + "/participants", 200, snapHeaders(), p(nil), false},
		{"update answers 200", "PUT", snapPtp, 200, snapHeaders(), p(nil), true},
		{"update has no 404", "PUT", snapPtp, 404, snapHeaders(), msg("Participant not found."), false},
		{"seed 400", "POST", snapBase + "/participants", 400, snapHeaders(), msg(survey.MsgLoginSectionRequired), true},
		{"409 on add", "POST", snapBase + "/participants", 409, snapHeaders(), msg("Retry."), true},
		{"413 on update", "PUT", snapPtp, 413, snapHeaders(), msg("Too large."), true},
		{"429", "GET", snapPtp, 429, snapHeadersWith(func(h http.Header) { h.Set(snapapi.HeaderRemainingPerSec, "-3") }), msg(snapapi.MsgRateLimited(ratelimit.VendorLimits)), true},
		{"429 without the rate headers", "GET", snapPtp, 429, snapHeadersWith(withoutRateHeaders), msg("Slow down."), false},
		{"remaining below zero", "GET", snapPtp, 200, snapHeadersWith(func(h http.Header) { h.Set(snapapi.HeaderRemainingPerMin, "-12") }), p(nil), true},
		{"a success without a rate header", "GET", snapPtp, 200, snapHeadersWith(func(h http.Header) { h.Del(snapapi.HeaderResetPerMin) }), p(nil), false},
		{"a 400 without a rate header", "POST", snapBase + "/participants", 400, snapHeadersWith(func(h http.Header) { h.Del(snapapi.HeaderLimitPerSec) }), msg(survey.MsgLoginSectionRequired), false},
		{"a limit that is no number", "GET", snapPtp, 200, snapHeadersWith(func(h http.Header) { h.Set(snapapi.HeaderLimitPerSec, "one") }), p(nil), false},
		{"a reset that is no UNIX time", "GET", snapPtp, 200, snapHeadersWith(func(h http.Header) { h.Set(snapapi.HeaderResetPerSec, "2026-01-01T00:00:00Z") }), p(nil), false},
		{"delete 200 without body", "DELETE", snapPtp, 200, noCT, nil, true},
		{"delete 200 with JSON content type and no body", "DELETE", snapPtp, 200, snapHeaders(), nil, true},
		{"delete 200 with a body", "DELETE", snapPtp, 200, snapHeaders(), p(nil), false},
		{"delete 200 with an empty object", "DELETE", snapPtp, 200, snapHeaders(), map[string]any{}, false},
		{"delete 200 without api-supported-versions", "DELETE", snapPtp, 200,
			snapHeadersWith(func(h http.Header) { h.Del("Api-Supported-Versions"); h.Del("Content-Type") }), nil, false},
		{"delete 404", "DELETE", snapPtp, 404, snapHeaders(), msg("Participant not found."), true},

		// Errors.
		{"good 401", "GET", snapBase, 401, snapHeaders(), msg("Authorization has been denied for this request."), true},
		{"401 for the credentials, no user known", "GET", snapBase, 401, snapHeadersWith(withoutRateHeaders), msg("Authorization has been denied for this request."), true},
		{"500 of a call not counted", "GET", "/snaponline/api/account", 500, snapHeadersWith(withoutRateHeaders), msg("An error has occurred."), true},
		{"error with an extra field", "GET", snapBase, 401, snapHeaders(),
			map[string]any{"message": "Authorization has been denied for this request.", "requestId": reqID}, false},
		{"Spot error envelope", "GET", snapBase, 401, snapHeaders(), errBody(401, "UNAUTHORIZED"), false},
		{"error without message", "GET", snapBase, 401, snapHeaders(), map[string]any{}, false},
		{"empty message", "GET", snapBase, 401, snapHeaders(), msg(""), false},
		{"404 for a survey", "GET", snapBase, 404, snapHeaders(), msg("Not found."), false},
		{"500", "GET", "/snaponline/api/account", 500, snapHeaders(), msg("An error has occurred."), true},

		// Subjects.
		{"good subject", "GET", snapSubject, 200, snapHeaders(), goodSnapSubject(), true},
		{"null subject path", "GET", snapPtp + "/subjects/null", 200, snapHeaders(),
			map[string]any{"subjectName": "", "questionnaireSeeding": map[string]any{}, "status": "Partial"}, true},
		{"subject with an extra field", "GET", snapSubject, 200, snapHeaders(),
			with(goodSnapSubject(), func(m map[string]any) { m["order"] = 1 }), false},
		{"subject without seeding", "GET", snapSubject, 200, snapHeaders(),
			with(goodSnapSubject(), func(m map[string]any) { delete(m, "questionnaireSeeding") }), false},
		{"subject list", "GET", snapPtp + "/subjects", 200, snapHeaders(), []any{goodSnapSubject()}, true},
		{"subject list as object", "GET", snapPtp + "/subjects", 200, snapHeaders(), goodSnapSubject(), false},
		{"add subject", "POST", snapPtp + "/subjects", 201,
			snapHeadersWith(func(h http.Header) { h.Set("Location", "https://h"+snapSubject) }), goodSnapSubject(), true},
		{"subject 404", "PUT", snapSubject, 404, snapHeaders(), msg("Subject not found."), true},
		{"delete subject", "DELETE", snapSubject, 200, noCT, nil, true},

		// Lists.
		{"participant list", "GET", snapBase + "/participants", 200, snapHeaders(), listPage(listItem), true},
		{"empty participant list", "GET", snapBase + "/participants", 200, snapHeaders(), listPage(), true},
		{"list item with seeding", "GET", snapBase + "/participants", 200, snapHeaders(), listPage(with(listItem, func(m map[string]any) {
			m["invitationSection"] = with(m["invitationSection"].(map[string]any), func(m map[string]any) { m["inviteSeeding"] = map[string]any{} })
		})), false},
		{"list item with subjects", "GET", snapBase + "/participants", 200, snapHeaders(), listPage(with(listItem, func(m map[string]any) {
			m["loginSection"] = with(m["loginSection"].(map[string]any), func(m map[string]any) { m["subjects"] = []any{} })
		})), false},
		{"list without upToDate", "GET", snapBase + "/participants", 200, snapHeaders(),
			with(listPage(), func(m map[string]any) { delete(m, "upToDate") }), false},
		{"list progress as number", "GET", snapBase + "/participants", 200, snapHeaders(),
			with(listPage(), func(m map[string]any) { m["progress"] = 0 }), false},

		// Responses.
		{"v1 responses", "GET", snapBase + "/responses", 200, snapHeaders(), page(false, v1item), true},
		{"v2 responses", "GET", snapBase + "/responses", 200, snapHeaders(), page(true, v2item), true},
		{"v2 responses with filter", "GET", snapBase + "/responses?filter=V46:1", 200, snapHeaders(),
			with(page(true, v2item), func(m map[string]any) { m["filter"] = "V46:1" }), true},
		{"empty v1 page", "GET", snapBase + "/responses", 200, snapHeaders(), page(false), true},
		{"empty v2 page", "GET", snapBase + "/responses", 200, snapHeaders(), page(true), true},
		{"v1 page with v2 items", "GET", snapBase + "/responses", 200, snapHeaders(), page(false, v2item), false},
		{"v2 page with v1 items", "GET", snapBase + "/responses", 200, snapHeaders(), page(true, v1item), false},
		{"mixed items", "GET", snapBase + "/responses", 200, snapHeaders(), page(true, v1item, v2item), false},
		{"caseId as string", "GET", snapBase + "/responses", 200, snapHeaders(),
			page(true, with(v2item, func(m map[string]any) { m["caseId"] = "7" })), false},
		{"value as number", "GET", snapBase + "/responses", 200, snapHeaders(),
			page(false, with(v1item, func(m map[string]any) { m["values"] = []any{map[string]any{"variableId": "V46", "value": 1}} })), false},

		// Surveys, variables, account.
		{"survey", "GET", snapBase, 200, snapHeaders(), goodSnapSurvey(), true},
		{"v1 survey says Live", "GET", snapBase, 200, snapHeaders(), with(goodSnapSurvey(), func(m map[string]any) { m["interviewingState"] = "Live" }), true},
		{"survey state unknown word", "GET", snapBase, 200, snapHeaders(), with(goodSnapSurvey(), func(m map[string]any) { m["interviewingState"] = "Running" }), false},
		{"survey path as string", "GET", snapBase, 200, snapHeaders(), with(goodSnapSurvey(), func(m map[string]any) { m["path"] = "Research" }), false},
		{"survey id upper case", "GET", snapBase, 200, snapHeaders(), with(goodSnapSurvey(), func(m map[string]any) { m["id"] = strings.ToUpper(snapSurvey) }), false},
		{"survey list", "GET", "/snaponline/api/surveys", 200, snapHeaders(), []any{goodSnapSurvey()}, true},
		{"empty survey list", "GET", "/snaponline/api/surveys", 200, snapHeaders(), []any{}, true},
		{"variables", "GET", snapBase + "/variables", 200, snapHeaders(),
			map[string]any{"surveyId": snapSurvey, "variables": []any{goodSnapVariable()}}, true},
		{"variables without codes", "GET", snapBase + "/variables?includeCodes=false", 200, snapHeaders(),
			map[string]any{"surveyId": snapSurvey, "variables": []any{with(goodSnapVariable(), func(m map[string]any) { delete(m, "codes") })}}, true},
		{"variable with an extra field", "GET", snapBase + "/variables/V46", 200, snapHeaders(),
			with(goodSnapVariable(), func(m map[string]any) { m["seeding"] = true }), false},
		{"variable without codeCount", "GET", snapBase + "/variables/V46", 200, snapHeaders(),
			with(goodSnapVariable(), func(m map[string]any) { delete(m, "codeCount") }), false},
		{"variable 404", "GET", snapBase + "/variables/V99", 404, snapHeaders(), msg("Variable not found."), true},
		{"account", "GET", "/snaponline/api/account", 200, snapHeaders(),
			map[string]any{"username": "a@example.com", "fullname": "A", "emailAddress": "a@example.com"}, true},
		{"account with an extra field", "GET", "/snaponline/api/account", 200, snapHeaders(),
			map[string]any{"username": "a@example.com", "fullname": "A", "emailAddress": "a@example.com", "id": "usr_1"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body []byte
			if c.body != nil {
				body = mustJSON(t, c.body)
			}
			err := s.ValidateResponse(c.method, c.url, reqH, c.status, c.headers, body)
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

// Operation-level conventions every Snap operation follows.
func TestSnapOperationConventions(t *testing.T) {
	s := mustLoad(t)
	d := s.Snap()
	for _, r := range d.routes {
		name := r.op.Method + " " + r.op.Path
		if r.op.OperationID == "" {
			t.Errorf("%s: no operationId", name)
		}
		hasVersion := false
		for _, p := range r.oper.Parameters {
			if v := p.Value; v != nil && v.In == "header" && v.Name == "X-VERSION" && !v.Required {
				hasVersion = true
				if got := v.Schema.Value.Enum; !slices.Equal(got, []any{"1", "1.0", "2", "2.0"}) {
					t.Errorf("%s: X-VERSION values %v", name, got)
				}
			}
		}
		if !hasVersion {
			t.Errorf("%s: no optional X-VERSION header parameter", name)
		}
		want := []int{400, 401, 429, 500}
		if strings.Contains(r.op.Path, "{participantUniqueId}") && !(r.op.Method == "PUT" && strings.HasSuffix(r.op.Path, "{participantUniqueId}")) {
			want = append(want, 404) // Update Participant answers an unknown participant with the seed's 400
		}
		// Bulk imports (our extension) run as jobs: 202 with the job's Location, no 409 (rows
		// are not changed by the call itself), 404 for an unknown job.
		isImport := strings.Contains(r.op.Path, "/participant-imports")
		if strings.Contains(r.op.Path, "{variableId}") || strings.Contains(r.op.Path, "{importId}") {
			want = append(want, 404)
		}
		// A cancel of a finished import is 409 (our extension); so is an Idempotency-Key (also
		// ours) whose first request still runs, and 422 when the key was used for another request.
		takesKey := r.oper.Parameters.GetByInAndName("header", "Idempotency-Key") != nil
		if r.op.Method != "GET" && !isImport || r.op.Method == "DELETE" && isImport || takesKey {
			want = append(want, 409)
		}
		if takesKey {
			want = append(want, 422)
		}
		if r.oper.RequestBody != nil {
			want = append(want, 413)
		}
		var codes []int
		for code := range r.oper.Responses.Map() {
			n, err := strconv.Atoi(code)
			if err != nil {
				t.Errorf("%s: response %q is not a status", name, code)
			}
			codes = append(codes, n)
		}
		sort.Ints(codes)
		success := []int{200}
		switch {
		case isImport && (r.op.Method == "POST" || r.op.Method == "DELETE"):
			success = []int{200, 202} // a synchronous dry run or a job; a cancel done or under way
		case r.op.Method == "POST":
			success = []int{201}
		}
		want = append(want, success...)
		sort.Ints(want)
		if !slices.Equal(codes, want) {
			t.Errorf("%s: responses %v, want %v", name, codes, want)
		}
		if r.op.Method == "POST" || r.op.Method == "PUT" {
			if rb := r.oper.RequestBody; rb == nil || !rb.Value.Required || rb.Value.Content.Get(jsonCT) == nil {
				t.Errorf("%s: no required JSON request body", name)
			}
		} else if r.oper.RequestBody != nil {
			t.Errorf("%s: a request body on %s", name, r.op.Method)
		}
		for code, resp := range r.oper.Responses.Map() {
			h := resp.Value.Headers
			for _, hn := range []string{"X-Request-Id", "api-supported-versions"} {
				if h[hn] == nil || !h[hn].Value.Required {
					t.Errorf("%s %s: %s header not documented as required", name, code, hn)
				}
			}
			// Every answer to a known user carries the rate headers (Decision 22); a 401 or a
			// 500 may know no user.
			for _, hn := range snapapi.RateHeaders {
				if code != "401" && code != "500" && (h[hn] == nil || !h[hn].Value.Required) {
					t.Errorf("%s %s: %s header not documented as required", name, code, hn)
				}
			}
			if (code == "201" || code == "202") != (h["Location"] != nil) {
				t.Errorf("%s %s: Location header documented: %v; want it exactly on 201 and 202", name, code, h["Location"] != nil)
			}
			if strings.HasPrefix(code, "2") {
				continue
			}
			if mt := resp.Value.Content.Get(jsonCT); !errorSchema(mt, isImport && code == "400") {
				t.Errorf("%s %s: error body is not the Error schema", name, code)
			}
		}
		if r.op.Method == "DELETE" && !isImport && len(r.oper.Responses.Status(200).Value.Content) != 0 {
			t.Errorf("%s 200: documents a body", name)
		}
	}
	sec := d.Doc().Security
	if len(sec) != 1 || len(sec[0]) != 2 || sec[0]["SnapUsername"] == nil || sec[0]["SnapApiKey"] == nil {
		t.Errorf("global security = %v, want both SnapUsername and SnapApiKey in one requirement", sec)
	}
	schemes := d.Doc().Components.SecuritySchemes
	for scheme, header := range map[string]string{"SnapUsername": "X-USERNAME", "SnapApiKey": "X-API-KEY"} {
		if v := schemes[scheme]; v == nil || v.Value.Type != "apiKey" || v.Value.In != "header" || v.Value.Name != header {
			t.Errorf("security scheme %s is not the %s header", scheme, header)
		}
	}
	if v := d.Doc().Components.Headers["SupportedVersions"].Value.Schema.Value.Enum; !slices.Equal(v, []any{"1.0, 2.0"}) {
		t.Errorf("api-supported-versions values %v", v)
	}
	// Every response schema forbids unknown properties, however deep.
	for name, sch := range d.Doc().Components.Schemas {
		if strings.HasSuffix(name, "Input") || name == "Ignored" {
			continue // request shapes ignore unknown properties
		}
		checkClosed(t, name, sch.Value, map[*openapi3.Schema]bool{})
	}
	desc := d.Doc().Info.Description
	if !strings.Contains(desc, "## Decisions") {
		t.Errorf("info.description has no Decisions heading")
	}
	for _, topic := range []string{
		"in version 1.0 too", "stray leading", "stray `}`", "missing opening quote", "opaque",
		"stays valid after deletions", "`upToDate`", "scheduled or", "`inviteSeeding`", "`invitationSeeding`",
		"Read-only status", "folder names", "`filter` grammar",
	} {
		if !strings.Contains(desc, topic) {
			t.Errorf("info.description does not mention %q", topic)
		}
	}
}

// checkClosed fails for an object schema (at any depth) that allows unknown properties.
func checkClosed(t *testing.T, where string, s *openapi3.Schema, seen map[*openapi3.Schema]bool) {
	t.Helper()
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	for _, sub := range append(append(openapi3.SchemaRefs{}, s.OneOf...), s.AllOf...) {
		checkClosed(t, where, sub.Value, seen)
	}
	if s.Items != nil {
		checkClosed(t, where+"[]", s.Items.Value, seen)
	}
	if s.Type.Is("object") {
		closed := s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has
		if !closed && s.AdditionalProperties.Schema == nil {
			t.Errorf("%s: object schema allows additional properties", where)
		}
		if sch := s.AdditionalProperties.Schema; sch != nil {
			checkClosed(t, where+"{}", sch.Value, seen)
		}
		for name, p := range s.Properties {
			checkClosed(t, where+"."+name, p.Value, seen)
		}
	}
}

// snapExampleMessages collects the message of every error example of an operation (or of all
// operations when method is "").
func snapExampleMessages(t *testing.T, d *Document, method, path string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range d.routes {
		if method != "" && (r.op.Method != method || r.op.Path != path) {
			continue
		}
		for code, resp := range r.oper.Responses.Map() {
			if strings.HasPrefix(code, "2") {
				continue
			}
			mt := resp.Value.Content.Get(jsonCT)
			if mt == nil {
				continue
			}
			exs := []any{mt.Example}
			for _, ex := range mt.Examples {
				exs = append(exs, ex.Value.Value)
			}
			for _, ex := range exs {
				if m, ok := ex.(map[string]any); ok {
					if s, ok := m["message"].(string); ok {
						out[s] = true
					}
				}
			}
		}
	}
	return out
}

// The seed's messages, word for word from pkg/snap/survey, are examples of Add and Update
// Participant's 400.
func TestSnapSeedMessagesDocumented(t *testing.T) {
	s := mustLoad(t)
	seed := []string{
		survey.MsgParticipantsNotSupported, survey.MsgLoginSectionRequired, survey.MsgLoginSectionNotAllowed,
		survey.MsgInvitationSectionRequired, survey.MsgInvitationSectionNotAllowed, survey.MsgLoginNameRequired,
		survey.MsgValidEmailRequired, survey.MsgEmailInvalid, survey.MsgUniqueIDMismatch,
		survey.MsgParticipantToUpdateNotFound, survey.MsgOptedOutAndSendInvitations, survey.MsgInterviewerNotAllowed,
		survey.MsgInterviewerRequired, survey.MsgInterviewerNoAccess, survey.MsgOneSubjectRequired,
		survey.MsgOnlyOneUnnamedSubject, survey.MsgAtLeastOneSubject, survey.MsgSubjectNameBlank,
		survey.MsgSubjectsNotUnique, survey.MsgSubjectsDoNotMatch, survey.MsgLoginTaken, survey.MsgEmailTaken,
		survey.MsgImportInProgress,
		survey.MsgInviteSeedingNoProperty("middlename"), survey.MsgQuestionnaireSeedingNoProperty("V60"),
		survey.MsgNoSuchVariable("V99"), survey.MsgSingleChoice("v46"), survey.MsgDuplicateCodeValues("v48"),
		survey.MsgNoSuchCodeValue("v48", "9"),
	}
	for _, op := range []string{"POST /snaponline/api/surveys/{surveyId}/participants", "PUT /snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}"} {
		method, path, _ := strings.Cut(op, " ")
		got := snapExampleMessages(t, s.Snap(), method, path)
		for _, m := range seed {
			if !got[m] {
				t.Errorf("%s: 400 has no example %q", op, m)
			}
		}
		for m := range got {
			if strings.HasPrefix(m, " ") || strings.Contains(m, "}'") {
				t.Errorf("%s: example %q reproduces a typesetting slip of the seed page", op, m)
			}
		}
	}
}

// Every message pkg/snap/survey/messages.go defines is an example somewhere in the Snap document,
// so a message added there without documenting it fails here.
func TestSnapEveryMessageDocumented(t *testing.T) {
	s := mustLoad(t)
	root := filepath.Dir(filepath.Dir(s.Snap().Path()))
	file := filepath.Join(root, "pkg", "snap", "survey", "messages.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The message functions, called with the documented examples' arguments.
	funcs := map[string]string{
		"MsgInviteSeedingNoProperty":        survey.MsgInviteSeedingNoProperty("middlename"),
		"MsgQuestionnaireSeedingNoProperty": survey.MsgQuestionnaireSeedingNoProperty("V60"),
		"MsgNoSuchVariable":                 survey.MsgNoSuchVariable("V99"),
		"MsgSingleChoice":                   survey.MsgSingleChoice("v46"),
		"MsgDuplicateCodeValues":            survey.MsgDuplicateCodeValues("v48"),
		"MsgNoSuchCodeValue":                survey.MsgNoSuchCodeValue("v48", "9"),
		"MsgBadJSON":                        survey.MsgBadJSON("unexpected end of JSON input"),
		"MsgWrongType":                      survey.MsgWrongType("loginSection.login", "a string"),
		"MsgSeedingValueNotString":          survey.MsgSeedingValueNotString("questionnaireSeeding", "v46"),
		"MsgSeedingKeyRepeated":             survey.MsgSeedingKeyRepeated("invite seeding", "Forenames"),
	}
	want := map[string]string{} // message -> name
	for _, decl := range f.Decls {
		switch decl := decl.(type) {
		case *ast.GenDecl:
			if decl.Tok != token.CONST {
				continue
			}
			for _, spec := range decl.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !strings.HasPrefix(n.Name, "Msg") || !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					want[v] = n.Name
				}
			}
		case *ast.FuncDecl:
			if !strings.HasPrefix(decl.Name.Name, "Msg") {
				continue
			}
			m, ok := funcs[decl.Name.Name]
			if !ok {
				t.Errorf("%s: message function %s is new; document it and list it here", file, decl.Name.Name)
				continue
			}
			want[m] = decl.Name.Name
		}
	}
	if len(want) < 30 {
		t.Fatalf("found only %d messages in %s", len(want), file)
	}
	got := snapExampleMessages(t, s.Snap(), "", "")
	for m, name := range want {
		if !got[m] {
			t.Errorf("survey.%s (%q) is no example of %s", name, m, SnapRelPath)
		}
	}
}

// The request body schemas say what the participant and subject calls accept.
func TestSnapRequestSchemas(t *testing.T) {
	s := mustLoad(t)
	d := s.Snap().Doc()
	pmt := d.Paths.Find("/snaponline/api/surveys/{surveyId}/participants").Post.RequestBody.Value.Content.Get(jsonCT)
	smt := d.Paths.Find("/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}/subjects").Post.RequestBody.Value.Content.Get(jsonCT)
	if put := d.Paths.Find("/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}").Put.RequestBody.Value.Content.Get(jsonCT); put != pmt {
		t.Errorf("Add and Update Participant take different bodies")
	}
	roundTrip := func(v any) any {
		var out any
		_ = json.Unmarshal(mustJSON(t, v), &out)
		return out
	}
	body := func(edit func(m map[string]any)) any {
		m := deep(t, pmt.Examples["seed"].Value.Value)
		if edit != nil {
			edit(m)
		}
		return roundTrip(m)
	}
	if len(pmt.Examples) < 3 {
		t.Errorf("participant body has %d examples", len(pmt.Examples))
	}
	type tc struct {
		name string
		sch  *openapi3.Schema
		v    any
		ok   bool
	}
	cases := []tc{
		{"seed", pmt.Schema.Value, body(nil), true},
		{"inviteSeeding spelling", pmt.Schema.Value, body(func(m map[string]any) {
			inv := section(m, "invitationSection")
			inv["inviteSeeding"] = inv["invitationSeeding"]
			delete(inv, "invitationSeeding")
		}), true},
		{"unknown fields", pmt.Schema.Value, body(func(m map[string]any) {
			m["id"] = 1
			section(m, "loginSection")["extra"] = true
		}), true},
		{"null sections and enabled", pmt.Schema.Value, body(func(m map[string]any) {
			m["enabled"], m["invitationSection"], m["loginSection"] = nil, nil, nil
		}), true},
		{"any status", pmt.Schema.Value, body(func(m map[string]any) { section(m, "loginSection")["status"] = 3 }), true},
		{"null seeding value", pmt.Schema.Value, body(func(m map[string]any) {
			section(m, "invitationSection")["invitationSeeding"] = map[string]any{"forenames": nil}
		}), true},
		{"enabled as string", pmt.Schema.Value, body(func(m map[string]any) { m["enabled"] = "yes" }), false},
		{"login as number", pmt.Schema.Value, body(func(m map[string]any) { section(m, "loginSection")["login"] = 5 }), false},
		{"seeding value as number", pmt.Schema.Value, body(func(m map[string]any) {
			section(m, "invitationSection")["invitationSeeding"] = map[string]any{"forenames": 5}
		}), false},
		{"subjects as object", pmt.Schema.Value, body(func(m map[string]any) { section(m, "loginSection")["subjects"] = map[string]any{} }), false},
		{"body as array", pmt.Schema.Value, []any{}, false},
		{"subject example", smt.Schema.Value, roundTrip(smt.Example), true},
		{"subject null name", smt.Schema.Value, map[string]any{"subjectName": nil}, true},
		{"subject seeding as array", smt.Schema.Value, map[string]any{"subjectName": "L1", "questionnaireSeeding": []any{}}, false},
	}
	for k, ex := range pmt.Examples {
		cases = append(cases, tc{"example " + k, pmt.Schema.Value, roundTrip(ex.Value.Value), true})
	}
	for _, c := range cases {
		err := c.sch.VisitJSON(c.v, openapi3.MultiErrors(), openapi3.DisableSchemaErrorDetails())
		if c.ok && err != nil {
			t.Errorf("%s: want valid, got %v", c.name, err)
		}
		if !c.ok && err == nil {
			t.Errorf("%s: want an error, got none", c.name)
		}
	}
}

// A Snap path never reaches the Spot document, whatever its method.
func TestSnapUnknownOperation(t *testing.T) {
	s := mustLoad(t)
	for _, c := range []struct {
		method, url string
		want        error
	}{
		{"GET", "/snaponline/api/nope", ErrPathNotDocumented},
		{"GET", "/snaponline/api/surveys/" + snapSurvey + "/participants/E/extra/x", ErrPathNotDocumented},
		{"PATCH", snapPtp, ErrMethodNotDocumented},
		{"POST", snapPtp, ErrMethodNotDocumented},
		{"DELETE", "/snaponline/api/surveys", ErrMethodNotDocumented},
	} {
		err := s.ValidateResponse(c.method, c.url, nil, 200, snapHeaders(), []byte(`{}`))
		if err == nil || !strings.Contains(err.Error(), SnapRelPath) || !errors.Is(err, c.want) {
			t.Errorf("%s %s: got %v, want %v from %s", c.method, c.url, err, c.want, SnapRelPath)
		}
	}
	if err := s.ValidateResponse("GET", "/snaponline/api/surveys//participants", nil, 200, snapHeaders(), []byte(`{}`)); err == nil {
		t.Errorf("empty surveyId matched an operation")
	}
}

// errorSchema reports whether a response body is the Error schema; withRows also accepts
// oneOf the Error schema and the import's list of bad rows (an import's 400).
func errorSchema(mt *openapi3.MediaType, withRows bool) bool {
	if mt == nil || mt.Schema == nil {
		return false
	}
	if mt.Schema.Ref == "#/components/schemas/Error" {
		return true
	}
	var refs []string
	if withRows && mt.Schema.Value != nil {
		for _, o := range mt.Schema.Value.OneOf {
			refs = append(refs, o.Ref)
		}
	}
	slices.Sort(refs)
	return slices.Equal(refs, []string{"#/components/schemas/Error", "#/components/schemas/ParticipantImportInvalid"})
}

// The import jobs' answers (our extension, Decision 26): the job, a synchronous dry run's
// plan, the results as JSON and as CSV, the job list, and a cancel.
func TestValidateSnapImportResponses(t *testing.T) {
	s := mustLoad(t)
	reqH := http.Header{"X-Username": {"alex@example.com"}, "X-Api-Key": {"key"}, "X-Version": {"2.0"}}
	imports := snapBase + "/participant-imports"
	job := "/job_01jd3m00000000000000000sn1"
	counts := map[string]any{"total": 2, "processed": 2, "created": 1, "unchanged": 0, "failed": 1, "skipped": 0}
	goodJob := func() map[string]any {
		return map[string]any{
			"importId": job[1:], "surveyId": snapSurvey, "mode": "ADD", "dryRun": false, "status": "CANCELING",
			"counts": counts, "errors": []any{}, "reason": nil, "createdAt": "2026-11-23T10:00:00Z", "startedAt": nil,
			"finishedAt": nil, "cancelRequestedAt": "2026-11-23T10:00:02Z", "expiresAt": "2026-11-30T10:00:00Z",
		}
	}
	result := func() map[string]any {
		return map[string]any{"row": 0, "outcome": "created", "participant": goodSnapParticipant(), "participantUniqueId": "E", "message": nil}
	}
	plan := map[string]any{"dryRun": true, "surveyId": snapSurvey, "mode": "ADD", "counts": counts, "results": []any{result()}}
	located := snapHeadersWith(func(h http.Header) { h.Set("Location", "https://h"+imports+job) })
	csvHeaders := snapHeadersWith(func(h http.Header) { h.Set("Content-Type", "text/csv; charset=utf-8") })
	listItem := with(goodJob(), func(m map[string]any) { delete(m, "errors") })

	cases := []struct {
		name, method, url string
		status            int
		headers           http.Header
		body              []byte
		ok                bool
	}{
		{"dry-run plan", "POST", imports + "?dryRun=true", 200, snapHeaders(), mustJSON(t, plan), true},
		{"plan without counts.skipped", "POST", imports + "?dryRun=true", 200, snapHeaders(),
			mustJSON(t, with(plan, func(m map[string]any) { m["counts"] = with(counts, func(c map[string]any) { delete(c, "skipped") }) })), false},
		{"dry-run job", "POST", imports + "?dryRun=true", 202, located, mustJSON(t, with(goodJob(), func(m map[string]any) { m["dryRun"] = true; m["status"] = "QUEUED" })), true},
		{"job without expiresAt", "GET", imports + job, 200, snapHeaders(), mustJSON(t, with(goodJob(), func(m map[string]any) { delete(m, "expiresAt") })), false},
		{"job of an unknown status", "GET", imports + job, 200, snapHeaders(), mustJSON(t, with(goodJob(), func(m map[string]any) { m["status"] = "STOPPED" })), false},
		{"cancel under way", "DELETE", imports + job, 202, located, mustJSON(t, goodJob()), true},
		{"cancel under way without Location", "DELETE", imports + job, 202, snapHeaders(), mustJSON(t, goodJob()), false},
		{"canceled", "DELETE", imports + job, 200, snapHeaders(), mustJSON(t, with(goodJob(), func(m map[string]any) { m["status"] = "CANCELED" })), true},
		{"cancel of a finished job", "DELETE", imports + job, 409, snapHeaders(), mustJSON(t, map[string]any{"message": "The import has finished; it can no longer be canceled."}), true},
		{"results", "GET", imports + job + "/results", 200, snapHeaders(),
			mustJSON(t, map[string]any{"results": []any{result(), with(result(), func(m map[string]any) {
				m["row"], m["outcome"], m["participant"], m["participantUniqueId"] = 1, "skipped", nil, nil
			})}, "progress": "0", "upToDate": true}), true},
		{"result of a removal", "GET", imports + job + "/results", 200, snapHeaders(),
			mustJSON(t, map[string]any{"results": []any{with(result(), func(m map[string]any) { m["row"], m["outcome"] = -1, "removed" })}, "progress": "0", "upToDate": true}), false},
		{"results as CSV", "GET", imports + job + "/results", 200, csvHeaders, []byte("enabled,outcome,error\ntrue,created,\n"), true},
		{"the list as CSV", "GET", imports, 200, csvHeaders, []byte("importId\njob_1\n"), false},
		{"import list", "GET", imports, 200, snapHeaders(), mustJSON(t, map[string]any{"imports": []any{listItem}, "progress": "0", "upToDate": true}), true},
		{"import list with a next page", "GET", imports, 200, snapHeadersWith(func(h http.Header) { h.Set("Link", `<https://h/x?startingFrom=abc>; rel="next"`) }),
			mustJSON(t, map[string]any{"imports": []any{listItem}, "progress": "abc", "upToDate": false}), true},
		{"import list without upToDate", "GET", imports, 200, snapHeaders(), mustJSON(t, map[string]any{"imports": []any{}, "progress": "0"}), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.ValidateResponse(c.method, c.url, reqH, c.status, c.headers, c.body)
			if c.ok != (err == nil) {
				t.Errorf("valid: %v, want %v (%v)", err == nil, c.ok, err)
			}
		})
	}
}
