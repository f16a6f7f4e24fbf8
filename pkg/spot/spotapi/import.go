package spotapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/participant-roster/roster/pkg/platform/httpx"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Import limits: the synchronous path handles up to MaxSyncRows rows and MaxSyncBytes of body;
// a larger import (or one sent with Prefer: respond-async) runs as a job through the queue. The
// body may be as large as a Lambda can receive.
const (
	MaxSyncRows  = 1000
	MaxSyncBytes = 1 << 20
	MaxBodyBytes = 6 << 20
)

type importBody struct {
	ScreenerID   *string           `json:"screenerId"`
	ImportMode   *string           `json:"importMode"`
	Participants *[]*importRowJSON `json:"participants"`
}

type importRowJSON struct {
	ExternalUID *string `json:"externalUid"`
	Email       *string `json:"email"`
	Name        *string `json:"name"`
}

// requestError is a rejected request with its status, code and field errors.
type requestError struct {
	status  int
	code    string
	message string
	fields  []FieldError
}

func (e *requestError) Error() string { return e.message }

func badRequest(code, message string, fields ...FieldError) *requestError {
	return &requestError{status: http.StatusBadRequest, code: code, message: message, fields: fields}
}

// DecodeImport reads and checks an import body up to what the domain validates: JSON shape,
// unknown fields, screenerId, importMode and the row limit.
func DecodeImport(contentType string, body []byte) (screening.ImportRequest, error) {
	if err := checkContentType(contentType); err != nil {
		return screening.ImportRequest{}, err
	}
	if len(body) > MaxBodyBytes {
		return screening.ImportRequest{}, &requestError{status: http.StatusRequestEntityTooLarge, code: CodePayloadTooLarge,
			message: fmt.Sprintf("The body is larger than %d bytes.", MaxBodyBytes)}
	}
	var b importBody
	if err := decodeStrict(body, &b); err != nil {
		return screening.ImportRequest{}, err
	}
	return b.request()
}

func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &requestError{status: http.StatusUnsupportedMediaType, code: CodeUnsupportedMediaType,
			message: "The body must be JSON (Content-Type: application/json)."}
	}
	return nil
}

// decodeStrict decodes one JSON value, rejecting unknown fields and trailing data.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("unexpected data after the JSON value")
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		return badRequest(CodeValidationFailed, "The body has a field of the wrong type.",
			FieldError{Field: typeErr.Field, Code: screening.CodeInvalid, Message: fmt.Sprintf("%s must be a %s, not a JSON %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(CodeValidationFailed, fmt.Sprintf("The body has an unknown field %q.", field),
			FieldError{Field: field, Code: FieldUnknownField, Message: "unknown field; the body takes screenerId, importMode and participants (externalUid, email, name)"})
	}
	return badRequest(CodeInvalidJSON, "The body is not valid JSON: "+err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "ptr", "string":
		return "string"
	case "slice":
		return "array"
	case "struct":
		return "object"
	}
	return goKind
}

func (b importBody) request() (screening.ImportRequest, error) {
	var fields []FieldError
	req := screening.ImportRequest{Mode: screening.UpdatesOnly}
	switch {
	case b.ScreenerID == nil || *b.ScreenerID == "":
		fields = append(fields, FieldError{Field: "screenerId", Code: screening.CodeRequired, Message: "screenerId is required"})
	default:
		req.ScreenerID = *b.ScreenerID
	}
	if b.ImportMode != nil {
		switch m := screening.ImportMode(*b.ImportMode); m {
		case screening.UpdatesOnly, screening.FullSync:
			req.Mode = m
		default:
			fields = append(fields, FieldError{Field: "importMode", Code: screening.CodeInvalid, Message: "importMode must be UPDATES_ONLY, FULL_SYNC or null"})
		}
	}
	if b.Participants == nil {
		fields = append(fields, FieldError{Field: "participants", Code: screening.CodeRequired, Message: "participants is required (an array, which may be empty)"})
	}
	if len(fields) > 0 {
		return req, badRequest(CodeValidationFailed, "The import request is not valid; nothing was written.", fields...)
	}
	for _, row := range *b.Participants {
		req.Rows = append(req.Rows, row.domain())
	}
	return req, nil
}

// domain converts a row; a null row or field becomes empty and fails validation by name.
func (r *importRowJSON) domain() screening.ImportRow {
	if r == nil {
		return screening.ImportRow{}
	}
	row := screening.ImportRow{ExternalUID: r.ExternalUID}
	if r.Email != nil {
		row.Email = *r.Email
	}
	if r.Name != nil {
		row.Name = *r.Name
	}
	return row
}

func (a *API) importScreenerParticipants(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, CodeInvalidJSON, "The body could not be read.", nil)
		return
	}
	req, err := DecodeImport(r.Header.Get("Content-Type"), body)
	var rejected *requestError
	if errors.As(err, &rejected) {
		WriteProblem(w, r, rejected.status, rejected.code, rejected.message, rejected.fields)
		return
	}
	if !ids.Valid(ids.Screener, req.ScreenerID) {
		WriteProblem(w, r, http.StatusNotFound, CodeNotFound, "The screener was not found.", nil)
		return
	}
	p := principal(r.Context())
	actor := vocab.Actor{Type: "ApplicationActor", ID: p.KeyID, Name: p.KeyName}
	preferAsync := prefersAsync(r.Header)
	large := len(req.Rows) > MaxSyncRows || len(body) > MaxSyncBytes
	switch {
	case (large || preferAsync) && a.Imports != nil && len(req.Rows) > 0:
		// An empty import has no chunk to queue (its job would never finish): it runs
		// synchronously, and the preference is not applied.
		a.submitImport(w, r, p.WorkspaceID, actor, req, preferAsync)
		return
	case len(req.Rows) > MaxSyncRows:
		// No queue (a local run without SQS): only the synchronous path exists.
		WriteProblem(w, r, http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
			fmt.Sprintf("The import has %d rows; up to %d rows are imported in one request. Split the import.", len(req.Rows), MaxSyncRows), nil)
		return
	}
	result, err := a.Service.Import(r.Context(), p.WorkspaceID, actor, req)
	if errors.Is(err, vocab.ErrNotFound) {
		WriteProblem(w, r, http.StatusNotFound, CodeNotFound, "The screener was not found.", nil)
		return
	}
	a.respond(w, r, err, func() any {
		out := make([]screenerParticipantJSON, len(result))
		for i, sp := range result {
			out[i] = toScreenerParticipant(sp)
		}
		return out
	})
}

func writeOK(w http.ResponseWriter, body any) { httpx.WriteJSON(w, http.StatusOK, body) }
