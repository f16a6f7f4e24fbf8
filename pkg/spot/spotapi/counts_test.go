package spotapi_test

import (
	"fmt"
	"sync"
	"testing"
)

// TestTotalsAndOffsetsExactUnderConcurrentWriters: import jobs (chunks written without a
// transaction per row), synchronous imports and removals, all at once on one screener, leave
// totals equal to what the lists hold, and offset pages that tile each list exactly: in the
// cursor walk's order, nothing twice, nothing missing.
func TestTotalsAndOffsetsExactUnderConcurrentWriters(t *testing.T) {
	a := newAsyncEnv(t)
	scr := a.screener("S")
	wantStatus(t, a.importRows(scr, "", rows(150, "base")...), 200)
	base := a.listScreener(scr).Items
	var jobIDs []string
	for j := range 2 {
		r := a.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", "",
			importBody(scr, "", rows(250, fmt.Sprintf("job%d", j))...), map[string]string{"prefer": "respond-async"})
		jobIDs = append(jobIDs, a.accepted(r).ID)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.drain() }()
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 3 {
				wantStatus(t, a.importRows(scr, "", rows(30, fmt.Sprintf("w%dk%d", w, k))...), 200)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, it := range base[:50] {
			wantStatus(t, a.call("DeleteScreenerParticipantFunction", "DELETE", "/screener-participants/"+it.ID, "", "", nil), 200)
		}
	}()
	wg.Wait()
	for _, id := range jobIDs {
		if job := a.job(id); job.Status != "COMPLETED" || job.Counts.Created != 250 {
			t.Fatalf("job %+v", job)
		}
	}
	const roster, participants = 150 - 50 + 2*250 + 3*3*30, 150 + 2*250 + 3*3*30
	a.wantTiled("ListScreenerParticipantsFunction", "/screener-participants", []string{"filter[screenerId][eq]", scr}, roster)
	a.wantTiled("ListParticipantsFunction", "/participants", nil, participants)
}

// wantTiled walks a list by offset pages of 100 and by cursor pages of 100: both see total
// records, in the same order, each once.
func (c *client) wantTiled(fn, path string, filter []string, total int) {
	c.t.Helper()
	page := func(kv ...string) cursorPage {
		r := c.get(fn, path, q(append(append([]string{"pagination[limit]", "100"}, filter...), kv...)...))
		wantStatus(c.t, r, 200)
		var pg cursorPage
		r.JSON(&pg)
		if pg.Total != total {
			c.t.Fatalf("%s: total %d, want %d", path, pg.Total, total)
		}
		return pg
	}
	var byOffset, byCursor []string
	for offset := 0; offset < total+100; offset += 100 {
		for _, it := range page("pagination[offset]", fmt.Sprint(offset)).Items {
			byOffset = append(byOffset, it.ID)
		}
	}
	pg := page()
	for {
		for _, it := range pg.Items {
			byCursor = append(byCursor, it.ID)
		}
		if pg.NextCursor == nil {
			break
		}
		pg = page("pagination[cursor]", *pg.NextCursor)
	}
	seen := map[string]bool{}
	for i, id := range byOffset {
		if seen[id] {
			c.t.Fatalf("%s: %s twice in the offset pages", path, id)
		}
		seen[id] = true
		if i >= len(byCursor) || byCursor[i] != id {
			c.t.Fatalf("%s: offset walk and cursor walk differ at %d", path, i)
		}
	}
	if len(byOffset) != total || len(byCursor) != total {
		c.t.Fatalf("%s: offset pages hold %d, cursor pages %d, want %d", path, len(byOffset), len(byCursor), total)
	}
}
