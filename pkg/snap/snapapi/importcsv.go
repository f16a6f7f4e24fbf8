package snapapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// An import's results as CSV (Accept: text/csv): one line per result, the participant's
// fields flattened to dotted column names (loginSection.login,
// invitationSection.inviteSeeding.Forenames), an array (the subjects) as its JSON text, then
// the outcome and the error. The columns are the union of the page's rows' fields, sorted by
// name, so that a page's header does not depend on the order of its rows.

// ContentTypeCSV is the Content-Type of CSV answers.
const ContentTypeCSV = "text/csv; charset=utf-8"

// csvTrailer are the columns after the participant's fields.
var csvTrailer = []string{"outcome", "error"}

// prefersCSV reports whether an Accept header asks for CSV rather than JSON: text/csv is
// listed with a higher quality than JSON (application/json, else application/*, else */*),
// or the same quality and before it. No Accept, or */* alone, is JSON.
func prefersCSV(accept string) bool {
	csvQ, csvAt := -1.0, 0
	jsonQ, jsonAt, jsonRank := -1.0, 0, 0
	for i, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		switch rank := map[string]int{"application/json": 3, "application/*": 2, "*/*": 1}[mt]; {
		case mt == "text/csv":
			csvQ, csvAt = q, i
		case rank > jsonRank:
			jsonQ, jsonAt, jsonRank = q, i, rank
		}
	}
	return csvQ > 0 && (csvQ > jsonQ || csvQ == jsonQ && csvAt < jsonAt)
}

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
	w.Header().Set("Content-Type", ContentTypeCSV)
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
