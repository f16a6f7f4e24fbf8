package ids_test

import (
	"sort"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/platform/ids"
)

func TestNewIsValidAndSortsByCreation(t *testing.T) {
	var made []string
	for i := 0; i < 1000; i++ {
		made = append(made, ids.New(ids.ScreenerParticipant))
	}
	if !sort.StringsAreSorted(made) {
		t.Fatal("ids made one after another do not sort in creation order")
	}
	for _, id := range made[:5] {
		if !ids.Valid(ids.ScreenerParticipant, id) {
			t.Fatalf("Valid(%q) = false", id)
		}
	}
	older := ids.NewAt(ids.Screener, time.Now().Add(-time.Hour))
	if older >= ids.New(ids.Screener) {
		t.Fatal("an older id does not sort first")
	}
}

func TestValidRejects(t *testing.T) {
	good := ids.New(ids.Participant)
	for _, s := range []string{
		"", "ptp_", "ptp_123", "scr_" + good[4:], good + "0", good[:len(good)-1],
		"ptp_01JBZ8X1K2M3N4P5Q6R7S8T9V0", // upper case is not ours
		"ptp_01jbz8x1k2m3n4p5q6r7s8t9vu", // u is not Crockford
		"ptp_81jbz8x1k2m3n4p5q6r7s8t9v0", // timestamp overflow
		"ptp_01jbz8x1k2m3n4p5q6r7s8t9v#",
	} {
		if ids.Valid(ids.Participant, s) {
			t.Errorf("Valid(%q) = true", s)
		}
	}
}
