package spotapi_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/testkit"
)

func TestPagination(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("S")
	wantStatus(t, c.importRows(scr, "", rows(7, "p")...), 200)
	all := c.listScreener(scr).Items
	ids := make([]string, len(all))
	for i, s := range all {
		ids[i] = s.ID
	}
	if !sort.StringsAreSorted(ids) || all[0].Email != "p0000@example.com" || all[6].Email != "p0006@example.com" {
		t.Fatalf("list is not in creation order: %v", ids)
	}
	list := func(query string) page[sp] {
		t.Helper()
		r := c.get("ListScreenerParticipantsFunction", "/screener-participants", query)
		wantStatus(t, r, 200)
		var pg page[sp]
		r.JSON(&pg)
		if pg.Type != "PaginatedScreenerParticipant" {
			t.Fatalf("_type %q", pg.Type)
		}
		return pg
	}
	for _, tc := range []struct {
		query                 string
		total, limit, offset  int
		firstIndex, itemCount int
	}{
		{"", 7, 100, 0, 0, 7},
		{q("pagination[limit]", "3"), 7, 3, 0, 0, 3},
		{q("pagination[limit]", "3", "pagination[offset]", "3"), 7, 3, 3, 3, 3},
		{q("pagination[limit]", "3", "pagination[offset]", "6"), 7, 3, 6, 6, 1},
		{q("pagination[offset]", "7"), 7, 100, 7, 0, 0},
		{q("pagination[offset]", "1000"), 7, 100, 1000, 0, 0},
		{q("pagination[limit]", "501"), 7, 500, 0, 0, 7},
		{q("pagination[limit]", "100000"), 7, 500, 0, 0, 7},
		{q("filter[screenerId][eq]", scr, "pagination[limit]", "2", "pagination[offset]", "5"), 7, 2, 5, 5, 2},
		{q("filter[screenerId][eq]", "scr_01jd3m00000000000000000000"), 0, 100, 0, 0, 0},
		{q("unrelated", "ignored"), 7, 100, 0, 0, 7},
	} {
		pg := list(tc.query)
		if pg.Total != tc.total || pg.Limit != tc.limit || pg.Offset != tc.offset || len(pg.Items) != tc.itemCount {
			t.Fatalf("%s: total %d limit %d offset %d items %d", tc.query, pg.Total, pg.Limit, pg.Offset, len(pg.Items))
		}
		if tc.itemCount > 0 && pg.Items[0].ID != ids[tc.firstIndex] {
			t.Fatalf("%s: first item %s, want %s", tc.query, pg.Items[0].ID, ids[tc.firstIndex])
		}
	}
}

func TestListQueryErrors(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	for _, tc := range []struct {
		fn, path, query, field string
	}{
		{"ListScreenerParticipantsFunction", "/screener-participants", q("pagination[offset]", "-1"), "pagination[offset]:OUT_OF_RANGE"},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("pagination[limit]", "0"), "pagination[limit]:OUT_OF_RANGE"},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("pagination[limit]", "-5"), "pagination[limit]:OUT_OF_RANGE"},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("pagination[limit]", "ten"), "pagination[limit]:INVALID_NUMBER"},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("pagination[offset]", "1.5"), "pagination[offset]:INVALID_NUMBER"},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("pagination[offset]", "99999999999999999999"), "pagination[offset]:INVALID_NUMBER"},
		{"ListScreenerParticipantsFunction", "/screener-participants", "pagination%5Blimit%5D=1&pagination%5Blimit%5D=2", "pagination[limit]:INVALID"},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("pagination[size]", "5"), "pagination[size]:UNKNOWN_FIELD"},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("filter[status][eq]", "QUALIFIED"), "filter[status][eq]:UNKNOWN_FILTER"},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("filter[screenerId][ne]", "scr_01jd3m00000000000000000000"), "filter[screenerId][ne]:UNKNOWN_OPERATOR"},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("filter[screenerId]", "x"), "filter[screenerId]:INVALID"},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("filter[screenerId][eq]", "scr_123"), "filter[screenerId][eq]:INVALID"},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("filter[screenerId][eq]", "scr_01jd3m000000000000000000#x"), "filter[screenerId][eq]:INVALID"},
		{"ListScreenerParticipantsFunction", "/screener-participants", q("filter[screenerId][eq]", ""), "filter[screenerId][eq]:REQUIRED"},
		{"ListParticipantsFunction", "/participants", q("filter[screenerId][eq]", "scr_01jd3m00000000000000000000"), "filter[screenerId][eq]:UNKNOWN_FILTER"},
		{"ListScreenersFunction", "/screeners", q("filter[title][eq]", "x"), "filter[title][eq]:UNKNOWN_FILTER"},
		{"ListParticipantsFunction", "/participants", q("filter[email][eq]", strings.Repeat("a", 2000)+"@example.com"), "filter[email][eq]:TOO_LONG"},
		{"ListParticipantsFunction", "/participants", q("filter[externalUid][eq]", strings.Repeat("é", 300)), "filter[externalUid][eq]:TOO_LONG"},
		{"ListParticipantsFunction", "/participants", "filter%5BexternalUid%5D%5Beq%5D=%FF", "filter[externalUid][eq]:TOO_LONG"},
		{"ListScreenerSessionsFunction", "/screener-sessions", q("filter[screenerParticipantId][eq]", "ptp_01jd3m00000000000000000000"), "filter[screenerParticipantId][eq]:INVALID"},
	} {
		p := wantProblem(t, c.get(tc.fn, tc.path, tc.query), 400, "INVALID_QUERY")
		if got := strings.Join(p.fields(), ","); got != tc.field {
			t.Errorf("%s?%s: fields %s, want %s", tc.path, tc.query, got, tc.field)
		}
	}
}

func TestEveryReadRoute(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	ctx := context.Background()
	scrA, scrB := c.screener("A"), c.screener("B")
	var created []sp
	c.importRows(scrA, "", uidRow("u1", "one@example.com", "One"), uidRow("u2", "two@example.com", "Two"), row{Email: "three@example.com", Name: "Three"}).JSON(&created)
	wantStatus(t, c.importRows(scrB, "", uidRow("u1", "one@example.com", "One")), 200)

	admin, ws := c.env.App.Admin, c.tenant.WorkspaceID
	s1, err := admin.StartSession(ctx, ws, created[0].ID)
	must(t, err)
	_, err = admin.CompleteSession(ctx, ws, s1.ID, true)
	must(t, err)
	s2, err := admin.StartSession(ctx, ws, created[1].ID)
	must(t, err)
	_, err = admin.CompleteSession(ctx, ws, s2.ID, false)
	must(t, err)
	s3, err := admin.StartSession(ctx, ws, created[2].ID)
	must(t, err)

	// Status and currentSessionId follow the latest session.
	got := c.listScreener(scrA).Items
	for i, want := range []struct{ status, session string }{{"QUALIFIED", s1.ID}, {"DISQUALIFIED", s2.ID}, {"IN_PROGRESS", s3.ID}} {
		if got[i].Status != want.status || got[i].CurrentSessionID == nil || *got[i].CurrentSessionID != want.session {
			t.Fatalf("row %d: %s %v, want %s %s", i, got[i].Status, got[i].CurrentSessionID, want.status, want.session)
		}
	}
	// A new session replaces the latest: a qualified participant re-screening is IN_PROGRESS.
	s4, err := admin.StartSession(ctx, ws, created[0].ID)
	must(t, err)
	var one sp
	c.get("GetScreenerParticipantFunction", "/screener-participants/"+created[0].ID, "").JSON(&one)
	if one.Status != "IN_PROGRESS" || *one.CurrentSessionID != s4.ID {
		t.Fatalf("after a new session: %+v", one)
	}

	var screeners page[struct {
		ID                  string  `json:"id"`
		Title               string  `json:"title"`
		ActivePublicationID *string `json:"activePublicationId"`
	}]
	c.get("ListScreenersFunction", "/screeners", "").JSON(&screeners)
	if screeners.Total != 2 || screeners.Items[0].ID != scrA || screeners.Items[1].Title != "B" || screeners.Items[0].ActivePublicationID == nil {
		t.Fatalf("screeners %+v", screeners)
	}
	wantStatus(t, c.get("GetScreenerFunction", "/screeners/"+scrB, ""), 200)

	var participants page[struct {
		ID          string  `json:"id"`
		ExternalUID *string `json:"externalUid"`
	}]
	c.get("ListParticipantsFunction", "/participants", "").JSON(&participants)
	if participants.Total != 3 || participants.Items[2].ExternalUID != nil {
		t.Fatalf("participants %+v", participants)
	}
	for _, query := range []string{q("filter[email][eq]", "TWO@example.com"), q("filter[externalUid][eq]", "u2"), q("filter[externalUid][eq]", "u2", "filter[email][eq]", "two@example.com")} {
		c.get("ListParticipantsFunction", "/participants", query).JSON(&participants)
		if participants.Total != 1 || participants.Items[0].ID != created[1].ParticipantID {
			t.Fatalf("%s: %+v", query, participants)
		}
	}
	c.get("ListParticipantsFunction", "/participants", q("filter[externalUid][eq]", "u1", "filter[email][eq]", "two@example.com")).JSON(&participants)
	if participants.Total != 0 || len(participants.Items) != 0 {
		t.Fatalf("contradicting filters matched %+v", participants)
	}

	type session struct {
		ID           string  `json:"id"`
		State        string  `json:"state"`
		CompletedAt  *string `json:"completedAt"`
		AssignedTags []struct {
			Value string `json:"value"`
		} `json:"assignedTags"`
	}
	var sessions page[session]
	c.get("ListScreenerSessionsFunction", "/screener-sessions", "").JSON(&sessions)
	if sessions.Total != 4 || sessions.Items[0].ID != s1.ID || sessions.Items[3].ID != s4.ID {
		t.Fatalf("sessions %+v", sessions)
	}
	c.get("ListScreenerSessionsFunction", "/screener-sessions", q("filter[screenerParticipantId][eq]", created[0].ID)).JSON(&sessions)
	if sessions.Total != 2 || sessions.Items[0].ID != s1.ID {
		t.Fatalf("sessions of %s: %+v", created[0].ID, sessions)
	}
	c.get("ListScreenerSessionsFunction", "/screener-sessions", q("filter[screenerId][eq]", scrA, "pagination[limit]", "1", "pagination[offset]", "1")).JSON(&sessions)
	if sessions.Total != 4 || len(sessions.Items) != 1 || sessions.Items[0].ID != s2.ID {
		t.Fatalf("sessions of screener A page 2: %+v", sessions)
	}
	c.get("ListScreenerSessionsFunction", "/screener-sessions", q("filter[screenerId][eq]", scrB, "filter[screenerParticipantId][eq]", created[0].ID)).JSON(&sessions)
	if sessions.Total != 0 {
		t.Fatalf("sessions of A's participant under screener B: %+v", sessions)
	}
	var s session
	c.get("GetScreenerSessionFunction", "/screener-sessions/"+s2.ID, "").JSON(&s)
	if s.State != "COMPLETED" || s.CompletedAt == nil || len(s.AssignedTags) != 1 || s.AssignedTags[0].Value != "DISQUALIFIED" {
		t.Fatalf("session %+v", s)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLongestFilterValueReachesTheStore: the longest accepted value (256 four-byte runes,
// 1,024 bytes) is a valid DynamoDB key part, so the list answers instead of failing.
func TestLongestFilterValueReachesTheStore(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	uid := strings.Repeat("𝄞", 256)
	scr := c.screener("S")
	wantStatus(t, c.importRows(scr, "", uidRow(uid, "clef@example.com", "Clef")), 200)
	var pg page[struct {
		ExternalUID string `json:"externalUid"`
	}]
	r := c.get("ListParticipantsFunction", "/participants", q("filter[externalUid][eq]", uid))
	wantStatus(t, r, 200)
	r.JSON(&pg)
	if pg.Total != 1 || pg.Items[0].ExternalUID != uid {
		t.Fatalf("%+v", pg)
	}
}
