package spotclient

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// APIError is an answer with an error status, its problem body decoded when it has one.
type APIError struct {
	Status  int
	Problem Problem
	// Replayed: the answer is the one an identical earlier request with the same
	// Idempotency-Key got, stored by the API (Idempotent-Replayed: true).
	Replayed bool
}

func (e *APIError) Error() string {
	if e.Status == http.StatusUnauthorized {
		return "the API key or secret was refused (HTTP 401)"
	}
	msg := e.Problem.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	code := e.Problem.Code
	if code != "" {
		code = " " + code
	}
	return fmt.Sprintf("%s (HTTP %d%s)", strings.TrimSuffix(msg, "."), e.Status, code)
}

// FieldLines are the problem's field errors, one line each ("row 3, email: ...").
func (e *APIError) FieldLines() []string {
	var out []string
	for _, f := range e.Problem.Errors {
		where := f.Field
		if f.Row != nil {
			where = fmt.Sprintf("row %d, %s", *f.Row, f.Field)
		}
		msg := f.Message
		if msg == "" {
			msg = f.Code
		}
		out = append(out, where+": "+msg)
	}
	return out
}

// StatusOf is the HTTP status of an APIError in err's chain, or 0.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// CodeOf is the problem code of an APIError in err's chain, or "".
func CodeOf(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Problem.Code
	}
	return ""
}

// UnreachableError is a request that got no HTTP answer at all: the server is down, the URL
// is wrong, the connection broke.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the API at %s: %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }
