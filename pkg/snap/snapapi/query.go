package snapapi

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/participant-roster/roster/pkg/platform/ids"
)

// MaxPage is the largest page of participants or responses, and the default.
const MaxPage = 5000

// query reads a call's query parameters: each known at most once, none unknown (the vendor
// answers 400 to an incorrect or unknown parameter).
type query struct {
	values url.Values
	err    string
}

func parseQuery(u *url.URL, known ...string) query {
	q := query{values: u.Query()}
	for name, vs := range q.values {
		switch {
		case !slices.Contains(known, name):
			q.fail(fmt.Sprintf("The query parameter '%s' is not recognised.", name))
		case len(vs) > 1:
			q.fail(fmt.Sprintf("The query parameter '%s' is given more than once.", name))
		}
	}
	return q
}

func (q *query) fail(msg string) {
	if q.err == "" {
		q.err = msg
	}
}

func (q *query) get(name string) string { return q.values.Get(name) }

// boolean reads true/false (any case); absent is def.
func (q *query) boolean(name string, def bool) bool {
	switch v := strings.ToLower(q.get(name)); v {
	case "":
		return def
	case "true":
		return true
	case "false":
		return false
	}
	q.fail(fmt.Sprintf("The query parameter '%s' must be true or false.", name))
	return def
}

// size reads a page size from 1 to MaxPage; absent is MaxPage.
func (q *query) size(name string) int {
	v := q.get(name)
	if v == "" {
		return MaxPage
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxPage {
		q.fail(fmt.Sprintf("The query parameter '%s' must be a whole number from 1 to %d.", name, MaxPage))
		return MaxPage
	}
	return n
}

// Progress tokens are opaque to clients: "0" starts at the beginning; a token names the last
// record a page returned, so the next page resumes right after it, also when records were
// added or deleted since.
const tokenPrefix = "p1:"

// EncodeToken makes the progress token that resumes after the record with id last.
func EncodeToken(last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + last))
}

// DecodeToken returns the id a token resumes after ("" for "0"), or false if the token is not
// one of ours for records of this kind.
func DecodeToken(token string, kind ids.Prefix) (string, bool) {
	if token == "0" || token == "" {
		return "", true
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", false
	}
	last, ok := strings.CutPrefix(string(raw), tokenPrefix)
	if !ok || !ids.Valid(kind, last) {
		return "", false
	}
	return last, true
}

// startingFrom reads the startingFrom token for records of a kind.
func (q *query) startingFrom(kind ids.Prefix) (token, after string) {
	token = q.get("startingFrom")
	if token == "" {
		token = "0"
	}
	after, ok := DecodeToken(token, kind)
	if !ok {
		q.fail("The query parameter 'startingFrom' must be 0 or a progress token returned by an earlier call.")
	}
	return token, after
}

// progress is the token to send next: after the page's last record, or the same token when
// the page was empty.
func progress(startingFrom string, lastID string) string {
	if lastID == "" {
		return startingFrom
	}
	return EncodeToken(lastID)
}
