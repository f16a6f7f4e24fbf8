package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/participant-roster/roster/cmd/roster-sync/internal/progress"
	"github.com/participant-roster/roster/cmd/roster-sync/internal/spotclient"
)

// watcher follows a job until it ends, showing its progress; Ctrl-C offers to cancel it.
type watcher struct {
	sys      System
	client   *spotclient.Client
	reporter progress.Reporter
	answers  <-chan string // lines typed on the terminal, read once asked for
	canceled bool          // the user asked for the cancel
}

func newWatcher(sys System, c *spotclient.Client) *watcher {
	var r progress.Reporter = progress.NewPlain(sys.Stdout, sys.PlainEvery, sys.Now)
	if sys.StdoutTTY {
		r = progress.NewBar(sys.Stdout, sys.Now, sys.Columns)
	}
	return &watcher{sys: sys, client: c, reporter: r}
}

// watch polls the job until it is terminal and returns its final state; interrupted is true
// when Ctrl-C ended the watch (the job canceled, or left running).
func (w *watcher) watch(ctx context.Context, job spotclient.Job) (final spotclient.Job, interrupted bool, err error) {
	tick := time.NewTicker(w.sys.PollEvery)
	defer tick.Stop()
	if !spotclient.Terminal(job.Status) {
		w.reporter.Update(job)
	}
	for !spotclient.Terminal(job.Status) {
		select {
		case <-ctx.Done():
			return job, true, nil
		case <-tick.C:
			next, err := w.client.Job(ctx, job.ID)
			if err != nil {
				w.reporter.Interrupt()
				return job, false, err
			}
			job = next
			w.reporter.Update(job)
		case <-w.sys.Interrupts:
			w.reporter.Interrupt()
			next, leave, err := w.interrupted(ctx, job)
			if err != nil || leave {
				return next, true, err
			}
			job = next
		}
	}
	w.reporter.Finish(job)
	return job, w.canceled, nil
}

// interrupted handles a Ctrl-C: on a terminal it asks whether to cancel the job (y cancels it
// and the watch goes on until it is CANCELED; anything else goes on watching); a second
// Ctrl-C, or no terminal to ask on, leaves the job running.
func (w *watcher) interrupted(ctx context.Context, job spotclient.Job) (spotclient.Job, bool, error) {
	if w.canceled || !w.sys.StdinTTY {
		w.leaving(job)
		return job, true, nil
	}
	fmt.Fprintf(w.sys.Stderr, "Cancel the import job %s? [y/N] ", job.ID)
	select {
	case <-w.sys.Interrupts:
		fmt.Fprintln(w.sys.Stderr)
		w.leaving(job)
		return job, true, nil
	case <-ctx.Done():
		return job, true, nil
	case answer, ok := <-w.readAnswers():
		if !ok || !strings.EqualFold(strings.TrimSpace(answer), "y") && !strings.EqualFold(strings.TrimSpace(answer), "yes") {
			if !ok {
				fmt.Fprintln(w.sys.Stderr)
			}
			fmt.Fprintln(w.sys.Stderr, "Not canceled; watching on (Ctrl-C again to ask again).")
			return job, false, nil
		}
	}
	next, err := w.client.Cancel(ctx, job.ID)
	switch {
	case spotclient.CodeOf(err) == spotclient.CodeImportFinished:
		fmt.Fprintf(w.sys.Stderr, "The job %s finished before the cancel reached it.\n", job.ID)
		next, err = w.client.Job(ctx, job.ID)
		return next, false, err
	case err != nil:
		return job, true, err
	}
	w.canceled = true
	if next.Status == spotclient.StatusCanceling {
		fmt.Fprintf(w.sys.Stderr, "Cancel requested: %s is CANCELING (chunks in flight finish, the rest are skipped).\n", job.ID)
		fmt.Fprintln(w.sys.Stderr, "Waiting for CANCELED; Ctrl-C stops waiting.")
	}
	return next, false, nil
}

// readAnswers starts reading the terminal's lines on first use; the channel closes at its end.
func (w *watcher) readAnswers() <-chan string {
	if w.answers == nil {
		ch := make(chan string)
		go readLines(w.sys.Stdin, ch)
		w.answers = ch
	}
	return w.answers
}

func readLines(r io.Reader, ch chan<- string) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		ch <- s.Text()
	}
	close(ch)
}

// leaving says the job goes on without this watch, and how to act on it.
func (w *watcher) leaving(job spotclient.Job) {
	verb := "keeps running"
	if w.canceled {
		verb = "is being canceled"
	}
	fmt.Fprintf(w.sys.Stderr, "Stopped watching; the import job %s %s on the server.\n", job.ID, verb)
	fmt.Fprintf(w.sys.Stderr, "  Follow it:  roster-sync jobs -screener %s\n", job.ScreenerID)
	fmt.Fprintln(w.sys.Stderr, "              (running the same import again resumes this job, too)")
	if !w.canceled {
		fmt.Fprintf(w.sys.Stderr, "  Cancel it:  roster-sync cancel -job %s\n", job.ID)
	}
}
