package spotapi_test

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/testkit"
)

// TestConcurrentImportsOfTheSameRoster: simultaneous imports of the same new people all
// succeed (a lost race plans again on the server), and leave one participant and one screener
// participant per person, with totals equal to what lists hold.
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
	for _, s := range statuses {
		if s != 200 {
			t.Fatalf("statuses %v: every import should converge to 200", statuses)
		}
	}
	// Nothing is left to do: one more import changes nothing.
	r, w := c.importMetered(scr, "UPDATES_ONLY", payload...)
	wantStatus(t, r, 200)
	if w != 0 {
		t.Fatalf("an import after the race wrote %v units", w)
	}
	c.wantTotals(scr, 30, 30)
}

// TestOverlappingImportsConverge: clients importing overlapping payloads drawn from one pool
// get 200 (at most 5% 409, the bound; the server plans again after a lost race), every
// import answered 200 applied, and the totals are exact.
func TestOverlappingImportsConverge(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("S")
	pool := rows(60, "pool")
	const clients, importsEach, payloadRows = 8, 4, 15
	var mu sync.Mutex
	statuses := map[int]int{}
	named := map[string]bool{} // emails some import answered 200 named
	var wg sync.WaitGroup
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(k), 7))
			for range importsEach {
				payload := make([]row, 0, payloadRows)
				for _, i := range rng.Perm(len(pool))[:payloadRows] {
					payload = append(payload, pool[i])
				}
				status := c.importRows(scr, "UPDATES_ONLY", payload...).StatusCode
				mu.Lock()
				statuses[status]++
				if status == 200 {
					for _, r := range payload {
						named[r.Email] = true
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	all := clients * importsEach
	if statuses[200]+statuses[409] != all || statuses[409]*20 > all {
		t.Fatalf("statuses %v of %d imports: want only 200, and 409 on at most 5%%", statuses, all)
	}
	list := c.listScreener(scr)
	linked := map[string]bool{}
	for _, it := range list.Items {
		if linked[it.Email] {
			t.Fatalf("%s is linked twice", it.Email)
		}
		linked[it.Email] = true
	}
	for e := range named {
		if !linked[e] {
			t.Fatalf("%s was imported (200) but is not on the roster", e)
		}
	}
	c.wantTotals(scr, len(named), len(named))
}

// wantTotals checks a screener's roster and the workspace's participants: totals as given,
// and each list holding exactly as many items as its total says.
func (c *client) wantTotals(scr string, roster, participants int) {
	c.t.Helper()
	list := c.listScreener(scr)
	if list.Total != roster || len(list.Items) != roster {
		c.t.Fatalf("screener participants: total %d, items %d, want %d", list.Total, len(list.Items), roster)
	}
	var ps page[struct{ Email string }]
	c.get("ListParticipantsFunction", "/participants", q("pagination[limit]", "500")).JSON(&ps)
	if ps.Total != participants || len(ps.Items) != participants {
		c.t.Fatalf("participants: total %d, items %d, want %d", ps.Total, len(ps.Items), participants)
	}
}
