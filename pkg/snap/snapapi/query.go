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

const msgBadStartingFrom = "The query parameter 'startingFrom' must be 0 or a progress token returned by an earlier call."

// startingFrom reads the startingFrom token for records of a kind.
func (q *query) startingFrom(kind ids.Prefix) (token, after string) {
	token = q.startToken()
	after, ok := DecodeToken(token, kind)
	if !ok {
		q.fail(msgBadStartingFrom)
	}
	return token, after
}

func (q *query) startToken() string {
	if token := q.get("startingFrom"); token != "" {
		return token
	}
	return "0"
}

// Position tokens page what the store pages by position (an import's results, a survey's
// imports): the token names the position to resume at and the listing it belongs to (its
// scope: the job or survey, and the filter), so a token of another listing is refused rather
// than read at a position that means something else there.
const positionTokenPrefix = "o1:"

// encodePositionToken makes the progress token that resumes a listing at a position.
func encodePositionToken(scope string, position int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(positionTokenPrefix + scope + "@" + strconv.Itoa(position)))
}

// decodePositionToken returns the position a token of the scope's listing resumes at (0 for
// "0"), or false if it is not such a token.
func decodePositionToken(token, scope string) (int, bool) {
	if token == "0" {
		return 0, true
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(raw), positionTokenPrefix+scope+"@")
	n, err := strconv.Atoi(rest)
	if !ok || err != nil || n < 0 || strconv.Itoa(n) != rest {
		return 0, false
	}
	return n, true
}

// startingAt reads the startingFrom token of a listing paged by position.
func (q *query) startingAt(scope string) (token string, position int) {
	token = q.startToken()
	position, ok := decodePositionToken(token, scope)
	if !ok {
		q.fail(msgBadStartingFrom)
	}
	return token, position
}

// oneOf reads a parameter that, when given, is one of words (any case); it returns the word
// as listed, or "" when absent.
func (q *query) oneOf(name string, words []string) string {
	v := q.get(name)
	if v == "" {
		return ""
	}
	for _, w := range words {
		if strings.EqualFold(v, w) {
			return w
		}
	}
	q.fail(fmt.Sprintf("The query parameter '%s' must be one of %s.", name, strings.Join(words, ", ")))
	return ""
}

// progress is the token to send next: after the page's last record, or the same token when
// the page was empty.
func progress(startingFrom string, lastID string) string {
	if lastID == "" {
		return startingFrom
	}
	return EncodeToken(lastID)
}
