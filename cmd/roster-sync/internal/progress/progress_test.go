package progress

import (
	"strings"
	"testing"
	"time"

	"github.com/participant-roster/roster/cmd/roster-sync/internal/spotclient"
)

// A job already half done when the watch starts (a resumed run) is not taken for a fast one:
// the rate counts only what runs while watched.
func TestRateFromWhatRunsWhileWatched(t *testing.T) {
	var r Rate
	t0 := time.Unix(1000, 0)
	r.Observe(t0, 10000)
	if _, ok := r.PerSecond(); ok {
		t.Fatal("a rate from one observation")
	}
	r.Observe(t0.Add(10*time.Second), 12500)
	perSec, ok := r.PerSecond()
	if !ok || perSec != 250 {
		t.Fatalf("rate = %v, %v; want 250", perSec, ok)
	}
	if left, ok := r.Left(12500, 20000); !ok || left != 30*time.Second {
		t.Errorf("left = %v, %v; want 30s", left, ok)
	}
}

// The rate follows a change of pace: observations older than the window drop out.
func TestRateWindow(t *testing.T) {
	var r Rate
	t0 := time.Unix(1000, 0)
	for i := 0; i <= 60; i++ { // 100 rows/s for a minute
		r.Observe(t0.Add(time.Duration(i)*time.Second), i*100)
	}
	for i := 1; i <= 60; i++ { // then 10 rows/s
		r.Observe(t0.Add(time.Duration(60+i)*time.Second), 6000+i*10)
	}
	if perSec, _ := r.PerSecond(); perSec < 9 || perSec > 11 {
		t.Errorf("rate = %v after a minute at 10 rows/s", perSec)
	}
	var stalled Rate
	stalled.Observe(t0, 5)
	stalled.Observe(t0.Add(time.Second), 5)
	if _, ok := stalled.PerSecond(); ok {
		t.Error("a rate for a job that made no progress")
	}
}

func job(status string, processed, skipped, total int) spotclient.Job {
	return spotclient.Job{ID: "job_1", Status: status, Counts: spotclient.Counts{Total: total, Processed: processed, Skipped: skipped}}
}

// Plain mode writes a line at most every `every`, at once on a change of status, and always
// the final one.
func TestPlainLines(t *testing.T) {
	var out strings.Builder
	now := time.Unix(1000, 0)
	p := NewPlain(&out, 5*time.Second, func() time.Time { return now })
	steps := []struct {
		after time.Duration
		job   spotclient.Job
	}{
		{0, job(spotclient.StatusQueued, 0, 0, 1000)},
		{time.Second, job(spotclient.StatusRunning, 0, 0, 1000)},   // status changed: a line
		{time.Second, job(spotclient.StatusRunning, 100, 0, 1000)}, // too soon
		{4 * time.Second, job(spotclient.StatusRunning, 500, 0, 1000)},
		{time.Second, job(spotclient.StatusRunning, 600, 0, 1000)},
	}
	for _, s := range steps {
		now = now.Add(s.after)
		p.Update(s.job)
	}
	now = now.Add(time.Second)
	p.Finish(job(spotclient.StatusCanceled, 700, 300, 1000))
	want := []string{
		"job_1 QUEUED: 0 of 1000 rows (0%)",
		"job_1 RUNNING: 0 of 1000 rows (0%)",
		"job_1 RUNNING: 500 of 1000 rows (50%), 83 rows/s, about 6s left",
		"job_1 CANCELED: 1000 of 1000 rows (100%), 88 rows/s, 8s watched",
	}
	if got := strings.Split(strings.TrimSpace(out.String()), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
