// Package strictbodytest makes, from a body a route accepts, the bodies strictbody refuses:
// the same body with a key repeated at the top, in a nested object and in an array element,
// and with invalid UTF-8 in a string value, in a key and between tokens. A route test sends
// each and expects its family's 400 with nothing written, so a body route is tested against
// every refusal without writing them out by hand.
package strictbodytest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/participant-roster/roster/pkg/platform/routes"
)

// Refusal is one refused body and what the refusal's message names.
type Refusal struct {
	Name string
	Body string
	// Names is a fragment of strictbody's error text for it (`duplicate key "enabled"`,
	// "invalid UTF-8"): the family's message must contain it.
	Names string
}

// invalid is a byte that never occurs in UTF-8.
const invalid = "\xff"

// Refusals derives the refused bodies from valid, which must be a JSON object with a string
// value and a nested object (a member's value or an array element; each kind it has is
// used). It fails if valid lacks one of them, so a case cannot silently test less.
func Refusals(valid string) ([]Refusal, error) {
	members, firstString, err := scan([]byte(valid))
	if err != nil {
		return nil, err
	}
	if _, ok := members[atTop]; !ok {
		return nil, fmt.Errorf("strictbodytest: the body is not an object with a member")
	}
	if _, ok := members[inObject]; !ok {
		if _, ok := members[inArray]; !ok {
			return nil, fmt.Errorf("strictbodytest: the body has no nested object to repeat a key in")
		}
	}
	var out []Refusal
	for _, where := range []place{atTop, inObject, inArray} {
		m, ok := members[where]
		if !ok {
			continue // a body without objects there (Spot's import has no nested object)
		}
		body := valid[:m.objectStart+1] + valid[m.start:m.end] + "," + valid[m.objectStart+1:]
		out = append(out, Refusal{Name: "repeated key " + where.String(), Body: body, Names: fmt.Sprintf("duplicate key %q", m.key)})
	}
	if firstString < 0 || valid[0] != '{' {
		return nil, fmt.Errorf("strictbodytest: the body is not an object with a string value")
	}
	for _, r := range []struct {
		name string
		at   int
	}{
		{"invalid UTF-8 in a string value", firstString + 1},
		{"invalid UTF-8 in a key", members[atTop].start + 1},
		{"invalid UTF-8 between tokens", 1},
	} {
		out = append(out, Refusal{Name: r.name, Body: valid[:r.at] + invalid + valid[r.at:], Names: "invalid UTF-8"})
	}
	return out, nil
}

// place is where an object sits.
type place int

const (
	atTop    place = iota // the body itself
	inObject              // a member's value
	inArray               // an array element
)

func (p place) String() string {
	return [...]string{"at the top", "in a nested object", "in an array element"}[p]
}

// member is the first member of the first object found in a place, by byte offsets.
type member struct {
	key         string
	objectStart int // the object's '{'
	start, end  int // the member, "key":value
}

// pending is a first member being read: its object's place and stack depth.
type pending struct {
	member
	where place
	depth int
}

// scan finds, for each place, the first member of the first object there (skipping empty
// objects), and the offset of the first string value's opening quote (-1: none).
func scan(body []byte) (map[place]member, int, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	found := map[place]member{}
	firstString := -1
	var reading []pending     // first members being read, innermost last
	objectAt := map[int]int{} // stack depth -> where its object opened, until its first member
	for {
		parent, length := dec.StackIndex(dec.StackDepth())
		before := skipSpace(body, int(dec.InputOffset()))
		tok, err := dec.ReadToken()
		if err == io.EOF {
			return found, firstString, nil
		}
		if err != nil {
			return nil, -1, err
		}
		depth := dec.StackDepth()
		isName := parent == '{' && length%2 == 0
		switch {
		case tok.Kind() == '{':
			objectAt[depth] = before
		case isName:
			if at, ok := objectAt[depth]; ok {
				delete(objectAt, depth)
				where := inObject
				if depth == 1 {
					where = atTop
				} else if outer, _ := dec.StackIndex(depth - 1); outer == '[' {
					where = inArray
				}
				reading = append(reading, pending{member: member{key: tok.String(), objectStart: at, start: before}, where: where, depth: depth})
			}
		case tok.Kind() == '"' && firstString < 0:
			firstString = before
		}
		if tok.Kind() == '}' {
			delete(objectAt, depth+1)
		}
		// A first member ends when its object is back to an even length at its depth.
		for len(reading) > 0 {
			r := reading[len(reading)-1]
			if _, n := dec.StackIndex(r.depth); depth != r.depth || n%2 != 0 {
				break
			}
			reading = reading[:len(reading)-1]
			r.end = int(dec.InputOffset())
			if _, ok := found[r.where]; !ok {
				found[r.where] = r.member
			}
		}
	}
}

func skipSpace(body []byte, at int) int {
	for at < len(body) && bytes.IndexByte([]byte(" \t\r\n,:"), body[at]) >= 0 {
		at++
	}
	return at
}

// ForEachBodyRoute runs, as a subtest, the case of every route that takes a body (POST, PUT,
// PATCH). A body route without a case fails t: a new route with a body is tested as soon as
// it is declared.
func ForEachBodyRoute[C any](t *testing.T, rs []routes.Route, cases map[string]C, run func(t *testing.T, r routes.Route, c C)) {
	t.Helper()
	for _, r := range rs {
		if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
			continue
		}
		c, ok := cases[r.LogicalID]
		if !ok {
			t.Errorf("%s takes a body (%s %s): add its case", r.LogicalID, r.Method, r.Path)
			continue
		}
		t.Run(r.LogicalID, func(t *testing.T) { run(t, r, c) })
	}
}
