package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/participant-roster/roster/cmd/roster-sync/internal/spotclient"
)

func runJobs(ctx context.Context, sys System, args []string) int {
	fs := newFlagSet(sys, "jobs", "Lists the workspace's Spot import jobs, newest first.")
	screener := fs.String("screener", "", "only the jobs of this screener, scr_…")
	status := fs.String("status", "", "only jobs in this status: "+strings.Join(spotclient.Statuses, ", "))
	limit := fs.Int("limit", 20, "list at most `N` jobs")
	offset := fs.Int("offset", 0, "skip the `N` newest jobs")
	client, code, ok := fs.setup(sys, args)
	if !ok {
		return code
	}
	*status = strings.ToUpper(*status)
	if *status != "" && !slices.Contains(spotclient.Statuses, *status) {
		fmt.Fprintf(sys.Stderr, "roster-sync jobs: -status must be one of %s\n", strings.Join(spotclient.Statuses, ", "))
		return ExitUsage
	}
	if *limit < 1 || *offset < 0 {
		fmt.Fprintln(sys.Stderr, "roster-sync jobs: -limit must be 1 or more and -offset 0 or more")
		return ExitUsage
	}
	ctx, stop := onInterrupt(ctx, sys)
	page, err := client.Jobs(ctx, spotclient.JobFilter{ScreenerID: *screener, Status: *status, Offset: *offset, Limit: *limit})
	if stop() {
		return ExitCanceled
	}
	if err != nil {
		return report(sys.Stderr, err, screenerSubject(*screener))
	}
	printJobs(sys.Stdout, page)
	return ExitOK
}

func printJobs(w io.Writer, page spotclient.Page[spotclient.Job]) {
	if len(page.Items) == 0 {
		fmt.Fprintln(w, "No import jobs.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSTATUS\tSCREENER\tMODE\tDRY RUN\tROWS DONE\tFAILED\tCREATED")
	for _, j := range page.Items {
		dry := ""
		if j.DryRun {
			dry = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%d\t%s\n", j.ID, j.Status, j.ScreenerID, j.ImportMode, dry,
			j.Counts.Done(), j.Counts.Total, j.Counts.Failed, j.CreatedAt)
	}
	tw.Flush()
	if shown := page.Offset + len(page.Items); shown < page.Total || page.Offset > 0 {
		fmt.Fprintf(w, "Jobs %d to %d of %d (-offset and -limit page on).\n", page.Offset+1, shown, page.Total)
	}
}

func runResults(ctx context.Context, sys System, args []string) int {
	fs := newFlagSet(sys, "results",
		"Shows a job's per-row results (payload rows in row order, then a FULL_SYNC's removals), or with -csv\n"+
			"writes them as CSV: externalUid,email,name,outcome,error, the form an import takes again.")
	job := fs.String("job", "", "the import job, job_… (required)")
	outcome := fs.String("outcome", "", "only rows with this outcome: "+strings.Join(spotclient.Outcomes, ", "))
	csvPath := fs.String("csv", "", "write CSV to `FILE` (- for standard output) instead of a table")
	client, code, ok := fs.setup(sys, args)
	if !ok {
		return code
	}
	*outcome = strings.ToLower(*outcome)
	switch {
	case *job == "":
		fmt.Fprintln(sys.Stderr, "roster-sync results: -job is required (`roster-sync jobs` lists them)")
		return ExitUsage
	case *outcome != "" && !slices.Contains(spotclient.Outcomes, *outcome):
		fmt.Fprintf(sys.Stderr, "roster-sync results: -outcome must be one of %s\n", strings.Join(spotclient.Outcomes, ", "))
		return ExitUsage
	}
	ctx, stop := onInterrupt(ctx, sys)
	var n int
	var err error
	switch *csvPath {
	case "":
		n, err = printResults(ctx, sys.Stdout, client, *job, *outcome)
	case "-":
		n, err = client.ResultsCSV(ctx, *job, *outcome, sys.Stdout)
	default:
		n, err = writeResultsCSV(ctx, client, *job, *outcome, *csvPath)
	}
	if stop() {
		return ExitCanceled
	}
	if err != nil {
		return report(sys.Stderr, err, jobSubject(*job))
	}
	if *csvPath != "" && *csvPath != "-" {
		fmt.Fprintf(sys.Stdout, "%d results written to %s.\n", n, *csvPath)
	}
	return ExitOK
}

func printResults(ctx context.Context, w io.Writer, c *spotclient.Client, job, outcome string) (int, error) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROW\tOUTCOME\tEXTERNAL UID\tEMAIL\tNAME\tPARTICIPANT\tERROR")
	n := 0
	err := c.EachResult(ctx, job, outcome, func(r spotclient.Result) error {
		row := "-"
		if r.Row != nil {
			row = fmt.Sprint(*r.Row)
		}
		n++
		_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row, r.Outcome, r.ExternalUID, r.Email, r.Name, r.ParticipantID, errorText(r.Errors))
		return err
	})
	tw.Flush()
	if err == nil {
		fmt.Fprintf(w, "%d results.\n", n)
	}
	return n, err
}

// writeResultsCSV downloads results into path through a temporary file beside it, so an
// interrupted download never leaves half a file under the name.
func writeResultsCSV(ctx context.Context, c *spotclient.Client, job, outcome, path string) (int, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := c.ResultsCSV(ctx, job, outcome, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return n, err
}

func runCancel(ctx context.Context, sys System, args []string) int {
	fs := newFlagSet(sys, "cancel",
		"Cancels an import job: a queued job ends CANCELED at once; a running one turns CANCELING, its\n"+
			"chunks in flight finish, the others are skipped, and a FULL_SYNC removes nothing.")
	job := fs.String("job", "", "the import job, job_… (required)")
	wait := fs.Bool("wait", false, "wait until the job is CANCELED, showing its progress")
	client, code, ok := fs.setup(sys, args)
	if !ok {
		return code
	}
	if *job == "" {
		fmt.Fprintln(sys.Stderr, "roster-sync cancel: -job is required (`roster-sync jobs -status RUNNING` lists them)")
		return ExitUsage
	}
	reqCtx, stop := onInterrupt(ctx, sys)
	j, err := client.Cancel(reqCtx, *job)
	if stop() {
		return ExitCanceled
	}
	if err != nil {
		return report(sys.Stderr, err, jobSubject(*job))
	}
	fmt.Fprintf(sys.Stdout, "Job %s is %s.\n", j.ID, j.Status)
	if !spotclient.Terminal(j.Status) && !*wait {
		fmt.Fprintln(sys.Stdout, "The chunks in flight finish, the others are skipped; -wait waits for CANCELED.")
		return ExitOK
	}
	if !spotclient.Terminal(j.Status) {
		w := newWatcher(sys, client)
		w.canceled = true
		if j, _, err = w.watch(ctx, j); err != nil {
			return report(sys.Stderr, err, jobSubject(*job))
		}
		if !spotclient.Terminal(j.Status) {
			return ExitCanceled
		}
	}
	summarize(sys.Stdout, j)
	if j.Status != spotclient.StatusCanceled {
		return ExitFailed
	}
	return ExitOK
}
