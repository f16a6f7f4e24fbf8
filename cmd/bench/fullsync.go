package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
)

// syncRow is a row of measure 9's payload: email and name only, so that 100,000 rows fit the
// 6 MB request payload (with external uids they would not).
type syncRow struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// syncPerson is roster member i; renamed, the name a changed row sends (the same length).
func syncPerson(i int, renamed bool) syncRow {
	name := fmt.Sprintf("N%06d", i)
	if renamed {
		name = fmt.Sprintf("M%06d", i)
	}
	return syncRow{Email: fmt.Sprintf("r%06d@ex.io", i), Name: name}
}

// syncPlan is measure 9's FULL_SYNC against an n-row roster: members 0..unchanged-1 are sent
// as they are, the next changed renamed, the rest (gone) not at all; as many new rows as gone.
type syncPlan struct {
	roster, unchanged, changed, gone int
}

func newSyncPlan(n int) syncPlan {
	p := syncPlan{roster: n, unchanged: n * 85 / 100, changed: n * 10 / 100}
	p.gone = n - p.unchanged - p.changed
	return p
}

func (p syncPlan) rows() int { return p.unchanged + p.changed + p.gone }

// want is what the job must count: every row processed, the new ones created, the renamed
// updated, the absent members removed.
func (p syncPlan) want() jobs.Counts {
	return jobs.Counts{Processed: p.rows(), Created: p.gone, Updated: p.changed, Unchanged: p.unchanged, Removed: p.gone}
}

// payload is the sync's rows in an order mixed by a fixed seed, so that every chunk holds
// unchanged, changed and new rows.
func (p syncPlan) payload() []syncRow {
	out := make([]syncRow, 0, p.rows())
	for i := range p.unchanged + p.changed {
		out = append(out, syncPerson(i, i >= p.unchanged))
	}
	for i := range p.gone {
		out = append(out, syncPerson(p.roster+i, false))
	}
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// fullSyncResult is what measure 9 found.
type fullSyncResult struct {
	plan                  syncPlan
	seedItems             int
	seedTook              time.Duration
	bodyBytes, eventBytes int
	rosterRead            metered // one read of the whole roster, as a FULL_SYNC's finish reads it
	job                   bigPhase
	rosterAfter           int
	participantsAfter     int
	offsets               *table // pages at offsets 0, n/2 and n-100 of both lists, before the job
}

// measureFullSync is measure 9: a screener roster of n participants seeded with raw
// BatchWriteItem of the store's own items (spotstore.SeedItems), then one FULL_SYNC job
// through the import handler, SQS and the worker on measure 7's stack (newBigStack,
// bigImportPhase), whose counts are checked exactly against the plan.
func (b *bench) measureFullSync(n int) (section, error) {
	if n < 20 {
		return section{}, fmt.Errorf("a FULL_SYNC of %d rows: at least 20, so that every kind of row occurs", n)
	}
	s, done, err := b.openBigStack()
	if err != nil {
		return section{}, err
	}
	defer done()
	r := fullSyncResult{plan: newSyncPlan(n)}

	progress("measure 9: seeding a roster of %s participants (raw BatchWriteItem, %d writers)", thousands(n), seedWorkers)
	if r.seedItems, r.seedTook, err = b.seedRoster(s, n); err != nil {
		return section{}, fmt.Errorf("seed: %w", err)
	}
	if total, err := b.rosterTotal(s); err != nil {
		return section{}, err
	} else if total != n {
		return section{}, fmt.Errorf("seed: the screener's total is %d, want %d", total, n)
	}
	progress("measure 9: pages of 100 at offsets 0, %s and %s of the roster and the workspace", thousands(n/2), thousands(n-pageSize))
	if r.offsets, err = b.measureOffsetPages(s, n); err != nil {
		return section{}, fmt.Errorf("offset pages: %w", err)
	}
	// What the job's last chunk must fit into its invocation, with its own rows and the removals.
	if r.rosterRead, err = measure(b.ctx, func(ctx context.Context) error {
		roster, err := s.roster.Roster(ctx, b.ws, s.screener)
		if err == nil && len(roster) != n {
			err = fmt.Errorf("the roster Query read %d screener participants, want %d", len(roster), n)
		}
		return err
	}); err != nil {
		return section{}, fmt.Errorf("seed: %w", err)
	}
	body, err := importBodyMode(s.screener, screening.FullSync, r.plan.payload())
	if err != nil {
		return section{}, err
	}
	ev := b.bigEvent(body, r.plan.rows())
	if r.bodyBytes, r.eventBytes, err = payloadSizes(ev, r.plan.rows()); err != nil {
		return section{}, err
	}
	progress("measure 9: seeded in %s; FULL_SYNC of %s rows (%.2f MiB body)", secs(r.seedTook), thousands(r.plan.rows()), float64(len(body))/(1<<20))
	if r.job, err = b.bigImportPhase(s, ev, r.plan.rows(), r.plan.want()); err != nil {
		return seedSection(r), fmt.Errorf("FULL_SYNC: %w", err)
	}
	if r.rosterAfter, err = b.rosterTotal(s); err != nil {
		return section{}, err
	}
	if r.rosterAfter != n { // as many new as gone
		return section{}, fmt.Errorf("FULL_SYNC: the screener's total is %d after it, want %d", r.rosterAfter, n)
	}
	ps, err := s.roster.ListParticipants(b.ctx, b.ws, screening.ParticipantFilter{}, screening.Page{Limit: 1})
	if err != nil {
		return section{}, err
	}
	r.participantsAfter = ps.Total
	progress("measure 9: FULL_SYNC took %s (%.0f rows/s)", secs(r.job.took), rate(r.plan.rows(), r.job.took))
	return fullSyncSection(r), nil
}

// seedRoster writes, untraced, the items of n participants linked to the stack's screener
// (SeedItems: the store's own items) by BatchWriteItem from seedWorkers writers, and tells the
// trace which indexes they sit in, so that the sync's updates and deletes of them are priced
// there too.
func (b *bench) seedRoster(s *bigStack, n int) (int, time.Duration, error) {
	scr, err := s.roster.GetScreener(b.ctx, b.ws, s.screener)
	if err != nil {
		return 0, 0, err
	}
	actor, at := b.actor(), time.Now()
	ps := make([]screening.Participant, n)
	sps := make([]screening.ScreenerParticipant, n)
	for i := range n {
		row := syncPerson(i, false)
		ps[i] = screening.Participant{ID: ids.New(ids.Participant), Email: row.Email, Name: row.Name,
			CreatedBy: &actor, CreatedAt: at, UpdatedBy: &actor, UpdatedAt: at}
		sps[i] = screening.ScreenerParticipant{ID: ids.New(ids.ScreenerParticipant), ScreenerID: scr.ID, ParticipantID: ps[i].ID,
			Name: row.Name, Email: row.Email, CreatedAt: at}
	}
	items, err := spotstore.SeedItems(b.ws, scr, ps, sps)
	if err != nil {
		return 0, 0, err
	}
	gc()
	start := time.Now()
	if err := b.batchWriteParallel(b.ctx, s.table, items, seedWorkers); err != nil {
		return 0, 0, err
	}
	took := time.Since(start)
	s.trace.see(items)
	gc()
	return len(items), took, nil
}

// seedSection is what measure 9 measured before its job: its seed and the roster read.
func seedSection(r fullSyncResult) section {
	t := newTable("Figure, before the FULL_SYNC", "Value")
	t.add(fmt.Sprintf("Seed of %s participants: raw BatchWriteItem of the store's %s items (%d writers)", thousands(r.plan.roster), thousands(r.seedItems), seedWorkers), secs(r.seedTook))
	t.add("Reading the whole roster once (store.Roster, the gsi1 Query a FULL_SYNC's finish makes): time / read units",
		fmt.Sprintf("%s / %s", secs(r.rosterRead.d), units(r.rosterRead.read)))
	return section{title: fmt.Sprintf("9. FULL_SYNC at scale: a %s-row roster", thousands(r.plan.roster)), tables: []*table{t}}
}

func fullSyncSection(r fullSyncResult) section {
	p, job := r.plan, r.job
	rows := p.rows()
	got, want := job.job.Counts, p.want()
	awsAll := func(m map[string]float64) float64 { return m[callerRows] + m[callerBook] + m[callerRequest] }
	totalW := job.job.RowWriteUnits + job.bookW + job.post.write
	totalR := job.job.RowReadUnits + job.bookR + job.post.read
	pair := func(a, b float64) string { return fmt.Sprintf("%s / %s", units(a), units(b)) }
	perRows := func(a, b float64) string { return fmt.Sprintf("%s / %s", perRow(a, rows), perRow(b, rows)) }

	t := newTable("Figure", "Value", "Target", "Met")
	t.add("Roster before (participants, each linked to the screener)", thousands(p.roster), "", "")
	t.add(fmt.Sprintf("Seed: raw BatchWriteItem of the store's %s items (spotstore.SeedItems; %d per call, %d writers)", thousands(r.seedItems), batchSize, seedWorkers),
		secs(r.seedTook), "", "")
	t.add(fmt.Sprintf("Reading the whole roster once (store.Roster: the gsi1 Query a FULL_SYNC's finish makes, in the job's last chunk; the worker's timeout: %s): time / read units", workerTimeout),
		fmt.Sprintf("%s / %s", secs(r.rosterRead.d), units(r.rosterRead.read)), "", "")
	t.add("FULL_SYNC rows: unchanged / changed (new name) / new", fmt.Sprintf("%s / %s / %s", thousands(p.unchanged), thousands(p.changed), thousands(p.gone)), "", "")
	t.add("Request body / the whole event", fmt.Sprintf("%s / %s", mib(int64(r.bodyBytes)), mib(int64(r.eventBytes))), "≤ 6 MB", met(r.eventBytes <= lambdaPayloadMax))
	t.add("POST answered 202", secs(job.accepted), "", "")
	t.add("**FULL_SYNC: POST to COMPLETED**", secs(job.took), "", "")
	t.add("FULL_SYNC: rows per second", perSec(rate(rows, job.took)), "", "")
	for _, c := range []struct {
		name      string
		got, want int
	}{{"created", got.Created, want.Created}, {"updated", got.Updated, want.Updated},
		{"unchanged", got.Unchanged, want.Unchanged}, {"removed", got.Removed, want.Removed}} {
		t.add("Job count: "+c.name, thousands(c.got), thousands(c.want), met(c.got == c.want))
	}
	t.add("Write units: the rows' own / with bookkeeping and the POST (DynamoDB Local)", pair(job.job.RowWriteUnits, totalW), "", "")
	t.add("… per row", perRows(job.job.RowWriteUnits, totalW), "", "")
	t.add("Write units priced for AWS (estimate): the rows' own / with bookkeeping and the POST", pair(job.trace.awsWrites[callerRows], awsAll(job.trace.awsWrites)), "", "")
	t.add("… per row", perRows(job.trace.awsWrites[callerRows], awsAll(job.trace.awsWrites)), "", "")
	t.add("Read units: the rows' own / with bookkeeping and the POST (DynamoDB Local)", pair(job.job.RowReadUnits, totalR), "", "")
	t.add("… per row", perRows(job.job.RowReadUnits, totalR), "", "")
	t.add("Read units priced for AWS (estimate): the rows' own / with bookkeeping and the POST", pair(job.trace.awsReads[callerRows], awsAll(job.trace.awsReads)), "", "")
	t.add("… per row", perRows(job.trace.awsReads[callerRows], awsAll(job.trace.awsReads)), "", "")
	t.add("Chunks; worker invocations", fmt.Sprintf("%d; %d", job.job.Chunks, len(job.batches)), "", "")
	t.add("Roster total after (its count buckets)", thousands(r.rosterAfter), thousands(p.roster), met(r.rosterAfter == p.roster))
	t.add("Workspace's participants after (removal unlinks, it does not delete)", thousands(r.participantsAfter), "", "")
	return section{
		title: fmt.Sprintf("9. FULL_SYNC at scale: a %s-row roster, %d%% changed, %d%% new, %d%% gone", thousands(p.roster),
			100*p.changed/p.roster, 100*p.gone/p.roster, 100*p.gone/p.roster),
		intro: fmt.Sprintf("A screener roster of %s participants, seeded with raw BatchWriteItem of exactly the items the store keeps "+
			"for them (`spotstore.SeedItems`, built from the store's own item types and keys; its test checks they read back "+
			"like records the API wrote) from %d writers, into measure 7's stack (its own table, queue, poller and worker, "+
			"wired as there). Then one `POST /screener-participants-import` with importMode FULL_SYNC through the function's "+
			"Lambda handler, answered 202 with a job, run through SQS and the worker as measure 7 runs its import (same "+
			"poller settings, meters and tracing; no warm-up) until COMPLETED. Its %s rows (email and name only, so that "+
			"100,000 rows fit the 6 MB payload, which with external uids they would not), in an order mixed by a fixed seed: %s members as they are, %s "+
			"renamed, %s new; the other %s members are named by no row and removed. The job's counts are checked against "+
			"that plan through `GET /screener-participants-imports/{id}` and the measure fails on any difference. Units as "+
			"in measure 7 (the rows' own: the job's rowReadUnits/rowWriteUnits; AWS estimates priced from the calls). "+
			"`-sync-rows` sets the roster's size.",
			thousands(p.roster), seedWorkers, thousands(rows), thousands(p.unchanged), thousands(p.changed),
			thousands(p.gone), thousands(p.gone)),
		tables: []*table{t, r.offsets},
	}
}
