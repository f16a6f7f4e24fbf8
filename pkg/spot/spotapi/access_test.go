package spotapi_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/lambdahttp"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
)

// samplePath fills a route's {id} with a well-formed id nobody has.
func samplePath(r routes.Route) string {
	ids := map[string]string{
		"/screener-participants/{id}": "/screener-participants/scpar_01jd3m00000000000000000000",
		"/participants/{id}":          "/participants/ptp_01jd3m00000000000000000000",
		"/screeners/{id}":             "/screeners/scr_01jd3m00000000000000000000",
		"/screener-sessions/{id}":     "/screener-sessions/scses_01jd3m00000000000000000000",
	}
	if p, ok := ids[r.Path]; ok {
		return p
	}
	return r.Path
}

func TestEveryRouteRejectsBadCredentialsAlike(t *testing.T) {
	env := testkit.NewEnv(t)
	c := newClient(t, env)
	revoked := env.NewTenant()
	must(t, env.App.Store.RevokeKey(context.Background(), revoked.WorkspaceID, revoked.KeyID))
	creds := map[string]map[string]string{
		"none":           {},
		"key only":       {"x-spot-api-key": c.tenant.KeyID},
		"secret only":    {"x-spot-api-secret": c.tenant.Secret},
		"unknown key":    {"x-spot-api-key": "acct_01jd3m00000000000000000000", "x-spot-api-secret": c.tenant.Secret},
		"wrong secret":   {"x-spot-api-key": c.tenant.KeyID, "x-spot-api-secret": c.tenant.Secret + "x"},
		"other's secret": {"x-spot-api-key": c.tenant.KeyID, "x-spot-api-secret": revoked.Secret},
		"revoked":        revoked.Headers(),
		"huge":           {"x-spot-api-key": string(make([]byte, 10000)), "x-spot-api-secret": "x"},
	}
	for _, r := range spotapi.Routes.Routes() {
		var first string
		for name, h := range creds {
			resp := env.Invoke(r.LogicalID, testkit.Event(r.Method, samplePath(r), "", h, `{}`))
			p := wantProblem(t, resp, 401, "UNAUTHORIZED")
			p.Errors = nil
			body, _ := json.Marshal(p) // the same body in every case, request id aside
			if first == "" {
				first = string(body)
			} else if string(body) != first {
				t.Fatalf("%s %s (%s): body %s differs from %s", r.Method, r.Path, name, body, first)
			}
		}
	}
}

func TestVersionHeader(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	for v, ok := range map[string]bool{
		"": true, "1.0.0": true, "2024-11-15": true, "2025-06-01": true,
		"2.0.0": false, "1.0": false, "2024-11-14": false, "2025-02-30": false, "latest": false, "2025-6-1": false,
	} {
		r := c.call("ListScreenersFunction", "GET", "/screeners", "", "", map[string]string{"x-spot-api-version": v})
		if !ok {
			p := wantProblem(t, r, 400, "UNSUPPORTED_API_VERSION")
			if p.Message == "" || len(p.Errors) != 1 || p.Errors[0].Field != "X-Spot-Api-Version" {
				t.Fatalf("%q: %+v", v, p)
			}
			continue
		}
		wantStatus(t, r, 200)
		want := v
		if v == "" {
			want = "1.0.0"
		}
		if got := r.Headers["X-Spot-Api-Version"]; got != want {
			t.Fatalf("%q answered as version %q", v, got)
		}
	}
}

func TestPathsThatCannotBeOurs(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	for _, path := range []string{
		"/screener-participants/scpar_123",
		"/screener-participants/ptp_01jd3m00000000000000000000",
		"/screener-participants/scpar_01JD3M00000000000000000000",
		"/screener-participants/scpar_01jd3m0000000000000000000%23",
		"/screener-participants/%20",
	} {
		wantProblem(t, c.get("GetScreenerParticipantFunction", path, ""), 404, "NOT_FOUND")
		wantProblem(t, c.call("DeleteScreenerParticipantFunction", "DELETE", path, "", "", nil), 404, "NOT_FOUND")
	}
	// What the proxy library would answer 504 to: a broken %-escape.
	for _, path := range []string{"/screener-participants/%zz", "/screener-participants/%", "/participants/%E0%A4%A"} {
		fn := "GetScreenerParticipantFunction"
		if path[1] == 'p' {
			fn = "GetParticipantFunction"
		}
		// The reference cannot route a path that does not parse, so the envelope is checked here.
		wantProblem(t, c.env.InvokeUnchecked(context.Background(), fn, testkit.Event("GET", path, "", c.tenant.Headers(), "")), 400, "INVALID_QUERY")
	}
	ev := testkit.Event("POST", "/screener-participants-import", "", c.tenant.Headers(), "!!not base64")
	ev.IsBase64Encoded = true
	wantProblem(t, c.env.Invoke("ImportScreenerParticipantsFunction", ev), 400, "INVALID_QUERY")
}

func TestWrongMethodOrPathForAFunction(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	ctx := context.Background()
	r := c.env.InvokeUnchecked(ctx, "GetScreenerParticipantFunction", testkit.Event("PUT", "/screener-participants/scpar_01jd3m00000000000000000000", "", c.tenant.Headers(), ""))
	if r.StatusCode != 405 || r.Headers["Allow"] != "GET" {
		t.Fatalf("wrong method: %d %v", r.StatusCode, r.Headers)
	}
	r = c.env.InvokeUnchecked(ctx, "GetScreenerParticipantFunction", testkit.Event("GET", "/elsewhere", "", c.tenant.Headers(), ""))
	if r.StatusCode != 404 {
		t.Fatalf("wrong path: %d", r.StatusCode)
	}
}

// TestTenantIsolation calls every route with A's key on B's records: 404 (or an empty list),
// and B's records are unchanged.
func TestTenantIsolation(t *testing.T) {
	env := testkit.NewEnv(t)
	a, b := newClient(t, env), newClient(t, env)
	scrB := b.screener("B's")
	var spB []sp
	b.importRows(scrB, "", uidRow("b-1", "b1@example.com", "B One"), uidRow("b-2", "b2@example.com", "B Two")).JSON(&spB)
	ses, err := env.App.Admin.StartSession(context.Background(), b.tenant.WorkspaceID, spB[0].ID)
	must(t, err)
	before := b.listScreener(scrB)

	for _, tc := range []struct{ fn, method, path string }{
		{"GetScreenerParticipantFunction", "GET", "/screener-participants/" + spB[0].ID},
		{"DeleteScreenerParticipantFunction", "DELETE", "/screener-participants/" + spB[0].ID},
		{"GetParticipantFunction", "GET", "/participants/" + spB[0].ParticipantID},
		{"GetScreenerFunction", "GET", "/screeners/" + scrB},
		{"GetScreenerSessionFunction", "GET", "/screener-sessions/" + ses.ID},
	} {
		wantProblem(t, a.call(tc.fn, tc.method, tc.path, "", "", nil), 404, "NOT_FOUND")
	}
	wantProblem(t, a.importRows(scrB, "FULL_SYNC", uidRow("b-1", "b1@example.com", "Renamed by A")), 404, "NOT_FOUND")

	for _, tc := range []struct{ fn, path, query string }{
		{"ListScreenerParticipantsFunction", "/screener-participants", ""},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("filter[screenerId][eq]", scrB)},
		{"ListParticipantsFunction", "/participants", ""},
		{"ListParticipantsFunction", "/participants", q("filter[email][eq]", "b1@example.com")},
		{"ListParticipantsFunction", "/participants", q("filter[externalUid][eq]", "b-1")},
		{"ListScreenersFunction", "/screeners", ""},
		{"ListScreenerSessionsFunction", "/screener-sessions", ""},
		{"ListScreenerSessionsFunction", "/screener-sessions", q("filter[screenerId][eq]", scrB)},
		{"ListScreenerSessionsFunction", "/screener-sessions", q("filter[screenerParticipantId][eq]", spB[0].ID)},
	} {
		var pg page[json.RawMessage]
		r := a.get(tc.fn, tc.path, tc.query)
		wantStatus(t, r, 200)
		r.JSON(&pg)
		if pg.Total != 0 || len(pg.Items) != 0 {
			t.Fatalf("A sees B's records at %s?%s: %+v", tc.path, tc.query, pg)
		}
	}
	// A importing the same emails gets its own participants, not B's.
	scrA := a.screener("A's")
	var spA []sp
	a.importRows(scrA, "", uidRow("b-1", "b1@example.com", "A's own")).JSON(&spA)
	if spA[0].ParticipantID == spB[0].ParticipantID {
		t.Fatal("an email in A matched B's participant")
	}
	after := b.listScreener(scrB)
	beforeJSON, _ := json.Marshal(before)
	afterJSON, _ := json.Marshal(after)
	if string(beforeJSON) != string(afterJSON) {
		t.Fatalf("B's roster changed:\n%s\n%s", beforeJSON, afterJSON)
	}
}

func TestRevokedKeyStopsAfterCacheLifetime(t *testing.T) {
	env := testkit.NewEnv(t)
	tn := env.NewTenant()
	warm := app.New(env.Client, env.Table, app.DefaultAuthCacheTTL, env.App.Log)
	h, err := warm.LambdaHandler("ListScreenersFunction")
	must(t, err)
	call := func(h lambdahttp.Handler) int {
		resp, err := h(context.Background(), testkit.Event("GET", "/screeners", "", tn.Headers(), ""))
		must(t, err)
		return resp.StatusCode
	}
	if got := call(h); got != 200 {
		t.Fatalf("valid key: %d", got)
	}
	must(t, env.App.Store.RevokeKey(context.Background(), tn.WorkspaceID, tn.KeyID))
	cold, err := app.New(env.Client, env.Table, app.DefaultAuthCacheTTL, env.App.Log).LambdaHandler("ListScreenersFunction")
	must(t, err)
	if got := call(cold); got != 401 {
		t.Fatalf("revoked key on a cold function: %d", got)
	}
	if err := env.App.Store.RevokeKey(context.Background(), "ws_other", tn.KeyID); err == nil {
		t.Fatal("a workspace revoked another workspace's key")
	}
}
