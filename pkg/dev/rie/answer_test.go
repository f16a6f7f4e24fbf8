package rie_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/participant-roster/roster/pkg/jobs"
)

// canonical decodes an answer strictly into the handler's answer type and encodes it again,
// so that the two sides' JSON encoders (the Lambda runtime's does not escape HTML and ends with
// a newline; encoding/json's escapes it) do not count, while a field the type does not have does.
func canonical[T any](data []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("%w: %s", err, data)
	}
	if dec.More() {
		return "", fmt.Errorf("data after the answer: %s", data)
	}
	out, err := json.Marshal(v)
	return string(out), err
}

// generated matches what a function makes afresh on every call: our ids (a type prefix and a
// ULID, whose time part is when it was made) and timestamps (RFC 3339).
var generated = regexp.MustCompile(`\b[a-z]+_[0-9a-hjkmnp-tv-z]{26}\b|\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)`)

// rateCount matches a Snap answer's remaining calls and reset times: what they are depends on
// which second and minute each side's calls fell in, so maskRate hides their values (the
// limits are compared as they are).
var rateCount = regexp.MustCompile(`(?i)("X-RateLimit-(?:Remaining|Reset)-Per-(?:Sec|Min)":")-?\d+(")`)

func maskRate(answer string) string { return rateCount.ReplaceAllString(answer, "${1}<n>${2}") }

// matcher compares two sides' answers to the same events on twin tables. They must be equal
// as text, except that where one side has an id or timestamp the other has a different one,
// both must have been made during the run (after since): an id created by the call (a new
// screener participant, a job) or the time of a write. Ids pair up one to one across all the
// answers compared, so the same new record is named the same way throughout. Anything the
// seed made (every demo id and time) must be the same on both sides.
type matcher struct {
	since         time.Time
	toGot, toWant map[string]string
}

func newMatcher(since time.Time) *matcher {
	// ULIDs hold milliseconds: a value made in the millisecond since began is still fresh.
	return &matcher{since: since.Truncate(time.Millisecond), toGot: map[string]string{}, toWant: map[string]string{}}
}

// same reports whether got matches want; when not, difference says where.
func (m *matcher) same(want, got string) (ok bool, difference string) {
	wl, gl := generated.FindAllStringIndex(want, -1), generated.FindAllStringIndex(got, -1)
	wi, gi := 0, 0 // ends of the last token compared
	for k := 0; k < len(wl) || k < len(gl); k++ {
		if k >= len(wl) || k >= len(gl) {
			return false, fmt.Sprintf("%d generated values against %d", len(wl), len(gl))
		}
		if want[wi:wl[k][0]] != got[gi:gl[k][0]] {
			return false, textDiff(want[wi:wl[k][0]], got[gi:gl[k][0]])
		}
		if why := m.pair(want[wl[k][0]:wl[k][1]], got[gl[k][0]:gl[k][1]]); why != "" {
			return false, why
		}
		wi, gi = wl[k][1], gl[k][1]
	}
	if want[wi:] != got[gi:] {
		return false, textDiff(want[wi:], got[gi:])
	}
	return true, ""
}

func (m *matcher) pair(w, g string) string {
	if isTime(w) {
		if w == g || (m.fresh(w) && m.fresh(g)) {
			return ""
		}
		return fmt.Sprintf("timestamp %s against %s, and not both made during the run", w, g)
	}
	if prev, ok := m.toGot[w]; ok && prev != g {
		return fmt.Sprintf("%s was answered as %s before, now as %s", w, prev, g)
	}
	if prev, ok := m.toWant[g]; ok && prev != w {
		return fmt.Sprintf("%s stood for %s before, now for %s", g, prev, w)
	}
	if w != g {
		wp, _, _ := strings.Cut(w, "_")
		gp, _, _ := strings.Cut(g, "_")
		if wp != gp || !m.fresh(w) || !m.fresh(g) {
			return fmt.Sprintf("id %s against %s, and not both new ids of one type", w, g)
		}
	}
	m.toGot[w], m.toWant[g] = g, w
	return ""
}

func isTime(s string) bool { return !strings.Contains(s, "_") }

// fresh reports whether an id or timestamp was made during the run.
func (m *matcher) fresh(s string) bool {
	var t time.Time
	if isTime(s) {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return false
		}
	} else {
		_, rest, _ := strings.Cut(s, "_")
		id, err := ulid.ParseStrict(strings.ToUpper(rest))
		if err != nil {
			return false
		}
		t = ulid.Time(id.Time())
	}
	// A job's expiry is its creation plus jobs.Retention, in whole seconds: the two sides'
	// differ when their calls straddle a second.
	return m.inRun(t) || isTime(s) && m.inRun(t.Add(-jobs.Retention).Add(time.Second-1))
}

// inRun reports whether t is after since and not in the future.
func (m *matcher) inRun(t time.Time) bool {
	return !t.Before(m.since) && !t.After(time.Now().Add(time.Second))
}

// textDiff shows where two texts part.
func textDiff(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(i-40, 0)
	return fmt.Sprintf("texts part at %q: %q against %q", want[from:i], clip(want[i:]), clip(got[i:]))
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func TestMatcher(t *testing.T) {
	since := time.Now()
	now := func() string { return time.Now().UTC().Format(time.RFC3339Nano) }
	fresh := func() string {
		return "job_" + strings.ToLower(ulid.MustNew(ulid.Now(), ulid.DefaultEntropy()).String())
	}
	jobA, jobB, jobC := fresh(), fresh(), fresh()
	const demoID, otherDemoID = "scr_01jcqgsym20000000000000000", "scr_01jcqgsym30000000000000000"
	const demoTime = "2024-11-15T09:00:00.000Z"
	for _, c := range []struct {
		name       string
		want, got  []string // compared in turn by one matcher
		same       bool
		difference string
	}{
		{"equal", []string{`{"id":"` + demoID + `"}`}, []string{`{"id":"` + demoID + `"}`}, true, ""},
		{"new ids and times", []string{`/x/` + jobA + ` at ` + now()}, []string{`/x/` + jobB + ` at ` + now()}, true, ""},
		{"a new id stands for one id throughout", []string{jobA + " " + jobA}, []string{jobB + " " + jobC}, false, "was answered as"},
		{"seeded ids must be equal", []string{demoID}, []string{otherDemoID}, false, "not both new ids"},
		{"a new id for a seeded one", []string{demoID}, []string{"scr_" + jobB[4:]}, false, "not both new ids"},
		{"ids of two types", []string{jobA}, []string{"scpar_" + jobB[4:]}, false, "not both new ids"},
		{"seeded times must be equal", []string{demoTime}, []string{"2024-11-15T09:00:01.000Z"}, false, "not both made during the run"},
		{"other text", []string{`{"status":200}`}, []string{`{"status":201}`}, false, "texts part"},
		{"a value missing", []string{jobA + "," + jobA}, []string{jobB + ","}, false, "2 generated values against 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newMatcher(since)
			ok, difference := true, ""
			for i := range c.want {
				if ok, difference = m.same(c.want[i], c.got[i]); !ok {
					break
				}
			}
			if ok != c.same || !strings.Contains(difference, c.difference) {
				t.Errorf("same = %v (%s), want %v (%s)", ok, difference, c.same, c.difference)
			}
		})
	}

	t.Run("job expiries of calls a second apart", func(t *testing.T) {
		m := newMatcher(time.Now().Add(-2 * time.Second))
		expiry := func(made time.Time) string {
			return made.Add(jobs.Retention).UTC().Truncate(time.Second).Format(time.RFC3339)
		}
		if ok, difference := m.same(expiry(time.Now().Add(-time.Second)), expiry(time.Now())); !ok {
			t.Errorf("expiries of jobs made during the run: %s", difference)
		}
		if ok, _ := m.same(expiry(time.Now()), expiry(time.Now().Add(time.Hour))); ok {
			t.Error("an expiry an hour in the future matched")
		}
		if ok, _ := m.same(expiry(time.Now()), expiry(time.Now().Add(-time.Hour))); ok {
			t.Error("the expiry of a job made before the run matched")
		}
	})
}
