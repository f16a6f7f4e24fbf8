package spotapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/participant-roster/roster/pkg/platform/httpx"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Error codes of the family's error envelope (documented in api/openapi.yaml).
const (
	CodeUnauthorized         = "UNAUTHORIZED"
	CodeUnsupportedVersion   = "UNSUPPORTED_API_VERSION"
	CodeInvalidQuery         = "INVALID_QUERY"
	CodeInvalidJSON          = "INVALID_JSON"
	CodeValidationFailed     = "VALIDATION_FAILED"
	CodeNotFound             = "NOT_FOUND"
	CodeConflict             = "CONFLICT"
	CodePayloadTooLarge      = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeInternal             = "INTERNAL_ERROR"
	// Our extensions' codes: a CSV body that cannot be read or whose header is not ours, a
	// removal guard that refused a FULL_SYNC, a cancel of a finished import.
	CodeInvalidCSV      = "INVALID_CSV"
	CodeTooManyRemovals = "TOO_MANY_REMOVALS"
	CodeImportFinished  = "IMPORT_FINISHED"
)

// Field error codes beyond the domain's.
const (
	FieldUnknownField    = "UNKNOWN_FIELD"
	FieldUnknownFilter   = "UNKNOWN_FILTER"
	FieldUnknownOperator = "UNKNOWN_OPERATOR"
	FieldInvalidNumber   = "INVALID_NUMBER"
	FieldOutOfRange      = "OUT_OF_RANGE"
)

const unauthorizedMessage = "Missing or invalid API credentials."

// Problem is the family's error envelope.
type Problem struct {
	Type      string       `json:"_type"`
	Status    int          `json:"status"`
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	RequestID string       `json:"requestId"`
	Errors    []FieldError `json:"errors"`
}

// FieldError is one problem with one field.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Row     *int   `json:"row,omitempty"`
}

// WriteProblem writes the envelope. Field errors may be nil.
func WriteProblem(w http.ResponseWriter, r *http.Request, status int, code, message string, fields []FieldError) {
	if fields == nil {
		fields = []FieldError{}
	}
	httpx.WriteJSON(w, status, Problem{
		Type: "Error", Status: status, Code: code, Message: message,
		RequestID: httpx.RequestID(r.Context()), Errors: fields,
	})
}

// writeError maps a domain or store error to its status. Anything unknown is ours: 500,
// logged, with no detail leaked.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var invalid *screening.ValidationError
	switch {
	case errors.As(err, &invalid):
		WriteProblem(w, r, http.StatusBadRequest, CodeValidationFailed, invalid.Message, fromDomain(invalid.Fields))
	case errors.Is(err, vocab.ErrNotFound):
		WriteProblem(w, r, http.StatusNotFound, CodeNotFound, "The resource was not found.", nil)
	case errors.Is(err, vocab.ErrConflict):
		WriteProblem(w, r, http.StatusConflict, CodeConflict, "The records changed while this request ran; nothing was lost, retry the request.", nil)
	default:
		a.Log.ErrorContext(r.Context(), "request failed", slog.String("requestId", httpx.RequestID(r.Context())), slog.Any("error", err))
		WriteProblem(w, r, http.StatusInternalServerError, CodeInternal, "Internal error; the request id identifies it in our logs.", nil)
	}
}

func fromDomain(in []screening.FieldError) []FieldError {
	out := make([]FieldError, len(in))
	for i, f := range in {
		out[i] = FieldError{Field: f.Field, Code: f.Code, Message: f.Message, Row: f.Row}
	}
	return out
}

func notFound(w http.ResponseWriter, r *http.Request) {
	WriteProblem(w, r, http.StatusNotFound, CodeNotFound, "The resource was not found.", nil)
}

// WriteNoSuchID writes a route's answer for a path parameter that names nothing, whichever it
// is: the $default route's function answers so for an id API Gateway could not route, one
// holding a slash.
func WriteNoSuchID(w http.ResponseWriter, r *http.Request, _ routes.Route, _ string) {
	notFound(w, r)
}

// WriteRouteError writes the family's error for a request its handler never answered: an
// event that is no request, a method or path the route does not serve, a panic.
func WriteRouteError(w http.ResponseWriter, r *http.Request, status int, message string) {
	code := map[int]string{
		http.StatusBadRequest: CodeInvalidQuery, http.StatusNotFound: CodeNotFound,
		http.StatusMethodNotAllowed: CodeNotFound, http.StatusInternalServerError: CodeInternal,
	}[status]
	WriteProblem(w, r, status, code, message, nil)
}
