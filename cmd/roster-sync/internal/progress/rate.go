package progress

import "time"

// rateWindow is how far back the rate looks: long enough to smooth over the chunked way a job
// advances (500 rows at a time), short enough to follow a change of pace.
const rateWindow = 30 * time.Second

// Rate estimates rows per second from observations of how many rows a job has run. It starts
// from the first observation, so a job already half done when watching begins (a resumed run)
// does not look fast.
type Rate struct {
	samples []sample
}

type sample struct {
	at   time.Time
	done int
}

// Observe records that done rows had run at t.
func (r *Rate) Observe(t time.Time, done int) {
	r.samples = append(r.samples, sample{t, done})
	// Keep one sample older than the window, so the window is always covered.
	for len(r.samples) > 2 && t.Sub(r.samples[1].at) > rateWindow {
		r.samples = r.samples[1:]
	}
}

// PerSecond is the recent rate, and false until there is one (two observations apart in time,
// with progress between them).
func (r *Rate) PerSecond() (float64, bool) {
	if len(r.samples) < 2 {
		return 0, false
	}
	first, last := r.samples[0], r.samples[len(r.samples)-1]
	secs := last.at.Sub(first.at).Seconds()
	if secs <= 0 || last.done <= first.done {
		return 0, false
	}
	return float64(last.done-first.done) / secs, true
}

// Left is the time the remaining rows take at the recent rate, and false without a rate.
func (r *Rate) Left(done, total int) (time.Duration, bool) {
	perSec, ok := r.PerSecond()
	if !ok {
		return 0, false
	}
	return (time.Duration(float64(max(total-done, 0))/perSec*float64(time.Second)) + time.Second/2).Truncate(time.Second), true
}
