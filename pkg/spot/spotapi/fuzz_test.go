package spotapi_test

import (
	"testing"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/lambdahttp"
)

// FuzzPath sends arbitrary paths and query strings through real Lambda handlers against
// DynamoDB Local: whatever the client sends, the answer is never a 5xx.
func FuzzPath(f *testing.F) {
	for _, seed := range [][2]string{
		{"/screener-participants/scpar_01jd3m00000000000000000000", ""},
		{"/screener-participants/%zz", ""}, {"/screener-participants/%", "a=%zz"},
		{"/screener-participants/scpar_01jd3m0000000000000000000%23", "x"},
		{"/screener-participants/..%2F..%2Fscreeners", ""}, {"/screener-participants/", ""},
		{"/screener-participants/scpar_01jd3m00000000000000000000/extra", ""},
		{"/screener-participants", "filter[screenerId][eq]=scr_01jd3m00000000000000000000&pagination[limit]=0"},
		{"//screener-participants", "pagination[offset]=-1"}, {"", ""}, {"/screener-participants/\x00", "\x00=\x00"},
	} {
		f.Add(seed[0], seed[1])
	}
	env := testkit.NewEnv(f)
	tenant := env.NewTenant()
	var handlers []lambdahttp.Handler
	for _, fn := range []string{"GetScreenerParticipantFunction", "ListScreenerParticipantsFunction"} {
		h, err := env.App.LambdaHandler(fn)
		if err != nil {
			f.Fatal(err)
		}
		handlers = append(handlers, h)
	}
	f.Fuzz(func(t *testing.T, path, query string) {
		for i, h := range handlers {
			resp, err := h(t.Context(), testkit.Event("GET", path, query, tenant.Headers(), ""))
			if err != nil {
				t.Fatalf("handler %d returned an error: %v", i, err)
			}
			if resp.StatusCode >= 500 || resp.StatusCode < 200 {
				t.Fatalf("handler %d, %q ? %q: status %d: %s", i, path, query, resp.StatusCode, resp.Body)
			}
		}
	})
}
