package spotapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/httpx"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
)

// importResultJSON is one row's result (or one removal) of an import, a dry run's included.
type importResultJSON struct {
	Type                  string            `json:"_type"`
	Row                   *int              `json:"row"`
	Outcome               string            `json:"outcome"`
	ExternalUID           *string           `json:"externalUid"`
	Email                 *string           `json:"email"`
	Name                  *string           `json:"name"`
	ParticipantID         *string           `json:"participantId"`
	ScreenerParticipantID *string           `json:"screenerParticipantId"`
	Errors                []resultErrorJSON `json:"errors"`
}

type resultErrorJSON struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// fieldsOf decodes a result's Fields (a spotjobs.Row); ok is false when it has none (a row no
// chunk ran, whose message was lost).
func fieldsOf(r jobs.RowResult) (spotjobs.Row, bool) {
	var row spotjobs.Row
	if len(r.Fields) == 0 || json.Unmarshal(r.Fields, &row) != nil {
		return row, false
	}
	return row, true
}

func toImportResult(r jobs.RowResult) importResultJSON {
	out := importResultJSON{
		Type: "ScreenerParticipantImportResult", Outcome: r.Outcome, Errors: []resultErrorJSON{},
		ParticipantID: nullable(r.IDs[spotjobs.IDParticipant]), ScreenerParticipantID: nullable(r.IDs[spotjobs.IDScreenerParticipant]),
	}
	if r.Row >= 0 {
		row := r.Row
		out.Row = &row
	}
	if f, ok := fieldsOf(r); ok {
		out.ExternalUID, out.Email, out.Name = f.ExternalUID, &f.Email, &f.Name
	}
	for _, fe := range r.Errors {
		out.Errors = append(out.Errors, resultErrorJSON{Field: fe.Field, Code: fe.Code, Message: fe.Message})
	}
	return out
}

func toImportResults(rows []jobs.RowResult) []importResultJSON {
	out := make([]importResultJSON, len(rows))
	for i, r := range rows {
		out[i] = toImportResult(r)
	}
	return out
}

// resultsCSVHeader is a results CSV's header: a row's own columns (which an import reads), then
// the two an import ignores.
var resultsCSVHeader = []string{colExternalUID, colEmail, colName, colOutcome, colError}

// resultsCSV writes results as CSV: the row as sent, its outcome and its errors' messages
// joined by "; ". Fix the failed rows of such a file and it imports again.
func resultsCSV(rows []jobs.RowResult) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true // RFC 4180
	_ = w.Write(resultsCSVHeader)
	for _, r := range rows {
		f, _ := fieldsOf(r)
		uid := ""
		if f.ExternalUID != nil {
			uid = *f.ExternalUID
		}
		msgs := make([]string, len(r.Errors))
		for i, fe := range r.Errors {
			msgs[i] = fe.Message
		}
		_ = w.Write([]string{uid, f.Email, f.Name, r.Outcome, strings.Join(msgs, "; ")})
	}
	w.Flush() // a bytes.Buffer does not fail
	return buf.Bytes()
}

// setNextLink sets `Link: <…>; rel="next"` (RFC 8288) when items after this page match: the
// request's own URL with pagination[offset] moved past the page.
func setNextLink(w http.ResponseWriter, r *http.Request, offset, limit, returned, total int) {
	if returned == 0 || offset+returned >= total {
		return
	}
	q := url.Values{}
	for k, v := range r.URL.Query() {
		q[k] = v
	}
	q.Set("pagination[offset]", strconv.Itoa(offset+returned))
	q.Set("pagination[limit]", strconv.Itoa(limit))
	next := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	w.Header().Set("Link", "<"+next.String()+`>; rel="next"`)
}

func writeCSV(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", httpx.ContentTypeCSV)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
