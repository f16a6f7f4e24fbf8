// Package ids makes and checks the service's resource identifiers: a type prefix and a ULID in
// lowercase Crockford base32 ("scpar_01jbz8x1k2m3n4p5q6r7s8t9v0"). ULIDs sort by creation time,
// so a DynamoDB sort key made of an id lists records in creation order for free.
package ids

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Prefix is the type tag that starts an id.
type Prefix string

const (
	Workspace           Prefix = "ws_"
	SpotKey             Prefix = "acct_"
	Participant         Prefix = "ptp_"
	Screener            Prefix = "scr_"
	ScreenerParticipant Prefix = "scpar_"
	ScreenerSession     Prefix = "scses_"
	Publication         Prefix = "scpub_"
	SnapUser            Prefix = "usr_"
	SnapParticipant     Prefix = "sptp_"
	SnapResponse        Prefix = "resp_"
)

const ulidLen = 26

var (
	mu = sync.Mutex{}
	// Monotonic entropy keeps ids made within one millisecond in the order they were made,
	// which keeps an import's rows in payload order.
	entropy = ulid.Monotonic(rand.Reader, 0)
)

// New returns a fresh id with the given prefix.
func New(p Prefix) string {
	return NewAt(p, time.Now())
}

// NewAt returns a fresh id whose time part is t.
func NewAt(p Prefix, t time.Time) string {
	mu.Lock()
	id := ulid.MustNew(ulid.Timestamp(t), entropy)
	mu.Unlock()
	return string(p) + strings.ToLower(id.String())
}

// Valid reports whether s is an id of the given type. Anything else can never name one of our
// records, so handlers answer 404 (or 400 in a filter) without asking the store.
func Valid(p Prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, string(p))
	if !ok || len(rest) != ulidLen {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !isCrockford(rest[i]) {
			return false
		}
	}
	// The first character holds the top bits of a 48-bit timestamp: above '7' overflows.
	return rest[0] <= '7'
}

func isCrockford(c byte) bool {
	switch {
	case c >= '0' && c <= '9':
		return true
	case c >= 'a' && c <= 'z':
		return c != 'i' && c != 'l' && c != 'o' && c != 'u'
	}
	return false
}

// Sequence returns a generator of ids that are the same on every run: the n-th id has time
// start + n ms and no randomness. Demo data uses it so sample events can name demo records.
func Sequence(start time.Time) func(Prefix) string {
	var mu sync.Mutex
	n := 0
	return func(p Prefix) string {
		mu.Lock()
		defer mu.Unlock()
		n++
		id := ulid.ULID{}
		_ = id.SetTime(ulid.Timestamp(start.Add(time.Duration(n) * time.Millisecond)))
		return string(p) + strings.ToLower(id.String())
	}
}
