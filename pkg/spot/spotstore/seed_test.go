package spotstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
	"github.com/participant-roster/roster/pkg/vocab"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// seedRows are an import's rows: most with an external uid, some without (no uid marker), one
// email in capitals (its marker is the normalized email).
func seedRows(n int) []map[string]string {
	rows := make([]map[string]string, n)
	for i := range rows {
		rows[i] = map[string]string{"email": fmt.Sprintf("seed.%03d@example.com", i), "name": fmt.Sprintf("Seed %03d", i)}
		if i%4 != 3 {
			rows[i]["externalUid"] = fmt.Sprintf("crm-seed-%03d", i)
		}
	}
	rows[1]["email"] = "Seed.Capital@Example.com"
	return rows
}

// TestSeedItemsAreWhatTheAPIWrites imports rows through the API into one table, seeds a
// second table with SeedItems built from the records the import made (same workspace, ids and
// times), and checks that the two tables hold the same Spot items and that the store reads
// the same participants, totals and marker lookups from both.
func TestSeedItemsAreWhatTheAPIWrites(t *testing.T) {
	ctx := context.Background()
	api := testkit.NewEnv(t)
	tn := api.NewTenant()
	w := tn.WorkspaceID
	scr, err := api.App.Admin.CreateScreener(ctx, w, vocab.Actor{Type: "SystemActor", ID: "test", Name: "test"}, "Seeded", nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := seedRows(30)
	body, _ := json.Marshal(map[string]any{"screenerId": scr.ID, "importMode": "UPDATES_ONLY", "participants": rows})
	headers := tn.Headers()
	headers["content-type"] = "application/json"
	resp := api.Invoke("ImportScreenerParticipantsFunction", testkit.Event("POST", "/screener-participants-import", "", headers, string(body)))
	if resp.StatusCode != 200 {
		t.Fatalf("import: status %d: %s", resp.StatusCode, resp.Body)
	}
	written := api.App.Store
	scr, err = written.GetScreener(ctx, w, scr.ID)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := written.ListParticipants(ctx, w, screening.ParticipantFilter{}, screening.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	sps, err := written.Roster(ctx, w, scr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps.Items) != len(rows) || len(sps) != len(rows) {
		t.Fatalf("the import made %d participants and %d screener participants, want %d of each", len(ps.Items), len(sps), len(rows))
	}

	items, err := spotstore.SeedItems(w, scr, ps.Items, sps)
	if err != nil {
		t.Fatal(err)
	}
	seeded := testkit.NewEnv(t)
	if err := seeded.App.Store.CreateWorkspace(ctx, w, "test workspace", time.Now()); err != nil {
		t.Fatal(err)
	}
	writes := make([]types.WriteRequest, len(items))
	for i, it := range items {
		writes[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	if err := ddb.New(seeded.Client, seeded.Table).BatchWrite(ctx, writes); err != nil {
		t.Fatal(err)
	}

	want, got := spotItems(t, api, w), spotItems(t, seeded, w)
	for k, it := range want {
		if !reflect.DeepEqual(got[k], it) {
			t.Errorf("item %s: the API wrote %v, the seed %v", k, show(it), show(got[k]))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("item %s: the seed wrote it, the API did not", k)
		}
	}
	if len(want) != len(items) {
		t.Errorf("the API wrote %d Spot items, SeedItems returned %d", len(want), len(items))
	}
	sameReads(t, written, seeded.App.Store, w, scr.ID, rows)
}

// sameReads reads the roster back through both stores and fails where they differ.
func sameReads(t *testing.T, written, seeded *spotstore.Store, w, scr string, rows []map[string]string) {
	t.Helper()
	ctx := context.Background()
	read := func(s *spotstore.Store) (out struct {
		ptpTotal, scparTotal, scrTotal int
		participants                   []screening.Participant
		byUID, byEmail                 map[string]string
		roster                         []screening.ScreenerParticipant
	}) {
		ps, err := s.ListParticipants(ctx, w, screening.ParticipantFilter{}, screening.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		out.ptpTotal = ps.Total
		for _, p := range ps.Items {
			one, err := s.GetParticipant(ctx, w, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			out.participants = append(out.participants, one)
		}
		list, err := s.ListScreenerParticipants(ctx, w, scr, screening.Page{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		out.scparTotal = list.Total
		scrs, err := s.ListScreeners(ctx, w, screening.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		out.scrTotal = scrs.Total
		var uids, emails []string
		for _, r := range rows {
			if r["externalUid"] != "" {
				uids = append(uids, r["externalUid"])
			}
			emails = append(emails, screening.NormalizeEmail(r["email"]))
		}
		if out.byUID, out.byEmail, err = s.FindParticipantIDs(ctx, w, uids, emails); err != nil {
			t.Fatal(err)
		}
		if out.roster, err = s.Roster(ctx, w, scr); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := read(written), read(seeded)
	if a.ptpTotal != len(rows) || a.scparTotal != len(rows) || a.scrTotal != 1 || len(a.byEmail) != len(rows) {
		t.Fatalf("the API's totals: %d participants, %d in the screener, %d screeners, %d emails found; want %d, %d, 1, %d",
			a.ptpTotal, a.scparTotal, a.scrTotal, len(a.byEmail), len(rows), len(rows), len(rows))
	}
	if b.ptpTotal != a.ptpTotal || b.scparTotal != a.scparTotal || b.scrTotal != a.scrTotal {
		t.Errorf("totals: seeded %d participants, %d screener participants, %d screeners; the API's %d, %d, %d",
			b.ptpTotal, b.scparTotal, b.scrTotal, a.ptpTotal, a.scparTotal, a.scrTotal)
	}
	if !reflect.DeepEqual(b.participants, a.participants) {
		t.Errorf("participants read back differ:\nseeded %+v\nAPI    %+v", b.participants, a.participants)
	}
	if !reflect.DeepEqual(b.byUID, a.byUID) || !reflect.DeepEqual(b.byEmail, a.byEmail) {
		t.Errorf("marker lookups differ: seeded %v %v, the API's %v %v", b.byUID, b.byEmail, a.byUID, a.byEmail)
	}
	if !reflect.DeepEqual(b.roster, a.roster) {
		t.Errorf("rosters differ:\nseeded %+v\nAPI    %+v", b.roster, a.roster)
	}
}

// spotItems are a table's items of workspace w but the workspace item (CreateWorkspace's, not
// the seed's) and the API key's, by key.
func spotItems(t *testing.T, e *testkit.Env, w string) map[string]ddb.Item {
	t.Helper()
	out := map[string]ddb.Item{}
	in := &dynamodb.ScanInput{TableName: aws.String(e.Table), ConsistentRead: aws.Bool(true)}
	for {
		res, err := e.Client.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			pk, sk := str(it[ddb.AttrPK]), str(it[ddb.AttrSK])
			if !strings.HasPrefix(pk, ddb.WS(w)) || (pk == ddb.WS(w) && sk == "WORKSPACE") {
				continue
			}
			out[pk+" / "+sk] = it
		}
		if res.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	return out
}

func show(it ddb.Item) map[string]any {
	var out map[string]any
	_ = attributevalue.UnmarshalMap(it, &out)
	return out
}

func str(av types.AttributeValue) string {
	if s, ok := av.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// TestSeedItemsRefusesARosterTheStoreCannotHold checks that SeedItems refuses what the store
// would never write: an unlinked participant, a link to another screener, an email claimed twice.
func TestSeedItemsRefusesARosterTheStoreCannotHold(t *testing.T) {
	scr := screening.Screener{ID: "scr_1"}
	p := func(id, email string) screening.Participant { return screening.Participant{ID: id, Email: email} }
	sp := func(id, scrID, ptp string) screening.ScreenerParticipant {
		return screening.ScreenerParticipant{ID: id, ScreenerID: scrID, ParticipantID: ptp}
	}
	for name, c := range map[string]struct {
		ps  []screening.Participant
		sps []screening.ScreenerParticipant
	}{
		"unlinked":          {[]screening.Participant{p("ptp_1", "a@example.com"), p("ptp_2", "b@example.com")}, []screening.ScreenerParticipant{sp("scpar_1", "scr_1", "ptp_1")}},
		"another screener":  {[]screening.Participant{p("ptp_1", "a@example.com")}, []screening.ScreenerParticipant{sp("scpar_1", "scr_2", "ptp_1")}},
		"linked twice":      {[]screening.Participant{p("ptp_1", "a@example.com")}, []screening.ScreenerParticipant{sp("scpar_1", "scr_1", "ptp_1"), sp("scpar_2", "scr_1", "ptp_1")}},
		"unknown":           {[]screening.Participant{p("ptp_1", "a@example.com")}, []screening.ScreenerParticipant{sp("scpar_1", "scr_1", "ptp_9")}},
		"email twice":       {[]screening.Participant{p("ptp_1", "a@example.com"), p("ptp_2", "A@example.com")}, []screening.ScreenerParticipant{sp("scpar_1", "scr_1", "ptp_1"), sp("scpar_2", "scr_1", "ptp_2")}},
		"participant twice": {[]screening.Participant{p("ptp_1", "a@example.com"), p("ptp_1", "b@example.com")}, []screening.ScreenerParticipant{sp("scpar_1", "scr_1", "ptp_1")}},
	} {
		if items, err := spotstore.SeedItems("ws_1", scr, c.ps, c.sps); err == nil {
			t.Errorf("%s: SeedItems returned %d items and no error", name, len(items))
		}
	}
	ok := []screening.ScreenerParticipant{sp("scpar_1", "scr_1", "ptp_1")}
	items, err := spotstore.SeedItems("ws_1", scr, []screening.Participant{p("ptp_1", "a@example.com")}, ok)
	if err != nil {
		t.Fatal(err)
	}
	// participant, screener participant, screener, email marker, two counters, and for each of
	// the two counted lists its next place, one bucket and one index item
	if !slices.ContainsFunc(items, func(it ddb.Item) bool { return str(it[ddb.AttrSK]) == "a@example.com" }) || len(items) != 12 {
		t.Errorf("one linked participant: %d items, want 12 with its email marker", len(items))
	}
}
