package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/participant-roster/roster/cmd/roster-sync/internal/cli"
	"github.com/participant-roster/roster/pkg/platform/backoff"
)

// syncBuffer is a buffer safe to read while the command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run is one roster-sync run in process.
type run struct {
	sys            cli.System
	stdout, stderr *syncBuffer
	interrupts     chan os.Signal
	env            map[string]string
}

func newRun(f *fakeAPI) *run {
	r := &run{stdout: &syncBuffer{}, stderr: &syncBuffer{}, interrupts: make(chan os.Signal, 2), env: map[string]string{}}
	if f != nil {
		r.env = map[string]string{cli.EnvAPI: f.srv.URL, cli.EnvKey: testKey, cli.EnvSecret: testSecret}
	}
	r.sys = cli.System{
		Stdin: strings.NewReader(""), Stdout: r.stdout, Stderr: r.stderr,
		Getenv: func(k string) string { return r.env[k] }, Interrupts: r.interrupts, Now: time.Now,
		PollEvery: 5 * time.Millisecond, PlainEvery: 0,
		Retry: backoff.Policy{Base: time.Millisecond, Max: 5 * time.Millisecond},
	}
	return r
}

func (r *run) exec(t *testing.T, args ...string) int {
	t.Helper()
	done := make(chan int, 1)
	go func() { done <- cli.Run(context.Background(), args, r.sys) }()
	select {
	case code := <-done:
		return code
	case <-time.After(20 * time.Second):
		t.Fatalf("roster-sync %s did not return\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.stdout, r.stderr)
		return -1
	}
}

func (r *run) must(t *testing.T, code int, want int, stdoutHas, stderrHas []string) {
	t.Helper()
	if code != want {
		t.Errorf("exit code %d, want %d", code, want)
	}
	for _, s := range stdoutHas {
		if !strings.Contains(r.stdout.String(), s) {
			t.Errorf("stdout lacks %q", s)
		}
	}
	for _, s := range stderrHas {
		if !strings.Contains(r.stderr.String(), s) {
			t.Errorf("stderr lacks %q", s)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}

const goodAndBad = "externalUid,email,name\n" +
	"crm-1,a@example.com,Ann\n" +
	"crm-2,not-an-email,Bob\n" +
	"crm-3,c@example.com,\"Lee, Cy\"\n" +
	"crm-4,also bad,\"Dee \"\"D\"\" Dunn\"\n" +
	"crm-5,e@example.com,Eve\n"

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("%s is not CSV: %v\n%s", path, err, b)
	}
	return records
}

// An import with good and bad rows: plain progress lines, the counts, the failed rows (read
// over several CSV pages through Link rel="next") written beside the input, exit 1.
func TestImportWritesFailedRowsAndExitsOne(t *testing.T) {
	f := newFakeAPI(t)
	file := writeFile(t, goodAndBad)
	r := newRun(f)
	code := r.exec(t, "import", "-screener", testScr, "-file", file)
	failed := strings.TrimSuffix(file, ".csv") + ".failed.csv"
	r.must(t, code, cli.ExitFailed,
		[]string{"Started import job job_", "RUNNING: 2 of 5 rows (40%)", "COMPLETED: 5 of 5 rows (100%)",
			"Created 3, updated 0, unchanged 0, failed 2.", "Rows that failed (2): " + failed}, nil)
	got := readCSV(t, failed)
	want := [][]string{{"externalUid", "email", "name", "outcome", "error"},
		{"crm-2", "not-an-email", "Bob", "failed", "email: must be an email address; name: checked"},
		{"crm-4", "also bad", `Dee "D" Dunn`, "failed", "email: must be an email address; name: checked"}}
	if !equalRecords(got, want) {
		t.Errorf("failed rows file:\n%q\nwant\n%q", got, want)
	}
	if _, jobs, _ := f.counts(); jobs != 1 {
		t.Errorf("%d jobs, want 1", jobs)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func equalRecords(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}

func TestImportAllGoodExitsZeroAndWritesNoFile(t *testing.T) {
	f := newFakeAPI(t)
	file := writeFile(t, "externalUid,email,name\ncrm-1,a@example.com,Ann\n")
	r := newRun(f)
	r.must(t, r.exec(t, "import", "-screener", testScr, "-file", file), cli.ExitOK, []string{"COMPLETED: 1 of 1 rows"}, nil)
	if _, err := os.Stat(strings.TrimSuffix(file, ".csv") + ".failed.csv"); !os.IsNotExist(err) {
		t.Errorf("a failed-rows file was written for an import with no failed row (%v)", err)
	}
}

// Running the same import again makes no second job: the API replays the first answer and
// the client says it resumes that job.
func TestRerunResumesTheSameJob(t *testing.T) {
	f := newFakeAPI(t)
	file := writeFile(t, goodAndBad)
	first := newRun(f)
	first.exec(t, "import", "-screener", testScr, "-file", file)
	again := newRun(f)
	again.must(t, again.exec(t, "import", "-screener", testScr, "-file", file), cli.ExitFailed,
		[]string{"Resuming the job an identical earlier run started: job_00000000000000000000000001 (COMPLETED)."}, nil)
	if posts, jobs, _ := f.counts(); posts != 2 || jobs != 1 {
		t.Errorf("%d posts made %d jobs, want 2 posts and 1 job", posts, jobs)
	}
	// A different flag is a different request: a new job.
	other := newRun(f)
	other.exec(t, "import", "-screener", testScr, "-file", file, "-dry-run")
	if _, jobs, _ := f.counts(); jobs != 2 {
		t.Errorf("a dry run of the same file resumed the real import's job (%d jobs)", jobs)
	}
}

// A rerun that resumes a canceled job says how to start anew; -new makes a new job.
func TestNewAfterACanceledJob(t *testing.T) {
	f := newFakeAPI(t)
	file := writeFile(t, goodAndBad)
	newRun(f).exec(t, "import", "-screener", testScr, "-file", file)
	f.set(func(f *fakeAPI) { f.jobs[0].status = "CANCELED" })
	again := newRun(f)
	again.must(t, again.exec(t, "import", "-screener", testScr, "-file", file), cli.ExitFailed,
		[]string{"(CANCELED).", "To import the file again as a new job, add -new."}, nil)
	fresh := newRun(f)
	fresh.must(t, fresh.exec(t, "import", "-screener", testScr, "-file", file, "-new"), cli.ExitFailed,
		[]string{"Started import job job_00000000000000000000000002."}, nil)
	if _, jobs, _ := f.counts(); jobs != 2 {
		t.Errorf("%d jobs, want 2", jobs)
	}
}

// The first POST's reply is lost (the connection closes after the job is made): the client
// retries with the same key and follows the one job.
func TestLostReplyIsRetriedWithTheSameKey(t *testing.T) {
	f := newFakeAPI(t)
	f.dropFirst = true
	file := writeFile(t, goodAndBad)
	r := newRun(f)
	r.must(t, r.exec(t, "import", "-screener", testScr, "-file", file), cli.ExitFailed,
		[]string{"Resuming the job an identical earlier run started", "COMPLETED"}, []string{"retrying in"})
	if posts, jobs, _ := f.counts(); posts != 2 || jobs != 1 {
		t.Errorf("%d posts made %d jobs, want 2 posts and 1 job", posts, jobs)
	}
}

func TestWrongCredentials(t *testing.T) {
	f := newFakeAPI(t)
	r := newRun(f)
	r.must(t, r.exec(t, "jobs", "-secret", "sk_wrong"), cli.ExitUsage, nil,
		[]string{"the API key or secret was refused (HTTP 401)", "-key and -secret"})
	noKey := newRun(nil)
	noKey.must(t, noKey.exec(t, "jobs"), cli.ExitUsage, nil,
		[]string{"needs an API key (-key or $SPOT_API_KEY) and an API secret (-secret or $SPOT_API_SECRET)"})
}

func TestUnknownScreener(t *testing.T) {
	f := newFakeAPI(t)
	r := newRun(f)
	r.must(t, r.exec(t, "import", "-screener", "scr_nope", "-file", writeFile(t, goodAndBad)), cli.ExitUsage, nil,
		[]string{"the screener scr_nope was not found in the key's workspace (HTTP 404)"})
	job := newRun(f)
	job.must(t, job.exec(t, "cancel", "-job", "job_nope"), cli.ExitUsage, nil, []string{"the import job job_nope was not found"})
}

func TestServerNotReachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	r := newRun(nil)
	r.must(t, r.exec(t, "import", "-api", url, "-key", testKey, "-secret", testSecret, "-screener", testScr, "-file", writeFile(t, goodAndBad)),
		cli.ExitUsage, nil, []string{"cannot reach the API at " + url, "connection refused", "`make run`", "attempt 6 of 6"})
}

func TestMissingFileAndBadFlags(t *testing.T) {
	f := newFakeAPI(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "-screener", testScr, "-file", "/no/such/roster.csv"}, "cannot read the roster file: open /no/such/roster.csv: no such file or directory"},
		{[]string{"import", "-file", "x.csv"}, "-screener is required"},
		{[]string{"import", "-screener", testScr}, "-file is required"},
		{[]string{"import", "-screener", testScr, "-file", "x.csv", "-max-removals", "3"}, "use it with -full-sync"},
		{[]string{"import", "-screener", testScr, "-file", "x.csv", "-full-sync", "-max-removals", "-1"}, "-max-removals must be 0 or more"},
		{[]string{"import", "-nope"}, "flag provided but not defined: -nope"},
		{[]string{"jobs", "-status", "DONE"}, "-status must be one of QUEUED, RUNNING, CANCELING, COMPLETED, FAILED, CANCELED"},
		{[]string{"results", "-job", "job_1", "-outcome", "bad"}, "-outcome must be one of created"},
		{[]string{"results"}, "-job is required"},
		{[]string{"cancel"}, "-job is required"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"jobs", "stray"}, `unexpected argument "stray"`},
	} {
		r := newRun(f)
		code := r.exec(t, c.args...)
		if code != cli.ExitUsage || !strings.Contains(r.stderr.String(), c.want) {
			t.Errorf("roster-sync %s: exit %d, stderr %q; want 2 and %q", strings.Join(c.args, " "), code, r.stderr, c.want)
		}
	}
	if posts, _, _ := f.counts(); posts != 0 {
		t.Errorf("%d imports posted by runs with bad flags", posts)
	}
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"import", "jobs", "results", "cancel"} {
		r := newRun(nil)
		code := r.exec(t, cmd, "-h")
		if code != cli.ExitOK || !strings.Contains(r.stderr.String(), "Usage: roster-sync "+cmd) || !strings.Contains(r.stderr.String(), "-api") ||
			!strings.Contains(r.stderr.String(), "Exit codes: 0 done") {
			t.Errorf("%s -h: exit %d\n%s", cmd, code, r.stderr)
		}
	}
	r := newRun(nil)
	if code := r.exec(t, "-h"); code != cli.ExitOK || !strings.Contains(r.stderr.String(), "roster-sync import -screener") {
		t.Errorf("-h: exit %d\n%s", code, r.stderr)
	}
}

// A problem body's message and field errors are shown.
func TestProblemFieldErrorsShown(t *testing.T) {
	f := newFakeAPI(t)
	r := newRun(f)
	r.must(t, r.exec(t, "import", "-screener", testScr, "-file", writeFile(t, "")), cli.ExitUsage, nil,
		[]string{"the API refused the request: The CSV is not valid (HTTP 400 VALIDATION_FAILED)", "  body: line 1: no header"})
}

// A dry run of a FULL_SYNC shows the planned counts and the would-be removals; the flags
// reach the API as query parameters.
func TestDryRunFullSync(t *testing.T) {
	f := newFakeAPI(t)
	r := newRun(f)
	code := r.exec(t, "import", "-screener", testScr, "-file", writeFile(t, goodAndBad), "-full-sync", "-dry-run", "-max-removals", "10")
	r.must(t, code, cli.ExitFailed, []string{"Dry run of", "FULL_SYNC, removing at most 10", "(dry run: nothing was written)",
		"Would create 3, update 0, leave 0 unchanged; 2 would fail.", "The FULL_SYNC would remove 3 screener participants the file does not list.",
		"Rows that would fail (2): ", "without -full-sync"}, nil)
	j := f.jobs[0]
	if !j.dryRun || j.mode != "FULL_SYNC" || j.maxRemovals == nil || *j.maxRemovals != 10 {
		t.Errorf("the API got dryRun=%v mode=%s maxRemovals=%v", j.dryRun, j.mode, j.maxRemovals)
	}
}

// The removal guard: the job ends FAILED with its reason, and the exit code says so.
func TestRemovalGuardFailure(t *testing.T) {
	f := newFakeAPI(t)
	r := newRun(f)
	code := r.exec(t, "import", "-screener", testScr, "-file", writeFile(t, "externalUid,email,name\ncrm-1,a@example.com,Ann\n"), "-full-sync", "-max-removals", "1")
	r.must(t, code, cli.ExitFailed, []string{"FAILED", "Reason: the FULL_SYNC would remove 3 screener participants, more than maxRemovals 1; nothing was removed"}, nil)
}

// stdinFunc is a terminal whose lines come from a function, called when read.
type stdinFunc func() string

func (s stdinFunc) Read(p []byte) (int, error) { return copy(p, s()), nil }

// Ctrl-C while a job runs: on a terminal it asks; "y" cancels the job and the watch goes on
// until CANCELED; "N" keeps watching; a second Ctrl-C, or no terminal, leaves the job running
// and says how to cancel it.
func TestCtrlC(t *testing.T) {
	never := make(chan struct{})
	t.Cleanup(func() { close(never) })
	for _, c := range []struct {
		name           string
		tty            bool
		answer         func(f *fakeAPI) string // what the terminal reads when asked
		presses        int
		code, deletes  int
		stdout, stderr []string
	}{
		{name: "yes cancels", tty: true, answer: func(*fakeAPI) string { return "y\n" }, presses: 1,
			code: cli.ExitCanceled, deletes: 1, stdout: []string{"CANCELED", "0 processed, 5 skipped"},
			stderr: []string{"Cancel the import job job_00000000000000000000000001? [y/N]", "is CANCELING"}},
		{name: "no keeps watching", tty: true, presses: 1,
			answer: func(f *fakeAPI) string { f.set(func(f *fakeAPI) { f.stalled = false }); return "n\n" },
			code:   cli.ExitFailed, stdout: []string{"COMPLETED: 5 of 5 rows"}, stderr: []string{"[y/N]", "Not canceled; watching on"}},
		{name: "a second Ctrl-C leaves", tty: true, answer: func(*fakeAPI) string { <-never; return "" }, presses: 2,
			code: cli.ExitCanceled, stderr: []string{"[y/N]", "keeps running on the server", "Cancel it:  roster-sync cancel -job"}},
		{name: "no terminal leaves", presses: 1,
			code: cli.ExitCanceled, stderr: []string{"keeps running on the server", "roster-sync cancel -job job_00000000000000000000000001"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.stalled = true
			r := newRun(f)
			r.sys.StdinTTY = c.tty
			if c.answer != nil {
				r.sys.Stdin = stdinFunc(func() string { return c.answer(f) })
			}
			f.onGet = func(n int) {
				for i := 0; n == 1 && i < c.presses; i++ {
					r.interrupts <- os.Interrupt
				}
			}
			r.must(t, r.exec(t, "import", "-screener", testScr, "-file", writeFile(t, goodAndBad)), c.code, c.stdout, c.stderr)
			if _, _, deletes := f.counts(); deletes != c.deletes {
				t.Errorf("%d DELETEs, want %d", deletes, c.deletes)
			}
		})
	}
}

// On a terminal the progress is a bar drawn in place, with the rows done of total.
func TestProgressBarOnTerminal(t *testing.T) {
	f := newFakeAPI(t)
	f.step = 1
	r := newRun(f)
	r.sys.StdoutTTY = true
	r.exec(t, "import", "-screener", testScr, "-file", writeFile(t, goodAndBad))
	out := r.stdout.String()
	if !strings.Contains(out, "\r") || !regexp.MustCompile(`100% \|█+\| \(5/5\)`).MatchString(out) || !strings.Contains(out, "(3/5)") {
		t.Errorf("no bar drawn in place:\n%q", out)
	}
}

func TestJobsResultsCancel(t *testing.T) {
	f := newFakeAPI(t)
	file := writeFile(t, goodAndBad)
	newRun(f).exec(t, "import", "-screener", testScr, "-file", file)

	jobs := newRun(f)
	jobs.must(t, jobs.exec(t, "jobs", "-screener", testScr), cli.ExitOK,
		[]string{"JOB", "job_00000000000000000000000001  COMPLETED  " + testScr + "  UPDATES_ONLY", "5/5"}, nil)
	empty := newRun(f)
	empty.must(t, empty.exec(t, "jobs", "-status", "running"), cli.ExitOK, []string{"No import jobs."}, nil)

	table := newRun(f)
	table.must(t, table.exec(t, "results", "-job", "job_00000000000000000000000001"), cli.ExitOK,
		[]string{"ROW", "1    failed   crm-2", "must be an email address", "4    created  crm-5", "5 results."}, nil)

	f.set(func(f *fakeAPI) { f.noLink = true }) // paging by offset
	out := filepath.Join(t.TempDir(), "all.csv")
	dl := newRun(f)
	dl.must(t, dl.exec(t, "results", "-job", "job_00000000000000000000000001", "-csv", out), cli.ExitOK, []string{"5 results written to " + out}, nil)
	if got := readCSV(t, out); len(got) != 6 || got[5][0] != "crm-5" {
		t.Errorf("all results CSV: %q", got)
	}
	stdout := newRun(f)
	stdout.exec(t, "results", "-job", "job_00000000000000000000000001", "-outcome", "FAILED", "-csv", "-")
	if got := stdout.stdout.String(); strings.Count(got, "\n") != 3 || !strings.HasPrefix(got, "externalUid,email,name,outcome,error\n") {
		t.Errorf("failed results on stdout:\n%s", got)
	}

	finished := newRun(f)
	finished.must(t, finished.exec(t, "cancel", "-job", "job_00000000000000000000000001"), cli.ExitUsage, nil,
		[]string{"The import has finished; it can no longer be canceled (HTTP 409 IMPORT_FINISHED)"})
}

func TestCancelWaitsForCanceled(t *testing.T) {
	f := newFakeAPI(t)
	f.stalled = true
	f.jobs = append(f.jobs, &fakeJob{id: "job_1", screener: testScr, mode: "UPDATES_ONLY", status: "RUNNING",
		rows: [][]string{{"a", "a@example.com", "A"}, {"b", "b@example.com", "B"}}, done: 1})
	r := newRun(f)
	r.must(t, r.exec(t, "cancel", "-job", "job_1", "-wait"), cli.ExitOK,
		[]string{"Job job_1 is CANCELING.", "job_1 CANCELED: 2 of 2 rows", "1 processed, 1 skipped"}, nil)
}

// Flags win over the environment.
func TestFlagsWinOverEnvironment(t *testing.T) {
	f := newFakeAPI(t)
	r := newRun(f)
	r.env[cli.EnvSecret] = "sk_wrong"
	r.must(t, r.exec(t, "jobs", "-secret", testSecret), cli.ExitOK, []string{"No import jobs."}, nil)
	r = newRun(f)
	r.env[cli.EnvAPI] = "http://127.0.0.1:1"
	r.must(t, r.exec(t, "jobs", "-api", f.srv.URL), cli.ExitOK, []string{"No import jobs."}, nil)
}
