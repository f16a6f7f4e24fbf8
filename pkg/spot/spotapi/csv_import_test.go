package spotapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/testkit"
)

// importCSV posts a CSV import with the query (screenerId, importMode, dryRun, ...).
func (c *client) importCSV(query, body string) testkit.Response {
	c.t.Helper()
	return c.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", query, body,
		map[string]string{"content-type": "text/csv; charset=utf-8"})
}

// TestCSVImport: RFC 4180 quoting, a BOM, CRLF and LF, columns in any order, an empty
// externalUid cell, the results CSV's own columns ignored; the rows land as JSON rows would.
func TestCSVImport(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("CSV")
	body := "\xef\xbb\xbfname,outcome,email,externalUid,error\r\n" +
		`"Lee, Alex ""Al""",failed,alex@example.com,crm-1,"was: ""bad""; and` + "\r\n" + `a second line"` + "\r\n" +
		"Morgan Rivera,,morgan@example.com,,\n" + // LF, and no externalUid
		"\"Kim\r\nPark\",x,kim@example.com,crm-3,\r\n"
	p := wantProblem(t, c.importCSV(q("screenerId", scr), body), 400, "VALIDATION_FAILED")
	if got := p.fields(); len(got) != 1 || got[0] != "participants[2].name:INVALID" || *p.Errors[0].Row != 2 {
		t.Fatalf("a name with a line break in quotes: errors %v, want one on row 2's name (the record, not a line)", got)
	}
	if n := c.listScreener(scr).Total; n != 0 {
		t.Fatalf("a rejected CSV import wrote %d screener participants", n)
	}

	body = strings.Replace(body, "\"Kim\r\nPark\"", "Kim Park", 1)
	r := c.importCSV(q("screenerId", scr, "importMode", "UPDATES_ONLY"), body)
	wantStatus(t, r, 200)
	var got []sp
	r.JSON(&got)
	want := []struct{ uid, email, name string }{
		{"crm-1", "alex@example.com", `Lee, Alex "Al"`}, {"", "morgan@example.com", "Morgan Rivera"}, {"crm-3", "kim@example.com", "Kim Park"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d screener participants, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].ExternalParticipantUID != w.uid || got[i].Email != w.email || got[i].Name != w.name || got[i].ScreenerID != scr {
			t.Errorf("row %d: %+v, want %+v", i, got[i], w)
		}
	}

	// FULL_SYNC from the query: the CSV names one of the three.
	r = c.importCSV(q("screenerId", scr, "importMode", "FULL_SYNC"), "email,name\nkim@example.com,Kim Park\n")
	wantStatus(t, r, 200)
	if roster := c.listScreener(scr); roster.Total != 1 || roster.Items[0].Email != "kim@example.com" {
		t.Fatalf("after a CSV FULL_SYNC the roster is %+v", roster.Items)
	}
	// A header alone is an import of no rows.
	wantStatus(t, c.importCSV(q("screenerId", scr), "externalUid,email,name\r\n"), 200)
}

// TestCSVImportRejections: each bad CSV request is a 4xx naming its problem, and writes nothing.
func TestCSVImportRejections(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("CSV")
	for _, tc := range []struct {
		name, query, body string
		status            int
		code, field, in   string // in: a text the message or a field error's message holds
	}{
		{"missing email column", q("screenerId", scr), "externalUid,name\ncrm-1,A\n", 400, "INVALID_CSV", "body:REQUIRED", `"email"`},
		{"missing name column", q("screenerId", scr), "email\na@example.com\n", 400, "INVALID_CSV", "body:REQUIRED", `"name"`},
		{"an extra column", q("screenerId", scr), "email,name,phone\na@example.com,A,555\n", 400, "INVALID_CSV", "body:UNKNOWN_FIELD", `"phone"`},
		{"a repeated column", q("screenerId", scr), "email,name,email\na@example.com,A,b@example.com\n", 400, "INVALID_CSV", "body:INVALID", `"email"`},
		{"a bare quote on line 3", q("screenerId", scr), "email,name\r\na@example.com,A\r\nb@example.com,B \"x\r\n", 400, "INVALID_CSV", "body:INVALID", "line 3"},
		{"a short record on line 4", q("screenerId", scr), "email,name\na@example.com,A\n\"b@example.com\",\"B\"\nc@example.com\n", 400, "INVALID_CSV", "body:INVALID", "line 4"},
		{"an unclosed quote", q("screenerId", scr), "email,name\na@example.com,\"A\n", 400, "INVALID_CSV", "body:INVALID", "line"},
		{"an empty body", q("screenerId", scr), "", 400, "INVALID_CSV", "", "empty"},
		{"no screenerId", "", "email,name\na@example.com,A\n", 400, "INVALID_QUERY", "screenerId:REQUIRED", ""},
		{"a bad importMode", q("screenerId", scr, "importMode", "ALL"), "email,name\n", 400, "INVALID_QUERY", "importMode:INVALID", ""},
		{"a bad row", q("screenerId", scr), "email,name\nnot-an-email,A\n", 400, "VALIDATION_FAILED", "participants[0].email:INVALID_EMAIL", ""},
		{"another charset", q("screenerId", scr), "email,name\n", 415, "UNSUPPORTED_MEDIA_TYPE", "", ""},
		{"an unknown screener", q("screenerId", "scr_01jd3m00000000000000000000"), "email,name\na@example.com,A\n", 404, "NOT_FOUND", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			headers := map[string]string{"content-type": "text/csv"}
			if tc.status == 415 {
				headers["content-type"] = "text/csv; charset=iso-8859-1"
			}
			r := c.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", tc.query, tc.body, headers)
			p := wantProblem(t, r, tc.status, tc.code)
			if tc.field != "" && !strings.Contains(strings.Join(p.fields(), " "), tc.field) {
				t.Errorf("field errors %v, want %s", p.fields(), tc.field)
			}
			if tc.in != "" && !p.says(tc.in) {
				t.Errorf("the answer does not say %q: %s", tc.in, r.Body)
			}
		})
	}
	if n := c.listScreener(scr).Total; n != 0 {
		t.Fatalf("rejected CSV imports wrote %d screener participants", n)
	}
}

// TestCSVImportTooLargeWithoutAQueue: CSV rows count against the synchronous limit as JSON
// rows do; without a queue the answer is 413 as JSON.
func TestCSVImportTooLargeWithoutAQueue(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("CSV")
	var b strings.Builder
	b.WriteString("externalUid,email,name\r\n")
	for i := range 1001 {
		fmt.Fprintf(&b, "crm-%d,p%d@example.com,Person %d\r\n", i, i, i)
	}
	r := c.importCSV(q("screenerId", scr), b.String())
	wantProblem(t, r, 413, "PAYLOAD_TOO_LARGE")
	if ct := r.Headers["Content-Type"]; ct != "application/json" {
		t.Errorf("413 Content-Type %q, want JSON", ct)
	}
	if !strings.Contains(r.Body, "1001 rows") {
		t.Errorf("413 does not count the rows: %s", r.Body)
	}
}

// TestImportQueryParameters: dryRun, maxRemovals, and screenerId/importMode in a JSON import's
// query are checked before anything is read from the store.
func TestImportQueryParameters(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("Q")
	body := importBody(scr, "FULL_SYNC", rows(2, "qp")...)
	for _, tc := range []struct {
		name, query, body, field string
	}{
		{"dryRun not a boolean", q("dryRun", "yes"), body, "dryRun:INVALID"},
		{"dryRun twice", "dryRun=true&dryRun=false", body, "dryRun:INVALID"},
		{"maxRemovals negative", q("maxRemovals", "-1"), body, "maxRemovals:OUT_OF_RANGE"},
		{"maxRemovals not a number", q("maxRemovals", "ten"), body, "maxRemovals:INVALID_NUMBER"},
		{"maxRemovals without FULL_SYNC", q("maxRemovals", "3"), importBody(scr, "", rows(2, "qp")...), "maxRemovals:INVALID"},
		{"screenerId in a JSON import's query", q("screenerId", scr), body, "screenerId:INVALID"},
		{"importMode in a JSON import's query", q("importMode", "FULL_SYNC"), body, "importMode:INVALID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, c.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", tc.query, tc.body, nil), 400, "INVALID_QUERY")
			if got := strings.Join(p.fields(), " "); got != tc.field {
				t.Errorf("field errors %q, want %q", got, tc.field)
			}
		})
	}
	if n := c.listScreener(scr).Total; n != 0 {
		t.Fatalf("rejected imports wrote %d screener participants", n)
	}
}
