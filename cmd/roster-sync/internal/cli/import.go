package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/participant-roster/roster/cmd/roster-sync/internal/spotclient"
)

const importAbout = `Imports a CSV roster (a header row naming externalUid, email and name, in any order) into a
screener. The import always runs as a job on the server, with a live progress bar on a terminal
(plain progress lines otherwise). It is sent with an Idempotency-Key derived from the screener,
the mode, the flags and the file's bytes: running the same command again (after a network error,
say) resumes the same job instead of starting a second one; -new starts a new one anyway.

At the end it prints the counts, the status and the reason, and writes the rows that failed to
<file>.failed.csv beside the input (roster.csv -> roster.failed.csv), ready to fix and import
again (without -full-sync). Ctrl-C asks whether to cancel the job.`

func runImport(ctx context.Context, sys System, args []string) int {
	fs := newFlagSet(sys, "import", importAbout)
	screener := fs.String("screener", "", "the screener to import into, scr_… (required)")
	file := fs.String("file", "", "the CSV roster (required)")
	fullSync := fs.Bool("full-sync", false, "FULL_SYNC: also remove the screener's participants the file does not list (default UPDATES_ONLY)")
	dryRun := fs.Bool("dry-run", false, "plan only: report what the import would do (for FULL_SYNC, how many it would remove), write nothing")
	maxRemovals := fs.Int("max-removals", 0, "with -full-sync: if it would remove more than `N`, remove nothing and fail")
	fresh := fs.Bool("new", false, "start a new job even if an identical run made one the API still remembers (one canceled, say)")
	client, code, ok := fs.setup(sys, args)
	if !ok {
		return code
	}
	req := spotclient.ImportRequest{ScreenerID: *screener, Mode: spotclient.ModeUpdatesOnly, DryRun: *dryRun}
	if *fullSync {
		req.Mode = spotclient.ModeFullSync
	}
	if fs.given("max-removals") {
		req.MaxRemovals = maxRemovals
	}
	if msg := checkImportFlags(req, *file); msg != "" {
		fmt.Fprintln(sys.Stderr, "roster-sync import:", msg)
		return ExitUsage
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintf(sys.Stderr, "roster-sync import: cannot read the roster file: %v\n", err)
		return ExitUsage
	}
	req.CSV = data
	if *fresh {
		req.Fresh = sys.Now().UTC().Format(time.RFC3339Nano)
	}
	return (&importRun{sys: sys, client: client, req: req, file: *file}).run(ctx)
}

// checkImportFlags is the flags' problem, or "".
func checkImportFlags(req spotclient.ImportRequest, file string) string {
	switch {
	case req.ScreenerID == "":
		return "-screener is required (the screener's id, scr_…; `roster-sync jobs` shows those of past imports)"
	case file == "":
		return "-file is required (the CSV roster)"
	case req.MaxRemovals != nil && req.Mode != spotclient.ModeFullSync:
		return "-max-removals guards a FULL_SYNC's removals: use it with -full-sync"
	case req.MaxRemovals != nil && *req.MaxRemovals < 0:
		return "-max-removals must be 0 or more"
	}
	return ""
}

// importRun is one import: submit, watch, report.
type importRun struct {
	sys    System
	client *spotclient.Client
	req    spotclient.ImportRequest
	file   string
}

func (r *importRun) run(ctx context.Context) int {
	out := r.sys.Stdout
	fmt.Fprintf(out, "%s %s (%d bytes) into screener %s as %s%s.\n", map[bool]string{false: "Importing", true: "Dry run of"}[r.req.DryRun],
		r.file, len(r.req.CSV), r.req.ScreenerID, r.req.Mode, guardText(r.req))
	sub, code, ok := r.submit(ctx)
	switch {
	case !ok:
		return code
	case sub.Plan != nil:
		return r.plan(*sub.Plan)
	case sub.Job == nil:
		fmt.Fprintf(out, "The API imported the file at once (no job): its answer lists %d screener participants.\n", sub.SyncRows)
		return ExitOK
	}
	job, ok := r.start(ctx, sub)
	if !ok {
		return ExitUsage
	}
	job, interrupted, err := newWatcher(r.sys, r.client).watch(ctx, job)
	if err != nil {
		return report(r.sys.Stderr, err, jobSubject(job.ID))
	}
	if interrupted && !spotclient.Terminal(job.Status) {
		return ExitCanceled
	}
	summarize(out, job)
	code = r.failedRows(ctx, job)
	if interrupted {
		return ExitCanceled
	}
	return code
}

// submit posts the import; ok false means stop with code (Ctrl-C, or the API refused).
func (r *importRun) submit(ctx context.Context) (sub spotclient.Submission, code int, ok bool) {
	errw := r.sys.Stderr
	postCtx, stop := onInterrupt(ctx, r.sys)
	sub, err := r.client.Import(postCtx, r.req)
	if stop() {
		fmt.Fprintln(errw, "Interrupted before the API answered. If the request reached it, its job runs on: run the same")
		fmt.Fprintln(errw, "command again to follow it (its Idempotency-Key names the same job), or list jobs with")
		fmt.Fprintf(errw, "  roster-sync jobs -screener %s\n", r.req.ScreenerID)
		return sub, ExitCanceled, false
	}
	if err != nil {
		return sub, report(errw, err, screenerSubject(r.req.ScreenerID)), false
	}
	return sub, 0, true
}

// start says which job the run follows and returns it as it is now: a replayed answer is the
// job as it was when an identical earlier run started it.
func (r *importRun) start(ctx context.Context, sub spotclient.Submission) (spotclient.Job, bool) {
	out, job := r.sys.Stdout, *sub.Job
	if !sub.Replayed {
		fmt.Fprintf(out, "Started %s %s.\n", map[bool]string{false: "import job", true: "dry-run job"}[job.DryRun], job.ID)
		return job, true
	}
	job, err := r.client.Job(ctx, sub.Job.ID)
	if err != nil {
		report(r.sys.Stderr, err, jobSubject(sub.Job.ID))
		return job, false
	}
	fmt.Fprintf(out, "Resuming the job an identical earlier run started: %s (%s).\n", job.ID, job.Status)
	if job.Status == spotclient.StatusCanceled || job.Status == spotclient.StatusFailed {
		fmt.Fprintln(out, "  To import the file again as a new job, add -new.")
	}
	return job, true
}

func guardText(req spotclient.ImportRequest) string {
	if req.MaxRemovals == nil {
		return ""
	}
	return fmt.Sprintf(", removing at most %d", *req.MaxRemovals)
}

// summarize prints a finished job's outcome.
func summarize(w io.Writer, j spotclient.Job) {
	c := j.Counts
	fmt.Fprintf(w, "Job %s %s", j.ID, j.Status)
	if j.DryRun {
		fmt.Fprint(w, " (dry run: nothing was written)")
	}
	fmt.Fprintf(w, ": %d rows, %d processed, %d skipped.\n", c.Total, c.Processed, c.Skipped)
	if j.DryRun {
		fmt.Fprintf(w, "  Would create %d, update %d, leave %d unchanged; %d would fail.\n", c.Created, c.Updated, c.Unchanged, c.Failed)
		if j.ImportMode == spotclient.ModeFullSync {
			fmt.Fprintf(w, "  The FULL_SYNC would remove %s the file does not list.\n", participants(c.Removed))
		}
	} else {
		fmt.Fprintf(w, "  Created %d, updated %d, unchanged %d, failed %d.\n", c.Created, c.Updated, c.Unchanged, c.Failed)
		if j.ImportMode == spotclient.ModeFullSync {
			fmt.Fprintf(w, "  Removed %s the file does not list.\n", participants(c.Removed))
		}
	}
	if reason := j.ReasonText(); reason != "" {
		fmt.Fprintf(w, "  Reason: %s\n", reason)
	}
}

// failedRows writes the job's failed rows beside the input and returns the exit code the job
// earns: 0 only for a COMPLETED job with no failed row.
func (r *importRun) failedRows(ctx context.Context, job spotclient.Job) int {
	code := ExitOK
	if job.Status != spotclient.StatusCompleted {
		code = ExitFailed
	}
	if job.Counts.Failed == 0 {
		return code
	}
	path := failedPath(r.file)
	dlCtx, stop := onInterrupt(ctx, r.sys)
	n, err := writeResultsCSV(dlCtx, r.client, job.ID, spotclient.OutcomeFailed, path)
	if stop() {
		fmt.Fprintf(r.sys.Stderr, "Interrupted; get the failed rows later with: roster-sync results -job %s -outcome failed -csv %s\n", job.ID, path)
		return ExitCanceled
	}
	if err != nil {
		report(r.sys.Stderr, err, jobSubject(job.ID))
		fmt.Fprintf(r.sys.Stderr, "  Try again with: roster-sync results -job %s -outcome failed -csv %s\n", job.ID, path)
		return ExitFailed
	}
	what := "failed"
	if job.DryRun {
		what = "would fail"
	}
	fmt.Fprintf(r.sys.Stdout, "Rows that %s (%d): %s, each with its error in the last column;\n  fix them and import that file again%s.\n",
		what, n, path, map[bool]string{true: " without -full-sync", false: ""}[r.req.Mode == spotclient.ModeFullSync])
	return ExitFailed
}

// failedPath is where an input's failed rows go: beside it, roster.csv -> roster.failed.csv.
func failedPath(input string) string {
	ext := filepath.Ext(input)
	if !strings.EqualFold(ext, ".csv") {
		ext = ""
	}
	return strings.TrimSuffix(input, ext) + ".failed.csv"
}

// plan prints a synchronous dry run's answer (an API that planned at once rather than as a job).
func (r *importRun) plan(p spotclient.Plan) int {
	c := p.Counts
	w := r.sys.Stdout
	fmt.Fprintf(w, "Dry run (nothing was written): %d rows; would create %d, update %d, leave %d unchanged; %d would fail.\n",
		c.Total, c.Created, c.Updated, c.Unchanged, c.Failed)
	if p.ImportMode == spotclient.ModeFullSync {
		fmt.Fprintf(w, "  The FULL_SYNC would remove %s the file does not list.\n", participants(c.Removed))
	}
	for _, res := range p.Results {
		if res.Outcome == spotclient.OutcomeFailed && res.Row != nil {
			fmt.Fprintf(w, "  row %d (%s): %s\n", *res.Row, res.Email, errorText(res.Errors))
		}
	}
	if c.Failed > 0 {
		return ExitFailed
	}
	return ExitOK
}

// errorText joins a result's errors as the API's CSV does.
func errorText(errs []spotclient.FieldError) string {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Message
	}
	return strings.Join(msgs, "; ")
}

func participants(n int) string {
	return plural(n, "screener participant", "screener participants")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
