package spotstore

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

// unit is a set of writes that must succeed or fail together, and the counted-list places it
// takes or frees (0: none).
type unit struct {
	ops                     []types.TransactWriteItem
	participantSeq, linkSeq int64
	unlinkSeq               int64
	links                   int // screener participants added less those removed
}

// Apply writes the changes in as few transactions as fit: each change's writes stay together,
// and each transaction also moves the count buckets (ddb.Counted) of the workspace's
// participants and the screener's roster, and the workspace's screener-participant counter,
// by what it adds and removes, so totals never drift from the records.
func (s *Store) Apply(ctx context.Context, w, scr string, changes []screening.Change) error {
	placed, err := s.placed(ctx, w, scr, changes)
	if err != nil {
		return err
	}
	var units []unit
	for _, c := range placed {
		us, err := s.unitsFor(w, scr, c)
		if err != nil {
			return err
		}
		units = append(units, us...)
	}
	for _, batch := range s.pack(w, scr, units) {
		if err := s.transact(ctx, w, scr, batch); err != nil {
			return err
		}
	}
	return nil
}

// placedChange is a change whose new records have their places in their counted lists.
type placedChange struct {
	screening.Change
	participantSeq int64 // the new participant's place (Create), 0 for none
}

// placed gives each new participant and each new screener participant its place in its
// counted list: one allocation per list for the whole call.
func (s *Store) placed(ctx context.Context, w, scr string, changes []screening.Change) ([]placedChange, error) {
	creates, links := 0, 0
	for _, c := range changes {
		if c.Create != nil {
			creates++
		}
		if c.Link != nil {
			links++
		}
	}
	var nextPtp, nextLink int64
	var errPtp, errLink error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); nextPtp, errPtp = s.Allocate(ctx, participantsList(w), creates) }()
	go func() { defer wg.Done(); nextLink, errLink = s.Allocate(ctx, rosterList(w, scr), links) }()
	wg.Wait()
	if err := errors.Join(errPtp, errLink); err != nil {
		return nil, err
	}
	out := make([]placedChange, len(changes))
	for i, c := range changes {
		out[i].Change = c
		if c.Create != nil {
			out[i].participantSeq = nextPtp
			nextPtp++
		}
		if c.Link != nil {
			link := *c.Link
			link.Seq = nextLink
			nextLink++
			out[i].Link = &link
		}
	}
	return out, nil
}

// batchOverhead is what a transaction holds beyond its units' writes and count buckets: the
// screener-participant counter and the check that the screener still exists.
const batchOverhead = 2

// pack groups units into transactions that fit DynamoDB's limit with their count buckets.
func (s *Store) pack(w, scr string, units []unit) [][]unit {
	var out [][]unit
	var cur []unit
	for _, u := range units {
		next := append(cur[:len(cur):len(cur)], u)
		if len(cur) > 0 && batchSize(w, scr, next) > ddb.MaxTransactItems {
			out = append(out, cur)
			next = []unit{u}
		}
		cur = next
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func batchSize(w, scr string, batch []unit) int {
	n := batchOverhead + ddb.MembershipOpCount(membershipOf(w, scr, batch))
	for _, u := range batch {
		n += len(u.ops)
	}
	return n
}

// membershipOf is what a batch of units does to the counted lists.
func membershipOf(w, scr string, batch []unit) ddb.Membership {
	m := ddb.Membership{}
	for _, u := range batch {
		addPlaces(m, w, scr, u.participantSeq, u.linkSeq)
		if u.unlinkSeq != 0 {
			m.Remove(rosterList(w, scr), u.unlinkSeq)
		}
	}
	return m
}

// addPlaces adds a new participant's and a new link's places (0: none) to m.
func addPlaces(m ddb.Membership, w, scr string, participantSeq, linkSeq int64) {
	if participantSeq != 0 {
		m.Add(participantsList(w), participantSeq)
	}
	if linkSeq != 0 {
		m.Add(rosterList(w, scr), linkSeq)
	}
}

// copiesInline is how many writes a change keeps in its own transaction, leaving room for the
// batch's overhead and count buckets; the copies of a participant in more screeners follow
// as their own units.
const copiesInline = ddb.MaxTransactItems - batchOverhead - 4

// unitsFor turns one change into its writes. The copies of a participant in many screeners can
// outgrow one transaction; they then follow as their own units (each copy update is
// idempotent, so a retry converges).
func (s *Store) unitsFor(w, scr string, c placedChange) ([]unit, error) {
	core := unit{}
	var err error
	if c.Create != nil {
		core.ops, err = s.createParticipant(w, *c.Create, c.participantSeq)
		core.participantSeq = c.participantSeq
	} else {
		core.ops, err = s.updateParticipant(w, scr, c.Change)
	}
	if err != nil {
		return nil, err
	}
	if c.Link != nil {
		op, err := s.Put(newScreenerParticipantItem(w, *c.Link), "attribute_not_exists(pk)")
		if err != nil {
			return nil, err
		}
		core.ops = append(core.ops, op)
		core.linkSeq = c.Link.Seq
		core.links++
	}
	if c.Unlink != nil {
		core.ops = append(core.ops, s.DeleteOp(screenerParticipantKey(w, c.Unlink.ID), "attribute_exists(pk)", nil))
		core.unlinkSeq = c.Unlink.Seq
		core.links--
	}
	copies := make([]types.TransactWriteItem, len(c.Copies))
	for i, id := range c.Copies {
		copies[i] = s.copyUpdate(w, id, *c.After)
	}
	if len(core.ops)+len(copies) <= copiesInline {
		core.ops = append(core.ops, copies...)
		return []unit{core}, nil
	}
	units := []unit{core}
	for _, op := range copies {
		units = append(units, unit{ops: []types.TransactWriteItem{op}})
	}
	return units, nil
}

func (s *Store) createParticipant(w string, p screening.Participant, seq int64) ([]types.TransactWriteItem, error) {
	op, err := s.Put(newParticipantItem(w, p, seq), "attribute_not_exists(pk)")
	if err != nil {
		return nil, err
	}
	ops := []types.TransactWriteItem{op}
	markers, err := s.markerPuts(w, p.ID, screening.NormalizeEmail(p.Email), p.ExternalUID)
	return append(ops, markers...), err
}

// markerPuts claims an email and an external uid ("" for none) for a participant, in the
// transaction that writes it: a marker an import chunk claimed is taken over only once the
// claim has run out (ddb.MarkerClaim).
func (s *Store) markerPuts(w, participantID, normalizedEmail, uid string) ([]types.TransactWriteItem, error) {
	var ops []types.TransactWriteItem
	for _, k := range markerKeys(w, normalizedEmail, uid) {
		op, err := s.ClaimMarker(k, participantID, ddb.MarkerClaim{Now: s.Now()})
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// updateParticipant writes an existing participant's new fields and links under its version,
// and moves its markers when its email or external uid changed.
func (s *Store) updateParticipant(w, scr string, c screening.Change) ([]types.TransactWriteItem, error) {
	before, after := c.Before, c.After
	u := ddb.NewUpdate()
	u.Set("version", "#version + :one")
	u.Values[":one"] = &types.AttributeValueMemberN{Value: "1"}
	if before.Name != after.Name || before.Email != after.Email || before.ExternalUID != after.ExternalUID {
		u.SetValue("name", ddb.S(after.Name))
		u.SetValue("email", ddb.S(after.Email))
		u.SetValue("updatedAt", ddb.S(ddb.FmtTime(after.UpdatedAt)))
		if after.ExternalUID != "" {
			u.SetValue("externalUid", ddb.S(after.ExternalUID))
		}
		if after.UpdatedBy != nil {
			av, err := attributevalue.Marshal(ddb.ToActorAttr(after.UpdatedBy))
			if err != nil {
				return nil, err
			}
			u.SetValue("updatedBy", av)
		}
	}
	if c.Link != nil || c.Unlink != nil {
		u.Names["#scr"] = scr // DynamoDB rejects names an expression does not use
	}
	if c.Link != nil {
		u.Sets = append(u.Sets, "links.#scr = :link")
		u.Values[":link"] = ddb.S(c.Link.ID)
	}
	if c.Unlink != nil {
		u.Removes = append(u.Removes, "links.#scr")
	}
	u.Values[":expected"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(before.Version, 10)}
	condition := "#version = :expected"
	if c.Link != nil && before.Links[scr] == c.Link.ID {
		// The link the participant names is missing: written by this change only once the
		// chunk that made the participant can no longer be writing it (ApplyChunk).
		runOut, values := ddb.ClaimRunOut(s.Now())
		condition += " AND " + runOut
		maps.Copy(u.Values, values)
	}
	ops := []types.TransactWriteItem{u.Op(s.TableName, participantKey(w, before.ID), condition)}

	oldEmail, newEmail := screening.NormalizeEmail(before.Email), screening.NormalizeEmail(after.Email)
	claimEmail, claimUID := "", ""
	if oldEmail != newEmail {
		ops = append(ops, s.DeleteOp(emailKey(w, oldEmail), "participantId = :me",
			map[string]types.AttributeValue{":me": ddb.S(before.ID)}))
		claimEmail = newEmail
	}
	if before.ExternalUID == "" && after.ExternalUID != "" {
		claimUID = after.ExternalUID
	}
	markers, err := s.markerPuts(w, before.ID, claimEmail, claimUID)
	return append(ops, markers...), err
}

// copyUpdate brings one screener participant's copies of the participant's fields up to date.
func (s *Store) copyUpdate(w, id string, p screening.Participant) types.TransactWriteItem {
	u := ddb.NewUpdate()
	u.SetValue("name", ddb.S(p.Name))
	u.SetValue("email", ddb.S(p.Email))
	if p.ExternalUID != "" {
		u.SetValue("externalUid", ddb.S(p.ExternalUID))
	}
	return u.Op(s.TableName, screenerParticipantKey(w, id), "attribute_exists(pk)")
}

func (s *Store) transact(ctx context.Context, w, scr string, batch []unit) error {
	var ops []types.TransactWriteItem
	links, linked := 0, false
	for _, u := range batch {
		ops = append(ops, u.ops...)
		links += u.links
		linked = linked || u.linkSeq != 0
	}
	ops = append(ops, s.MembershipOps(membershipOf(w, scr, batch))...)
	if op, ok := s.CounterOp(ddb.CountKey(screenerParticipantsPartition(w)), "", map[string]int{"count": links}); ok {
		ops = append(ops, op)
	}
	if linked {
		ops = append(ops, s.screenerExists(w, scr))
	}
	return s.TransactWrite(ctx, ops)
}

// screenerExists keeps a link off a screener that is gone.
func (s *Store) screenerExists(w, scr string) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &s.TableName, Key: screenerKey(w, scr).AV(), ConditionExpression: aws.String("attribute_exists(pk)"),
	}}
}
