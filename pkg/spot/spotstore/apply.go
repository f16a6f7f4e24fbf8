package spotstore

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

// counterSlots is how many counter updates each transaction carries (see transact).
const counterSlots = 3

// unit is a set of writes that must succeed or fail together, and what it does to the counters.
type unit struct {
	ops             []types.TransactWriteItem
	newParticipants int
	linkDelta       int
}

// Apply writes the changes in as few transactions as fit: each change's writes stay together,
// and each transaction also moves the workspace and screener counters by what it adds and
// removes, so totals never drift from the records.
func (s *Store) Apply(ctx context.Context, w, scr string, changes []screening.Change) error {
	var units []unit
	for _, c := range changes {
		us, err := s.unitsFor(w, scr, c)
		if err != nil {
			return err
		}
		units = append(units, us...)
	}
	for _, batch := range pack(units) {
		if err := s.transact(ctx, w, scr, batch); err != nil {
			return err
		}
	}
	return nil
}

func pack(units []unit) [][]unit {
	var out [][]unit
	var cur []unit
	size := 0
	for _, u := range units {
		if size+len(u.ops) > ddb.MaxTransactItems-counterSlots && len(cur) > 0 {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, u)
		size += len(u.ops)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// unitsFor turns one change into its writes. The copies of a participant in many screeners can
// outgrow one transaction; they then follow as their own units (each copy update is
// idempotent, so a retry converges).
func (s *Store) unitsFor(w, scr string, c screening.Change) ([]unit, error) {
	core := unit{}
	var err error
	if c.Create != nil {
		core.ops, err = s.createParticipant(w, *c.Create)
		core.newParticipants = 1
	} else {
		core.ops, err = s.updateParticipant(w, scr, c)
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
		core.linkDelta++
	}
	if c.Unlink != nil {
		core.ops = append(core.ops, s.DeleteOp(screenerParticipantKey(w, c.Unlink.ID), "attribute_exists(pk)", nil))
		core.linkDelta--
	}
	copies := make([]types.TransactWriteItem, len(c.Copies))
	for i, id := range c.Copies {
		copies[i] = s.copyUpdate(w, id, *c.After)
	}
	if len(core.ops)+len(copies) <= ddb.MaxTransactItems-counterSlots {
		core.ops = append(core.ops, copies...)
		return []unit{core}, nil
	}
	units := []unit{core}
	for _, op := range copies {
		units = append(units, unit{ops: []types.TransactWriteItem{op}})
	}
	return units, nil
}

func (s *Store) createParticipant(w string, p screening.Participant) ([]types.TransactWriteItem, error) {
	op, err := s.Put(newParticipantItem(w, p), "attribute_not_exists(pk)")
	if err != nil {
		return nil, err
	}
	ops := []types.TransactWriteItem{op}
	markers, err := s.markerPuts(w, p.ID, screening.NormalizeEmail(p.Email), p.ExternalUID)
	return append(ops, markers...), err
}

// markerPuts claims an email and an external uid ("" for none) for a participant.
func (s *Store) markerPuts(w, participantID, normalizedEmail, uid string) ([]types.TransactWriteItem, error) {
	var ops []types.TransactWriteItem
	var keys []ddb.Key
	if normalizedEmail != "" {
		keys = append(keys, emailKey(w, normalizedEmail))
	}
	if uid != "" {
		keys = append(keys, externalUIDKey(w, uid))
	}
	for _, k := range keys {
		op, err := s.MarkerPut(k, participantID)
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
	ops := []types.TransactWriteItem{u.Op(s.TableName, participantKey(w, before.ID), "#version = :expected")}

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
	newParticipants, links := 0, 0
	for _, u := range batch {
		ops = append(ops, u.ops...)
		newParticipants += u.newParticipants
		links += u.linkDelta
	}
	for _, c := range []struct {
		k         ddb.Key
		condition string
		deltas    map[string]int
	}{
		{ddb.CountKey(participantsPartition(w)), "", map[string]int{"count": newParticipants}},
		{ddb.CountKey(screenerParticipantsPartition(w)), "", map[string]int{"count": links}},
		{screenerKey(w, scr), "attribute_exists(pk)", map[string]int{"participantCount": links}},
	} {
		if op, ok := s.CounterOp(c.k, c.condition, c.deltas); ok {
			ops = append(ops, op)
		}
	}
	return s.TransactWrite(ctx, ops)
}
