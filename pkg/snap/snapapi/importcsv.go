package snapapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/participant-roster/roster/pkg/platform/httpx"
)

// An import's results as CSV (Accept: text/csv): one line per result, the participant's
// fields flattened to dotted column names (loginSection.login,
// invitationSection.inviteSeeding.Forenames), an array (the subjects) as its JSON text, then
// the outcome and the error. The columns are the union of the page's rows' fields, sorted by
// name, so that a page's header does not depend on the order of its rows.

// csvTrailer are the columns after the participant's fields.
var csvTrailer = []string{"outcome", "error"}

// writeResultsCSV answers a page of results as CSV.
func writeResultsCSV(w http.ResponseWriter, results []importResultJSON) {
	rows := make([]map[string]string, len(results))
	seen := map[string]bool{}
	for i, res := range results {
		rows[i] = flattenParticipant(res.Participant)
		for name := range rows[i] {
			seen[name] = true
		}
	}
	columns := slices.Sorted(maps.Keys(seen))
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(append(slices.Clone(columns), csvTrailer...))
	for i, res := range results {
		line := make([]string, 0, len(columns)+len(csvTrailer))
		for _, name := range columns {
			line = append(line, rows[i][name])
		}
		message := ""
		if res.Message != nil {
			message = *res.Message
		}
		_ = cw.Write(append(line, res.Outcome, message))
	}
	cw.Flush() // writes to a buffer: it cannot fail
	w.Header().Set(HeaderSupportedVersions, SupportedVersions)
	w.Header().Set("Content-Type", httpx.ContentTypeCSV)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// flattenParticipant maps a participant's fields, as its JSON has them, to cells by dotted
// name: objects are walked, arrays are their JSON text, null is an empty cell.
func flattenParticipant(p *participantJSON) map[string]string {
	out := map[string]string{}
	if p == nil {
		return out
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return out // plain data: cannot happen
	}
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) == nil {
		flatten("", v, out)
	}
	return out
}

func flatten(prefix string, v any, out map[string]string) {
	name := strings.TrimSuffix(prefix, ".")
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			flatten(prefix+k+".", sub, out)
		}
	case nil:
		out[name] = ""
	case string:
		out[name] = v
	default: // an array, a bool, a number: as JSON
		out[name] = jsonText(v)
	}
}

// jsonText is v as compact JSON, without HTML escapes (a cell is no web page).
func jsonText(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // decoded JSON: it encodes
	return strings.TrimSuffix(buf.String(), "\n")
}
