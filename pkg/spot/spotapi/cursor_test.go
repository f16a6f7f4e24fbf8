package spotapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/platform/ddb"
)

// cursorPage is a Spot list page with our extension: offset null on a cursor page, and the
// next page's cursor.
type cursorPage struct {
	Type       string  `json:"_type"`
	Total      int     `json:"total"`
	Limit      int     `json:"limit"`
	Offset     *int    `json:"offset"`
	NextCursor *string `json:"nextCursor"`
	Items      []struct {
		ID string `json:"id"`
	} `json:"items"`
}

func (c *client) cursorPage(fn, path, query string) cursorPage {
	c.t.Helper()
	r := c.get(fn, path, query)
	wantStatus(c.t, r, 200)
	var pg cursorPage
	r.JSON(&pg)
	return pg
}

// walk reads a list page by page with cursors from its first (offset) page and returns the ids
// in the order seen; between runs after each page but the last.
func (c *client) walk(fn, path string, filter url.Values, limit int, between func(page int)) (ids []string, last cursorPage) {
	c.t.Helper()
	query := func(cursor string) string {
		v := url.Values{}
		for k, vs := range filter {
			v[k] = vs
		}
		v.Set("pagination[limit]", fmt.Sprint(limit))
		if cursor != "" {
			v.Set("pagination[cursor]", cursor)
		}
		return v.Encode()
	}
	pg := c.cursorPage(fn, path, query(""))
	for n := 0; ; n++ {
		if n == 0 && (pg.Offset == nil || *pg.Offset != 0) || n > 0 && pg.Offset != nil {
			c.t.Fatalf("%s page %d: offset %v (0 on the first page, null on cursor pages)", path, n, pg.Offset)
		}
		if len(pg.Items) > limit {
			c.t.Fatalf("%s page %d: %d items, limit %d", path, n, len(pg.Items), limit)
		}
		for _, it := range pg.Items {
			ids = append(ids, it.ID)
		}
		if pg.NextCursor == nil {
			return ids, pg
		}
		if len(pg.Items) != limit {
			c.t.Fatalf("%s page %d: a short page (%d) with a next cursor", path, n, len(pg.Items))
		}
		if between != nil {
			between(n)
		}
		pg = c.cursorPage(fn, path, query(*pg.NextCursor))
	}
}

func idsOf(pg cursorPage) []string {
	out := make([]string, len(pg.Items))
	for i, it := range pg.Items {
		out[i] = it.ID
	}
	return out
}

// TestCursorWalksEveryList: on each Spot list, a walk with cursors visits every record once, in
// creation order, and the last page's nextCursor is null.
func TestCursorWalksEveryList(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	ctx := context.Background()
	scrA, scrB := c.screener("A"), c.screener("B")
	for i := range 5 {
		c.screener(fmt.Sprintf("S%d", i))
	}
	var created []sp
	c.importRows(scrA, "", rows(11, "a")...).JSON(&created)
	wantStatus(t, c.importRows(scrB, "", rows(4, "b")...), 200)
	admin, ws := c.env.App.Admin, c.tenant.WorkspaceID
	for i := range 3 {
		_, err := admin.StartSession(ctx, ws, created[i].ID)
		must(t, err)
	}
	_, err := admin.StartSession(ctx, ws, created[0].ID)
	must(t, err)

	for _, tc := range []struct {
		fn, path string
		filter   url.Values
		total    int
	}{
		{"ListScreenerParticipantsFunction", "/screener-participants", url.Values{"filter[screenerId][eq]": {scrA}}, 11},
		{"ListScreenerParticipantsFunction", "/screener-participants", nil, 15},
		{"ListParticipantsFunction", "/participants", nil, 15},
		{"ListParticipantsFunction", "/participants", url.Values{"filter[externalUid][eq]": {"a-0003"}}, 1},
		{"ListScreenersFunction", "/screeners", nil, 7},
		{"ListScreenerSessionsFunction", "/screener-sessions", nil, 4},
		{"ListScreenerSessionsFunction", "/screener-sessions", url.Values{"filter[screenerId][eq]": {scrA}}, 4},
		{"ListScreenerSessionsFunction", "/screener-sessions", url.Values{"filter[screenerParticipantId][eq]": {created[0].ID}}, 2},
	} {
		whole := c.cursorPage(tc.fn, tc.path, tc.filter.Encode())
		if whole.Total != tc.total || len(whole.Items) != tc.total || whole.NextCursor != nil {
			t.Fatalf("%s %v: whole list total %d items %d next %v, want %d", tc.path, tc.filter, whole.Total, len(whole.Items), whole.NextCursor, tc.total)
		}
		for _, limit := range []int{1, 3, tc.total} {
			got, last := c.walk(tc.fn, tc.path, tc.filter, limit, nil)
			if !slices.Equal(got, idsOf(whole)) || last.Total != tc.total {
				t.Fatalf("%s %v limit %d: walk %v (total %d), want %v", tc.path, tc.filter, limit, got, last.Total, idsOf(whole))
			}
		}
		// An offset page carries the cursor of the page that follows it.
		if tc.total > 2 {
			v := url.Values{"pagination[offset]": {"1"}, "pagination[limit]": {"1"}}
			for k, vs := range tc.filter {
				v[k] = vs
			}
			pg := c.cursorPage(tc.fn, tc.path, v.Encode())
			if pg.NextCursor == nil {
				t.Fatalf("%s: offset page without a next cursor", tc.path)
			}
			v.Del("pagination[offset]")
			v.Set("pagination[cursor]", *pg.NextCursor)
			if next := c.cursorPage(tc.fn, tc.path, v.Encode()); len(next.Items) != 1 || next.Items[0].ID != whole.Items[2].ID {
				t.Fatalf("%s: the page after offset 1 starts at %v, want %s", tc.path, idsOf(next), whole.Items[2].ID)
			}
		}
	}
}

// TestCursorWalkUnderConcurrentWrites: records added while a walk is under way show up
// (their ids sort after the cursor's), removed ones not yet reached do not, and nothing
// repeats or goes missing; the total is exact on every page.
func TestCursorWalkUnderConcurrentWrites(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("S")
	var created []sp
	c.importRows(scr, "", rows(20, "p")...).JSON(&created)
	filter := url.Values{"filter[screenerId][eq]": {scr}}
	removed := map[string]bool{}
	var added []string
	total := 20
	got, last := c.walk("ListScreenerParticipantsFunction", "/screener-participants", filter, 4, func(page int) {
		switch page {
		case 0, 2:
			// Add three, remove one already read and one not yet read.
			var more []sp
			c.importRows(scr, "", rows(3, fmt.Sprintf("n%d", page))...).JSON(&more)
			for _, m := range more {
				added = append(added, m.ID)
			}
			for _, gone := range []string{created[page].ID, created[15+page].ID} {
				wantStatus(t, c.call("DeleteScreenerParticipantFunction", "DELETE", "/screener-participants/"+gone, "", "", nil), 200)
				removed[gone] = true
			}
			total++
		}
	})
	if last.Total != total {
		t.Fatalf("last page's total %d, want %d", last.Total, total)
	}
	seen := map[string]bool{}
	for i, id := range got {
		if seen[id] {
			t.Fatalf("%s read twice", id)
		}
		seen[id] = true
		if i > 0 && got[i-1] >= id {
			t.Fatalf("walk out of order at %d: %s after %s", i, id, got[i-1])
		}
	}
	for _, id := range added {
		if !seen[id] {
			t.Fatalf("added %s missing from the walk", id)
		}
	}
	for i, cr := range created {
		wantSeen := i != 15 && i != 17 // removed before the walk reached them
		if seen[cr.ID] != wantSeen {
			t.Fatalf("created[%d] seen %v, want %v", i, seen[cr.ID], wantSeen)
		}
	}
	// What the walk saw, less what was removed after it was read, is the list now.
	var now []string
	for _, id := range got {
		if !removed[id] {
			now = append(now, id)
		}
	}
	if whole := c.cursorPage("ListScreenerParticipantsFunction", "/screener-participants", filter.Encode()); !slices.Equal(idsOf(whole), now) {
		t.Fatalf("list now %v, walk less removals %v", idsOf(whole), now)
	}
}

// TestCursorWalkWithConcurrentWriters: a writer imports and removes while a walk is under
// way. The walk never repeats a record or leaves creation order, sees every record that was
// never removed, and every one whose import had returned before the walk's last page.
func TestCursorWalkWithConcurrentWriters(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("S")
	var initial []sp
	c.importRows(scr, "", rows(60, "p")...).JSON(&initial)
	var (
		mu      sync.Mutex
		added   []string
		removed = map[string]bool{}
		werr    error
	)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 40; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var more []sp
			r := c.importRows(scr, "", rows(2, fmt.Sprintf("w%02d", i))...)
			if r.StatusCode != 200 {
				werr = fmt.Errorf("import: %d %s", r.StatusCode, r.Body)
				return
			}
			r.JSON(&more)
			gone := initial[59-i].ID
			if r := c.call("DeleteScreenerParticipantFunction", "DELETE", "/screener-participants/"+gone, "", "", nil); r.StatusCode != 200 {
				werr = fmt.Errorf("delete: %d %s", r.StatusCode, r.Body)
				return
			}
			mu.Lock()
			for _, m := range more {
				added = append(added, m.ID)
			}
			removed[gone] = true
			mu.Unlock()
		}
	}()
	addedBeforeLast := 0
	got, _ := c.walk("ListScreenerParticipantsFunction", "/screener-participants", url.Values{"filter[screenerId][eq]": {scr}}, 3, func(int) {
		mu.Lock()
		addedBeforeLast = len(added)
		mu.Unlock()
	})
	close(stop)
	<-done
	if werr != nil {
		t.Fatal(werr)
	}
	seen := map[string]bool{}
	for i, id := range got {
		if seen[id] || i > 0 && got[i-1] >= id {
			t.Fatalf("walk repeats or leaves order at %d: %s after %v", i, id, got[max(0, i-1)])
		}
		seen[id] = true
	}
	for _, p := range initial {
		if !removed[p.ID] && !seen[p.ID] {
			t.Fatalf("%s, never removed, missing from the walk", p.ID)
		}
	}
	for _, id := range added[:addedBeforeLast] {
		if !seen[id] {
			t.Fatalf("%s, added before the last page, missing from the walk", id)
		}
	}
	t.Logf("walk of %d records; %d added and %d removed while it ran, %d added before its last page",
		len(got), len(added), len(removed), addedBeforeLast)
}

// TestPageCostIsFlat: on a 3,000-record roster the cursor page at the end reads about what the
// first page reads, and so do offset pages there (the count buckets start their Query near the
// offset), aligned with a bucket or not; the offset page and the cursor page agree.
func TestPageCostIsFlat(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("S")
	for i := range 3 {
		wantStatus(t, c.importRows(scr, "", rows(1000, fmt.Sprintf("r%d", i))...), 200)
	}
	units := func(query string) (cursorPage, float64) {
		t.Helper()
		ctx, m := capacity.WithMeter(context.Background())
		r := c.env.InvokeContext(ctx, "ListScreenerParticipantsFunction",
			testkit.Event("GET", "/screener-participants", query, c.tenant.Headers(), ""))
		wantStatus(t, r, 200)
		var pg cursorPage
		r.JSON(&pg)
		read, _ := m.Units()
		return pg, read
	}
	first, firstUnits := units(q("filter[screenerId][eq]", scr))
	atEnd, offsetUnits := units(q("filter[screenerId][eq]", scr, "pagination[offset]", "2800"))
	if first.Total != 3000 || atEnd.NextCursor == nil || len(atEnd.Items) != 100 {
		t.Fatalf("first total %d, offset 2800 page %d items next %v", first.Total, len(atEnd.Items), atEnd.NextCursor)
	}
	last, cursorUnits := units(q("filter[screenerId][eq]", scr, "pagination[cursor]", *atEnd.NextCursor))
	t.Logf("read units: first page %.1f, offset 2800 %.1f, cursor page after 2899 %.1f", firstUnits, offsetUnits, cursorUnits)
	if last.Total != 3000 || len(last.Items) != 100 || last.NextCursor != nil || last.Offset != nil {
		t.Fatalf("cursor page: total %d items %d next %v offset %v", last.Total, len(last.Items), last.NextCursor, last.Offset)
	}
	if firstUnits <= 0 || cursorUnits > firstUnits*1.25+1 || cursorUnits < firstUnits*0.75 {
		t.Fatalf("cursor page read %.1f units, first page %.1f: want about equal", cursorUnits, firstUnits)
	}
	if offsetUnits > 2*firstUnits {
		t.Fatalf("offset page at 2800 read %.1f units, first page %.1f: want at most twice", offsetUnits, firstUnits)
	}
	mid, midUnits := units(q("filter[screenerId][eq]", scr, "pagination[offset]", "2850"))
	if len(mid.Items) != 100 || mid.Items[0].ID != atEnd.Items[50].ID || midUnits > 2*firstUnits {
		t.Fatalf("offset 2850: %d items, first %s (want %s), %.1f units (first page %.1f)",
			len(mid.Items), mid.Items[0].ID, atEnd.Items[50].ID, midUnits, firstUnits)
	}
	same, _ := units(q("filter[screenerId][eq]", scr, "pagination[offset]", "2900"))
	for i := range last.Items {
		if same.Items[i].ID != last.Items[i].ID {
			t.Fatalf("offset 2900 item %d is %s, the cursor page's %s", i, same.Items[i].ID, last.Items[i].ID)
		}
	}
}

// TestBadCursors: a cursor we did not make, made for another list or filter, or given with an
// offset, is 400 INVALID_QUERY naming pagination[cursor]; a list without cursors (the import
// jobs) does not know the parameter.
func TestBadCursors(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scrA, scrB := c.screener("A"), c.screener("B")
	wantStatus(t, c.importRows(scrA, "", rows(3, "a")...), 200)
	wantStatus(t, c.importRows(scrB, "", rows(3, "b")...), 200)
	cursorOf := func(fn, path string, kv ...string) string {
		t.Helper()
		pg := c.cursorPage(fn, path, q(append(kv, "pagination[limit]", "1")...))
		if pg.NextCursor == nil {
			t.Fatalf("%s %v: no next cursor", path, kv)
		}
		return *pg.NextCursor
	}
	rosterA := cursorOf("ListScreenerParticipantsFunction", "/screener-participants", "filter[screenerId][eq]", scrA)
	allSP := cursorOf("ListScreenerParticipantsFunction", "/screener-participants")
	ptps := cursorOf("ListParticipantsFunction", "/participants")
	tampered := []byte(rosterA)
	tampered[5] ^= 1
	spPath := "/screener-participants"
	for _, tc := range []struct {
		fn, path, query string
	}{
		{"ListScreenerParticipantsFunction", spPath, q("filter[screenerId][eq]", scrA, "pagination[cursor]", rosterA, "pagination[offset]", "0")},
		{"ListScreenerParticipantsFunction", spPath, q("filter[screenerId][eq]", scrB, "pagination[cursor]", rosterA)},
		{"ListScreenerParticipantsFunction", spPath, q("pagination[cursor]", rosterA)},
		{"ListScreenerParticipantsFunction", spPath, q("filter[screenerId][eq]", scrA, "pagination[cursor]", allSP)},
		{"ListScreenerParticipantsFunction", spPath, q("filter[screenerId][eq]", scrA, "pagination[cursor]", string(tampered))},
		{"ListScreenerParticipantsFunction", spPath, q("pagination[cursor]", "")},
		{"ListScreenerParticipantsFunction", spPath, q("pagination[cursor]", "abc")},
		{"ListScreenerParticipantsFunction", spPath, q("pagination[cursor]", "1")},
		{"ListScreenerParticipantsFunction", spPath, q("pagination[cursor]", "1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")},
		{"ListScreenerParticipantsFunction", spPath, q("pagination[cursor]", "1a/b+c==")},
		{"ListScreenerParticipantsFunction", spPath, q("pagination[cursor]", "2"+rosterA[1:])},
		{"ListScreenerParticipantsFunction", spPath, q("pagination[cursor]", rosterA+"A")},
		{"ListScreenerParticipantsFunction", spPath, q("pagination[cursor]", string(make([]byte, 600)))},
		{"ListParticipantsFunction", "/participants", q("pagination[cursor]", allSP)},
		{"ListParticipantsFunction", "/participants", q("filter[email][eq]", "a0000@example.com", "pagination[cursor]", ptps)},
		{"ListParticipantsFunction", "/participants", q("filter[email][eq]", "nobody@example.com", "pagination[cursor]", "xyz")},
		{"ListScreenersFunction", "/screeners", q("pagination[cursor]", ptps)},
		{"ListScreenerSessionsFunction", "/screener-sessions", q("pagination[cursor]", ptps)},
		{"ListScreenerSessionsFunction", "/screener-sessions", q("filter[screenerId][eq]", scrA, "pagination[cursor]", rosterA)},
	} {
		p := wantProblem(t, c.get(tc.fn, tc.path, tc.query), 400, "INVALID_QUERY")
		if f := p.fields(); !slices.Contains(f, "pagination[cursor]:INVALID") {
			t.Fatalf("%s ?%s: fields %v", tc.path, tc.query, f)
		}
	}
	p := wantProblem(t, c.get("ListScreenerParticipantImportsFunction", "/screener-participants-imports", q("pagination[cursor]", rosterA)), 400, "INVALID_QUERY")
	if f := p.fields(); !slices.Equal(f, []string{"pagination[cursor]:UNKNOWN_FIELD"}) {
		t.Fatalf("import jobs with a cursor: %v", f)
	}
}

// TestCursorTenantIsolation: another workspace's cursor is a 400 on the same list, and a cursor
// forged for the caller's own list that names another workspace's record reads only the
// caller's records: the partition a cursor page reads comes from the credential, never from
// the cursor.
func TestCursorTenantIsolation(t *testing.T) {
	env := testkit.NewEnv(t)
	a, b := newClient(t, env), newClient(t, env)
	scrA, scrB := a.screener("A"), b.screener("B")
	var spA, spB []sp
	a.importRows(scrA, "", rows(5, "a")...).JSON(&spA)
	b.importRows(scrB, "", rows(5, "b")...).JSON(&spB)
	pg := a.cursorPage("ListScreenerParticipantsFunction", "/screener-participants", q("pagination[limit]", "1"))
	if pg.NextCursor == nil {
		t.Fatal("no cursor")
	}
	for _, query := range []string{q("pagination[cursor]", *pg.NextCursor), q("filter[screenerId][eq]", scrA, "pagination[cursor]", *pg.NextCursor)} {
		r := b.get("ListScreenerParticipantsFunction", "/screener-participants", query)
		p := wantProblem(t, r, 400, "INVALID_QUERY")
		if !slices.Equal(p.fields(), []string{"pagination[cursor]:INVALID"}) {
			t.Fatalf("fields %v", p.fields())
		}
	}
	// Forged: B's own partition tag, A's first record id as the position. A's ids all sort
	// before B's (A imported first), so the page is B's whole list.
	forged := ddb.Partition{PK: ddb.WS(b.tenant.WorkspaceID) + "#SCPAR"}.Cursor(spA[0].ID)
	got := b.cursorPage("ListScreenerParticipantsFunction", "/screener-participants", q("pagination[cursor]", forged))
	want := make([]string, len(spB))
	for i, s := range spB {
		want[i] = s.ID
	}
	if !slices.Equal(idsOf(got), want) || got.Total != 5 {
		t.Fatalf("forged cursor read %v (total %d), want B's %v", idsOf(got), got.Total, want)
	}
	for _, id := range idsOf(got) {
		for _, s := range spA {
			if id == s.ID {
				t.Fatalf("B read A's %s", id)
			}
		}
	}
	raw, _ := json.Marshal(got)
	t.Logf("forged cursor page: %s", raw)
}
