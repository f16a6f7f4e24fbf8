package strictbody_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/participant-roster/roster/pkg/platform/strictbody"
)

type target struct {
	ScreenerID   *string `json:"screenerId"`
	Participants []struct {
		Email string `json:"email"`
	} `json:"participants"`
	Seeding map[string]string `json:"seeding"`
}

func TestJSONRefusesWhatALenientReaderGuessesAt(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       string // the error's text
		keyPath    string // DuplicateKey only
		problem    strictbody.Problem
	}{
		{"top level", `{"screenerId":"a","screenerId":"b"}`, `duplicate key "screenerId"`, "screenerId", strictbody.DuplicateKey},
		{"same key, escaped", `{"screenerId":"a","\u0073creenerId":"b"}`, `duplicate key "screenerId"`, "screenerId", strictbody.DuplicateKey},
		{"nested object", `{"seeding":{"v1":"1","v1":"2"}}`, `duplicate key "v1" in seeding`, "seeding.v1", strictbody.DuplicateKey},
		{"array element", `{"participants":[{"email":"a"},{"email":"a","email":"b"}]}`, `duplicate key "email" in participants[1]`, "participants[1].email", strictbody.DuplicateKey},
		{"deep, top-level array", `[[{"a":{"c":1,"c":1}}]]`, `duplicate key "c" in [0][0].a`, "[0][0].a.c", strictbody.DuplicateKey},
		{"digit key is a key", `{"p":{"0":{"e":1,"e":2}}}`, `duplicate key "e" in p.0`, "p.0.e", strictbody.DuplicateKey},
		{"not the key before", `{"screenerId":"a","participants":[],"screenerId":"b"}`, `duplicate key "screenerId"`, "screenerId", strictbody.DuplicateKey},
		{"not the key before, nested", `{"participants":[{"email":"a","name":"x","email":"b"}]}`, `duplicate key "email" in participants[0]`, "participants[0].email", strictbody.DuplicateKey},
		{"unknown key repeated", `{"x":1,"x":1}`, `duplicate key "x"`, "x", strictbody.DuplicateKey},
		{"invalid UTF-8 in a value", "{\"screenerId\":\"\xc3(\"}", "invalid UTF-8 in the body at byte 15", "", strictbody.InvalidUTF8},
		{"invalid UTF-8 in a key", "{\"scr\xffeenerId\":\"a\"}", "invalid UTF-8 in the body at byte 5", "", strictbody.InvalidUTF8},
		{"invalid UTF-8 outside strings", "{\"screenerId\":\"a\"\xc3}", "invalid UTF-8 in the body at byte 17", "", strictbody.InvalidUTF8},
		{"UTF-16 surrogate as UTF-8", "{\"screenerId\":\"\xed\xa0\x80\"}", "invalid UTF-8 in the body at byte 15", "", strictbody.InvalidUTF8},
		{"lone surrogate escape", `{"screenerId":"\ud800"}`, `invalid Unicode in the body: invalid surrogate pair`, "", strictbody.InvalidUnicode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v target
			err := strictbody.JSON([]byte(tc.body), &v, strictbody.Options{})
			var e *strictbody.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *strictbody.Error", err, err)
			}
			if e.Problem != tc.problem || !strings.HasPrefix(e.Error(), tc.want) {
				t.Fatalf("problem %d %q, want %d %q", e.Problem, e.Error(), tc.problem, tc.want)
			}
			if tc.problem == strictbody.DuplicateKey && e.KeyPath() != tc.keyPath {
				t.Fatalf("key path %q, want %q", e.KeyPath(), tc.keyPath)
			}
			if v.ScreenerID != nil {
				t.Fatalf("a refused body was decoded: %+v", v)
			}
		})
	}
}

// TestJSONDecodesAsEncodingJSON: apart from the strict rules, the answers are encoding/json's.
func TestJSONDecodesAsEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`{"screenerId":"a","participants":[{"email":"x"},{"email":"x"}],"seeding":{"a":"1","A":"2"}}`,
		`{"screenerid":"case-insensitive as encoding/json","extra":[1,2,{"k":null}]}`,
		`{"screenerId":null}`, `{"screenerId":"\u00e9\ud83d\ude00 é"}`, ` {} `,
		`{"screenerId":5}`, `{"participants":{}}`, `[]`, `null`, `"x"`,
		`{"screenerId":`, ``, `  `, `{} {}`, `{}x`, `{"a":1,}`,
	} {
		var got, want target
		gotErr := strictbody.JSON([]byte(body), &got, strictbody.Options{})
		wantErr := json.Unmarshal([]byte(body), &want)
		if errText(gotErr) != errText(wantErr) || js(got) != js(want) {
			t.Errorf("%q: got %s, %v; encoding/json gives %s, %v", body, js(got), gotErr, js(want), wantErr)
		}
	}
}

func TestJSONOptions(t *testing.T) {
	var v target
	if err := strictbody.JSON([]byte(`[]`), &v, strictbody.Options{Object: true}); !errors.Is(err, strictbody.ErrNotObject) {
		t.Errorf("array with Object: %v, want ErrNotObject", err)
	}
	if err := strictbody.JSON([]byte(`{"screenerId":`), &v, strictbody.Options{Object: true}); !isSyntax(err) {
		t.Errorf("malformed with Object: %v, want the syntax error first", err)
	}
	err := strictbody.JSON([]byte(`{"screenerId":"a","other":1}`), &v, strictbody.Options{DisallowUnknownFields: true})
	if err == nil || err.Error() != `json: unknown field "other"` {
		t.Errorf("unknown field: %v", err)
	}
	if err := strictbody.JSON([]byte(`{"screenerId":"a"}`), &v, strictbody.Options{Object: true, DisallowUnknownFields: true}); err != nil || *v.ScreenerID != "a" {
		t.Errorf("a plain object: %v, %+v", err, v)
	}
}

func TestText(t *testing.T) {
	if err := strictbody.Text([]byte("externalUid,email,name\ncrm-1,a@example.com,Zoë\n")); err != nil {
		t.Errorf("UTF-8 CSV refused: %v", err)
	}
	err := strictbody.Text([]byte("email,name\na@example.com,Zo\xeb\n"))
	var e *strictbody.Error
	if !errors.As(err, &e) || e.Problem != strictbody.InvalidUTF8 || e.Offset != 27 {
		t.Errorf("Latin-1 CSV: %v, want invalid UTF-8 at byte 27", err)
	}
}

func isSyntax(err error) bool {
	var syn *json.SyntaxError
	return errors.As(err, &syn)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// FuzzJSON: strictbody takes exactly the bodies that are both encoding/json's one value and
// I-JSON (jsontext's own validity check: unique keys, valid UTF-8), and decodes them as
// encoding/json does.
func FuzzJSON(f *testing.F) {
	for _, seed := range []string{
		`{"a":1}`, `{"a":1,"a":2}`, `{"a":{"b":[{"c":1,"c":1}]}}`, `[{"a":1},{"a":1}]`, `{"a":1,"\u0061":2}`,
		"{\"a\":\"\xc3(\"}", "{\"\xff\":1}", "\xc3{}", `{"a":"\ud800"}`, `{"a":"\ud83d\ude00"}`,
		`{} {}`, ``, `null`, `{"a":`, "\xef\xbb\xbf{}", `{"a":1,"A":2}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got, want any
		err := strictbody.JSON(body, &got, strictbody.Options{})
		lenient := json.Unmarshal(body, &want)
		strict := lenient == nil && jsontext.Value(body).IsValid()
		switch {
		case strict != (err == nil):
			t.Fatalf("%q: strictbody says %v; encoding/json %v, I-JSON %v", body, err, lenient, strict)
		case err == nil && js(got) != js(want):
			t.Fatalf("%q: decoded %s, encoding/json %s", body, js(got), js(want))
		case err != nil && lenient == nil && !errors.As(err, new(*strictbody.Error)):
			t.Fatalf("%q: encoding/json takes it, and the refusal %v (%T) is not a *strictbody.Error", body, err, err)
		}
	})
}
