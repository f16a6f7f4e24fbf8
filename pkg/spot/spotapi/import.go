package spotapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/httpx"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/platform/strictbody"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
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

// DecodeImport reads and checks an import request up to what the domain validates: the body
// (JSON, or CSV with screenerId and importMode in the query), unknown fields, screenerId,
// importMode, and the query's dryRun and maxRemovals.
func DecodeImport(contentType string, query url.Values, body []byte) (screening.ImportRequest, error) {
	format, err := bodyFormat(contentType)
	if err != nil {
		return screening.ImportRequest{}, err
	}
	if len(body) > MaxBodyBytes {
		return screening.ImportRequest{}, &requestError{status: http.StatusRequestEntityTooLarge, code: CodePayloadTooLarge,
			message: fmt.Sprintf("The body is larger than %d bytes.", MaxBodyBytes)}
	}
	opts, fields := parseImportQuery(query, format)
	if len(fields) > 0 {
		return screening.ImportRequest{}, badRequest(CodeInvalidQuery, "The query parameters are not valid; nothing was written.", fields...)
	}
	var req screening.ImportRequest
	if format == formatCSV {
		req, err = opts.csvRequest(body)
	} else {
		var b importBody
		if err = decodeStrict(body, &b); err == nil {
			req, err = b.request()
		}
	}
	if err != nil {
		return req, err
	}
	req.DryRun, req.MaxRemovals = opts.dryRun, opts.maxRemovals
	if req.MaxRemovals != nil && req.Mode != screening.FullSync {
		return req, badRequest(CodeInvalidQuery, "maxRemovals guards a FULL_SYNC only; nothing was written.",
			FieldError{Field: paramMaxRemovals, Code: screening.CodeInvalid, Message: "maxRemovals applies only with importMode FULL_SYNC"})
	}
	return req, nil
}

// The formats an import body comes in.
type format int

const (
	formatJSON format = iota
	formatCSV
)

// bodyFormat reads the Content-Type: JSON (also when absent) or CSV in UTF-8.
func bodyFormat(ct string) (format, error) {
	if ct == "" {
		return formatJSON, nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return formatJSON, nil
	case mt == "text/csv" && (params["charset"] == "" || strings.EqualFold(params["charset"], "utf-8")):
		return formatCSV, nil
	}
	return formatJSON, &requestError{status: http.StatusUnsupportedMediaType, code: CodeUnsupportedMediaType,
		message: "The body must be JSON (Content-Type: application/json) or CSV in UTF-8 (Content-Type: text/csv)."}
}

// Query parameters of the import (our extension).
const (
	paramDryRun      = "dryRun"
	paramMaxRemovals = "maxRemovals"
	paramScreenerID  = "screenerId"
	paramImportMode  = "importMode"
)

// importOptions are what an import takes from its query string.
type importOptions struct {
	dryRun      bool
	maxRemovals *int
	screenerID  string  // CSV bodies only
	importMode  *string // CSV bodies only
}

// parseImportQuery reads dryRun and maxRemovals, and for a CSV body screenerId and importMode
// (a JSON body carries those itself, so they are refused in its query). Other parameters are
// ignored.
func parseImportQuery(q url.Values, f format) (importOptions, []FieldError) {
	var o importOptions
	var errs []FieldError
	for _, name := range []string{paramDryRun, paramMaxRemovals, paramScreenerID, paramImportMode} {
		values, given := q[name]
		switch {
		case !given:
			continue
		case len(values) > 1:
			errs = append(errs, FieldError{Field: name, Code: screening.CodeInvalid, Message: name + " is given more than once"})
			continue
		case f == formatJSON && (name == paramScreenerID || name == paramImportMode):
			errs = append(errs, FieldError{Field: name, Code: screening.CodeInvalid, Message: name + " goes in the JSON body; the query takes it only with a CSV body"})
			continue
		}
		v := values[0]
		switch name {
		case paramDryRun:
			switch v {
			case "true", "false":
				o.dryRun = v == "true"
			default:
				errs = append(errs, FieldError{Field: name, Code: screening.CodeInvalid, Message: "dryRun must be true or false"})
			}
		case paramMaxRemovals:
			n, e := parseInt(name, v, 0)
			errs = appendIf(errs, e)
			if e == nil {
				o.maxRemovals = &n
			}
		case paramScreenerID:
			o.screenerID = v
		case paramImportMode:
			o.importMode = &v
		}
	}
	return o, errs
}

// decodeStrict decodes one JSON value, rejecting unknown fields, trailing data, repeated keys
// and invalid UTF-8 (strictbody).
func decodeStrict(body []byte, v any) error {
	err := strictbody.JSON(body, v, strictbody.Options{DisallowUnknownFields: true})
	var strict *strictbody.Error
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &strict):
		return badRequest(CodeInvalidJSON, "The body is not valid JSON: "+strict.Error()+"; nothing was written.", strictField(strict))
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

// strictField names what strictbody refused: the repeated key where it sits, or the body.
func strictField(e *strictbody.Error) FieldError {
	if e.Problem == strictbody.DuplicateKey {
		return FieldError{Field: e.KeyPath(), Code: screening.CodeInvalid, Message: fmt.Sprintf("%s is given twice; a key may appear once in an object", e.KeyPath())}
	}
	return FieldError{Field: fieldBody, Code: screening.CodeInvalid, Message: e.Error()}
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
	var screenerID string
	if b.ScreenerID != nil {
		screenerID = *b.ScreenerID
	}
	req, fields := importTarget(screenerID, b.ImportMode)
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

// importTarget checks an import's screenerId and importMode (nil: the default), wherever the
// request carries them.
func importTarget(screenerID string, mode *string) (screening.ImportRequest, []FieldError) {
	var fields []FieldError
	req := screening.ImportRequest{ScreenerID: screenerID, Mode: screening.UpdatesOnly}
	if screenerID == "" {
		fields = append(fields, FieldError{Field: paramScreenerID, Code: screening.CodeRequired, Message: "screenerId is required"})
	}
	if mode != nil {
		switch m := screening.ImportMode(*mode); m {
		case screening.UpdatesOnly, screening.FullSync:
			req.Mode = m
		default:
			fields = append(fields, FieldError{Field: paramImportMode, Code: screening.CodeInvalid, Message: "importMode must be UPDATES_ONLY, FULL_SYNC or null"})
		}
	}
	return req, fields
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
	req, err := DecodeImport(r.Header.Get("Content-Type"), r.URL.Query(), body)
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
	report, err := a.Service.RunImport(r.Context(), p.WorkspaceID, actor, req)
	var tooMany *screening.TooManyRemovalsError
	switch {
	case errors.Is(err, vocab.ErrNotFound):
		WriteProblem(w, r, http.StatusNotFound, CodeNotFound, "The screener was not found.", nil)
	case errors.As(err, &tooMany):
		WriteProblem(w, r, http.StatusConflict, CodeTooManyRemovals, removalGuardMessage(req.Mode, tooMany), nil)
	case err != nil:
		a.writeError(w, r, err)
	case req.DryRun:
		writeOK(w, toImportPlan(req, report))
	default:
		out := make([]screenerParticipantJSON, len(report.Rows))
		for i, row := range report.Rows {
			out[i] = toScreenerParticipant(row.ScreenerParticipant)
		}
		writeOK(w, out)
	}
}

// removalGuardMessage says why the guard refused a synchronous import, in the words a job
// refused by it ends with.
func removalGuardMessage(mode screening.ImportMode, e *screening.TooManyRemovalsError) string {
	reason := jobs.RemovalGuardReason(string(mode), e.Removals, e.Max)
	return strings.ToUpper(reason[:1]) + reason[1:] + "."
}

// importPlanJSON is a synchronous dry run's answer: what the import would do, row by row.
type importPlanJSON struct {
	Type       string             `json:"_type"`
	DryRun     bool               `json:"dryRun"`
	ScreenerID string             `json:"screenerId"`
	ImportMode string             `json:"importMode"`
	Counts     importCountsJSON   `json:"counts"`
	Results    []importResultJSON `json:"results"`
}

func toImportPlan(req screening.ImportRequest, report screening.ImportReport) importPlanJSON {
	results := spotjobs.Results(req.Rows, report)
	return importPlanJSON{
		Type: "ScreenerParticipantImportPlan", DryRun: true, ScreenerID: req.ScreenerID, ImportMode: string(req.Mode),
		Counts: toImportCounts(len(req.Rows), jobs.CountRows(results)), Results: toImportResults(results),
	}
}

func writeOK(w http.ResponseWriter, body any) { httpx.WriteJSON(w, http.StatusOK, body) }
