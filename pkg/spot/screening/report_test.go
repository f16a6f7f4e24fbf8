package screening_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/participant-roster/roster/pkg/spot/screening"
)

func (f *fixture) run(req screening.ImportRequest) (screening.ImportReport, error) {
	return f.svc.RunImport(context.Background(), ws, f.actor, req)
}

func outcomes(r screening.ImportReport) []screening.RowOutcome {
	out := make([]screening.RowOutcome, len(r.Rows))
	for i, row := range r.Rows {
		out[i] = row.Outcome
	}
	return out
}

func removedIDs(r screening.ImportReport) []string {
	var out []string
	for _, sp := range r.Removed {
		out = append(out, sp.ID)
	}
	return out
}

// seedForReport puts four people on scrA's roster and one (P5) only on scrB's, and returns
// the screener participants in scrA.
func seedForReport(f *fixture) []screening.ScreenerParticipant {
	f.t.Helper()
	inA := f.mustImport(screening.UpdatesOnly, scrA,
		row("crm-1", "p1@example.com", "P1"), row("crm-2", "p2@example.com", "P2"),
		row("crm-3", "p3@example.com", "P3"), row("crm-4", "p4@example.com", "P4"))
	f.mustImport(screening.UpdatesOnly, scrB, row("crm-5", "p5@example.com", "P5"))
	return inA
}

// syncForReport: P1 unchanged, P2 renamed, P5 linked from scrB, P6 new; P3 and P4 absent.
var syncForReport = []screening.ImportRow{
	row("crm-1", "p1@example.com", "P1"), row("crm-2", "p2@example.com", "P2 renamed"),
	row("crm-5", "p5@example.com", "P5"), row("crm-6", "p6@example.com", "P6"),
}

func TestRunImportReportsEachRowAndTheRemovals(t *testing.T) {
	f := newFixture(t)
	inA := seedForReport(f)
	report, err := f.run(screening.ImportRequest{ScreenerID: scrA, Mode: screening.FullSync, Rows: syncForReport})
	if err != nil {
		t.Fatal(err)
	}
	want := []screening.RowOutcome{screening.RowUnchanged, screening.RowUpdated, screening.RowCreated, screening.RowCreated}
	if got := outcomes(report); !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	if got, want := removedIDs(report), []string{inA[2].ID, inA[3].ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
	if report.DryRun || report.Count(screening.RowCreated) != 2 || report.Count(screening.RowUpdated) != 1 {
		t.Errorf("report %+v", report)
	}
	for i, r := range report.Rows {
		sp := r.ScreenerParticipant
		if sp.ID == "" || sp.ParticipantID == "" || f.link(sp.ID).ParticipantID != sp.ParticipantID {
			t.Errorf("row %d: %+v is not what was stored", i, sp)
		}
	}
	if got := f.rosterEmails(scrA); len(got) != 4 {
		t.Errorf("roster %v after the FULL_SYNC", got)
	}
}

// TestDryRunPredictsTheImportAndWritesNothing: the same request as a dry run reports what
// the real import then reports, and writes nothing; the ids the import would make are empty.
func TestDryRunPredictsTheImportAndWritesNothing(t *testing.T) {
	f := newFixture(t)
	seedForReport(f)
	req := screening.ImportRequest{ScreenerID: scrA, Mode: screening.FullSync, Rows: syncForReport}
	snap := f.snapshot()
	dry := req
	dry.DryRun = true
	planned, err := f.run(dry)
	if err != nil {
		t.Fatal(err)
	}
	f.wroteNothingSince(snap)
	if !planned.DryRun {
		t.Error("a dry run's report does not say so")
	}
	if sp := planned.Rows[2].ScreenerParticipant; sp.ID != "" || sp.ParticipantID == "" {
		t.Errorf("a dry run linking a known participant reports %+v, want its participant id and no new id", sp)
	}
	if sp := planned.Rows[3].ScreenerParticipant; sp.ID != "" || sp.ParticipantID != "" || sp.Email != "p6@example.com" {
		t.Errorf("a dry run creating a participant reports %+v, want no ids", sp)
	}

	done, err := f.run(req)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(outcomes(planned), outcomes(done)) || !reflect.DeepEqual(removedIDs(planned), removedIDs(done)) {
		t.Errorf("dry run planned %v removing %v; the import did %v removing %v",
			outcomes(planned), removedIDs(planned), outcomes(done), removedIDs(done))
	}
	for i := range 2 { // the rows whose records exist: the same ids
		if planned.Rows[i].ScreenerParticipant.ID != done.Rows[i].ScreenerParticipant.ID {
			t.Errorf("row %d: planned %+v, imported %+v", i, planned.Rows[i], done.Rows[i])
		}
	}

	// A dry run of an invalid payload is rejected as the import would be.
	snap = f.snapshot()
	_, err = f.run(screening.ImportRequest{ScreenerID: scrA, Rows: []screening.ImportRow{row("", "bad", "X")}, DryRun: true})
	if got := issues(t, err); len(got) != 1 || got[0].Code != screening.CodeInvalidEmail {
		t.Errorf("dry run of a bad row: %+v", got)
	}
	f.wroteNothingSince(snap)
}

func TestMaxRemovalsRefusesALargerFullSync(t *testing.T) {
	f := newFixture(t)
	seedForReport(f)
	limit := func(n int) *int { return &n }
	for _, dryRun := range []bool{true, false} {
		snap := f.snapshot()
		_, err := f.run(screening.ImportRequest{ScreenerID: scrA, Mode: screening.FullSync, Rows: syncForReport, DryRun: dryRun, MaxRemovals: limit(1)})
		var tooMany *screening.TooManyRemovalsError
		if !errors.As(err, &tooMany) || !errors.Is(err, screening.ErrTooManyRemovals) || tooMany.Removals != 2 || tooMany.Max != 1 {
			t.Fatalf("dry run %v: error %v, want 2 removals over a max of 1", dryRun, err)
		}
		f.wroteNothingSince(snap)
	}
	// UPDATES_ONLY removes nothing, so a guard of 0 never trips; a FULL_SYNC at the limit runs.
	if _, err := f.run(screening.ImportRequest{ScreenerID: scrA, Rows: syncForReport, MaxRemovals: limit(0)}); err != nil {
		t.Fatalf("UPDATES_ONLY with maxRemovals 0: %v", err)
	}
	report, err := f.run(screening.ImportRequest{ScreenerID: scrA, Mode: screening.FullSync, Rows: syncForReport, MaxRemovals: limit(2)})
	if err != nil || len(report.Removed) != 2 {
		t.Fatalf("FULL_SYNC at its limit: %v, removed %d", err, len(report.Removed))
	}
	if got := f.rosterEmails(scrA); len(got) != 4 {
		t.Errorf("roster %v", got)
	}
}

func TestPlanOfUnchangedRowsWritesNothing(t *testing.T) {
	f := newFixture(t)
	seedForReport(f)
	plan, err := f.svc.PlanImport(context.Background(), ws, f.actor, screening.ImportRequest{ScreenerID: scrA, Rows: []screening.ImportRow{row("crm-1", "p1@example.com", "P1")}})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Writes() || plan.Report.Rows[0].Outcome != screening.RowUnchanged {
		t.Fatalf("plan writes %v, report %+v", plan.Writes(), plan.Report)
	}
	snap := f.snapshot()
	if err := f.svc.ApplyImport(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	f.wroteNothingSince(snap)
}
