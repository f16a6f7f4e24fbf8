package spotapi_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/capacity"
)

// importResult is one result of an import (a dry run's plan, or a job's results).
type importResult struct {
	Type                  string  `json:"_type"`
	Row                   *int    `json:"row"`
	Outcome               string  `json:"outcome"`
	ExternalUID           *string `json:"externalUid"`
	Email                 *string `json:"email"`
	Name                  *string `json:"name"`
	ParticipantID         *string `json:"participantId"`
	ScreenerParticipantID *string `json:"screenerParticipantId"`
	Errors                []struct {
		Field, Code, Message string
	} `json:"errors"`
}

type importCounts struct {
	Total, Processed, Created, Updated, Unchanged, Removed, Failed, Skipped int
}

type importPlan struct {
	Type       string         `json:"_type"`
	DryRun     bool           `json:"dryRun"`
	ScreenerID string         `json:"screenerId"`
	ImportMode string         `json:"importMode"`
	Counts     importCounts   `json:"counts"`
	Results    []importResult `json:"results"`
}

// importWith posts a JSON import with a query and headers, metered: it returns the answer
// and the write units the request cost.
func (c *client) importWith(query, body string, headers map[string]string) (testkit.Response, float64) {
	c.t.Helper()
	ctx, m := capacity.WithMeter(context.Background())
	h := c.tenant.Headers()
	h["content-type"] = "application/json"
	for k, v := range headers {
		h[k] = v
	}
	r := c.env.InvokeContext(ctx, "ImportScreenerParticipantsFunction", testkit.Event("POST", "/screener-participants-import", query, h, body))
	_, w := m.Units()
	return r, w
}

// rowsOf are a plan's (or results') outcomes of payload rows, by row, and its removals' screener
// participant ids.
func rowsOf(t *testing.T, results []importResult) (outcomes []string, removed []string) {
	t.Helper()
	for _, r := range results {
		switch {
		case r.Outcome == "removed" && r.Row == nil && r.ScreenerParticipantID != nil:
			removed = append(removed, *r.ScreenerParticipantID)
		case r.Row != nil && *r.Row == len(outcomes):
			outcomes = append(outcomes, r.Outcome)
		default:
			t.Fatalf("result %d out of place: %+v", len(outcomes)+len(removed), r)
		}
	}
	return outcomes, removed
}

// TestSyncDryRun: a synchronous dry run of a FULL_SYNC costs no write and predicts, row by row,
// what the import then does; an invalid payload is the import's own 400.
func TestSyncDryRun(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("Dry")
	seed := rows(6, "dry")
	wantStatus(t, c.importRows(scr, "", seed...), 200)
	before := c.listScreener(scr)

	// Rows 0-1 unchanged, 2 renamed, 3 new, 4 new without uid; seed 3, 4 and 5 absent.
	payload := []row{seed[0], seed[1], uidRow(*seed[2].ExternalUID, seed[2].Email, "Renamed"),
		uidRow("dry-new", "new@example.com", "New"), {Email: "nouid@example.com", Name: "No Uid"}}
	body := importBody(scr, "FULL_SYNC", payload...)
	r, writes := c.importWith(q("dryRun", "true"), body, nil)
	wantStatus(t, r, 200)
	if writes != 0 {
		t.Errorf("the dry run cost %v write units, want 0", writes)
	}
	var plan importPlan
	r.JSON(&plan)
	wantCounts := importCounts{Total: 5, Processed: 5, Created: 2, Updated: 1, Unchanged: 2, Removed: 3}
	if plan.Type != "ScreenerParticipantImportPlan" || !plan.DryRun || plan.ScreenerID != scr || plan.ImportMode != "FULL_SYNC" || plan.Counts != wantCounts {
		t.Fatalf("plan %+v, want counts %+v", plan, wantCounts)
	}
	planned, plannedRemovals := rowsOf(t, plan.Results)
	if want := []string{"unchanged", "unchanged", "updated", "created", "created"}; !reflect.DeepEqual(planned, want) {
		t.Fatalf("planned %v, want %v", planned, want)
	}
	if res := plan.Results[3]; res.ParticipantID != nil || res.ScreenerParticipantID != nil || *res.Email != "new@example.com" || *res.ExternalUID != "dry-new" {
		t.Errorf("a planned creation names ids or not its row: %+v", res)
	}
	if res := plan.Results[4]; res.ExternalUID != nil || *res.Name != "No Uid" {
		t.Errorf("a row without externalUid: %+v", res)
	}
	if res := plan.Results[0]; res.ScreenerParticipantID == nil || *res.ScreenerParticipantID != before.Items[0].ID {
		t.Errorf("an unchanged row names %+v, want %s", res, before.Items[0].ID)
	}
	if after := c.listScreener(scr); !reflect.DeepEqual(after, before) {
		t.Fatalf("the dry run changed the roster:\n%+v\nwas\n%+v", after.Items, before.Items)
	}

	// The import itself, row by row as planned.
	r, writes = c.importWith("", body, nil)
	wantStatus(t, r, 200)
	var done []sp
	r.JSON(&done)
	if writes == 0 || len(done) != 5 || done[0].ID != before.Items[0].ID || done[3].ID == "" {
		t.Fatalf("import after the dry run (%v write units): %+v", writes, done)
	}
	after := c.listScreener(scr)
	var gone []string
	kept := map[string]bool{}
	for _, s := range after.Items {
		kept[s.ID] = true
	}
	for _, s := range before.Items {
		if !kept[s.ID] {
			gone = append(gone, s.ID)
		}
	}
	if !reflect.DeepEqual(gone, plannedRemovals) {
		t.Errorf("the import removed %v, the dry run planned %v", gone, plannedRemovals)
	}
	// Planned again now, every row is unchanged and nothing is removed.
	r, _ = c.importWith(q("dryRun", "true"), body, nil)
	plan = importPlan{}
	r.JSON(&plan)
	if plan.Counts != (importCounts{Total: 5, Processed: 5, Unchanged: 5}) {
		t.Errorf("a dry run of what is stored: %+v", plan.Counts)
	}

	// An invalid payload: the very 400 the import answers, and no write.
	bad := importBody(scr, "FULL_SYNC", seed[0], row{Email: "not-an-email", Name: "X"})
	dry, writes := c.importWith(q("dryRun", "true"), bad, nil)
	imported, _ := c.importWith("", bad, nil)
	pd, pr := wantProblem(t, dry, 400, "VALIDATION_FAILED"), wantProblem(t, imported, 400, "VALIDATION_FAILED")
	if !reflect.DeepEqual(pd.fields(), pr.fields()) || pd.Message != pr.Message || writes != 0 {
		t.Errorf("dry run answered %+v (%v write units), the import %+v", pd, writes, pr)
	}
}

// TestSyncMaxRemovals: a FULL_SYNC that would remove more than maxRemovals is 409, dry run or
// not, and removes nothing; at the limit it runs.
func TestSyncMaxRemovals(t *testing.T) {
	c := newClient(t, testkit.NewEnv(t))
	scr := c.screener("Guard")
	seed := rows(5, "guard")
	wantStatus(t, c.importRows(scr, "", seed...), 200)
	body := importBody(scr, "FULL_SYNC", seed[:2]...) // removes 3
	for _, query := range []string{q("maxRemovals", "2"), q("maxRemovals", "0", "dryRun", "true")} {
		r, writes := c.importWith(query, body, nil)
		p := wantProblem(t, r, 409, "TOO_MANY_REMOVALS")
		if !strings.Contains(p.Message, "would remove 3") || writes != 0 {
			t.Errorf("%s: %q (%v write units)", query, p.Message, writes)
		}
		if n := c.listScreener(scr).Total; n != 5 {
			t.Fatalf("%s: the roster has %d, want the 5 kept", query, n)
		}
	}
	r, _ := c.importWith(q("maxRemovals", "3"), body, nil)
	wantStatus(t, r, 200)
	if n := c.listScreener(scr).Total; n != 2 {
		t.Fatalf("a FULL_SYNC at its limit left %d", n)
	}
}
