package idempotency_test

import (
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/platform/idempotency"
)

// TestParseKey: one value of 1 to 255 printable ASCII characters, bare or as a Structured
// Fields string; anything else is ErrKeyInvalid.
func TestParseKey(t *testing.T) {
	for _, c := range []struct {
		values []string
		want   string
	}{
		{[]string{"abc-123"}, "abc-123"},
		{[]string{`"abc-123"`}, "abc-123"},
		{[]string{" spaced key "}, "spaced key"},
		{[]string{strings.Repeat("k", 255)}, strings.Repeat("k", 255)},
		{[]string{`"a\"b"`}, `a"b`},
	} {
		if got, err := idempotency.ParseKey(c.values); err != nil || got != c.want {
			t.Errorf("ParseKey(%q) = %q, %v; want %q", c.values, got, err, c.want)
		}
	}
	for _, bad := range [][]string{
		{""}, {"  "}, {`""`}, {strings.Repeat("k", 256)}, {"naïve"}, {"tab\there"}, {"a", "b"}, {`"unterminated\"`},
	} {
		if got, err := idempotency.ParseKey(bad); err != idempotency.ErrKeyInvalid {
			t.Errorf("ParseKey(%q) = %q, %v; want ErrKeyInvalid", bad, got, err)
		}
	}
}

// TestFingerprint: each of method, path, query and body changes it, and moving bytes from
// one part to the next does too.
func TestFingerprint(t *testing.T) {
	base := idempotency.Fingerprint("POST", "/x", "a=1", []byte("{}"))
	if base != idempotency.Fingerprint("POST", "/x", "a=1", []byte("{}")) {
		t.Fatal("the same request has two fingerprints")
	}
	for name, other := range map[string]string{
		"method":  idempotency.Fingerprint("PUT", "/x", "a=1", []byte("{}")),
		"path":    idempotency.Fingerprint("POST", "/y", "a=1", []byte("{}")),
		"query":   idempotency.Fingerprint("POST", "/x", "a=2", []byte("{}")),
		"body":    idempotency.Fingerprint("POST", "/x", "a=1", []byte("{ }")),
		"shifted": idempotency.Fingerprint("POST", "/xa", "=1", []byte("{}")),
	} {
		if other == base {
			t.Errorf("another %s, the same fingerprint", name)
		}
	}
	if len(base) != 64 {
		t.Errorf("fingerprint %q is not hex SHA-256", base)
	}
}
