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
// conditional puts one after another, so the chunk keeps this many in flight.
const chunkWriters = 16

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
func (s *Store) ApplyChunk(ctx context.Context, w, scr, token string, changes []screening.Change) error {
	if err := s.settleLedgers(ctx, w, scr, token); err != nil {
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
	ledger := newLedger(w, token, placed)
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

func newLedger(w, token string, placed []placedChange) ledgerItem {
	l := ledgerItem{
		PK: chunkLedgerPartition(w, token), SK: ids.New(""), Type: "ChunkLedger",
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
// put lost a race (nothing of the row is left claimed unless the participant exists).
func (s *Store) createAlone(ctx context.Context, w string, c placedChange) (ok bool, err error) {
	p := *c.Create
	var claimed []ddb.Key
	for _, k := range markerKeys(w, screening.NormalizeEmail(p.Email), p.ExternalUID) {
		op, err := s.MarkerPut(k, p.ID)
		if err != nil {
			return false, err
		}
		if ok, err := s.WriteOne(ctx, op); err != nil || !ok {
			return false, firstError(err, s.release(ctx, w, p.ID, claimed))
		}
		claimed = append(claimed, k)
	}
	op, err := s.Put(newParticipantItem(w, p, c.participantSeq), "attribute_not_exists(pk)")
	if err != nil {
		return false, err
	}
	if ok, err := s.WriteOne(ctx, op); err != nil || !ok {
		return false, err // !ok: another write took the markers over and made the participant
	}
	op, err = s.Put(newScreenerParticipantItem(w, *c.Link), "attribute_not_exists(pk)")
	if err != nil {
		return false, err
	}
	if ok, err := s.WriteOne(ctx, op); err != nil || !ok {
		return false, fmt.Errorf("store: new screener participant %s: written %v: %w", c.Link.ID, ok, err)
	}
	return true, nil
}

// firstError is err, or else the release's error.
func firstError(err, releaseErr error) error {
	if err != nil {
		return err
	}
	return releaseErr
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

// settleLedgers counts what earlier deliveries of a chunk wrote, from their ledgers: the
// entries whose records exist with the places the ledger gave them. The ledgers stay (their
// deliveries may still run and delete them; an interrupted one's expires): counting again
// counts nothing twice.
func (s *Store) settleLedgers(ctx context.Context, w, scr, token string) error {
	items, err := s.QueryAll(ctx, ddb.Partition{PK: chunkLedgerPartition(w, token)})
	if err != nil || len(items) == 0 {
		return err
	}
	ledgers, err := ddb.DecodeAll[ledgerItem](items)
	if err != nil {
		return err
	}
	var entries []ledgerEntry
	var keys []ddb.Key
	for _, l := range ledgers {
		for _, e := range l.Entries {
			entries = append(entries, e)
			keys = append(keys, participantKey(w, e.Participant), screenerParticipantKey(w, e.Link))
		}
	}
	found, err := s.BatchGet(ctx, keys)
	if err != nil {
		return err
	}
	seqOf := map[string]int64{} // pk + sk -> seq of the records found
	for _, it := range found {
		var rec struct {
			PK  string `dynamodbav:"pk"`
			SK  string `dynamodbav:"sk"`
			Seq int64  `dynamodbav:"seq"`
		}
		if err := attributevalue.UnmarshalMap(it, &rec); err != nil {
			return fmt.Errorf("store: decode: %w", err)
		}
		seqOf[rec.PK+"\x00"+rec.SK] = rec.Seq
	}
	var written []ledgerEntry
	for _, e := range entries {
		pk, lk := participantKey(w, e.Participant), screenerParticipantKey(w, e.Link)
		got := ledgerEntry{}
		if seqOf[pk.PK+"\x00"+pk.SK] == e.ParticipantSeq {
			got.ParticipantSeq = e.ParticipantSeq
		}
		if seqOf[lk.PK+"\x00"+lk.SK] == e.LinkSeq {
			got.LinkSeq = e.LinkSeq
		}
		written = append(written, got)
	}
	return s.count(ctx, w, scr, written)
}
