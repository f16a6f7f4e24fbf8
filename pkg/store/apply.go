package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

const (
	maxTransactItems = 100 // DynamoDB's limit per TransactWriteItems
	counterSlots     = 3   // the counter updates each transaction carries (see transact)
	maxAttempts      = 8
)

// unit is a set of writes that must succeed or fail together, and what it does to the counters.
type unit struct {
	ops             []types.TransactWriteItem
	newParticipants int
	linkDelta       int
}

// Apply writes the changes in as few transactions as fit: each change's writes stay together,
// and each transaction also moves the workspace and screener counters by what it adds and
// removes, so totals never drift from the records.
func (s *DDBStore) Apply(ctx context.Context, w, scr string, changes []screening.Change) error {
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
		if size+len(u.ops) > maxTransactItems-counterSlots && len(cur) > 0 {
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
func (s *DDBStore) unitsFor(w, scr string, c screening.Change) ([]unit, error) {
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
		op, err := s.put(newScreenerParticipantItem(w, *c.Link), "attribute_not_exists(pk)")
		if err != nil {
			return nil, err
		}
		core.ops = append(core.ops, op)
		core.linkDelta++
	}
	if c.Unlink != nil {
		core.ops = append(core.ops, s.deleteOp(screenerParticipantKey(w, c.Unlink.ID), "attribute_exists(pk)", nil))
		core.linkDelta--
	}
	copies := make([]types.TransactWriteItem, len(c.Copies))
	for i, id := range c.Copies {
		copies[i] = s.copyUpdate(w, id, *c.After)
	}
	if len(core.ops)+len(copies) <= maxTransactItems-counterSlots {
		core.ops = append(core.ops, copies...)
		return []unit{core}, nil
	}
	units := []unit{core}
	for _, op := range copies {
		units = append(units, unit{ops: []types.TransactWriteItem{op}})
	}
	return units, nil
}

func (s *DDBStore) createParticipant(w string, p screening.Participant) ([]types.TransactWriteItem, error) {
	op, err := s.put(newParticipantItem(w, p), "attribute_not_exists(pk)")
	if err != nil {
		return nil, err
	}
	ops := []types.TransactWriteItem{op}
	markers, err := s.markerPuts(w, p.ID, screening.NormalizeEmail(p.Email), p.ExternalUID)
	return append(ops, markers...), err
}

// markerPuts claims an email and an external uid ("" for none) for a participant.
func (s *DDBStore) markerPuts(w, participantID, normalizedEmail, uid string) ([]types.TransactWriteItem, error) {
	var ops []types.TransactWriteItem
	var keys []key
	if normalizedEmail != "" {
		keys = append(keys, emailKey(w, normalizedEmail))
	}
	if uid != "" {
		keys = append(keys, externalUIDKey(w, uid))
	}
	for _, k := range keys {
		op, err := s.put(markerItem{PK: k.pk, SK: k.sk, Type: "Marker", ParticipantID: participantID}, "attribute_not_exists(pk)")
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// updateParticipant writes an existing participant's new fields and links under its version,
// and moves its markers when its email or external uid changed.
func (s *DDBStore) updateParticipant(w, scr string, c screening.Change) ([]types.TransactWriteItem, error) {
	before, after := c.Before, c.After
	u := newUpdate()
	u.set("version", "#version + :one")
	u.values[":one"] = &types.AttributeValueMemberN{Value: "1"}
	if before.Name != after.Name || before.Email != after.Email || before.ExternalUID != after.ExternalUID {
		u.setValue("name", str(after.Name))
		u.setValue("email", str(after.Email))
		u.setValue("updatedAt", str(fmtTime(after.UpdatedAt)))
		if after.ExternalUID != "" {
			u.setValue("externalUid", str(after.ExternalUID))
		}
		if after.UpdatedBy != nil {
			av, err := attributevalue.Marshal(toActorAttr(after.UpdatedBy))
			if err != nil {
				return nil, err
			}
			u.setValue("updatedBy", av)
		}
	}
	if c.Link != nil || c.Unlink != nil {
		u.names["#scr"] = scr // DynamoDB rejects names an expression does not use
	}
	if c.Link != nil {
		u.sets = append(u.sets, "links.#scr = :link")
		u.values[":link"] = str(c.Link.ID)
	}
	if c.Unlink != nil {
		u.removes = append(u.removes, "links.#scr")
	}
	u.values[":expected"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(before.Version, 10)}
	ops := []types.TransactWriteItem{u.op(s.table, participantKey(w, before.ID), "#version = :expected")}

	oldEmail, newEmail := screening.NormalizeEmail(before.Email), screening.NormalizeEmail(after.Email)
	claimEmail, claimUID := "", ""
	if oldEmail != newEmail {
		ops = append(ops, s.deleteOp(emailKey(w, oldEmail), "participantId = :me",
			map[string]types.AttributeValue{":me": str(before.ID)}))
		claimEmail = newEmail
	}
	if before.ExternalUID == "" && after.ExternalUID != "" {
		claimUID = after.ExternalUID
	}
	markers, err := s.markerPuts(w, before.ID, claimEmail, claimUID)
	return append(ops, markers...), err
}

// copyUpdate brings one screener participant's copies of the participant's fields up to date.
func (s *DDBStore) copyUpdate(w, id string, p screening.Participant) types.TransactWriteItem {
	u := newUpdate()
	u.setValue("name", str(p.Name))
	u.setValue("email", str(p.Email))
	if p.ExternalUID != "" {
		u.setValue("externalUid", str(p.ExternalUID))
	}
	return u.op(s.table, screenerParticipantKey(w, id), "attribute_exists(pk)")
}

// update builds an UpdateExpression with placeholder names for every attribute.
type update struct {
	sets, removes []string
	names         map[string]string
	values        map[string]types.AttributeValue
}

func newUpdate() *update {
	return &update{names: map[string]string{}, values: map[string]types.AttributeValue{}}
}

func (u *update) set(attr, expr string) {
	u.names["#"+attr] = attr
	u.sets = append(u.sets, "#"+attr+" = "+expr)
}

func (u *update) setValue(attr string, v types.AttributeValue) {
	u.values[":"+attr] = v
	u.set(attr, ":"+attr)
}

func (u *update) expression() string {
	expr := "SET " + strings.Join(u.sets, ", ")
	if len(u.removes) > 0 {
		expr += " REMOVE " + strings.Join(u.removes, ", ")
	}
	return expr
}

func (u *update) op(table string, k key, condition string) types.TransactWriteItem {
	in := &types.Update{
		TableName: aws.String(table), Key: k.av(), UpdateExpression: aws.String(u.expression()),
		ConditionExpression: aws.String(condition), ExpressionAttributeNames: u.names,
	}
	if len(u.values) > 0 {
		in.ExpressionAttributeValues = u.values
	}
	return types.TransactWriteItem{Update: in}
}

func (s *DDBStore) put(record any, condition string) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(record)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("store: encode: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: av, ConditionExpression: aws.String(condition),
	}}, nil
}

func (s *DDBStore) deleteOp(k key, condition string, values map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: aws.String(s.table), Key: k.av(), ConditionExpression: aws.String(condition),
		ExpressionAttributeValues: values,
	}}
}

// counterOp adds deltas to an item's counters (ADD creates a missing counter item); a condition
// keeps counters off records that must exist.
func (s *DDBStore) counterOp(k key, condition string, deltas map[string]int) (types.TransactWriteItem, bool) {
	var parts []string
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	for attr, d := range deltas {
		if d == 0 {
			continue
		}
		parts = append(parts, "#"+attr+" :"+attr)
		names["#"+attr] = attr
		values[":"+attr] = &types.AttributeValueMemberN{Value: strconv.Itoa(d)}
	}
	if len(parts) == 0 {
		return types.TransactWriteItem{}, false
	}
	u := &types.Update{
		TableName: aws.String(s.table), Key: k.av(), UpdateExpression: aws.String("ADD " + strings.Join(parts, ", ")),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}
	if condition != "" {
		u.ConditionExpression = aws.String(condition)
	}
	return types.TransactWriteItem{Update: u}, true
}

func (s *DDBStore) transact(ctx context.Context, w, scr string, batch []unit) error {
	var ops []types.TransactWriteItem
	newParticipants, links := 0, 0
	for _, u := range batch {
		ops = append(ops, u.ops...)
		newParticipants += u.newParticipants
		links += u.linkDelta
	}
	for _, c := range []struct {
		k         key
		condition string
		deltas    map[string]int
	}{
		{countKey(participantsPartition(w)), "", map[string]int{"count": newParticipants}},
		{countKey(screenerParticipantsPartition(w)), "", map[string]int{"count": links}},
		{screenerKey(w, scr), "attribute_exists(pk)", map[string]int{"participantCount": links}},
	} {
		if op, ok := s.counterOp(c.k, c.condition, c.deltas); ok {
			ops = append(ops, op)
		}
	}
	return s.transactWrite(ctx, ops)
}

// transactWrite runs one transaction, retrying what DynamoDB cancels for contention or
// throttling. A failed condition means records changed since they were read: ErrConflict.
func (s *DDBStore) transactWrite(ctx context.Context, ops []types.TransactWriteItem) error {
	failed, err := s.transactConditional(ctx, ops)
	switch {
	case err != nil:
		return fmt.Errorf("store: transaction of %d writes: %w", len(ops), err)
	case failed >= 0:
		return vocab.ErrConflict
	}
	return nil
}

// classify says whether a transaction error is worth retrying, or is a failed condition.
func classify(err error) (retry, conflict bool) {
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				conflict = true
			case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
				retry = true
			}
		}
		return retry && !conflict, conflict
	}
	var inProgress *types.TransactionInProgressException
	var throttled *types.ProvisionedThroughputExceededException
	var limit *types.RequestLimitExceeded
	var internal *types.InternalServerError
	return errors.As(err, &inProgress) || errors.As(err, &throttled) || errors.As(err, &limit) || errors.As(err, &internal), false
}

// backoff waits an exponentially growing, jittered time before attempt n.
func backoff(ctx context.Context, n int) error {
	d := min(time.Duration(1<<min(n, 10))*5*time.Millisecond, time.Second)
	d = d/2 + rand.N(d/2+1)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
