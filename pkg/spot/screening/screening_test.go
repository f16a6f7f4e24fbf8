package screening_test

import (
	"testing"

	"github.com/participant-roster/roster/pkg/spot/screening"
)

func TestScreenerParticipantStatus(t *testing.T) {
	latest := func(state screening.SessionState, outcome screening.Outcome) *screening.LatestSession {
		return &screening.LatestSession{ID: "scses_1", State: state, Outcome: outcome}
	}
	tests := []struct {
		name string
		sp   screening.ScreenerParticipant
		want screening.Status
	}{
		{"no session yet", screening.ScreenerParticipant{}, screening.StatusNotStarted},
		{"session in progress", screening.ScreenerParticipant{Latest: latest(screening.SessionInProgress, screening.OutcomeNone)}, screening.StatusInProgress},
		{"in progress whatever the outcome says", screening.ScreenerParticipant{Latest: latest(screening.SessionInProgress, screening.OutcomeQualified)}, screening.StatusInProgress},
		{"completed, qualified", screening.ScreenerParticipant{Latest: latest(screening.SessionCompleted, screening.OutcomeQualified)}, screening.StatusQualified},
		{"completed, disqualified", screening.ScreenerParticipant{Latest: latest(screening.SessionCompleted, screening.OutcomeDisqualified)}, screening.StatusDisqualified},
		{"completed without outcome", screening.ScreenerParticipant{Latest: latest(screening.SessionCompleted, screening.OutcomeNone)}, screening.StatusUnknown},
		{"latest session not started", screening.ScreenerParticipant{Latest: latest(screening.SessionNotStarted, screening.OutcomeNone)}, screening.StatusUnknown},
		{"not started with an outcome", screening.ScreenerParticipant{Latest: latest(screening.SessionNotStarted, screening.OutcomeQualified)}, screening.StatusUnknown},
		{"removed, no session", screening.ScreenerParticipant{Removed: true}, screening.StatusRemoved},
		{"removed wins over a qualified session", screening.ScreenerParticipant{Removed: true, Latest: latest(screening.SessionCompleted, screening.OutcomeQualified)}, screening.StatusRemoved},
	}
	for _, tt := range tests {
		if got := tt.sp.Status(); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestCurrentSessionID(t *testing.T) {
	if got := (screening.ScreenerParticipant{}).CurrentSessionID(); got != "" {
		t.Errorf("without a session: %q", got)
	}
	sp := screening.ScreenerParticipant{Latest: &screening.LatestSession{ID: "scses_2", State: screening.SessionCompleted}}
	if got := sp.CurrentSessionID(); got != "scses_2" {
		t.Errorf("with a session: %q", got)
	}
}
