package spotapi

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/participant-roster/roster/pkg/platform/strictbody"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

// The columns of an import CSV (our extension): a header row names them, in any order.
// externalUid is optional, and an empty externalUid cell is a row without one.
const (
	colExternalUID = "externalUid"
	colEmail       = "email"
	colName        = "name"
	// colOutcome and colError are the columns a results CSV adds after the row's own; an
	// import ignores them, so an exported file of failed rows, fixed, imports again.
	colOutcome = "outcome"
	colError   = "error"
)

// fieldBody names the body in a field error about the CSV as a whole.
const fieldBody = "body"

var utf8BOM = []byte("\xef\xbb\xbf")

// csvRequest reads a CSV import body (RFC 4180: quoted fields may hold commas, quotes and line
// breaks; CRLF or LF; UTF-8 with or without a byte order mark) with the query's screenerId and
// importMode.
func (o importOptions) csvRequest(body []byte) (screening.ImportRequest, error) {
	req, fields := importTarget(o.screenerID, o.importMode)
	if len(fields) > 0 {
		return req, badRequest(CodeInvalidQuery, "A CSV import takes screenerId (and importMode) as query parameters; nothing was written.", fields...)
	}
	var strict *strictbody.Error
	if errors.As(strictbody.Text(body), &strict) {
		return req, badCSV("The CSV body is not UTF-8: "+strict.Error()+"; nothing was written.", strictField(strict))
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, utf8BOM)))
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return req, badCSV("The CSV body is empty; its first line must be a header naming externalUid, email and name.")
	}
	if err != nil {
		return req, csvLineError(err)
	}
	cols, err := readHeader(header)
	if err != nil {
		return req, err
	}
	req.Rows = []screening.ImportRow{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return req, nil
		}
		if err != nil {
			return req, csvLineError(err)
		}
		req.Rows = append(req.Rows, cols.row(rec))
	}
}

// csvColumns is where each of our columns is in a record; -1 for an absent externalUid.
type csvColumns struct{ externalUID, email, name int }

func readHeader(header []string) (csvColumns, error) {
	cols := csvColumns{externalUID: -1, email: -1, name: -1}
	var fields []FieldError
	seen := map[string]bool{}
	for i, raw := range header {
		name := strings.TrimSpace(raw)
		var at *int
		switch name {
		case colExternalUID:
			at = &cols.externalUID
		case colEmail:
			at = &cols.email
		case colName:
			at = &cols.name
		case colOutcome, colError:
			continue
		default:
			fields = append(fields, FieldError{Field: fieldBody, Code: FieldUnknownField,
				Message: fmt.Sprintf("unknown column %q; the columns are externalUid, email and name (outcome and error are ignored)", name)})
			continue
		}
		if seen[name] {
			fields = append(fields, FieldError{Field: fieldBody, Code: screening.CodeInvalid, Message: fmt.Sprintf("column %q appears more than once", name)})
			continue
		}
		seen[name] = true
		*at = i
	}
	for _, required := range []struct {
		name string
		at   int
	}{{colEmail, cols.email}, {colName, cols.name}} {
		if required.at < 0 {
			fields = append(fields, FieldError{Field: fieldBody, Code: screening.CodeRequired, Message: fmt.Sprintf("the header has no %q column", required.name)})
		}
	}
	if len(fields) > 0 {
		return cols, badCSV("The CSV header is not valid; it names externalUid (optional), email and name, in any order.", fields...)
	}
	return cols, nil
}

// row converts a record; every record has the header's number of fields (encoding/csv checks).
func (c csvColumns) row(rec []string) screening.ImportRow {
	row := screening.ImportRow{Email: rec[c.email], Name: rec[c.name]}
	if c.externalUID >= 0 && rec[c.externalUID] != "" {
		uid := rec[c.externalUID]
		row.ExternalUID = &uid
	}
	return row
}

// csvLineError is the 400 of a line encoding/csv could not read, naming the line.
func csvLineError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return badCSV("The CSV body could not be read: " + err.Error())
	}
	msg := fmt.Sprintf("line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		msg = fmt.Sprintf("line %d: the record has a different number of fields than the header", pe.StartLine)
	}
	return badCSV(fmt.Sprintf("The CSV body is not valid at line %d; nothing was written.", pe.Line),
		FieldError{Field: fieldBody, Code: screening.CodeInvalid, Message: msg})
}

func badCSV(message string, fields ...FieldError) error {
	return badRequest(CodeInvalidCSV, message, fields...)
}
