package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/dev/localrun"
)

// TestCtrlCStopsTheEmulators runs the command as make run LAMBDA=emulator does, has one
// function's emulator started by a request, and sends SIGINT, as Ctrl-C does: the command
// exits 0 and no process of the emulators (aws-lambda-rie or a bootstrap, all run from the
// build directory) is left running.
func TestCtrlCStopsTheEmulators(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "local-api")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	buildDir := filepath.Join(dir, "build")
	cmd := exec.Command(bin, "-lambda", "emulator", "-port", "0", "-ddb-port", "0", "-sqs-port", "0",
		"-data-dir", filepath.Join(dir, "data"), "-build-dir", buildDir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // only if the test failed before the SIGINT
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	url := waitForLine(t, lines, apiLine)

	if n := total(t, url); n == 0 {
		t.Fatalf("the emulated list answered no screener participant")
	}
	if ps := processes(t, buildDir); !strings.Contains(ps, "ListScreenerParticipantsFunction/bootstrap") {
		t.Fatalf("the function's bootstrap is not running under the emulator:\n%s", ps)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range lines { // drain, so the command never blocks on stderr
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("after SIGINT: %v, want exit 0", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the command did not exit within a minute of SIGINT")
	}
	if ps := processes(t, buildDir); ps != "" {
		t.Errorf("still running after Ctrl-C:\n%s", ps)
	}
}

// waitForLine returns re's first submatch in the first line of lines that matches.
func waitForLine(t *testing.T, lines <-chan string, re *regexp.Regexp) string {
	t.Helper()
	var seen []string
	deadline := time.After(3 * time.Minute)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the command ended before printing %v:\n%s", re, strings.Join(seen, "\n"))
			}
			seen = append(seen, line)
			if m := re.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		case <-deadline:
			t.Fatalf("no %v after 3 minutes:\n%s", re, strings.Join(seen, "\n"))
		}
	}
}

// processes lists the processes of the emulators under dir.
func processes(t *testing.T, dir string) string {
	t.Helper()
	ps, err := localrun.ProcessesUnder(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}
