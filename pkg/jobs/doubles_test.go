package jobs_test

import (
	"context"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/vocab"
)

var actor = vocab.Actor{Type: "ApplicationActor", ID: "acct_test", Name: "test"}

// noStore takes every job and keeps nothing: for tests of what Submit sends. Any other call
// panics (the embedded nil interface), which fails the test that makes it.
type noStore struct{ jobs.Store }

func (noStore) Create(context.Context, jobs.Job) error { return nil }

// failRecorder is noStore that records why Submit failed a job.
type failRecorder struct {
	noStore
	failed string
}

func (f *failRecorder) Fail(_ context.Context, _, _, reason string, _ time.Time, _ bool) error {
	f.failed = reason
	return nil
}
