package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/participant-roster/roster/pkg/spot/screening"
)

// Measure 8's load, as issue 10 describes it: clients importing overlapping payloads at once.
const (
	overlapClients = 20
	overlapEach    = 25  // synchronous imports per client
	overlapRows    = 50  // rows per import, distinct within it
	overlapPool    = 300 // participants the payloads are drawn from
	overlapTarget  = 0.05
	overlapBefore  = 407 // imports answered 409 of 500 when issue 10 was filed
)

// overlapCall is one import a client made: its status, time and the pool rows it named.
type overlapCall struct {
	status int // 0: the handler returned an error
	d      time.Duration
	rows   []int
}

// overlapCheck is what the roster holds after every client finished.
type overlapCheck struct {
	named          int // distinct pool rows named by an import answered 200
	missing        []string
	screenerTotal  int // GET /screener-participants?filter[screenerId][eq]=…: total
	workspaceTotal int // GET /participants: total
	rosterRecords  int // the screener participants the roster Query reads
}

func (c overlapCheck) applied() bool { return len(c.missing) == 0 }

func (c overlapCheck) exact() bool {
	return c.screenerTotal == c.named && c.workspaceTotal == c.named && c.rosterRecords == c.named
}

// measureOverlap is measure 8: overlapClients clients each post overlapEach synchronous
// UPDATES_ONLY imports of overlapRows rows drawn from one pool of overlapPool participants into
// one screener of a fresh workspace, all at once; then it counts the answers and checks that
// every import answered 200 applied and the totals are exact.
func (b *bench) measureOverlap() (section, error) {
	t, err := b.withTenant("overlap workspace")
	if err != nil {
		return section{}, err
	}
	scr, err := t.newScreener("Overlapping imports")
	if err != nil {
		return section{}, err
	}
	pool := rows("o", overlapPool)
	progress("measure 8: %d clients × %d imports of %d rows from a pool of %d", overlapClients, overlapEach, overlapRows, overlapPool)
	calls := make([][]overlapCall, overlapClients)
	errs := make([]error, overlapClients)
	gc()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range overlapClients {
		wg.Go(func() { calls[c], errs[c] = t.overlapClient(scr, pool, rand.New(rand.NewPCG(10, uint64(c)))) })
	}
	wg.Wait()
	took := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return section{}, err
		}
	}
	var all []overlapCall
	for _, cs := range calls {
		all = append(all, cs...)
	}
	check, err := t.checkOverlap(scr, pool, all)
	if err != nil {
		return section{}, err
	}
	progress("measure 8: took %s", secs(took))
	return overlapSection(all, took, check), nil
}

// overlapClient posts one client's imports one after another.
func (b *bench) overlapClient(scr string, pool []importRow, rng *rand.Rand) ([]overlapCall, error) {
	const fn = "ImportScreenerParticipantsFunction"
	out := make([]overlapCall, overlapEach)
	for i := range out {
		picked := rng.Perm(len(pool))[:overlapRows]
		rs := make([]importRow, len(picked))
		for j, k := range picked {
			rs[j] = pool[k]
		}
		body, err := importBody(scr, rs)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		resp, err := b.handlers[fn](b.ctx, b.event("POST", "/screener-participants-import", "", body))
		out[i] = overlapCall{status: resp.StatusCode, d: time.Since(start), rows: picked}
		if err != nil {
			out[i].status = 0
		}
	}
	return out, nil
}

// checkOverlap reads the roster back: every pool row an import answered 200 named must be one
// participant (found by its email and by its external uid) with the row's fields, linked once
// to the screener; and the totals must count exactly those.
func (b *bench) checkOverlap(scr string, pool []importRow, calls []overlapCall) (overlapCheck, error) {
	named := map[int]bool{}
	for _, c := range calls {
		if c.status == 200 {
			for _, k := range c.rows {
				named[k] = true
			}
		}
	}
	var check overlapCheck
	check.named = len(named)
	uids, emails := make([]string, len(pool)), make([]string, len(pool))
	for i, r := range pool {
		uids[i], emails[i] = r.ExternalUID, screening.NormalizeEmail(r.Email)
	}
	byUID, byEmail, err := b.app.Store.FindParticipantIDs(b.ctx, b.ws, uids, emails)
	if err != nil {
		return check, err
	}
	var ids []string
	for k := range named {
		ids = append(ids, byEmail[emails[k]])
	}
	ps, err := b.app.Store.GetParticipants(b.ctx, b.ws, ids)
	if err != nil {
		return check, err
	}
	roster, err := b.app.Store.Roster(b.ctx, b.ws, scr)
	if err != nil {
		return check, err
	}
	check.rosterRecords = len(roster)
	links := map[string]int{}
	for _, sp := range roster {
		links[sp.ParticipantID]++
	}
	for k := range named {
		r, id := pool[k], byEmail[emails[k]]
		p, ok := ps[id]
		switch {
		case id == "" || byUID[r.ExternalUID] != id:
			check.missing = append(check.missing, fmt.Sprintf("%s: email marker %q, external-uid marker %q", r.Email, id, byUID[r.ExternalUID]))
		case !ok || p.Email != r.Email || p.Name != r.Name || p.ExternalUID != r.ExternalUID:
			check.missing = append(check.missing, fmt.Sprintf("%s: participant %s reads %+v", r.Email, id, p))
		case p.Links[scr] == "" || links[id] != 1:
			check.missing = append(check.missing, fmt.Sprintf("%s: participant %s linked %d times in the roster (link %q)", r.Email, id, links[id], p.Links[scr]))
		}
	}
	if check.screenerTotal, err = b.listTotal("ListScreenerParticipantsFunction", "/screener-participants", "filter[screenerId][eq]="+scr+"&pagination[limit]=1"); err != nil {
		return check, err
	}
	check.workspaceTotal, err = b.listTotal("ListParticipantsFunction", "/participants", "pagination[limit]=1")
	return check, err
}

// listTotal is the total a list route answers.
func (b *bench) listTotal(fn, path, query string) (int, error) {
	resp, err := b.invoke(b.ctx, fn, b.event("GET", path, query, ""))
	if err != nil {
		return 0, err
	}
	var page struct {
		Total *int `json:"total"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &page); err != nil || page.Total == nil {
		return 0, fmt.Errorf("GET %s?%s: no total (%v): %.300s", path, query, err, resp.Body)
	}
	return *page.Total, nil
}

func overlapSection(calls []overlapCall, took time.Duration, check overlapCheck) section {
	ok, conflict, other := 0, 0, 0
	var ds []time.Duration
	for _, c := range calls {
		switch c.status {
		case 200:
			ok++
		case 409:
			conflict++
		default:
			other++
		}
		ds = append(ds, c.d)
	}
	n := len(calls)
	share := float64(conflict) / float64(n)
	t := newTable("Figure", "Value", "Target", "Met")
	t.add("Imports (clients × imports each; rows each, from a pool of)", fmt.Sprintf("%d (%d × %d; %d of %d)", n, overlapClients, overlapEach, overlapRows, overlapPool), "", "")
	t.add("Answered 200 / 409 / other", fmt.Sprintf("%d / %d / %d", ok, conflict, other), "", "")
	t.add("**Share answered 409 CONFLICT**", fmt.Sprintf("%.1f%% (%d of %d)", 100*share, conflict, n),
		fmt.Sprintf("≤ %.0f%%", 100*overlapTarget), met(share <= overlapTarget))
	t.add("Answered anything but 200 or 409 (a 5xx, an error)", fmt.Sprint(other), "0", met(other == 0))
	t.add("Time, all clients (first POST to last answer)", secs(took), "", "")
	t.add("Import p50 / p95", fmt.Sprintf("%s / %s", ms(percentile(ds, 50)), ms(percentile(ds, 95))), "", "")
	t.add("Pool participants named by an import answered 200", fmt.Sprint(check.named), "", "")
	t.add("… each one participant (by email and external uid), its fields as sent, linked once to the screener",
		fmt.Sprintf("%d of %d", check.named-len(check.missing), check.named), "all", met(check.applied()))
	t.add("Screener's total (GET /screener-participants?filter[screenerId][eq]=…)", fmt.Sprint(check.screenerTotal), fmt.Sprint(check.named), met(check.screenerTotal == check.named))
	t.add("Workspace's participant total (GET /participants)", fmt.Sprint(check.workspaceTotal), fmt.Sprint(check.named), met(check.workspaceTotal == check.named))
	t.add("Screener participants the roster Query reads", fmt.Sprint(check.rosterRecords), fmt.Sprint(check.named), met(check.rosterRecords == check.named))
	t.add("**Counters exact**", met(check.exact()), "yes", met(check.exact()))
	notes := []string{fmt.Sprintf("When issue 10 was filed, %d of the 500 imports were answered 409 (%.1f%%).", overlapBefore, 100*float64(overlapBefore)/500)}
	if len(check.missing) > 0 {
		notes = append(notes, fmt.Sprintf("Not applied (first of %d): %s", len(check.missing), check.missing[0]))
	}
	return section{
		title: "8. Overlapping imports: 20 clients importing rows of one pool into one screener at once",
		intro: fmt.Sprintf("%d concurrent clients, each posting %d synchronous `POST /screener-participants-import` (UPDATES_ONLY) one "+
			"after another, through the function's Lambda handler as measure 3 calls it; each payload is %d distinct rows "+
			"drawn at random (fixed seeds) from one pool of %d participants (fixed external uids, emails and names), all into "+
			"one screener of a fresh workspace. No client retries. Afterwards every pool row that an import answered 200 named "+
			"is looked up by its email and external-uid markers, read back, and counted in the screener's roster; the totals "+
			"come from the list routes' handlers.", overlapClients, overlapEach, overlapRows, overlapPool),
		tables: []*table{t},
		notes:  notes,
	}
}
