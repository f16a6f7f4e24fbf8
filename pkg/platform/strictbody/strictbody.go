// Package strictbody reads request bodies for both API families, strictly: a body whose
// meaning a lenient reader would guess at is refused instead. A key given twice in one JSON
// object (at any depth, in array elements too) would otherwise be read last-value-wins, and
// bytes that are not UTF-8 would be stored as U+FFFD: in both cases what is stored would not
// be what the client sent. Every request body either family decodes goes through JSON (or, for
// a text body such as CSV, Text), so the rule lives here only.
//
// The strictness is go-json-experiment's jsontext (the encoding/json/v2 syntax layer, which
// refuses duplicate names and invalid UTF-8 by default); decoding itself stays encoding/json's,
// so field matching, numbers, null and the families' error messages are unchanged.
package strictbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Problem is what makes a body unacceptable whatever it decodes into.
type Problem int

const (
	// DuplicateKey is a key given twice in one object.
	DuplicateKey Problem = iota + 1
	// InvalidUTF8 is a byte sequence that is not UTF-8, in a string, a key or between them.
	InvalidUTF8
	// InvalidUnicode is a string whose escapes are not Unicode text (a lone \ud800 surrogate),
	// which encoding/json would store as U+FFFD.
	InvalidUnicode
)

// Error is a body refused for its Problem. Its text names the problem and where it is, for
// the families' messages: `duplicate key "email" in participants[1]`, `invalid UTF-8 in the
// body at byte 6`.
type Error struct {
	Problem Problem
	// Key is the repeated key (DuplicateKey).
	Key string
	// Object is the path of the object holding Key, as the client wrote it
	// (participants[1], loginSection); "" for the top-level object.
	Object string
	// Offset is the byte offset of the problem in the body.
	Offset int64
	detail string // InvalidUnicode: the parser's words
}

func (e *Error) Error() string {
	switch e.Problem {
	case DuplicateKey:
		if e.Object == "" {
			return fmt.Sprintf("duplicate key %q", e.Key)
		}
		return fmt.Sprintf("duplicate key %q in %s", e.Key, e.Object)
	case InvalidUTF8:
		return fmt.Sprintf("invalid UTF-8 in the body at byte %d", e.Offset)
	}
	return "invalid Unicode in the body: " + e.detail
}

// KeyPath is the repeated key's own path (participants[1].email), for a field error.
func (e *Error) KeyPath() string {
	if e.Object == "" {
		return e.Key
	}
	return e.Object + "." + e.Key
}

// ErrNotObject is a body that is one JSON value but not an object, when Options.Object asks
// for one.
var ErrNotObject = errors.New("the body is not a JSON object")

// Options say what JSON checks beyond the rules every body follows.
type Options struct {
	// Object requires the value to be an object: anything else is ErrNotObject.
	Object bool
	// DisallowUnknownFields makes a key that no field of the target takes an error, as
	// encoding/json's Decoder.DisallowUnknownFields does ("json: unknown field ...").
	DisallowUnknownFields bool
}

// JSON decodes body, which must be exactly one JSON value, into v. Its errors, in the order
// they are checked:
//   - *Error: invalid UTF-8 anywhere, an escape that is not Unicode, a key repeated in one
//     object at any depth;
//   - *json.SyntaxError: malformed JSON, an empty body, data after the value (encoding/json's
//     own words, as json.Unmarshal reports them);
//   - ErrNotObject, if opts.Object;
//   - what encoding/json's decoding returns (*json.UnmarshalTypeError, an unknown field).
func JSON(body []byte, v any, opts Options) error {
	if err := checkJSON(body); err != nil {
		return err
	}
	if opts.Object && !startsObject(body) {
		return ErrNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if opts.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	return dec.Decode(v) // one value, checked above: nothing can follow it
}

// Text checks a body that is text in UTF-8 (a CSV import): invalid UTF-8 is an *Error.
func Text(body []byte) error {
	if utf8.Valid(body) {
		return nil
	}
	return &Error{Problem: InvalidUTF8, Offset: int64(firstInvalidUTF8(body))}
}

// checkJSON is every rule that does not depend on the target: UTF-8, syntax, unique keys.
func checkJSON(body []byte) error {
	if err := Text(body); err != nil {
		return err
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	_, refused := dec.ReadValue()
	if refused == nil {
		if _, refused = dec.ReadValue(); refused == io.EOF {
			return nil
		}
	}
	var syn *jsontext.SyntacticError
	if errors.As(refused, &syn) && errors.Is(refused, jsontext.ErrDuplicateName) {
		return duplicateKey(body)
	}
	// Malformed (or trailing data, or empty): encoding/json says so in its own words. Only on
	// this path is the body parsed twice.
	if err := json.Unmarshal(body, new(json.RawMessage)); err != nil {
		return err
	}
	// encoding/json takes what jsontext refused: in valid UTF-8, that is an escape that is not
	// Unicode text (a lone surrogate).
	e := &Error{Problem: InvalidUnicode, detail: strings.TrimPrefix(fmt.Sprint(refused), "jsontext: ")}
	if syn != nil {
		e.Offset = syn.ByteOffset
	}
	return e
}

// duplicateKey finds the first repeated key token by token, to say where it is: the error's
// pointer gives the tokens, the decoder's stack which of them are array indexes.
func duplicateKey(body []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	var err error
	for err == nil {
		_, err = dec.ReadToken()
	}
	var syn *jsontext.SyntacticError
	if !errors.As(err, &syn) || !errors.Is(err, jsontext.ErrDuplicateName) {
		return fmt.Errorf("strictbody: the token walk disagrees with the value read: %w", err)
	}
	var tokens []string // the error's pointer ends in the repeated key; the stack's, in the one before
	for tok := range syn.JSONPointer.Tokens() {
		tokens = append(tokens, tok)
	}
	e := &Error{Problem: DuplicateKey, Offset: syn.ByteOffset}
	if len(tokens) == 0 {
		return e
	}
	e.Key = tokens[len(tokens)-1]
	var path strings.Builder
	for i, tok := range tokens[:len(tokens)-1] {
		// Stack level i+1 holds token i: its kind says index or key.
		switch kind, _ := dec.StackIndex(i + 1); {
		case kind == '[':
			path.WriteString("[" + tok + "]")
		case i > 0:
			path.WriteString("." + tok)
		default:
			path.WriteString(tok)
		}
	}
	e.Object = path.String()
	return e
}

func startsObject(body []byte) bool {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}
