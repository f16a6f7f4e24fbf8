package httpx

import (
	"net/http"
	"testing"
)

func TestPrefersCSV(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                       false,
		"*/*":                                    false,
		"application/json":                       false,
		"text/html":                              false,
		"text/csv":                               true,
		"text/csv;q=0":                           false,
		"application/json, text/csv":             false,
		"text/csv, application/json":             true,
		"text/csv;q=0.5, application/json":       false,
		"application/json;q=0.5, text/csv":       true,
		"*/*, text/csv":                          true, // text/csv is more specific
		"text/csv;q=0.5, */*":                    false,
		"application/*;q=0.9, text/csv":          true,
		"text/csv;q=bad, application/json":       false,
		"text/*, text/csv;q=0.9":                 true,
		"TEXT/CSV":                               true,
		"text/csv; charset=utf-8; q=0.8":         true,
		"application/json;q=0.8, text/csv;q=0.8": false,
	} {
		h := http.Header{}
		if accept != "" {
			h.Set("Accept", accept)
		}
		if got := PrefersCSV(h); got != want {
			t.Errorf("PrefersCSV(%q) = %v, want %v", accept, got, want)
		}
	}
	split := http.Header{"Accept": {"application/json;q=0.5", "text/csv"}}
	if !PrefersCSV(split) {
		t.Error("an Accept header in two values is read as one list")
	}
}
