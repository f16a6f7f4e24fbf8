package httpx

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// ContentTypeCSV is the Content-Type of the CSV answers both families give (import results).
const ContentTypeCSV = "text/csv; charset=utf-8"

// PrefersCSV reads a request's Accept header (RFC 9110 section 12.5.1, as far as the results
// calls need it): CSV when text/csv is listed with a higher quality than JSON (application/json,
// or failing that application/* or */*), or with the same quality and no application/json before
// it (a wildcard is less specific than text/csv). No Accept, or */* alone, is JSON. The header
// may come as several values (the Lambda adapter splits API Gateway's comma-joined ones).
func PrefersCSV(h http.Header) bool {
	csvQ, jsonQ, wildQ := -1.0, -1.0, -1.0
	csvAt, jsonAt := -1, -1
	for i, part := range strings.Split(strings.Join(h.Values("Accept"), ","), ",") {
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
		switch mt {
		case "text/csv":
			if q > csvQ {
				csvQ, csvAt = q, i
			}
		case "application/json":
			if q > jsonQ {
				jsonQ, jsonAt = q, i
			}
		case "application/*", "*/*":
			wildQ = max(wildQ, q)
		}
	}
	if jsonAt < 0 {
		jsonQ = wildQ
	}
	switch {
	case csvQ <= 0:
		return false
	case csvQ != jsonQ:
		return csvQ > jsonQ
	}
	return jsonAt < 0 || csvAt < jsonAt
}
