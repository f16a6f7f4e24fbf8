package spotstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// ledgerRetention is how long a delivery's ledger outlives it if the delivery never deletes it
// (it was interrupted): as long as the job's own records (jobs.Retention).
const ledgerRetention = 7 * 24 * time.Hour

// ledgerItem is what one delivery of an import chunk set out to create, written before its
// first write and deleted with its count: a later delivery of the chunk counts those of them
// that exist, in case the one that wrote them was interrupted before counting them.
type ledgerItem struct {
	PK      string        `dynamodbav:"pk"`
	SK      string        `dynamodbav:"sk"`
	Type    string        `dynamodbav:"type"`
	Entries []ledgerEntry `dynamodbav:"entries"`
	TTL     int64         `dynamodbav:"ttl"`
}

type ledgerEntry struct {
	Participant    string `dynamodbav:"p"`
	ParticipantSeq int64  `dynamodbav:"ps"`
	Link           string `dynamodbav:"l"`
	LinkSeq        int64  `dynamodbav:"ls"`
}

// ApplyChunk writes one import chunk's changes (screening.Store): its new participants without
// a transaction, the rest as Apply does.
//
// A new participant is its markers' conditional inserts (email, external uid: absent, or
// already its own), then its participant and its screener participant. The chunk makes each
// step for many rows at once (createAll). A row whose markers it inserted is its own under
// their claim, and its two records are put without a condition; a row that took over markers
// already naming its participant inserts them conditionally (createGroup). Uniqueness holds
// as in a transaction: a participant exists only once its markers name it. A write that
// loses a race ends its row (its markers released if the participant was never written) and
// the chunk answers vocab.ErrConflict, to plan again. A delivery interrupted between the
// steps leaves markers naming a participant that does not exist, which the next plan takes
// over under the same id (screening's match) once the claim has run out, or a participant
// whose screener participant is missing, which the next plan writes, under the same wait.
//
// The counts: the delivery writes its ledger (what it sets out to create, with the places it
// allocated) before the first write, and after the last one adds what it wrote to the count
// buckets and deletes its ledger in one transaction. A delivery cut short in between leaves
// its ledger, and the job's end counts it (SettleJob, through jobs.Settler): bucket
// membership is idempotent (ddb.AssertMembership), so counting twice counts once.
func (s *Store) ApplyChunk(ctx context.Context, w, scr string, chunk screening.ChunkID, changes []screening.Change) error {
	var creates, rest []screening.Change
	for _, c := range changes {
		if c.Create != nil && c.Link != nil && len(c.Copies) == 0 {
			creates = append(creates, c)
		} else {
			rest = append(rest, c)
		}
	}
	if len(rest) > 0 {
		if err := s.Apply(ctx, w, scr, rest); err != nil {
			return err
		}
	}
	if len(creates) == 0 {
		return nil
	}
	placed, err := s.placed(ctx, w, scr, creates)
	if err != nil {
		return err
	}
	ledger := newLedger(w, chunk, placed)
	if err := s.putLedger(ctx, ledger); err != nil {
		return err
	}
	written, lost, err := s.createAll(ctx, w, placed)
	if err != nil {
		return err
	}
	if err := s.count(ctx, w, scr, written, ledger); err != nil {
		return err
	}
	if lost {
		return vocab.ErrConflict
	}
	return nil
}

func newLedger(w string, chunk screening.ChunkID, placed []placedChange) ledgerItem {
	l := ledgerItem{
		PK: jobLedgerPartition(w, chunk.Job), SK: chunkLedgerPrefix(chunk.N) + ids.New(""), Type: "ChunkLedger",
		TTL: time.Now().Add(ledgerRetention).Unix(),
	}
	for _, c := range placed {
		l.Entries = append(l.Entries, ledgerEntry{
			Participant: c.Create.ID, ParticipantSeq: c.participantSeq, Link: c.Link.ID, LinkSeq: c.Link.Seq,
		})
	}
	return l
}

func (s *Store) putLedger(ctx context.Context, l ledgerItem) error {
	op, err := s.Put(l, "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	if ok, err := s.WriteOne(ctx, op); err != nil || !ok {
		return fmt.Errorf("store: chunk ledger %s: written %v: %w", l.SK, ok, err)
	}
	return nil
}

// createAll writes the new participants, a group of createGroupRows rows at a time and
// createGroupsInFlight groups at once: a group claims its rows' markers, then writes the
// participants whose markers it claimed, and their screener participants (createGroup). Rows do not depend on each other, so the groups overlap
// and the table always has calls in flight, where steps taken over the whole chunk would each
// wait for their slowest call. written holds the ledger entries of what it wrote (a
// participant whose link another write made has no LinkSeq); lost is whether any row lost a race.
func (s *Store) createAll(ctx context.Context, w string, placed []placedChange) (written []ledgerEntry, lost bool, err error) {
	type result struct {
		written []ledgerEntry
		lost    bool
		err     error
	}
	var groups [][]placedChange
	for start := 0; start < len(placed); start += createGroupRows {
		groups = append(groups, placed[start:min(start+createGroupRows, len(placed))])
	}
	results := make([]result, len(groups))
	sem := make(chan struct{}, createGroupsInFlight)
	var wg sync.WaitGroup
	for g, group := range groups {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r := &results[g]
			r.written, r.lost, r.err = s.createGroup(ctx, w, group)
		})
	}
	wg.Wait()
	for _, r := range results {
		if r.err != nil {
			return nil, false, r.err
		}
		written = append(written, r.written...)
		lost = lost || r.lost
	}
	return written, lost, nil
}

const (
	// createGroupRows is one group's rows: one call's worth of each kind of its records (its
	// email markers, its external-uid markers, its participants, its screener participants).
	createGroupRows = ddb.StatementsPerCall
	// createGroupsInFlight is how many groups a chunk writes at once (each has one or two
	// calls in flight).
	createGroupsInFlight = 8
)

// createGroup writes one group's new participants: all their markers, then the participants
// whose markers it claimed, and their screener participants.
//
// The rows whose markers were all free are the group's own for a while: it inserted them,
// with a claim (ddb.MarkerClaim) that keeps any other write from taking them over until the
// claim runs out, and nothing else can make a participant that no marker named before. So
// the group writes those rows' participants and screener participants without a condition,
// in BatchWriteItem (a third of a conditional write's cost on DynamoDB Local), before the
// claim's end. What it could not write for certain by then, and the rows
// that took over markers already naming their participant, go through conditional inserts.
func (s *Store) createGroup(ctx context.Context, w string, placed []placedChange) (written []ledgerEntry, lost bool, err error) {
	claim := s.newClaim(ctx)
	claimed, fresh, err := s.claimAll(ctx, w, placed, claim)
	if err != nil {
		return nil, false, err
	}
	made, linked := s.putFresh(ctx, w, placed, fresh, claim)
	var rows []int
	for i, ok := range claimed {
		switch {
		case !ok:
			lost = true
		case !made[i]:
			rows = append(rows, i)
		}
	}
	inserted, err := s.insertOwn(ctx, rows, func(i int) (any, ddb.Key, int64) {
		c := placed[i]
		return newParticipantItem(w, *c.Create, c.participantSeq), participantKey(w, c.Create.ID), c.participantSeq
	})
	if err != nil {
		return nil, false, err
	}
	for k, ok := range inserted {
		if ok {
			made[rows[k]] = true
		} else {
			lost = true // another write took the markers over and made the participant
		}
	}
	var unlinked []int
	for i := range placed {
		if made[i] && !linked[i] {
			unlinked = append(unlinked, i)
		}
	}
	done, err := s.insertOwn(ctx, unlinked, func(i int) (any, ddb.Key, int64) {
		c := placed[i]
		return newScreenerParticipantItem(w, *c.Link), screenerParticipantKey(w, c.Link.ID), c.Link.Seq
	})
	if err != nil {
		return nil, false, err
	}
	for k, ok := range done {
		linked[unlinked[k]] = ok
	}
	for i, c := range placed {
		if !made[i] {
			continue
		}
		e := ledgerEntry{Participant: c.Create.ID, ParticipantSeq: c.participantSeq, Link: c.Link.ID}
		if linked[i] {
			e.LinkSeq = c.Link.Seq
		} else {
			// Another delivery found the participant without its link and wrote the link the
			// participant names, counting it itself.
			lost = true
		}
		written = append(written, e)
	}
	return written, lost, nil
}

// newClaim is a delivery's claim on the markers it inserts: until its own deadline, or
// ClaimWindow from now if that comes first. A delivery cut short at its deadline (Lambda
// ends an invocation there) thus lets its claims go by the time SQS brings the chunk back.
func (s *Store) newClaim(ctx context.Context) ddb.MarkerClaim {
	now := s.Now()
	until := now.Add(s.ClaimWindow)
	if d, ok := ctx.Deadline(); ok && d.Before(until) {
		until = d
	}
	return ddb.MarkerClaim{Token: ids.New(""), Until: until, Now: now}
}

// putFresh writes the participants and screener participants of the rows whose markers the
// claim inserted, unconditionally and before the claim's deadline (createGroup); made[i] and
// linked[i] say which of row i's two are written for certain.
func (s *Store) putFresh(ctx context.Context, w string, placed []placedChange, fresh []bool, claim ddb.MarkerClaim) (made, linked []bool) {
	made, linked = make([]bool, len(placed)), make([]bool, len(placed))
	var rows []int
	var items []ddb.Item
	for i, c := range placed {
		if !fresh[i] {
			continue
		}
		p := newParticipantItem(w, *c.Create, c.participantSeq)
		p.ClaimedUntil = claim.Until.UnixMilli()
		rows = append(rows, i)
		items = append(items, ddb.MustMarshal(p), ddb.MustMarshal(newScreenerParticipantItem(w, *c.Link)))
	}
	if len(rows) == 0 {
		return made, linked
	}
	ctx, cancel := context.WithDeadline(ctx, claim.Until)
	defer cancel()
	written := s.PutAll(ctx, items)
	for k, i := range rows {
		made[i], linked[i] = written[2*k], written[2*k+1]
	}
	return made, linked
}

// claimAll claims every new participant's markers; claimed[i] says whether row i got all of
// its own, fresh[i] whether it inserted them all (none was there). A taken marker may already
// be the row's (an earlier try, or a marker left naming this participant, taken over once
// no claim holds it): the marker's conditional put decides. A row that did not get all of
// them releases those it got.
func (s *Store) claimAll(ctx context.Context, w string, placed []placedChange, c ddb.MarkerClaim) (claimed, fresh []bool, err error) {
	type claim struct {
		row int
		key ddb.Key
		op  types.TransactWriteItem
	}
	var claims []claim
	var items []ddb.Item
	for i, p := range placed {
		for _, k := range markerKeys(w, screening.NormalizeEmail(p.Create.Email), p.Create.ExternalUID) {
			op, err := s.ClaimMarker(k, p.Create.ID, c)
			if err != nil {
				return nil, nil, err
			}
			claims = append(claims, claim{i, k, op})
			items = append(items, op.Put.Item)
		}
	}
	got, err := s.InsertAll(ctx, items)
	if err != nil {
		return nil, nil, err
	}
	claimed, fresh = make([]bool, len(placed)), make([]bool, len(placed))
	for i := range placed {
		claimed[i], fresh[i] = true, true
	}
	mine := map[int][]ddb.Key{}
	for j, cl := range claims {
		if !got[j] {
			fresh[cl.row] = false
			if got[j], err = s.WriteOne(ctx, cl.op); err != nil {
				return nil, nil, err
			}
		}
		if got[j] {
			mine[cl.row] = append(mine[cl.row], cl.key)
		} else {
			claimed[cl.row] = false
		}
	}
	for i, ok := range claimed {
		if !ok {
			fresh[i] = false
			if err := s.release(ctx, w, placed[i].Create.ID, mine[i]); err != nil {
				return nil, nil, err
			}
		}
	}
	return claimed, fresh, nil
}

// insertOwn inserts one new record per row (absent); ok[k] is also true when the record there
// is this very one, at the same place (its earlier try went through and the answer was lost).
func (s *Store) insertOwn(ctx context.Context, rows []int, record func(int) (any, ddb.Key, int64)) ([]bool, error) {
	items := make([]ddb.Item, len(rows))
	for k, i := range rows {
		rec, _, _ := record(i)
		it, err := attributevalue.MarshalMap(rec)
		if err != nil {
			return nil, fmt.Errorf("store: encode: %w", err)
		}
		items[k] = it
	}
	ok, err := s.InsertAll(ctx, items)
	if err != nil {
		return nil, err
	}
	for k, i := range rows {
		if ok[k] {
			continue
		}
		_, key, seq := record(i)
		var there struct {
			Seq int64 `dynamodbav:"seq"`
		}
		found, err := s.GetConsistent(ctx, key, &there)
		if err != nil {
			return nil, err
		}
		ok[k] = found && there.Seq == seq
	}
	return ok, nil
}

// release frees the markers a row claimed before it lost a race, unless its participant has
// been written meanwhile (another write took the markers over): then they are that
// participant's.
func (s *Store) release(ctx context.Context, w, participantID string, claimed []ddb.Key) error {
	for _, k := range claimed {
		err := s.TransactWrite(ctx, []types.TransactWriteItem{
			s.DeleteOp(k, "participantId = :me", map[string]types.AttributeValue{":me": ddb.S(participantID)}),
			{ConditionCheck: &types.ConditionCheck{
				TableName: &s.TableName, Key: participantKey(w, participantID).AV(),
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			}},
		})
		if err != nil && !errors.Is(err, vocab.ErrConflict) {
			return err
		}
	}
	return nil
}

// markerKeys are the markers a participant claims: its email's and its external uid's, if any.
func markerKeys(w, normalizedEmail, uid string) []ddb.Key {
	var keys []ddb.Key
	if normalizedEmail != "" {
		keys = append(keys, emailKey(w, normalizedEmail))
	}
	if uid != "" {
		keys = append(keys, externalUIDKey(w, uid))
	}
	return keys
}

// count adds what a delivery wrote to the count buckets (and the workspace's
// screener-participant counter), and deletes the delivery's ledger, in one transaction.
func (s *Store) count(ctx context.Context, w, scr string, written []ledgerEntry, done ...ledgerItem) error {
	m := ddb.Membership{}
	for _, e := range written {
		addPlaces(m, w, scr, e.ParticipantSeq, e.LinkSeq)
	}
	return s.AssertMembership(ctx, m, func(gained map[ddb.Counted]int) ([]types.TransactWriteItem, error) {
		var ops []types.TransactWriteItem
		if op, ok := s.CounterOp(ddb.CountKey(screenerParticipantsPartition(w)), "", map[string]int{"count": gained[rosterList(w, scr)]}); ok {
			ops = append(ops, op)
		}
		for _, l := range done {
			ops = append(ops, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.TableName, Key: ddb.Key{PK: l.PK, SK: l.SK}.AV()}})
		}
		return ops, nil
	})
}

// SettleJob counts what deliveries of the job's chunks wrote and did not count
// (screening.Store), from the ledgers they left: the entries whose records exist at the
// places the ledger gave them. The ledgers go then; counting again counts nothing twice.
func (s *Store) SettleJob(ctx context.Context, w, scr, jobID string) error {
	items, err := s.QueryConsistent(ctx, jobLedgerPartition(w, jobID))
	if err != nil || len(items) == 0 {
		return err
	}
	ledgers, err := ddb.DecodeAll[ledgerItem](items)
	if err != nil {
		return err
	}
	for _, l := range ledgers {
		if err := s.settleOne(ctx, w, scr, l); err != nil {
			return err
		}
		if _, err := s.WriteOne(ctx, types.TransactWriteItem{Delete: &types.Delete{
			TableName: &s.TableName, Key: ddb.Key{PK: l.PK, SK: l.SK}.AV(),
		}}); err != nil {
			return err
		}
	}
	return nil
}

// settleOne counts the records of one ledger that exist at the places it gave them (one
// delivery's places are one run, so they fit a transaction's few buckets).
func (s *Store) settleOne(ctx context.Context, w, scr string, l ledgerItem) error {
	var keys []ddb.Key
	for _, e := range l.Entries {
		keys = append(keys, participantKey(w, e.Participant), screenerParticipantKey(w, e.Link))
	}
	found, err := s.BatchGet(ctx, keys)
	if err != nil {
		return err
	}
	seqOf := map[ddb.Key]int64{} // the places of the records found
	for _, it := range found {
		var rec struct {
			PK  string `dynamodbav:"pk"`
			SK  string `dynamodbav:"sk"`
			Seq int64  `dynamodbav:"seq"`
		}
		if err := attributevalue.UnmarshalMap(it, &rec); err != nil {
			return fmt.Errorf("store: decode: %w", err)
		}
		seqOf[ddb.Key{PK: rec.PK, SK: rec.SK}] = rec.Seq
	}
	var written []ledgerEntry
	for _, e := range l.Entries {
		var got ledgerEntry
		if seqOf[participantKey(w, e.Participant)] == e.ParticipantSeq {
			got.ParticipantSeq = e.ParticipantSeq
		}
		if seqOf[screenerParticipantKey(w, e.Link)] == e.LinkSeq {
			got.LinkSeq = e.LinkSeq
		}
		written = append(written, got)
	}
	return s.count(ctx, w, scr, written)
}
