package spotapi

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

// FuzzParseListQuery: any query string parses without panicking, and what parses cleanly is
// within bounds and names only well-formed ids.
func FuzzParseListQuery(f *testing.F) {
	for _, seed := range []string{
		"", "pagination[offset]=0&pagination[limit]=100", "pagination[limit]=501", "pagination[limit]=-1",
		"filter[screenerId][eq]=scr_01jd3m00000000000000000000", "filter[screenerId][ne]=x", "filter[[x]][eq]=1",
		"filter[screenerId][eq]=scr_1%23SES", "pagination[offset]=9223372036854775807", "filter=1&pagination=2",
		"filter%5BscreenerParticipantId%5D%5Beq%5D=scpar_01jd3m00000000000000000000&a=b&a=c",
		"pagination[cursor]=1abc_-", "pagination[cursor]=1a&pagination[offset]=0", "pagination[cursor]=",
	} {
		f.Add(seed)
	}
	spec := filterSpec{"screenerId": ids.Screener, "screenerParticipantId": ids.ScreenerParticipant, "email": ""}
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, errs := parseListQuery(values, spec, true)
		if len(errs) > 0 {
			for _, e := range errs {
				if e.Field == "" || e.Code == "" || e.Message == "" {
					t.Fatalf("incomplete field error %+v", e)
				}
			}
			return
		}
		if q.Page.Limit < 1 || q.Page.Limit > MaxLimit || q.Page.Offset < 0 || q.Page.Offset > maxOffset ||
			(q.Page.Cursor != "" && (q.Page.Offset != 0 || checkCursor(q.Page.Cursor) != nil)) {
			t.Fatalf("page out of bounds: %+v from %q", q.Page, raw)
		}
		for field, v := range q.Filters {
			if p := spec[field]; p != "" && !ids.Valid(p, v) {
				t.Fatalf("filter %s=%q passed with a malformed id", field, v)
			}
		}
	})
}

// FuzzDecodeImport: any body decodes to a request or to a 4xx; never a panic, never more rows
// than the synchronous limit, never an unknown mode.
func FuzzDecodeImport(f *testing.F) {
	for _, seed := range []string{
		`{"screenerId":"scr_01jd3m00000000000000000000","importMode":"FULL_SYNC","participants":[{"externalUid":"crm-001","email":"alex@example.com","name":"Alex Lee"}]}`,
		`{"screenerId":"scr_1","importMode":null,"participants":[null,{}]}`,
		`{"screenerId":5}`, `[]`, `null`, `{"participants":[{"email":"a@b.co","name":"x","extra":1}]}`,
		`{"screenerId":"s","participants":[]} trailing`, "\xff\xfe", `{"importMode":"UPDATES_ONLY","participants":{}}`,
		`{"screenerId":"scr_1","screenerId":"scr_2","participants":[]}`, `{"screenerId":"scr_1","participants":[{"email":"a@b.co","email":"c@d.co","name":"x"}]}`,
		"{\"screenerId\":\"scr_1\",\"participants\":[{\"email\":\"a@b.co\",\"name\":\"\xc3(\"}]}", "{\"scr\xc3eenerId\":\"scr_1\"}",
		`{"screenerId":"scr_1","participants":[{"email":"a@b.co","name":"\udc00"}]}`, `{"screenerId":"scr_1","\u0073creenerId":"scr_2"}`,
	} {
		f.Add("application/json", []byte(seed))
	}
	for _, seed := range []string{
		"externalUid,email,name\r\ncrm-1,a@example.com,\"Lee, Alex\"\r\n", "\xef\xbb\xbfname,email\n\"A \"\"Q\"\"\nB\",a@b.co\n",
		"email,name\na@b.co\n", "email,name,phone\n", "email,name\n\"a@b.co,x\n", "", "email,email,name\n",
		"email,name\na@b.co,Zo\xeb\n", "\xef\xbb\xbfemail,name\na@b.co,\"\xc3(\"\n",
	} {
		f.Add("text/csv", []byte(seed))
	}
	f.Add("text/plain", []byte(`{}`))
	f.Add("application/json; charset=utf-8", []byte(`{"screenerId":"x","participants":[]}`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		query := url.Values{}
		if strings.HasPrefix(contentType, "text/csv") {
			query.Set("screenerId", "scr_01jd3m00000000000000000000")
		}
		req, err := DecodeImport(contentType, query, body)
		if err != nil {
			var rejected *requestError
			if !errors.As(err, &rejected) || rejected.status < 400 || rejected.status > 499 {
				t.Fatalf("error %v is not a 4xx request error", err)
			}
			return
		}
		if !utf8.Valid(body) || !strings.HasPrefix(contentType, "text/csv") && !jsontext.Value(body).IsValid() {
			t.Fatalf("accepted a body with invalid UTF-8 or a repeated key: %q", body)
		}
		if req.ScreenerID == "" {
			t.Fatalf("accepted %d rows, screener %q", len(req.Rows), req.ScreenerID)
		}
		if req.Mode != screening.UpdatesOnly && req.Mode != screening.FullSync {
			t.Fatalf("accepted mode %q", req.Mode)
		}
	})
}
