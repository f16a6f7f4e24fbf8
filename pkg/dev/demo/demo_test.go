package demo_test

import (
	"context"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func TestSeedIsDeterministicAndIdempotent(t *testing.T) {
	ctx := context.Background()
	first := testkit.NewEnv(t)
	a, err := demo.Seed(ctx, first.App)
	if err != nil {
		t.Fatal(err)
	}
	again, err := demo.Seed(ctx, first.App)
	if err != nil {
		t.Fatal(err)
	}
	b, err := demo.Seed(ctx, testkit.NewEnv(t).App)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Screeners) != 2 || len(a.ScreenerParticipants) != len(demo.Rows) || len(a.Sessions) != 3 {
		t.Fatalf("seeded %d screeners, %d screener participants, %d sessions", len(a.Screeners), len(a.ScreenerParticipants), len(a.Sessions))
	}
	if len(again.ScreenerParticipants) != len(demo.Rows) {
		t.Fatalf("a second seed changed the roster: %d", len(again.ScreenerParticipants))
	}
	for i := range a.ScreenerParticipants {
		if a.ScreenerParticipants[i].ID != b.ScreenerParticipants[i].ID {
			t.Fatalf("ids differ between two tables: %s vs %s", a.ScreenerParticipants[i].ID, b.ScreenerParticipants[i].ID)
		}
	}
	want := []screening.Status{screening.StatusQualified, screening.StatusDisqualified, screening.StatusInProgress, screening.StatusNotStarted, screening.StatusNotStarted}
	for i, sp := range a.ScreenerParticipants {
		if sp.Status() != want[i] {
			t.Errorf("%s (%s): status %s, want %s", sp.ID, sp.Name, sp.Status(), want[i])
		}
	}
}
