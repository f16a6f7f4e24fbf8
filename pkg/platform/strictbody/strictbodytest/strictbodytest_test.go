package strictbodytest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/platform/strictbody"
	"github.com/participant-roster/roster/pkg/platform/strictbody/strictbodytest"
)

// Each refusal is refused by strictbody for what it says, and is the valid body with one
// change: a member repeated or one byte added.
func TestRefusals(t *testing.T) {
	valid := `{"participants":[{"email":"a@example.com","name":"A"}],"screenerId":"scr_1","x":{"y":{},"z":1}}`
	refusals, err := strictbodytest.Refusals(valid)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"repeated key at the top":          `{"participants":[{"email":"a@example.com","name":"A"}],"participants":[{"email":"a@example.com","name":"A"}],"screenerId":"scr_1","x":{"y":{},"z":1}}`,
		"repeated key in an array element": `{"participants":[{"email":"a@example.com","email":"a@example.com","name":"A"}],"screenerId":"scr_1","x":{"y":{},"z":1}}`,
		"repeated key in a nested object":  `{"participants":[{"email":"a@example.com","name":"A"}],"screenerId":"scr_1","x":{"y":{},"y":{},"z":1}}`,
		"invalid UTF-8 in a string value":  `{"participants":[{"email":"` + "\xff" + `a@example.com","name":"A"}],"screenerId":"scr_1","x":{"y":{},"z":1}}`,
		"invalid UTF-8 in a key":           `{"` + "\xff" + `participants":[{"email":"a@example.com","name":"A"}],"screenerId":"scr_1","x":{"y":{},"z":1}}`,
		"invalid UTF-8 between tokens":     "{\xff" + valid[1:],
	}
	if len(refusals) != len(want) {
		t.Fatalf("%d refusals, want %d", len(refusals), len(want))
	}
	for _, r := range refusals {
		if r.Body != want[r.Name] {
			t.Errorf("%s:\n got %q\nwant %q", r.Name, r.Body, want[r.Name])
		}
		var e *strictbody.Error
		if err := strictbody.JSON([]byte(r.Body), new(any), strictbody.Options{}); !errors.As(err, &e) || !strings.Contains(e.Error(), r.Names) {
			t.Errorf("%s: strictbody says %v, want it to name %s", r.Name, err, r.Names)
		}
	}
}

func TestRefusalsInArrayElementsOnly(t *testing.T) {
	refusals, err := strictbodytest.Refusals(`{"p":[{"e":"x"}]}`)
	if err != nil || len(refusals) != 5 {
		t.Fatalf("%d refusals, %v; want 5: at the top, in the array element, three invalid UTF-8", len(refusals), err)
	}
}

func TestRefusalsNeedEveryPlace(t *testing.T) {
	for _, body := range []string{`{"a":"x","b":[{}]}`, `{"a":[{"b":1}]}`, `{"a":"x"}`, `[{"a":"x"}]`, `{}`} {
		if _, err := strictbodytest.Refusals(body); err == nil {
			t.Errorf("%s: no error, yet a place or a string value is missing", body)
		}
	}
}
