// Package progress shows a running import job's progress: a live bar on a terminal (drawn by
// github.com/schollz/progressbar), or plain lines, one every few seconds and a final one,
// when the output is a file or a pipe. Both show rows done of total, the rate and the time
// left, from the same estimate.
package progress

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/participant-roster/roster/cmd/roster-sync/internal/spotclient"
)

// Reporter hears of a job at every poll.
type Reporter interface {
	// Update shows the job's state as last read.
	Update(j spotclient.Job)
	// Interrupt clears the display before something else is written to the same output (a
	// prompt); the next Update draws it again.
	Interrupt()
	// Finish shows the job's final state and ends the display.
	Finish(j spotclient.Job)
}

// PlainEvery is how often plain mode writes a line while the job runs.
const PlainEvery = 5 * time.Second

// figures are the numbers both displays show.
type figures struct {
	done, total int
	rate        string // "250 rows/s", or "" before there is one
	left        string // "about 1m20s left", or ""
}

// measure observes the job in the rate and returns what to show. The rate counts the rows
// run (skipped rows take no time); the time left is for every row not done yet.
func measure(r *Rate, now time.Time, j spotclient.Job) figures {
	f := figures{done: j.Counts.Done(), total: j.Counts.Total}
	r.Observe(now, j.Counts.Processed)
	if perSec, ok := r.PerSecond(); ok {
		f.rate = fmt.Sprintf("%.*f rows/s", map[bool]int{true: 1, false: 0}[perSec < 10], perSec)
	}
	if left, ok := r.Left(f.done, f.total); ok && !spotclient.Terminal(j.Status) {
		f.left = "about " + left.String() + " left"
	}
	return f
}

func (f figures) percent() int {
	if f.total == 0 {
		return 100
	}
	return f.done * 100 / f.total
}

// Plain writes lines to w.
type Plain struct {
	w       io.Writer
	every   time.Duration
	now     func() time.Time
	rate    Rate
	start   time.Time
	last    time.Time
	status  string
	written bool
}

// NewPlain writes a line to w at most every `every` (and whenever the status changes), and a
// final one.
func NewPlain(w io.Writer, every time.Duration, now func() time.Time) *Plain {
	return &Plain{w: w, every: every, now: now}
}

func (p *Plain) Update(j spotclient.Job) {
	now := p.now()
	if p.start.IsZero() {
		p.start = now
	}
	f := measure(&p.rate, now, j)
	if p.written && j.Status == p.status && now.Sub(p.last) < p.every {
		return
	}
	p.line(j, f, now)
}

func (p *Plain) Interrupt() {}

func (p *Plain) Finish(j spotclient.Job) {
	now := p.now()
	if p.start.IsZero() {
		p.start = now
	}
	f := measure(&p.rate, now, j)
	f.left = fmt.Sprintf("%s watched", now.Sub(p.start).Round(time.Second))
	p.line(j, f, now)
}

func (p *Plain) line(j spotclient.Job, f figures, now time.Time) {
	line := fmt.Sprintf("%s %s: %d of %d rows (%d%%)", j.ID, j.Status, f.done, f.total, f.percent())
	for _, s := range []string{f.rate, f.left} {
		if s != "" {
			line += ", " + s
		}
	}
	fmt.Fprintln(p.w, line)
	p.written, p.last, p.status = true, now, j.Status
}

// Bar draws a progress bar on a terminal.
type Bar struct {
	w     io.Writer
	now   func() time.Time
	width int
	rate  Rate
	bar   *progressbar.ProgressBar
}

// textColumns is about what a bar's line holds besides the bar: percent, count, elapsed time,
// status, rate and time left.
const textColumns = 75

// NewBar draws on w, a terminal `columns` wide (0: unknown). The line stays a few columns
// short of the terminal's width, so the terminal's echo of a Ctrl-C does not wrap it (and the
// prompt that follows can clear it).
func NewBar(w io.Writer, now func() time.Time, columns int) *Bar {
	width := 40
	if columns > 0 {
		width = min(max(columns-textColumns, 10), 40)
	}
	return &Bar{w: w, now: now, width: width}
}

func (b *Bar) Update(j spotclient.Job) {
	f := measure(&b.rate, b.now(), j)
	if f.total <= 0 {
		return // nothing to draw a bar of (an import with no rows never runs as a job)
	}
	if b.bar == nil {
		b.bar = progressbar.NewOptions(f.total,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetWidth(b.width),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionUseANSICodes(true),
		)
	}
	if b.bar.GetMax() != f.total {
		b.bar.ChangeMax(f.total)
	}
	desc := j.Status
	for _, s := range []string{f.rate, f.left} {
		if s != "" {
			desc += ", " + s
		}
	}
	b.bar.Describe(desc)
	_ = b.bar.Set(min(f.done, f.total))
}

func (b *Bar) Interrupt() {
	if b.bar != nil {
		_ = b.bar.Clear()
		fmt.Fprint(b.w, "\r")
	}
}

func (b *Bar) Finish(j spotclient.Job) {
	b.Update(j)
	if b.bar != nil {
		_ = b.bar.Exit()
		fmt.Fprintln(b.w)
	}
}
