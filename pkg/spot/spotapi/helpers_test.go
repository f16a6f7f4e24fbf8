package spotapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/localstack"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/vocab"
)

// sqsEndpoint is the moto_server the async import tests queue on: the one `make test` started
// (SQS_ENDPOINT), or a private one, stopped when this process dies (see localstack.StartSQS).
var sqsEndpoint string

func TestMain(m *testing.M) {
	ep, _, err := localstack.SQSEndpoint(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "spotapi tests: local SQS:", err)
		os.Exit(1)
	}
	sqsEndpoint = ep
	testkit.Main(m)
}

// client calls the Spot functions as one tenant.
type client struct {
	t      *testing.T
	env    *testkit.Env
	tenant testkit.Tenant
}

func newClient(t *testing.T, env *testkit.Env) *client {
	return &client{t: t, env: env, tenant: env.NewTenant()}
}

func (c *client) call(fn, method, path, query, body string, headers map[string]string) testkit.Response {
	c.t.Helper()
	h := c.tenant.Headers()
	for k, v := range headers {
		h[k] = v
	}
	if body != "" {
		if _, set := h["content-type"]; !set {
			h["content-type"] = "application/json"
		}
	}
	return c.env.Invoke(fn, testkit.Event(method, path, query, h, body))
}

func (c *client) get(fn, path, query string) testkit.Response {
	c.t.Helper()
	return c.call(fn, "GET", path, query, "", nil)
}

// importRows posts an import and returns the response.
func (c *client) importRows(screenerID, mode string, rows ...row) testkit.Response {
	c.t.Helper()
	return c.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", "", importBody(screenerID, mode, rows...), nil)
}

// importMetered posts an import and returns the response and the write units it cost.
func (c *client) importMetered(screenerID, mode string, rows ...row) (testkit.Response, float64) {
	c.t.Helper()
	ctx, m := capacity.WithMeter(context.Background())
	h := c.tenant.Headers()
	h["content-type"] = "application/json"
	resp := c.env.InvokeContext(ctx, "ImportScreenerParticipantsFunction",
		testkit.Event("POST", "/screener-participants-import", "", h, importBody(screenerID, mode, rows...)))
	_, w := m.Units()
	return resp, w
}

type row struct {
	ExternalUID *string `json:"externalUid,omitempty"`
	Email       string  `json:"email"`
	Name        string  `json:"name"`
}

func uidRow(uid, email, name string) row { return row{ExternalUID: &uid, Email: email, Name: name} }

func importBody(screenerID, mode string, rows ...row) string {
	b := map[string]any{"screenerId": screenerID, "participants": rows}
	if mode != "" {
		b["importMode"] = mode
	}
	if rows == nil {
		b["participants"] = []row{}
	}
	out, _ := json.Marshal(b)
	return string(out)
}

// screener creates a screener in the client's workspace.
func (c *client) screener(title string) string {
	c.t.Helper()
	s, err := c.env.App.Admin.CreateScreener(context.Background(), c.tenant.WorkspaceID,
		vocab.Actor{Type: "SystemActor", ID: "test", Name: "test"}, title, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return s.ID
}

type sp struct {
	Type                   string  `json:"_type"`
	ID                     string  `json:"id"`
	ScreenerID             string  `json:"screenerId"`
	ParticipantID          string  `json:"participantId"`
	ExternalParticipantUID string  `json:"externalParticipantUid"`
	CurrentSessionID       *string `json:"currentSessionId"`
	Name                   string  `json:"name"`
	Email                  string  `json:"email"`
	Status                 string  `json:"status"`
}

type page[T any] struct {
	Type   string `json:"_type"`
	Total  int    `json:"total"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
	Items  []T    `json:"items"`
}

type problem struct {
	Type    string `json:"_type"`
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Errors  []struct {
		Field   string `json:"field"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Row     *int   `json:"row"`
	} `json:"errors"`
}

// wantProblem asserts a status and error code and returns the decoded problem.
func wantProblem(t *testing.T, r testkit.Response, status int, code string) problem {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", r.StatusCode, status, r.Body)
	}
	var p problem
	r.JSON(&p)
	if p.Type != "Error" || p.Code != code || p.Status != status || p.Message == "" {
		t.Fatalf("problem %+v, want code %s", p, code)
	}
	return p
}

// says reports whether the problem's message or one of its field errors' messages holds text.
func (p problem) says(text string) bool {
	if strings.Contains(p.Message, text) {
		return true
	}
	for _, e := range p.Errors {
		if strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}

func wantStatus(t *testing.T, r testkit.Response, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", r.StatusCode, status, r.Body)
	}
}

func (p problem) fields() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func rows(n int, prefix string) []row {
	out := make([]row, n)
	for i := range out {
		out[i] = uidRow(fmt.Sprintf("%s-%04d", prefix, i), fmt.Sprintf("%s%04d@example.com", strings.ToLower(prefix), i), fmt.Sprintf("Person %d", i))
	}
	return out
}
