package spotclient_test

import (
	"slices"
	"testing"

	"github.com/participant-roster/roster/cmd/roster-sync/internal/spotclient"
	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/idempotency"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
)

// The client keeps its own copy of the wire's words (it links no server code); here they are
// checked against the server's own declarations, so the two cannot drift apart.
func TestWordsMatchTheServer(t *testing.T) {
	for _, c := range [][2]string{
		{spotclient.HeaderKey, spotapi.HeaderKey},
		{spotclient.HeaderSecret, spotapi.HeaderSecret},
		{spotclient.HeaderIdempotency, idempotency.Header},
		{spotclient.HeaderReplayed, idempotency.ReplayedHeader},
		{spotclient.ModeUpdatesOnly, string(screening.UpdatesOnly)},
		{spotclient.ModeFullSync, string(screening.FullSync)},
		{spotclient.CodeIdempotencyKeyInUse, spotapi.CodeIdempotencyKeyInUse},
		{spotclient.CodeConflict, spotapi.CodeConflict},
		{spotclient.CodeImportFinished, spotapi.CodeImportFinished},
		{spotclient.CodeTooManyRemovals, spotapi.CodeTooManyRemovals},
	} {
		if c[0] != c[1] {
			t.Errorf("the client says %q where the server says %q", c[0], c[1])
		}
	}
	statuses := []string{jobs.Queued, jobs.Running, jobs.Canceling, jobs.Completed, jobs.Failed, jobs.Canceled}
	if !slices.Equal(spotclient.Statuses, statuses) {
		t.Errorf("statuses %q, the server's %q", spotclient.Statuses, statuses)
	}
	if !slices.Equal(spotclient.Outcomes, jobs.Outcomes) {
		t.Errorf("outcomes %q, the server's %q", spotclient.Outcomes, jobs.Outcomes)
	}
	for _, s := range statuses {
		if spotclient.Terminal(s) != jobs.Terminal(s) {
			t.Errorf("Terminal(%s): client %v, server %v", s, spotclient.Terminal(s), jobs.Terminal(s))
		}
	}
}
