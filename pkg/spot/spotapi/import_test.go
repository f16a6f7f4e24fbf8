package spotapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/testkit"
)

func TestImportCreatesThenUpdatesOnly(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("Habits")

	r := c.importRows(scr, "", uidRow("crm-1", "alex@example.com", "Alex Lee"), row{Email: "morgan@example.com", Name: "Morgan Rivera"})
	wantStatus(t, r, 200)
	var first []sp
	r.JSON(&first)
	if len(first) != 2 || first[0].Email != "alex@example.com" || first[1].Name != "Morgan Rivera" {
		t.Fatalf("response rows not in payload order: %+v", first)
	}
	for _, s := range first {
		if s.Type != "ScreenerParticipant" || s.Status != "NOT_STARTED" || s.CurrentSessionID != nil || s.ScreenerID != scr {
			t.Fatalf("new row %+v", s)
		}
	}
	if first[0].ExternalParticipantUID != "crm-1" || first[1].ExternalParticipantUID != "" {
		t.Fatalf("externalParticipantUid: %q, %q", first[0].ExternalParticipantUID, first[1].ExternalParticipantUID)
	}

	// UPDATES_ONLY (explicit, and null): a changed name and email update the same records; the
	// absent participant stays; matching by uid first, then by email (case-insensitive).
	r = c.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", "",
		`{"screenerId":"`+scr+`","importMode":null,"participants":[{"externalUid":"crm-1","email":"alex.lee@example.com","name":"Alex Q. Lee"},{"email":"MORGAN@example.com","name":"Morgan Rivera","externalUid":"crm-2"},{"email":"new@example.com","name":"New Person"}]}`, nil)
	wantStatus(t, r, 200)
	var second []sp
	r.JSON(&second)
	if second[0].ID != first[0].ID || second[0].Email != "alex.lee@example.com" || second[0].Name != "Alex Q. Lee" {
		t.Fatalf("uid match did not update in place: %+v", second[0])
	}
	if second[1].ID != first[1].ID || second[1].ExternalParticipantUID != "crm-2" || second[1].Email != "MORGAN@example.com" {
		t.Fatalf("email match did not set the uid: %+v", second[1])
	}
	list := c.listScreener(scr)
	if list.Total != 3 || len(list.Items) != 3 {
		t.Fatalf("list after UPDATES_ONLY: total %d, %d items", list.Total, len(list.Items))
	}
	var p struct {
		Email       string  `json:"email"`
		ExternalUID *string `json:"externalUid"`
		UpdatedBy   struct {
			Type string `json:"_type"`
		} `json:"updatedBy"`
	}
	c.get("GetParticipantFunction", "/participants/"+second[0].ParticipantID, "").JSON(&p)
	if p.Email != "alex.lee@example.com" || p.UpdatedBy.Type != "ApplicationActor" {
		t.Fatalf("tenant participant not updated: %+v", p)
	}
}

func (c *client) listScreener(scr string) page[sp] {
	c.t.Helper()
	r := c.get("ListScreenerParticipantsFunction", "/screener-participants", q("filter[screenerId][eq]", scr, "pagination[limit]", "500"))
	wantStatus(c.t, r, 200)
	var pg page[sp]
	r.JSON(&pg)
	return pg
}

func TestUnchangedReimportWritesNothing(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("S")
	payload := rows(120, "crm")
	r, w := c.importMetered(scr, "FULL_SYNC", payload...)
	wantStatus(t, r, 200)
	if w <= 0 {
		t.Fatalf("first import consumed %v write units; the meter is not working", w)
	}
	for _, mode := range []string{"UPDATES_ONLY", "FULL_SYNC"} {
		r, w = c.importMetered(scr, mode, payload...)
		wantStatus(t, r, 200)
		if w != 0 {
			t.Fatalf("%s re-import of an unchanged roster consumed %v write units, want 0", mode, w)
		}
	}
}

func TestFullSyncRemovesAbsentOnly(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr, other := c.screener("A"), c.screener("B")
	all := rows(5, "crm")
	wantStatus(t, c.importRows(scr, "", all...), 200)
	wantStatus(t, c.importRows(other, "", all[:2]...), 200)

	r := c.importRows(scr, "FULL_SYNC", all[1], all[3])
	wantStatus(t, r, 200)
	list := c.listScreener(scr)
	if list.Total != 2 || len(list.Items) != 2 {
		t.Fatalf("after FULL_SYNC: total %d, items %d", list.Total, len(list.Items))
	}
	if list.Items[0].Email != all[1].Email || list.Items[1].Email != all[3].Email {
		t.Fatalf("kept the wrong rows: %+v", list.Items)
	}
	if got := c.listScreener(other); got.Total != 2 {
		t.Fatalf("FULL_SYNC touched another screener: total %d", got.Total)
	}
	var participants page[struct{ ID string }]
	c.get("ListParticipantsFunction", "/participants", "").JSON(&participants)
	if participants.Total != 5 {
		t.Fatalf("FULL_SYNC removed tenant participants: %d left", participants.Total)
	}
	// A second identical FULL_SYNC removes nothing more.
	wantStatus(t, c.importRows(scr, "FULL_SYNC", all[1], all[3]), 200)
	if got := c.listScreener(scr); got.Total != 2 {
		t.Fatalf("second FULL_SYNC: total %d", got.Total)
	}
	// An empty FULL_SYNC empties the roster.
	wantStatus(t, c.importRows(scr, "FULL_SYNC"), 200)
	if got := c.listScreener(scr); got.Total != 0 || len(got.Items) != 0 {
		t.Fatalf("empty FULL_SYNC: total %d", got.Total)
	}
}

func TestRenameReachesEveryScreenerCopy(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	a, b := c.screener("A"), c.screener("B")
	wantStatus(t, c.importRows(a, "", uidRow("u1", "x@example.com", "Old Name")), 200)
	wantStatus(t, c.importRows(b, "", uidRow("u1", "x@example.com", "Old Name")), 200)
	wantStatus(t, c.importRows(a, "", uidRow("u1", "y@example.com", "New Name")), 200)
	for _, scr := range []string{a, b} {
		got := c.listScreener(scr).Items
		if len(got) != 1 || got[0].Name != "New Name" || got[0].Email != "y@example.com" {
			t.Fatalf("screener %s shows %+v", scr, got)
		}
	}
	// The old email is free again; the new one is taken.
	wantStatus(t, c.importRows(a, "", uidRow("u2", "x@example.com", "Someone Else")), 200)
	p := wantProblem(t, c.importRows(a, "", uidRow("u3", "Y@example.com", "Thief")), 400, "VALIDATION_FAILED")
	if strings.Join(p.fields(), ",") != "participants[0].externalUid:EXTERNAL_UID_CONFLICT" {
		t.Fatalf("fields %v", p.fields())
	}
}

func TestDeleteThenReimport(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("S")
	var created []sp
	c.importRows(scr, "", uidRow("u1", "a@example.com", "A"), uidRow("u2", "b@example.com", "B")).JSON(&created)
	path := "/screener-participants/" + created[0].ID

	r := c.call("DeleteScreenerParticipantFunction", "DELETE", path, "", "", nil)
	wantStatus(t, r, 200)
	var removed sp
	r.JSON(&removed)
	if removed.Status != "REMOVED" || removed.ID != created[0].ID || removed.Email != "a@example.com" {
		t.Fatalf("DELETE returned %+v", removed)
	}
	wantProblem(t, c.call("DeleteScreenerParticipantFunction", "DELETE", path, "", "", nil), 404, "NOT_FOUND")
	wantProblem(t, c.get("GetScreenerParticipantFunction", path, ""), 404, "NOT_FOUND")
	if got := c.listScreener(scr); got.Total != 1 || got.Items[0].ID != created[1].ID {
		t.Fatalf("list after delete: %+v", got)
	}
	wantStatus(t, c.get("GetParticipantFunction", "/participants/"+created[0].ParticipantID, ""), 200)

	var again []sp
	c.importRows(scr, "", uidRow("u1", "a@example.com", "A")).JSON(&again)
	if again[0].ID == created[0].ID || again[0].ParticipantID != created[0].ParticipantID || again[0].Status != "NOT_STARTED" {
		t.Fatalf("re-import after delete: %+v (was %+v)", again[0], created[0])
	}
	if got := c.listScreener(scr); got.Total != 2 {
		t.Fatalf("total after re-import %d", got.Total)
	}
}

func TestImportRejectsBadPayloadAndWritesNothing(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("S")
	wantStatus(t, c.importRows(scr, "", uidRow("taken-uid", "owner@example.com", "Owner"), uidRow("other", "other@example.com", "Other")), 200)

	r := c.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", "", `{"screenerId":"`+scr+`","importMode":"FULL_SYNC","participants":[
		{"externalUid":"ok-1","email":"fine@example.com","name":"Fine"},
		{"externalUid":"x","email":"not-an-email","name":"Bad Email"},
		{"externalUid":"y","email":"blank@example.com","name":"   "},
		{"externalUid":"ok-1","email":"dup@example.com","name":"Dup Uid"},
		{"externalUid":"z","email":"FINE@example.com","name":"Dup Email"},
		{"externalUid":"taken-uid","email":"other@example.com","name":"Email Of Another"},
		{"externalUid":"new-uid","email":"owner@example.com","name":"Uid Conflict"},
		null,
		{"email":".lead@example.com","name":"Leading dot"},
		{"email":"a..b@example.com","name":"Double dot"}
	]}`, nil)
	p := wantProblem(t, r, 400, "VALIDATION_FAILED")
	want := []string{
		"participants[1].email:INVALID_EMAIL",
		"participants[2].name:REQUIRED",
		"participants[3].externalUid:DUPLICATE_IN_PAYLOAD",
		"participants[4].email:DUPLICATE_IN_PAYLOAD",
		"participants[5].email:EMAIL_TAKEN",
		"participants[6].externalUid:EXTERNAL_UID_CONFLICT",
		"participants[7].name:REQUIRED",
		"participants[7].email:REQUIRED",
		"participants[8].email:INVALID_EMAIL",
		"participants[9].email:INVALID_EMAIL",
	}
	if got := strings.Join(p.fields(), "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("field errors:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	for _, e := range p.Errors {
		if e.Row == nil {
			t.Fatalf("row missing on %s", e.Field)
		}
	}
	if got := c.listScreener(scr); got.Total != 2 {
		t.Fatalf("a rejected FULL_SYNC changed the roster: total %d", got.Total)
	}
	var participants page[struct{ Email string }]
	c.get("ListParticipantsFunction", "/participants", "").JSON(&participants)
	if participants.Total != 2 {
		t.Fatalf("a rejected import created participants: %d", participants.Total)
	}
}

func TestImportRequestErrors(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("S")
	other := newClient(t, c.env).screener("not yours")
	post := func(body string, headers map[string]string) testkit.Response {
		return c.call("ImportScreenerParticipantsFunction", "POST", "/screener-participants-import", "", body, headers)
	}
	cases := []struct {
		name, body string
		headers    map[string]string
		status     int
		code       string
		field      string
	}{
		{"not json", `{"screenerId":`, nil, 400, "INVALID_JSON", ""},
		{"trailing data", `{"screenerId":"` + scr + `","participants":[]} {}`, nil, 400, "INVALID_JSON", ""},
		{"array body", `[]`, nil, 400, "VALIDATION_FAILED", ""},
		{"unknown field", `{"screenerId":"` + scr + `","participants":[],"mode":"FULL_SYNC"}`, nil, 400, "VALIDATION_FAILED", "mode:UNKNOWN_FIELD"},
		{"unknown row field", `{"screenerId":"` + scr + `","participants":[{"email":"a@example.com","name":"A","phone":"1"}]}`, nil, 400, "VALIDATION_FAILED", "phone:UNKNOWN_FIELD"},
		{"wrong type", `{"screenerId":"` + scr + `","participants":[{"email":5,"name":"A"}]}`, nil, 400, "VALIDATION_FAILED", "participants.email:INVALID"},
		{"no screenerId", `{"participants":[]}`, nil, 400, "VALIDATION_FAILED", "screenerId:REQUIRED"},
		{"no participants", `{"screenerId":"` + scr + `"}`, nil, 400, "VALIDATION_FAILED", "participants:REQUIRED"},
		{"bad mode", `{"screenerId":"` + scr + `","importMode":"DELETE_ALL","participants":[]}`, nil, 400, "VALIDATION_FAILED", "importMode:INVALID"},
		{"unknown screener", importBody("scr_01jd3m00000000000000000000", ""), nil, 404, "NOT_FOUND", ""},
		{"malformed screener id", importBody("scr_123", ""), nil, 404, "NOT_FOUND", ""},
		{"another workspace's screener", importBody(other, "", uidRow("u", "u@example.com", "U")), nil, 404, "NOT_FOUND", ""},
		{"neither JSON nor CSV", importBody(scr, ""), map[string]string{"content-type": "text/plain"}, 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"too many rows", importBody(scr, "", rows(1001, "r")...), nil, 413, "PAYLOAD_TOO_LARGE", ""},
		{"body too large", `{"screenerId":"` + scr + `","participants":[],"x":"` + strings.Repeat("a", 6<<20) + `"}`, nil, 413, "PAYLOAD_TOO_LARGE", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, post(tc.body, tc.headers), tc.status, tc.code)
			if tc.field != "" && strings.Join(p.fields(), ",") != tc.field {
				t.Fatalf("fields %v, want %s", p.fields(), tc.field)
			}
		})
	}
	if got := c.listScreener(scr); got.Total != 0 {
		t.Fatalf("rejected imports wrote %d screener participants", got.Total)
	}
	var otherList page[sp]
	c.env.Invoke("ListScreenerParticipantsFunction", testkit.Event("GET", "/screener-participants", "", c.tenant.Headers(), "")).JSON(&otherList)
	if otherList.Total != 0 {
		t.Fatal("an import reached another workspace")
	}
}

func TestImportAcceptsExactlyTheSyncLimit(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("S")
	r := c.importRows(scr, "", rows(1000, "big")...)
	wantStatus(t, r, 200)
	var out []sp
	r.JSON(&out)
	if len(out) != 1000 || c.listScreener(scr).Total != 1000 {
		t.Fatalf("imported %d", len(out))
	}
	_ = context.Background
}
