package screening

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field error codes, shared by every validation in this family.
const (
	CodeRequired            = "REQUIRED"
	CodeInvalid             = "INVALID"
	CodeInvalidEmail        = "INVALID_EMAIL"
	CodeTooLong             = "TOO_LONG"
	CodeDuplicateInPayload  = "DUPLICATE_IN_PAYLOAD"
	CodeEmailTaken          = "EMAIL_TAKEN"
	CodeExternalUIDConflict = "EXTERNAL_UID_CONFLICT"
)

// Limits on import rows.
const (
	MaxNameLen        = 256
	MaxEmailLen       = 254
	MaxExternalUIDLen = 256
)

// FieldError is one problem with one field of the input.
type FieldError struct {
	Field   string
	Code    string
	Message string
	Row     *int // payload row, for import rows
}

// ValidationError carries every field error of an input that was rejected as a whole.
type ValidationError struct {
	Message string
	Fields  []FieldError
}

func (e *ValidationError) Error() string { return e.Message }

// emailShape is the vendor's email pattern without its two lookaheads, which Go's regexp lacks;
// validEmail checks those separately (no leading dot, no "..").
var emailShape = regexp.MustCompile(`^([A-Za-z0-9_'+\-.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)

func validEmail(s string) bool {
	return len(s) <= MaxEmailLen && !strings.HasPrefix(s, ".") && !strings.Contains(s, "..") && emailShape.MatchString(s)
}

// NormalizeEmail is the form emails are compared and made unique in.
func NormalizeEmail(s string) string { return strings.ToLower(s) }

func rowError(row int, field, code, msg string) FieldError {
	r := row
	return FieldError{Field: fmt.Sprintf("participants[%d].%s", row, field), Code: code, Message: msg, Row: &r}
}

// checkRow returns the row's own problems: shape of each field, independent of other rows.
func checkRow(i int, r ImportRow) []FieldError {
	var errs []FieldError
	switch name := strings.TrimSpace(r.Name); {
	case name == "":
		errs = append(errs, rowError(i, "name", CodeRequired, "name must not be empty"))
	case utf8.RuneCountInString(r.Name) > MaxNameLen:
		errs = append(errs, rowError(i, "name", CodeTooLong, fmt.Sprintf("name must be at most %d characters", MaxNameLen)))
	case hasControl(r.Name):
		errs = append(errs, rowError(i, "name", CodeInvalid, "name must not contain control characters"))
	}
	switch {
	case r.Email == "":
		errs = append(errs, rowError(i, "email", CodeRequired, "email is required"))
	case !validEmail(r.Email):
		errs = append(errs, rowError(i, "email", CodeInvalidEmail, "email is not a valid email address"))
	}
	switch {
	case r.ExternalUID == nil:
	case *r.ExternalUID == "" || strings.TrimSpace(*r.ExternalUID) != *r.ExternalUID:
		errs = append(errs, rowError(i, "externalUid", CodeInvalid, "externalUid must be non-empty and have no leading or trailing spaces; omit it when there is none"))
	case utf8.RuneCountInString(*r.ExternalUID) > MaxExternalUIDLen:
		errs = append(errs, rowError(i, "externalUid", CodeTooLong, fmt.Sprintf("externalUid must be at most %d characters", MaxExternalUIDLen)))
	case hasControl(*r.ExternalUID):
		errs = append(errs, rowError(i, "externalUid", CodeInvalid, "externalUid must not contain control characters"))
	}
	return errs
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl) || !utf8.ValidString(s)
}

// checkDuplicates flags rows that repeat an earlier row's externalUid or email.
func checkDuplicates(rows []ImportRow) []FieldError {
	var errs []FieldError
	seenUID := map[string]int{}
	seenEmail := map[string]int{}
	for i, r := range rows {
		if r.ExternalUID != nil && *r.ExternalUID != "" {
			if first, dup := seenUID[*r.ExternalUID]; dup {
				errs = append(errs, rowError(i, "externalUid", CodeDuplicateInPayload, fmt.Sprintf("externalUid repeats row %d", first)))
			} else {
				seenUID[*r.ExternalUID] = i
			}
		}
		if r.Email != "" {
			key := NormalizeEmail(r.Email)
			if first, dup := seenEmail[key]; dup {
				errs = append(errs, rowError(i, "email", CodeDuplicateInPayload, fmt.Sprintf("email repeats row %d", first)))
			} else {
				seenEmail[key] = i
			}
		}
	}
	return errs
}

// ValidateImportRows checks what can be checked of an import's rows without the store: each
// row's shape and the duplicates inside the payload. It returns a *ValidationError listing
// every problem (in row order), or nil. Import runs the same checks; an asynchronous import
// runs them up front, since its chunks run apart and cannot see each other's duplicates.
func ValidateImportRows(rows []ImportRow) error {
	errs := checkDuplicates(rows)
	for i, r := range rows {
		errs = append(errs, checkRow(i, r)...)
	}
	if len(errs) > 0 {
		return invalidImport(errs)
	}
	return nil
}
