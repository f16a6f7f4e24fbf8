package defaultwire_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/participant-roster/roster/pkg/dev/apispec"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
	"github.com/participant-roster/roster/pkg/wiring/defaultwire"
)

const guid = "3f2b8c4e-6a1d-4e57-9b0a-5d7c1e2f4a60"

// answer is one $default answer, decoded.
type answer struct {
	events.APIGatewayV2HTTPResponse
	header http.Header
	spot   spotapi.Problem
	snap   map[string]string
}

func invoke(t *testing.T, method, rawPath string) answer {
	t.Helper()
	h := defaultwire.LambdaHandler(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	resp, err := h(context.Background(), testkit.Event(method, rawPath, "", nil, ""))
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawPath, err)
	}
	a := answer{APIGatewayV2HTTPResponse: resp, header: http.Header{}}
	for k, v := range resp.Headers {
		a.header.Set(k, v)
	}
	target := any(&a.spot)
	if strings.HasPrefix(rawPath, snapapi.PathPrefix) {
		target = &a.snap
	}
	if err := json.Unmarshal([]byte(resp.Body), target); err != nil {
		t.Fatalf("%s %s: body is not the family's JSON: %v\n%s", method, rawPath, err, resp.Body)
	}
	return a
}

func spec(t *testing.T) *apispec.Spec {
	t.Helper()
	s, err := apispec.Load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkShape: the family's shape, whatever the answer. Spot: the envelope, requestId the
// X-Request-Id header, status the HTTP status. Snap: {"message"} alone, api-supported-versions.
func checkShape(t *testing.T, rawPath string, a answer) {
	t.Helper()
	if strings.HasPrefix(rawPath, snapapi.PathPrefix) {
		if len(a.snap) != 1 || a.snap["message"] == "" {
			t.Errorf("body %s, want {\"message\": ...} alone", a.Body)
		}
		if got := a.header.Get(snapapi.HeaderSupportedVersions); got != snapapi.SupportedVersions {
			t.Errorf("%s = %q, want %q", snapapi.HeaderSupportedVersions, got, snapapi.SupportedVersions)
		}
		return
	}
	p := a.spot
	if p.Type != "Error" || p.Status != a.StatusCode || p.Code == "" || p.Message == "" || p.Errors == nil ||
		p.RequestID == "" || p.RequestID != a.header.Get("X-Request-Id") {
		t.Errorf("body %s (X-Request-Id %q), want the Spot error envelope", a.Body, a.header.Get("X-Request-Id"))
	}
}

// Paths no route has and methods no route of the path takes: 404 and 405 (with Allow) in the
// family's shape, as the API references document them (NoRoute, MethodNotAllowed).
func TestNoRouteAndMethodNotAllowed(t *testing.T) {
	s := spec(t)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/no-such-resource", 404, ""},
		{"GET", "/", 404, ""},
		{"GET", "/screeners/", 404, ""}, // an empty id is no id
		{"POST", "/screeners", 405, "GET"},
		{"PATCH", "/screener-participants/scpar_01jcqgsym60000000000000000", 405, "GET, DELETE"},
		{"GET", "/screener-participants-import", 405, "POST"},
		{"GET", "/snaponline/api/no-such-call", 404, ""},
		{"GET", "/snaponline/api/", 404, ""},
		{"DELETE", "/snaponline/api/surveys", 405, "GET"},
		{"PATCH", "/snaponline/api/surveys/" + guid + "/participants", 405, "GET, POST"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			a := invoke(t, tc.method, tc.path)
			if a.StatusCode != tc.status {
				t.Fatalf("status %d, want %d\n%s", a.StatusCode, tc.status, a.Body)
			}
			checkShape(t, tc.path, a)
			if got := a.header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
			if err := s.ValidateUnrouted(tc.method, tc.path, a.StatusCode, a.header, []byte(a.Body)); err != nil {
				t.Error(err)
			}
		})
	}
}

// An id holding a slash, encoded (rawPath as sent) or decoded (as API Gateway's HTTP API
// delivers rawPath), gets the route's own answer for an id that names nothing, as the API
// reference documents it for that operation.
func TestSlashInID(t *testing.T) {
	s := spec(t)
	snapSurvey := "/snaponline/api/surveys/" + guid
	for _, tc := range []struct {
		method, sent, delivered string // the path as the client sent it, as the gateway delivers it
		status                  int
		message                 string
	}{
		{"GET", "/screener-participants/%2F", "/screener-participants//", 404, "The resource was not found."},
		{"DELETE", "/screener-participants/a%2Fb", "/screener-participants/a/b", 404, "The resource was not found."},
		{"GET", "/screener-participants-imports/a%2Fb/results", "/screener-participants-imports/a/b/results", 404, "The resource was not found."},
		{"GET", "/snaponline/api/surveys/%2F", "/snaponline/api/surveys//", 401, snapapi.MsgNoSurveyAccess},
		{"GET", "/snaponline/api/surveys/a%2Fb/participants", "/snaponline/api/surveys/a/b/participants", 401, snapapi.MsgNoSurveyAccess},
		{"GET", snapSurvey + "/participants/p%2F1", snapSurvey + "/participants/p/1", 404, snapapi.MsgParticipantNotFound},
		{"PUT", snapSurvey + "/participants/p1/subjects/s%2F1", snapSurvey + "/participants/p1/subjects/s/1", 404, snapapi.MsgSubjectNotFound},
		{"PUT", snapSurvey + "/participants/p%2F1", snapSurvey + "/participants/p/1", 400, survey.MsgParticipantToUpdateNotFound},
		{"PUT", snapSurvey + "/participants/p%2F1/subjects/s1", snapSurvey + "/participants/p/1/subjects/s1", 404, snapapi.MsgParticipantNotFound},
		{"GET", snapSurvey + "/variables/v%2F1", snapSurvey + "/variables/v/1", 404, snapapi.MsgVariableNotFound},
	} {
		for _, path := range []string{tc.sent, tc.delivered} {
			t.Run(tc.method+" "+path, func(t *testing.T) {
				a := invoke(t, tc.method, path)
				checkShape(t, path, a)
				message := a.spot.Message
				if a.snap != nil {
					message = a.snap["message"]
				}
				if a.StatusCode != tc.status || message != tc.message {
					t.Errorf("%d %q, want %d %q", a.StatusCode, message, tc.status, tc.message)
				}
				if err := s.ValidateWithoutUser(tc.method, tc.sent, a.StatusCode, a.header, []byte(a.Body)); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// Every path parameter of every route: an id holding a slash there gets a not-found answer of
// the route (never the 404 of a path no route has), which the reference documents for it.
func TestSlashInEveryParameter(t *testing.T) {
	s := spec(t)
	for _, r := range append(spotapi.Routes.Routes(), snapapi.Routes.Routes()...) {
		segs := strings.Split(r.Path, "/")
		for i, seg := range segs {
			if !strings.HasPrefix(seg, "{") {
				continue
			}
			path := make([]string, len(segs))
			for j, sg := range segs {
				path[j] = sg
				if strings.HasPrefix(sg, "{") {
					path[j] = guid // a valid id anywhere else
				}
			}
			path[i] = "x%2Fy"
			p := strings.Join(path, "/")
			t.Run(r.Method+" "+p, func(t *testing.T) {
				a := invoke(t, r.Method, p)
				checkShape(t, p, a)
				if a.StatusCode == 404 && (a.spot.Message == routes.MsgNoRoute || a.snap["message"] == routes.MsgNoRoute) {
					t.Errorf("%s answered as a path no route has; want the route's not-found answer for %s", p, seg)
				}
				if err := s.ValidateWithoutUser(r.Method, p, a.StatusCode, a.header, []byte(a.Body)); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// The $default binary links the route tables and the families' handlers' packages, and no
// store, no AWS SDK (it reads nothing) and no dev code.
func TestBinaryLinksNoStore(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../../functions/"+routes.Default.Dir).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		for _, banned := range []string{"github.com/aws/aws-sdk-go-v2", "/pkg/platform/ddb", "store", "/pkg/dev/", "/pkg/wiring/spotwire", "/pkg/wiring/snapwire"} {
			if strings.Contains(d, banned) {
				t.Errorf("functions/%s links %s", routes.Default.Dir, d)
			}
		}
	}
	if !strings.Contains(string(out), "pkg/wiring/defaultwire") {
		t.Errorf("functions/%s does not link defaultwire:\n%s", routes.Default.Dir, out)
	}
}

// Every Snap route is under snapapi.PathPrefix and no Spot route is: the prefix picks the family.
func TestPrefixPicksTheFamily(t *testing.T) {
	for _, r := range snapapi.Routes.Routes() {
		if !strings.HasPrefix(r.Path, snapapi.PathPrefix) {
			t.Errorf("Snap route %s is not under %s", r.Pattern(), snapapi.PathPrefix)
		}
	}
	for _, r := range spotapi.Routes.Routes() {
		if strings.HasPrefix(r.Path, snapapi.PathPrefix) {
			t.Errorf("Spot route %s is under Snap's %s", r.Pattern(), snapapi.PathPrefix)
		}
	}
}
