package apispec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// Every example of both documents validates against its schema, and CheckExamples validated
// each one: as many as a plain walk of the document's JSON finds.
func TestEveryExampleValidates(t *testing.T) {
	s := mustLoad(t)
	for _, d := range s.Documents() {
		checked, err := checkExamples(d.Doc())
		if err != nil {
			t.Errorf("%s: %v", d.RelPath(), err)
		}
		if want := countExamples(t, d.Doc()); checked != want {
			t.Errorf("%s: CheckExamples validated %d examples, the document has %d", d.RelPath(), checked, want)
		}
		if checked < 30 {
			t.Errorf("%s: only %d examples", d.RelPath(), checked)
		}
	}
}

// countExamples counts the `example` keys and the entries of `examples` maps in the document's
// JSON form, where a $ref stays a reference, so each example is counted once, where it is
// written. A schema's property named "example" or "examples" is not a keyword.
func countExamples(t *testing.T, doc *openapi3.T) int {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		t.Fatal(err)
	}
	var count func(v any, keyword bool) int
	count = func(v any, keyword bool) int {
		n := 0
		switch v := v.(type) {
		case map[string]any:
			for k, sub := range v {
				switch {
				case keyword && k == "example":
					n++
				case keyword && k == "examples":
					if m, ok := sub.(map[string]any); ok {
						n += len(m)
					}
				case keyword && k == "properties":
					n += count(sub, false) // property names, each holding a schema
				default:
					n += count(sub, true)
				}
			}
		case []any:
			for _, sub := range v {
				n += count(sub, true)
			}
		}
		return n
	}
	return count(tree, true)
}

// loadCopy loads a copy of the document at rel with each old string replaced by its new one
// (each must occur), without openapi3.T.Validate, whose own example checks would stop the load
// before CheckExamples sees the document.
func loadCopy(t *testing.T, rel string, oldNew ...string) *openapi3.T {
	t.Helper()
	root, err := locate()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i+1 < len(oldNew); i += 2 {
		if !strings.Contains(text, oldNew[i]) {
			t.Fatalf("%s does not contain %q", rel, oldNew[i])
		}
		text = strings.Replace(text, oldNew[i], oldNew[i+1], 1)
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(text))
	if err != nil {
		t.Fatalf("load the copy of %s: %v", rel, err)
	}
	return doc
}

// CheckExamples fails on a copy of a document with one example broken, or one schema that
// linters cannot check, and names where it is.
func TestCheckExamplesFailsOnABrokenCopy(t *testing.T) {
	orphan := func(doc *openapi3.T) {
		doc.Components.Examples = openapi3.Examples{"Orphan": {Value: openapi3.NewExample(map[string]any{"x": 1})}}
	}
	nullableOneOf := func(doc *openapi3.T) {
		s := doc.Components.Schemas["NullableActor"].Value
		s.Type, s.Nullable = &openapi3.Types{"object"}, true
	}
	headerExample := func(doc *openapi3.T) {
		doc.Components.Headers["SpotApiVersion"].Value.Example = "one"
	}
	paramExamples := func(doc *openapi3.T) {
		doc.Components.Parameters["ApiVersion"].Value.Schema.Value.Pattern = `^[0-9]+$`
	}
	for _, rel := range []string{RelPath, SnapRelPath} {
		if err := CheckExamples(loadCopy(t, rel)); err != nil {
			t.Fatalf("unchanged copy of %s: %v", rel, err)
		}
	}
	for _, tc := range []struct {
		name   string
		rel    string
		oldNew []string
		edit   func(*openapi3.T)
		want   string // the location the error names, and what it says
	}{
		{name: "response example", rel: RelPath, oldNew: []string{"updatedBy: null", "updatedBy: 5"},
			want: "paths./participants/{id}.get.responses.200.content.application/json.example"},
		{name: "schema example", rel: RelPath,
			oldNew: []string{"{25}$'\n      example: ptp_01jbz7q0a1b2c3d4e5f6g7h8j9", "{25}$'\n      example: ptp_short"},
			want:   "components.schemas.ParticipantId.example"},
		{name: "request example", rel: SnapRelPath,
			oldNew: []string{"summary: The seed page's Add Participant request\n              value:\n                invitationSection:\n                  optedOut: false",
				"summary: The seed page's Add Participant request\n              value:\n                invitationSection:\n                  optedOut: maybe"},
			want: "components.requestBodies.Participant.content.application/json.examples.seed"},
		{name: "nullable without a type", rel: RelPath,
			oldNew: []string{"    NullableActor:\n      description: An Actor, or null.\n      oneOf:\n        - $ref: '#/components/schemas/Actor'\n        - $ref: '#/components/schemas/NullValue'\n",
				"    NullableActor:\n      description: An Actor, or null.\n      nullable: true\n      allOf:\n        - $ref: '#/components/schemas/Actor'\n"},
			want: "components.schemas.NullableActor: nullable without a type"},
		{name: "nullable beside oneOf", rel: RelPath, edit: nullableOneOf,
			want: "components.schemas.NullableActor: nullable beside allOf/anyOf/oneOf"},
		{name: "header example", rel: RelPath, edit: headerExample,
			want: "components.headers.SpotApiVersion.example"},
		{name: "parameter example", rel: RelPath, edit: paramExamples,
			want: "components.parameters.ApiVersion.example"},
		{name: "unused components/examples entry", rel: RelPath, edit: orphan,
			want: "components.examples.Orphan: used by no media type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := loadCopy(t, tc.rel, tc.oldNew...)
			if tc.edit != nil {
				tc.edit(doc)
			}
			err := CheckExamples(doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckExamples = %v; want an error naming %q", err, tc.want)
			}
		})
	}
}
