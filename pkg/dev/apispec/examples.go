package apispec

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// CheckExamples validates every example of doc against its schema and returns every one that
// fails, each named by where it sits (nil when all pass): a schema's `example`; a media type's
// `example` and `examples` (request bodies as requests, responses as responses, so readOnly and
// writeOnly count as they do there); a parameter's and a header's. An entry of
// components/examples must be used by one of those, or it has no schema to be checked against.
//
// It also rejects `nullable` where validators disagree on what it admits, since an example there
// passes here and fails Redocly's lint (make lint): without a `type` beside it (OpenAPI 3.0.3
// ignores it, Redocly reports it), and beside allOf, anyOf or oneOf (kin-openapi lets null
// through without the subschemas, JSON Schema validators hold null to them). A schema that may
// be null is written oneOf: [the schema, NullValue], NullValue a schema that admits null alone.
//
// doc.Validate checks most examples too, but stops at the first failure and leaves some out: a
// header's, and an entry of components/examples that nothing uses.
func CheckExamples(doc *openapi3.T) error {
	_, err := checkExamples(doc)
	return err
}

// checkExamples is CheckExamples that also says how many examples it validated.
func checkExamples(doc *openapi3.T) (checked int, err error) {
	w := &exampleWalker{
		seen:     map[any]bool{},
		examples: map[*openapi3.Example]bool{},
	}
	w.document(doc)
	return w.checked, errors.Join(w.problems...)
}

// exampleWalker visits each schema, media type, parameter and header once (components are
// shared through $ref), collecting problems and the Example objects it validated.
type exampleWalker struct {
	problems []error
	checked  int
	seen     map[any]bool
	examples map[*openapi3.Example]bool
}

// direction is how an example is validated: as a request, as a response, or neither (a schema's
// own example, which both may carry).
type direction int

const (
	neither direction = iota
	asRequest
	asResponse
)

// document walks the components first, so that an example they hold is named by its component
// rather than by the first operation that refers to it, then the paths' own.
func (w *exampleWalker) document(doc *openapi3.T) {
	if c := doc.Components; c != nil {
		for _, name := range slices.Sorted(maps.Keys(c.Schemas)) {
			w.schema("components.schemas."+name, c.Schemas[name])
		}
		for _, name := range slices.Sorted(maps.Keys(c.Parameters)) {
			w.parameter("components.parameters."+name, c.Parameters[name])
		}
		for _, name := range slices.Sorted(maps.Keys(c.Headers)) {
			w.header("components.headers."+name, c.Headers[name])
		}
		for _, name := range slices.Sorted(maps.Keys(c.RequestBodies)) {
			if rb := c.RequestBodies[name]; rb != nil && rb.Value != nil {
				w.content("components.requestBodies."+name, rb.Value.Content, asRequest)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(c.Responses)) {
			w.response("components.responses."+name, c.Responses[name])
		}
	}
	if doc.Paths != nil {
		for _, tmpl := range doc.Paths.InMatchingOrder() {
			item := doc.Paths.Value(tmpl)
			at := "paths." + tmpl
			w.parameters(at, item.Parameters)
			ops := item.Operations()
			for _, method := range slices.Sorted(maps.Keys(ops)) {
				w.operation(at+"."+strings.ToLower(method), ops[method])
			}
		}
	}
	if c := doc.Components; c != nil {
		for _, name := range slices.Sorted(maps.Keys(c.Examples)) {
			if ex := c.Examples[name]; ex != nil && !w.examples[ex.Value] {
				w.fail("components.examples."+name, errors.New("used by no media type, parameter or header, so there is no schema to check it against"))
			}
		}
	}
}

func (w *exampleWalker) operation(at string, op *openapi3.Operation) {
	w.parameters(at, op.Parameters)
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		w.content(at+".requestBody", op.RequestBody.Value.Content, asRequest)
	}
	if op.Responses != nil {
		responses := op.Responses.Map()
		for _, code := range slices.Sorted(maps.Keys(responses)) {
			w.response(at+".responses."+code, responses[code])
		}
	}
}

func (w *exampleWalker) response(at string, ref *openapi3.ResponseRef) {
	if ref == nil || ref.Value == nil {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(ref.Value.Headers)) {
		w.header(at+".headers."+name, ref.Value.Headers[name])
	}
	w.content(at, ref.Value.Content, asResponse)
}

func (w *exampleWalker) parameters(at string, params openapi3.Parameters) {
	for _, p := range params {
		if p != nil && p.Value != nil {
			w.parameter(at+".parameters."+p.Value.In+"."+p.Value.Name, p)
		}
	}
}

func (w *exampleWalker) parameter(at string, ref *openapi3.ParameterRef) {
	if ref != nil && ref.Value != nil {
		w.parameterFields(at, ref.Value, asRequest)
	}
}

// header walks a header as the parameter it is written as (openapi3.Header embeds one); headers
// belong to responses.
func (w *exampleWalker) header(at string, ref *openapi3.HeaderRef) {
	if ref != nil && ref.Value != nil {
		w.parameterFields(at, &ref.Value.Parameter, asResponse)
	}
}

func (w *exampleWalker) parameterFields(at string, p *openapi3.Parameter, dir direction) {
	if w.seen[p] {
		return
	}
	w.seen[p] = true
	w.schema(at+".schema", p.Schema)
	w.exampleSet(at, p.Schema, p.Example, p.Examples, dir)
	w.content(at, p.Content, dir)
}

func (w *exampleWalker) content(at string, content openapi3.Content, dir direction) {
	for _, ct := range slices.Sorted(maps.Keys(content)) {
		mt := content[ct]
		if mt == nil || w.seen[mt] {
			continue
		}
		w.seen[mt] = true
		where := at + ".content." + ct
		w.schema(where+".schema", mt.Schema)
		w.exampleSet(where, mt.Schema, mt.Example, mt.Examples, dir)
	}
}

// exampleSet validates an object's `example` and each of its `examples` against its schema.
func (w *exampleWalker) exampleSet(at string, schema *openapi3.SchemaRef, example any, examples openapi3.Examples, dir direction) {
	if example == nil && len(examples) == 0 {
		return
	}
	if schema == nil || schema.Value == nil {
		w.fail(at, errors.New("has examples but no schema to check them against"))
		return
	}
	if example != nil {
		w.validate(at+".example", schema.Value, example, dir)
	}
	for _, name := range slices.Sorted(maps.Keys(examples)) {
		ex := examples[name]
		where := at + ".examples." + name
		if ex == nil || ex.Value == nil {
			w.fail(where, errors.New("unresolved"))
			continue
		}
		w.examples[ex.Value] = true
		if ex.Value.Value == nil {
			w.fail(where, errors.New("has no value (an externalValue is not checked)"))
			continue
		}
		w.validate(where, schema.Value, ex.Value.Value, dir)
	}
}

// schema checks a schema's own example and its use of nullable, then every schema inside it.
func (w *exampleWalker) schema(at string, ref *openapi3.SchemaRef) {
	if ref == nil || ref.Value == nil || w.seen[ref.Value] {
		return
	}
	if name, ok := strings.CutPrefix(ref.Ref, "#/components/schemas/"); ok {
		at = "components.schemas." + name // named where it is written, not where it is used
	}
	s := ref.Value
	w.seen[s] = true
	if s.Nullable {
		switch {
		case s.Type == nil || len(*s.Type) == 0:
			w.fail(at, errors.New("nullable without a type, which OpenAPI 3.0.3 ignores and linters reject: write oneOf [the schema, NullValue]"))
		case len(s.AllOf)+len(s.AnyOf)+len(s.OneOf) > 0:
			w.fail(at, errors.New("nullable beside allOf/anyOf/oneOf, where validators disagree on null: write oneOf [the schema, NullValue]"))
		}
	}
	if s.Example != nil {
		w.validate(at+".example", s, s.Example, neither)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		w.schema(at+".properties."+name, s.Properties[name])
	}
	w.schema(at+".items", s.Items)
	w.schema(at+".additionalProperties", s.AdditionalProperties.Schema)
	w.schema(at+".not", s.Not)
	w.schemas(at+".allOf", s.AllOf)
	w.schemas(at+".anyOf", s.AnyOf)
	w.schemas(at+".oneOf", s.OneOf)
}

func (w *exampleWalker) schemas(at string, refs openapi3.SchemaRefs) {
	for i, ref := range refs {
		w.schema(fmt.Sprintf("%s.%d", at, i), ref)
	}
}

func (w *exampleWalker) validate(at string, s *openapi3.Schema, value any, dir direction) {
	opts := []openapi3.SchemaValidationOption{openapi3.MultiErrors(), openapi3.DisableSchemaErrorDetails()}
	switch dir {
	case asRequest:
		opts = append(opts, openapi3.VisitAsRequest())
	case asResponse:
		opts = append(opts, openapi3.VisitAsResponse())
	}
	w.checked++
	if err := s.VisitJSON(value, opts...); err != nil {
		w.fail(at, err)
	}
}

func (w *exampleWalker) fail(at string, err error) {
	w.problems = append(w.problems, fmt.Errorf("%s: %w", at, err))
}
