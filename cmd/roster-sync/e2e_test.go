package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/participant-roster/roster/cmd/roster-sync/internal/cli"
	"github.com/participant-roster/roster/cmd/roster-sync/internal/spotclient"
	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/backoff"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// startService serves the template's routes over a fresh table with the demo workspace, the
// import queue on local SQS and a poller feeding the worker, as `make run` does; it returns the
// API's URL and the demo data.
func startService(t *testing.T) (string, demo.Data) {
	t.Helper()
	env := testkit.NewEnv(t)
	imports := env.EnableImports()
	data, err := demo.Seed(context.Background(), env.App)
	if err != nil {
		t.Fatal(err)
	}
	url := env.StartAPI()
	ctx, cancel := context.WithCancel(context.Background())
	polled := make(chan error, 1)
	go func() { polled <- imports.Poller.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-polled:
			if err != nil {
				t.Errorf("Poller.Run: %v", err)
			}
		case <-time.After(2 * time.Minute):
			t.Error("Poller.Run did not return after its context was cancelled")
		}
	})
	return url, data
}

// rosterSync runs roster-sync in process as a script would (stdout and stdin are no terminals),
// with the demo credentials in the environment, and returns its exit code and output.
func rosterSync(t *testing.T, api string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errw bytes.Buffer
	env := map[string]string{cli.EnvAPI: api, cli.EnvKey: demo.KeyID, cli.EnvSecret: demo.Secret}
	sys := cli.System{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errw,
		Getenv: func(k string) string { return env[k] }, Interrupts: make(chan os.Signal), Now: time.Now,
		PollEvery: 100 * time.Millisecond, PlainEvery: 300 * time.Millisecond,
		Retry: backoff.Policy{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	code = cli.Run(ctx, args, sys)
	t.Logf("roster-sync %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errw.String())
	return code, out.String(), errw.String()
}

// newRows are the rows the import creates: enough for three chunks, so the job runs a while.
const newRows = 1300

// roster is a CRM export: new people, one demo participant as it is, and two rows that fail
// against the roster (an externalUid and an email of two different participants; an
// externalUid that differs from the one the email's participant has), in CSV quoting. Morgan,
// of the demo roster, is not in it: a FULL_SYNC would remove Morgan (the participants the
// failed rows name are kept).
func roster() string {
	var b strings.Builder
	b.WriteString("name,email,externalUid\r\n")
	for i := range newRows {
		fmt.Fprintf(&b, "\"Person %d, \"\"Jr.\"\"\",p%05d@example.com,crm-new-%05d\r\n", i, i, i)
	}
	b.WriteString("Alex Lee,alex@example.com,crm-001\r\n")
	b.WriteString("\"Jo \"\"JN\"\" Nakamura\",riley@example.com,crm-004\r\n") // crm-004 is Jo's; riley@ is Riley's
	b.WriteString("Sam Okafor,sam@example.com,crm-999\r\n")                   // sam@ is Sam's, whose externalUid is crm-003
	return b.String()
}

const badRows = 2

func jobsOf(t *testing.T, api, screener string) int {
	t.Helper()
	c, err := spotclient.New(api, demo.KeyID, demo.Secret)
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.Jobs(context.Background(), spotclient.JobFilter{ScreenerID: screener})
	if err != nil {
		t.Fatal(err)
	}
	return page.Total
}

var progressLine = regexp.MustCompile(`(?m)^(job_\w+) (QUEUED|RUNNING|COMPLETED): (\d+) of (\d+) rows \((\d+)%\)`)

// TestSyncAgainstTheLocalService runs roster-sync against the real service: a dry run of a
// FULL_SYNC, the import (progress lines, counts, the failed rows beside the input, exit 1), a
// rerun that makes no second job, the results download, and the errors for a wrong secret,
// an unknown screener and a finished job's cancel.
func TestSyncAgainstTheLocalService(t *testing.T) {
	api, data := startService(t)
	screener := data.Screeners[0].ID
	file := filepath.Join(t.TempDir(), "crm export.csv")
	if err := os.WriteFile(file, []byte(roster()), 0o644); err != nil {
		t.Fatal(err)
	}
	total := newRows + 3
	jobsBefore := jobsOf(t, api, screener)

	// The dry run plans every row and writes nothing; the FULL_SYNC would remove the demo
	// screener's participants the file does not list.
	code, out, _ := rosterSync(t, api, "import", "-screener", screener, "-file", file, "-full-sync", "-dry-run")
	if code != cli.ExitFailed {
		t.Errorf("dry run: exit %d, want %d (rows would fail)", code, cli.ExitFailed)
	}
	for _, want := range []string{
		"(dry run: nothing was written)",
		fmt.Sprintf("Would create %d, update 0, leave 1 unchanged; %d would fail.", newRows, badRows),
		"The FULL_SYNC would remove 1 screener participant the file does not list.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q", want)
		}
	}

	// The import: plain progress lines up to the final one, the counts, the failed rows.
	code, out, _ = rosterSync(t, api, "import", "-screener", screener, "-file", file)
	if code != cli.ExitFailed {
		t.Errorf("import: exit %d, want %d (rows failed)", code, cli.ExitFailed)
	}
	lines := progressLine.FindAllStringSubmatch(out, -1)
	if len(lines) < 2 {
		t.Fatalf("import: %d progress lines, want at least one while it runs and the final one", len(lines))
	}
	if last := lines[len(lines)-1]; last[2] != "COMPLETED" || last[3] != fmt.Sprint(total) || last[4] != fmt.Sprint(total) || last[5] != "100" {
		t.Errorf("final progress line %q", last[0])
	}
	if first := lines[0]; first[2] == "COMPLETED" || first[4] != fmt.Sprint(total) {
		t.Errorf("first progress line %q: not a running job's", first[0])
	}
	jobID := lines[0][1]
	for _, want := range []string{
		"Started import job " + jobID,
		fmt.Sprintf("Created %d, updated 0, unchanged 1, failed %d.", newRows, badRows),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q", want)
		}
	}
	failedFile := filepath.Join(filepath.Dir(file), "crm export.failed.csv")
	if !strings.Contains(out, fmt.Sprintf("Rows that failed (%d): %s,", badRows, failedFile)) {
		t.Errorf("import output does not name the failed rows file %s", failedFile)
	}
	failed := readCSV(t, failedFile)
	if len(failed) != badRows+1 || strings.Join(failed[0], ",") != "externalUid,email,name,outcome,error" {
		t.Fatalf("failed rows file: %q", failed)
	}
	if got := failed[1]; got[0] != "crm-004" || got[1] != "riley@example.com" || got[2] != `Jo "JN" Nakamura` || got[3] != "failed" || got[4] == "" {
		t.Errorf("first failed row %q", got)
	}
	if got := failed[2]; got[0] != "crm-999" || got[1] != "sam@example.com" || got[3] != "failed" || got[4] == "" {
		t.Errorf("second failed row %q", got)
	}

	// The same command again makes no second job: it resumes the first, now finished.
	code, out, _ = rosterSync(t, api, "import", "-screener", screener, "-file", file)
	if code != cli.ExitFailed || !strings.Contains(out, "Resuming the job an identical earlier run started: "+jobID+" (COMPLETED).") {
		t.Errorf("rerun: exit %d; it did not resume %s", code, jobID)
	}
	if n := jobsOf(t, api, screener); n != jobsBefore+2 {
		t.Errorf("%d jobs for the screener, want %d (the ones before, the dry run and the import)", n, jobsBefore+2)
	}

	// The results command downloads the same failed rows.
	again := filepath.Join(t.TempDir(), "failed.csv")
	if code, _, _ := rosterSync(t, api, "results", "-job", jobID, "-outcome", "failed", "-csv", again); code != cli.ExitOK {
		t.Errorf("results: exit %d", code)
	}
	if a, b := readCSV(t, again), failed; fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("results -csv gave %q, the import wrote %q", a, b)
	}
	code, out, _ = rosterSync(t, api, "jobs", "-screener", screener, "-status", "completed")
	if code != cli.ExitOK || !strings.Contains(out, jobID+"  COMPLETED") {
		t.Errorf("jobs: exit %d, the import job not listed COMPLETED", code)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"jobs", "-secret", "sk_wrong"}, "the API key or secret was refused"},
		{[]string{"import", "-screener", "scr_01jcqgsym20000000000009999", "-file", file}, "the screener scr_01jcqgsym20000000000009999 was not found"},
		{[]string{"cancel", "-job", jobID}, "IMPORT_FINISHED"},
	} {
		if code, _, errOut := rosterSync(t, api, c.args...); code != cli.ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("roster-sync %s: exit %d, stderr lacks %q", strings.Join(c.args, " "), code, c.want)
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return records
}
