package spotapi_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/platform/strictbody/strictbodytest"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
)

// bodyRoute is how a route that takes a body is called: its path, a body it accepts (sent
// with ?dryRun=true where it would write, so the control writes nothing), and its query.
type bodyRoute struct {
	path, valid, dryRunQuery string
}

// TestEveryBodyRouteRefusesRepeatedKeysAndInvalidUTF8: every Spot route that takes a body (from
// the route table: a new one fails here until it has a case) answers a key repeated at every
// depth and invalid UTF-8 anywhere with 400 INVALID_JSON, naming the problem, and writes
// nothing: no row, no job, no message on the queue.
func TestEveryBodyRouteRefusesRepeatedKeysAndInvalidUTF8(t *testing.T) {
	t.Parallel()
	a := newAsyncEnv(t)
	scr := a.screener("strict")
	cases := map[string]bodyRoute{
		"ImportScreenerParticipantsFunction": {path: "/screener-participants-import", dryRunQuery: "dryRun=true",
			valid: importBody(scr, "UPDATES_ONLY", uidRow("crm-1", "a@example.com", "A"), uidRow("crm-2", "b@example.com", "B"))},
	}
	before := tableItems(t, a.env)
	strictbodytest.ForEachBodyRoute(t, spotapi.Routes.Routes(), cases, func(t *testing.T, d routes.Route, rt bodyRoute) {
		if r := a.send(d.LogicalID, d.Method, rt.path, rt.dryRunQuery, rt.valid, "application/json", nil); r.StatusCode != 200 {
			t.Fatalf("the valid body is not accepted: %d %s", r.StatusCode, r.Body)
		}
		refusals, err := strictbodytest.Refusals(rt.valid)
		if err != nil {
			t.Fatal(err)
		}
		for _, rf := range refusals {
			for _, prefer := range []map[string]string{nil, {"prefer": "respond-async"}} {
				p := wantProblem(t, a.send(d.LogicalID, d.Method, rt.path, "", rf.Body, "application/json", prefer), 400, "INVALID_JSON")
				if !strings.Contains(p.Message, rf.Names) || !strings.HasSuffix(p.Message, "nothing was written.") || len(p.Errors) != 1 {
					t.Errorf("%s: %+v, want a message naming %s and one field error", rf.Name, p, rf.Names)
				}
			}
		}
	})
	if after := tableItems(t, a.env); !maps.Equal(before, after) {
		t.Errorf("refused bodies wrote to the table: %d items before, %d after", len(before), len(after))
	}
	if n := a.queued(); n != 0 {
		t.Errorf("%d chunks queued by refused bodies", n)
	}
}

// TestImportWithTwoScreenerIDs is the case: a lenient reader imported into the second
// screener. Now neither gets a row, and the field error names the key.
func TestImportWithTwoScreenerIDs(t *testing.T) {
	t.Parallel()
	c := newClient(t, testkit.NewEnv(t))
	first, second := c.screener("first"), c.screener("second")
	before := tableItems(t, c.env)
	body := `{"screenerId":"` + first + `","participants":[{"email":"a@example.com","name":"A"}],"screenerId":"` + second + `"}`
	p := wantProblem(t, c.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", "", body, nil), 400, "INVALID_JSON")
	if want := `The body is not valid JSON: duplicate key "screenerId"; nothing was written.`; p.Message != want {
		t.Errorf("message %q, want %q", p.Message, want)
	}
	if got := strings.Join(p.fields(), ","); got != "screenerId:INVALID" {
		t.Errorf("fields %s, want screenerId:INVALID", got)
	}
	nested := `{"screenerId":"` + first + `","participants":[{"email":"a@example.com","name":"A"},{"email":"b@example.com","name":"B","name":"C"}]}`
	p = wantProblem(t, c.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", "", nested, nil), 400, "INVALID_JSON")
	if got := strings.Join(p.fields(), ","); got != "participants[1].name:INVALID" || !strings.Contains(p.Message, `duplicate key "name" in participants[1]`) {
		t.Errorf("%+v, want the field participants[1].name", p)
	}
	if after := tableItems(t, c.env); !maps.Equal(before, after) {
		t.Errorf("refused bodies wrote to the table: %d items before, %d after", len(before), len(after))
	}
}

// TestCSVImportRefusesInvalidUTF8: a CSV body in another encoding (Latin-1 here) would store
// U+FFFD names; it is 400 INVALID_CSV naming the byte, and nothing is written.
func TestCSVImportRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("csv")
	query := q("screenerId", scr)
	valid := "externalUid,email,name\ncrm-1,zoe@example.com,Zo\u00eb\n"
	if r := c.send("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", query+"&dryRun=true", valid, "text/csv", nil); r.StatusCode != 200 {
		t.Fatalf("the UTF-8 CSV is not accepted: %d %s", r.StatusCode, r.Body)
	}
	before := tableItems(t, c.env)
	for _, body := range []string{
		"externalUid,email,name\ncrm-1,zoe@example.com,Zo\xeb\n",     // Latin-1
		"externalUid,email,name\ncrm-1,zoe@example.com,\"Z\xc3(\"\n", // a broken sequence in a quoted field
		"external\xffUid,email,name\ncrm-1,zoe@example.com,Zoe\n",    // in the header
	} {
		p := wantProblem(t, c.send("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", query, body, "text/csv", nil), 400, "INVALID_CSV")
		if !strings.Contains(p.Message, "invalid UTF-8 in the body at byte") || strings.Join(p.fields(), ",") != "body:INVALID" {
			t.Errorf("%q: %+v, want the invalid UTF-8 named, field body", body, p)
		}
	}
	if after := tableItems(t, c.env); !maps.Equal(before, after) {
		t.Errorf("refused CSV bodies wrote to the table: %d items before, %d after", len(before), len(after))
	}
}

// send calls a function with a body of a content type. A body that is not UTF-8 goes base64
// encoded, as API Gateway sends a body that is not text.
func (c *client) send(fn, method, path, query, body, contentType string, headers map[string]string) testkit.Response {
	c.t.Helper()
	h := c.tenant.Headers()
	h["content-type"] = contentType
	for k, v := range headers {
		h[k] = v
	}
	ev := testkit.Event(method, path, query, h, body)
	if !utf8.ValidString(body) {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
	}
	return c.env.Invoke(fn, ev)
}

// tableItems is every item of the table, by key.
func tableItems(t *testing.T, env *testkit.Env) map[string]string {
	t.Helper()
	out := map[string]string{}
	in := &dynamodb.ScanInput{TableName: aws.String(env.Table), ConsistentRead: aws.Bool(true)}
	for {
		res, err := env.Client.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			var rec map[string]any
			if err := attributevalue.UnmarshalMap(it, &rec); err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprint(rec["pk"], "|", rec["sk"])] = fmt.Sprint(rec)
		}
		if res.LastEvaluatedKey == nil {
			return out
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
