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

// chunkWriters is how many of a chunk's new participants are written at once: each is four
// conditional puts (the two markers at once, then the participant, then its screener
// participant), so the chunk keeps this many rows in flight.
const chunkWriters = 32

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

// ApplyChunk writes one import chunk's changes (screening.Store): its new participants each
// on their own, the rest as Apply does.
//
// A new participant is four conditional puts, in this order: its email marker and its
// external-uid marker (absent, or already its own), the participant (absent) and its screener
// participant (absent). Uniqueness holds as in a transaction: a participant exists only once
// its markers name it. A put that loses a race ends the row (its markers released if the
// participant was never written) and the chunk answers vocab.ErrConflict, to plan again. A
// delivery interrupted between the puts leaves markers naming a participant that does not
// exist, which the next plan takes over under the same id (screening's match), or a
// participant whose screener participant is missing, which the next plan writes.
//
// The counts: the delivery writes its ledger (what it sets out to create, with the places it
// allocated) before the first put, and after the last one adds what it wrote to the count
// buckets and deletes its ledger in one transaction. Each delivery first counts, from the
// ledgers of earlier deliveries of the same chunk, what they wrote and did not count: bucket
// membership is idempotent (ddb.AssertMembership), so counting twice counts once.
func (s *Store) ApplyChunk(ctx context.Context, w, scr string, chunk screening.ChunkID, changes []screening.Change) error {
	if err := s.settle(ctx, w, scr, chunk.Job, chunkLedgerPrefix(chunk.N)); err != nil {
		return err
	}
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

// createAll writes the new participants, chunkWriters at a time. written holds the ledger
// entries of those fully written; lost is whether any row lost a race.
func (s *Store) createAll(ctx context.Context, w string, placed []placedChange) (written []ledgerEntry, lost bool, err error) {
	var mu sync.Mutex
	var firstErr error
	work := make(chan placedChange)
	var wg sync.WaitGroup
	for range min(chunkWriters, len(placed)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				ok, err := s.createAlone(ctx, w, c)
				mu.Lock()
				switch {
				case err != nil && firstErr == nil:
					firstErr = err
				case ok:
					written = append(written, ledgerEntry{
						Participant: c.Create.ID, ParticipantSeq: c.participantSeq, Link: c.Link.ID, LinkSeq: c.Link.Seq,
					})
				case err == nil:
					lost = true
				}
				mu.Unlock()
			}
		}()
	}
	for _, c := range placed {
		work <- c
	}
	close(work)
	wg.Wait()
	return written, lost, firstErr
}

// createAlone writes one new participant and its screener participant; ok is false when a
// put lost a race (nothing of the row is left claimed unless the participant exists). A put
// whose condition fails on the very record it writes (its earlier try went through and the
// answer was lost) is a success.
func (s *Store) createAlone(ctx context.Context, w string, c placedChange) (ok bool, err error) {
	p := *c.Create
	if ok, err := s.claimMarkers(ctx, w, p); err != nil || !ok {
		return false, err
	}
	if ok, err := s.putOwn(ctx, newParticipantItem(w, p, c.participantSeq), participantKey(w, p.ID), c.participantSeq); err != nil || !ok {
		return false, err // !ok: another write took the markers over and made the participant
	}
	ok, err = s.putOwn(ctx, newScreenerParticipantItem(w, *c.Link), screenerParticipantKey(w, c.Link.ID), c.Link.Seq)
	if err == nil && !ok {
		err = fmt.Errorf("store: new screener participant %s exists", c.Link.ID)
	}
	return ok, err
}

// claimMarkers claims a new participant's markers, at once; when one is taken, it releases
// those it claimed.
func (s *Store) claimMarkers(ctx context.Context, w string, p screening.Participant) (bool, error) {
	keys := markerKeys(w, screening.NormalizeEmail(p.Email), p.ExternalUID)
	claimed := make([]bool, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op, err := s.MarkerPut(k, p.ID)
			if err == nil {
				claimed[i], err = s.WriteOne(ctx, op)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	var mine []ddb.Key
	all := true
	for i, k := range keys {
		if claimed[i] {
			mine = append(mine, k)
		}
		all = all && claimed[i]
	}
	if err := errors.Join(errs...); err != nil {
		return false, err // what it claimed stays claimed: the next plan takes it over
	}
	if !all {
		return false, s.release(ctx, w, p.ID, mine)
	}
	return true, nil
}

// putOwn puts a new record (absent); ok is also true when the record there is this very one,
// at the same place seq.
func (s *Store) putOwn(ctx context.Context, record any, k ddb.Key, seq int64) (bool, error) {
	op, err := s.Put(record, "attribute_not_exists(pk)")
	if err != nil {
		return false, err
	}
	ok, err := s.WriteOne(ctx, op)
	if err != nil || ok {
		return ok, err
	}
	var there struct {
		Seq int64 `dynamodbav:"seq"`
	}
	found, err := s.GetConsistent(ctx, k, &there)
	return found && there.Seq == seq, err
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
		if e.ParticipantSeq != 0 {
			m.Add(participantsList(w), e.ParticipantSeq)
		}
		if e.LinkSeq != 0 {
			m.Add(rosterList(w, scr), e.LinkSeq)
		}
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

// SettleJob counts what deliveries of any of the job's chunks wrote and did not count
// (screening.Store), from their ledgers; when the job ends, the ledgers go too.
func (s *Store) SettleJob(ctx context.Context, w, scr, jobID string) error {
	return s.settle(ctx, w, scr, jobID, "")
}

// settle counts what earlier deliveries wrote, from their ledgers (those of a job whose sort
// key starts with prefix): the entries whose records exist with the places the ledger gave
// them. A chunk's ledgers stay while the chunk may still run (a delivery deletes its own when
// it counts; an interrupted one's goes when the job is settled, or expires): counting again
// counts nothing twice.
func (s *Store) settle(ctx context.Context, w, scr, jobID, prefix string) error {
	items, err := s.QueryPrefix(ctx, jobLedgerPartition(w, jobID), prefix)
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
		if prefix == "" { // the job has ended: no delivery runs any more
			if _, err := s.WriteOne(ctx, types.TransactWriteItem{Delete: &types.Delete{
				TableName: &s.TableName, Key: ddb.Key{PK: l.PK, SK: l.SK}.AV(),
			}}); err != nil {
				return err
			}
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
