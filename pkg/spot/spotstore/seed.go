package spotstore

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

// SeedItems returns every item the store keeps for a fresh workspace w whose only screener is
// scr and whose participants ps are each linked to it once, by the screener participants sps:
// the participants (their links set from sps), their email and external-uid markers, the
// screener participants, the screener item, the count buckets of the participants list and
// the roster (participants take places 1..len(ps) in the order given, screener participants
// 1..len(sps)), and the counter items of the screener participants and screeners partitions,
// all with absolute totals. The workspace item itself is CreateWorkspace's.
//
// Written with plain puts (BatchWriteItem) they make the same roster an import would, at a
// fraction of the cost: the benchmark seeds large rosters with them. They are built with the
// items the store writes (items.go, keys.go), so a change of layout changes them too; the
// package's tests check that they read back exactly like records the API wrote.
func SeedItems(w string, scr screening.Screener, ps []screening.Participant, sps []screening.ScreenerParticipant) ([]ddb.Item, error) {
	linkOf, err := seedLinks(scr.ID, ps, sps)
	if err != nil {
		return nil, err
	}
	markers, err := seedMarkers(w, ps)
	if err != nil {
		return nil, err
	}
	records := make([]any, 0, len(ps)+len(sps)+1)
	for i, p := range ps {
		p.Links = map[string]string{scr.ID: linkOf[p.ID]}
		records = append(records, newParticipantItem(w, p, int64(i+1)))
	}
	for i, sp := range sps {
		sp.Seq = int64(i + 1)
		records = append(records, newScreenerParticipantItem(w, sp))
	}
	records = append(records, newScreenerItem(w, scr))
	items := make([]ddb.Item, 0, len(records)+len(markers)+3)
	for _, r := range records {
		it, err := attributevalue.MarshalMap(r)
		if err != nil {
			return nil, fmt.Errorf("spotstore: seed item: %w", err)
		}
		items = append(items, it)
	}
	items = append(items, markers...)
	items = append(items, ddb.SeedCounted(participantsList(w), int64(len(ps)))...)
	items = append(items, ddb.SeedCounted(rosterList(w, scr.ID), int64(len(sps)))...)
	return append(items,
		seedCounter(screenerParticipantsPartition(w), len(sps)),
		seedCounter(screenersPartition(w), 1)), nil
}

// seedLinks maps each participant to its one screener participant in screener scr, and fails
// unless every participant has exactly one and every screener participant is of a participant
// in ps.
func seedLinks(scr string, ps []screening.Participant, sps []screening.ScreenerParticipant) (map[string]string, error) {
	known := make(map[string]bool, len(ps))
	for _, p := range ps {
		if known[p.ID] {
			return nil, fmt.Errorf("spotstore: seed: participant %s given twice", p.ID)
		}
		known[p.ID] = true
	}
	linkOf := make(map[string]string, len(sps))
	for _, sp := range sps {
		switch {
		case sp.ScreenerID != scr:
			return nil, fmt.Errorf("spotstore: seed: screener participant %s is in screener %s, not %s", sp.ID, sp.ScreenerID, scr)
		case !known[sp.ParticipantID]:
			return nil, fmt.Errorf("spotstore: seed: screener participant %s names participant %s, not given", sp.ID, sp.ParticipantID)
		case linkOf[sp.ParticipantID] != "":
			return nil, fmt.Errorf("spotstore: seed: participant %s is linked twice", sp.ParticipantID)
		}
		linkOf[sp.ParticipantID] = sp.ID
	}
	if len(linkOf) != len(ps) {
		return nil, fmt.Errorf("spotstore: seed: %d of %d participants are linked to the screener", len(linkOf), len(ps))
	}
	return linkOf, nil
}

// seedMarkers are the participants' email and external-uid markers, as the store claims them
// when it creates a participant (markerPuts); a value claimed twice is an error, as it would be
// for the store.
func seedMarkers(w string, ps []screening.Participant) ([]ddb.Item, error) {
	t := New(&ddb.Table{}) // markerPuts builds writes; only their items are kept, so no table is needed
	seen := map[ddb.Key]bool{}
	var out []ddb.Item
	for _, p := range ps {
		ops, err := t.markerPuts(w, p.ID, screening.NormalizeEmail(p.Email), p.ExternalUID)
		if err != nil {
			return nil, err
		}
		for _, op := range ops {
			k := ddb.Key{PK: attrString(op.Put.Item, ddb.AttrPK), SK: attrString(op.Put.Item, ddb.AttrSK)}
			if seen[k] {
				return nil, fmt.Errorf("spotstore: seed: %s %s is claimed by two participants", k.PK, k.SK)
			}
			seen[k] = true
			out = append(out, op.Put.Item)
		}
	}
	return out, nil
}

// seedCounter is the counter item a partition's counter updates (apply.go, admin.go) leave
// behind once they have added up to n.
func seedCounter(partition string, n int) ddb.Item {
	k := ddb.CountKey(partition)
	it := k.AV()
	it["count"] = &types.AttributeValueMemberN{Value: strconv.Itoa(n)}
	return it
}

func attrString(it ddb.Item, name string) string {
	var s string
	_ = attributevalue.Unmarshal(it[name], &s)
	return s
}
