package spotapi

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

// Pagination defaults and limits of the family.
const (
	DefaultLimit = 100
	MaxLimit     = 500
	maxOffset    = 1 << 30
	// maxFilterRunes matches the longest external uid; 256 runes fit DynamoDB's key limit.
	maxFilterRunes = screening.MaxExternalUIDLen
)

// filterSpec says which filters a list accepts and how a value is checked: an id prefix, or
// "" for free text.
type filterSpec map[string]ids.Prefix

var filterKey = regexp.MustCompile(`^filter\[([^\[\]]*)\]\[([^\[\]]*)\]$`)

// listQuery is a parsed list request.
type listQuery struct {
	Page    screening.Page
	Filters map[string]string
}

// parseListQuery reads pagination[...] and filter[field][op] parameters. Other parameters are
// ignored (cache busters and the like); anything malformed inside those two namespaces is an
// error naming the parameter, so a typo never silently widens a list. A list whose store
// pages by cursor (cursors true) also takes pagination[cursor], our extension, never with
// pagination[offset]; whether the store made the cursor for this list is the store's check.
func parseListQuery(q url.Values, spec filterSpec, cursors bool) (listQuery, []FieldError) {
	lq := listQuery{Page: screening.Page{Offset: 0, Limit: DefaultLimit}, Filters: map[string]string{}}
	var errs []FieldError
	for _, name := range sortedKeys(q) {
		values := q[name]
		if (strings.HasPrefix(name, "pagination") || strings.HasPrefix(name, "filter")) && len(values) > 1 {
			errs = append(errs, FieldError{Field: name, Code: screening.CodeInvalid, Message: name + " is given more than once"})
			continue
		}
		switch {
		case name == "pagination[offset]":
			n, e := parseInt(name, values[0], 0)
			errs, lq.Page.Offset = appendIf(errs, e), n
		case name == "pagination[limit]":
			n, e := parseInt(name, values[0], 1)
			errs, lq.Page.Limit = appendIf(errs, e), min(n, MaxLimit)
		case name == paramCursor && cursors:
			errs, lq.Page.Cursor = appendIf(errs, checkCursor(values[0])), values[0]
		case strings.HasPrefix(name, "pagination"):
			use := "pagination[offset] and pagination[limit]"
			if cursors {
				use = "pagination[offset] or pagination[cursor], and pagination[limit]"
			}
			errs = append(errs, FieldError{Field: name, Code: FieldUnknownField,
				Message: "unknown pagination parameter; use " + use})
		case strings.HasPrefix(name, "filter"):
			if e := addFilter(lq.Filters, name, values[0], spec); e != nil {
				errs = append(errs, *e)
			}
		}
	}
	if _, both := q["pagination[offset]"]; both && lq.Page.Cursor != "" {
		errs = append(errs, FieldError{Field: paramCursor, Code: screening.CodeInvalid,
			Message: "pagination[cursor] and pagination[offset] cannot be combined: a cursor page starts after the cursor's record"})
	}
	return lq, errs
}

// paramCursor is our extension of the vendor's pagination: the nextCursor of a page.
const paramCursor = "pagination[cursor]"

// checkCursor is the shape check of a cursor (the store checks that it made it for this list).
func checkCursor(v string) *FieldError {
	if v == "" || len(v) > screening.MaxCursorLen || strings.Trim(v, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_") != "" {
		return invalidCursor()
	}
	return nil
}

func invalidCursor() *FieldError {
	return &FieldError{Field: paramCursor, Code: screening.CodeInvalid,
		Message: "pagination[cursor] is not a cursor of this list; use the nextCursor of a page of the same list and filters"}
}

func appendIf(errs []FieldError, e *FieldError) []FieldError {
	if e != nil {
		return append(errs, *e)
	}
	return errs
}

func parseInt(name, v string, least int) (int, *FieldError) {
	n, err := strconv.Atoi(v)
	if err != nil || n > maxOffset {
		return 0, &FieldError{Field: name, Code: FieldInvalidNumber, Message: fmt.Sprintf("%s must be a whole number from %d to %d", name, least, maxOffset)}
	}
	if n < least {
		return 0, &FieldError{Field: name, Code: FieldOutOfRange, Message: fmt.Sprintf("%s must be at least %d", name, least)}
	}
	return n, nil
}

func addFilter(filters map[string]string, name, value string, spec filterSpec) *FieldError {
	m := filterKey.FindStringSubmatch(name)
	if m == nil {
		return &FieldError{Field: name, Code: screening.CodeInvalid, Message: "filters take the form filter[<field>][eq]=<value>"}
	}
	field, op := m[1], m[2]
	prefix, known := spec[field]
	switch {
	case !known:
		return &FieldError{Field: name, Code: FieldUnknownFilter, Message: fmt.Sprintf("unknown filter field %q; this list filters on: %s", field, strings.Join(sortedKeys(spec), ", "))}
	case op != "eq":
		return &FieldError{Field: name, Code: FieldUnknownOperator, Message: fmt.Sprintf("unknown filter operator %q; the only operator is eq", op)}
	case value == "":
		return &FieldError{Field: name, Code: screening.CodeRequired, Message: "the filter value must not be empty"}
	case prefix == "" && (!utf8.ValidString(value) || utf8.RuneCountInString(value) > maxFilterRunes):
		// Free-text values become key parts, which DynamoDB caps at 1,024 bytes.
		return &FieldError{Field: name, Code: screening.CodeTooLong, Message: fmt.Sprintf("the filter value must be valid UTF-8 of at most %d characters", maxFilterRunes)}
	case prefix != "" && !ids.Valid(prefix, value):
		return &FieldError{Field: name, Code: screening.CodeInvalid, Message: fmt.Sprintf("%q is not a %s id", value, strings.TrimSuffix(string(prefix), "_"))}
	}
	filters[field] = value
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
