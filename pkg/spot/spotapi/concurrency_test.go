package spotapi_test

import (
	"sync"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/testkit"
)

// TestConcurrentImportsOfTheSameRoster: simultaneous imports of the same new people leave one
// participant and one screener participant per person, and totals equal to what lists hold.
// A loser of a race gets 409 CONFLICT (nothing written for its conflicting rows; safe to
// retry), never a 5xx.
func TestConcurrentImportsOfTheSameRoster(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("S")
	payload := rows(30, "race")
	statuses := make([]int, 8)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = c.importRows(scr, "UPDATES_ONLY", payload...).StatusCode
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case 200:
			ok++
		case 409:
		default:
			t.Fatalf("statuses %v", statuses)
		}
	}
	if ok == 0 {
		t.Fatalf("no import succeeded: %v", statuses)
	}
	// Retrying converges: one more import succeeds and changes nothing.
	r, w := c.importMetered(scr, "UPDATES_ONLY", payload...)
	wantStatus(t, r, 200)
	if w != 0 {
		t.Fatalf("retry after the race wrote %v units", w)
	}
	list := c.listScreener(scr)
	if list.Total != 30 || len(list.Items) != 30 {
		t.Fatalf("screener participants: total %d, items %d", list.Total, len(list.Items))
	}
	var participants page[struct{ Email string }]
	c.get("ListParticipantsFunction", "/participants", q("pagination[limit]", "500")).JSON(&participants)
	if participants.Total != 30 || len(participants.Items) != 30 {
		t.Fatalf("participants: total %d, items %d", participants.Total, len(participants.Items))
	}
}
