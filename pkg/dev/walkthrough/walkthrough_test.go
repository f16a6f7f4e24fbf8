package walkthrough_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/walkthrough"
)

const readme = "# Title\n\n## Walk-through (server running)\n\n```sh\n" +
	"API=http://localhost:3000\n" +
	"N=5   # how many\n" +
	"curl -s $API/a \\\n  -H \"X: y\"   # 200; again: 404\n" +
	"curl -s $API/b -d '{\n  \"k\": \"# not a comment\" }'\n" +
	"                  # 401: the body above is refused\n" +
	"curl -si $API/c | grep '^HTTP'\n" +
	"# HTTP/1.1 202 Accepted\n" +
	"\n# a comment of its own, 500 is not an expectation\n" +
	"go run ./cmd/tool -x <id>\n" +
	"echo $N > /tmp/n.txt\n" +
	"```\n\n### A subsection\n\n```sh\ncurl -s \"$API/d?n=$N\"   # 1,000 rows, version 1.0.0\n```\n\n" +
	"## Another section\n\n```sh\ncurl -s $API/e\n```\n"

func TestExtract(t *testing.T) {
	cmds, err := walkthrough.Extract([]byte(readme), "Walk-through")
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		line      int
		prefix    string
		expect    []int
		curl, run bool
	}
	wants := []want{
		{6, "API=", nil, false, true},
		{7, "N=5", nil, false, true},
		{8, "curl -s $API/a \\\n  -H", []int{200}, true, true},
		{10, "curl -s $API/b -d '{\n  \"k\": \"# not a comment\" }'", []int{401}, true, true},
		{13, "curl -si $API/c", []int{202}, true, true},
		{17, "go run", nil, false, false},
		{18, "echo $N", nil, false, true},
		{24, "curl -s \"$API/d", nil, true, true},
	}
	if len(cmds) != len(wants) {
		t.Fatalf("%d commands, want %d: %+v", len(cmds), len(wants), cmds)
	}
	for i, w := range wants {
		c := cmds[i]
		if c.Line != w.line || !strings.HasPrefix(c.Text, w.prefix) || !slices.Equal(c.Expect, w.expect) || c.Curl() != w.curl || c.Run() != w.run {
			t.Errorf("command %d: line %d %q expect %v curl %v run %v; want line %d, prefix %q, expect %v, curl %v, run %v",
				i, c.Line, c.Text, c.Expect, c.Curl(), c.Run(), w.line, w.prefix, w.expect, w.curl, w.run)
		}
	}
	if _, err := walkthrough.Extract([]byte(readme), "Missing"); err == nil {
		t.Error("a missing section was found")
	}
	if _, err := walkthrough.Extract([]byte("## W\n\n```sh\ncurl -d '{\n```\n"), "W"); err == nil {
		t.Error("an unclosed quote was taken")
	}
}

// TestExec runs the sample against a server answering each path's status: the statuses
// reach their commands, a variable takes the runner's value, /tmp/ is the runner's directory,
// and an answer the comments do not allow is a problem.
func TestExec(t *testing.T) {
	status := map[string]int{"/a": 200, "/b": 401, "/c": 202, "/d": 500}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/d" && r.URL.Query().Get("n") != "7" {
			w.WriteHeader(418)
			return
		}
		w.WriteHeader(status[r.URL.Path])
		_, _ = w.Write([]byte("answer of " + r.URL.Path))
	}))
	defer srv.Close()
	cmds, err := walkthrough.Extract([]byte(readme), "Walk-through")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	outcomes, err := walkthrough.Runner{BaseURL: srv.URL, Dir: dir, Set: map[string]string{"N": "7"}}.Exec(context.Background(), cmds)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for _, o := range outcomes {
		got[o.Line] = strings.TrimSpace(fmt.Sprintf("%v %s", o.Statuses, o.Problem()))
	}
	for line, want := range map[int]string{
		8:  "[200]",
		10: "[401]",
		13: "[202]",
		18: "[]",
		24: "[500] answered 500, its comments say a 2xx",
	} {
		if got[line] != want {
			t.Errorf("line %d: %q, want %q", line, got[line], want)
		}
	}
	if _, ok := got[17]; ok {
		t.Error("the go run command ran")
	}
	if b, err := os.ReadFile(filepath.Join(dir, "n.txt")); err != nil || strings.TrimSpace(string(b)) != "7" {
		t.Errorf("/tmp/n.txt in the runner's directory: %q, %v; want 7", b, err)
	}
}

// TestExecFailsAFailedCommand: a command that exits non-zero is a problem, curl or not, so a
// grep the walk-through pipes an answer into must find what it looks for.
func TestExecFailsAFailedCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Here", "1") }))
	defer srv.Close()
	md := "## W\n\n```sh\ncurl -si http://localhost:3000/ | grep -i '^x-here'\ncurl -si http://localhost:3000/ | grep -i '^x-missing'\nfalse\n```\n"
	cmds, err := walkthrough.Extract([]byte(md), "W")
	if err != nil {
		t.Fatal(err)
	}
	outcomes, err := walkthrough.Runner{BaseURL: srv.URL, Dir: t.TempDir()}.Exec(context.Background(), cmds)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range outcomes {
		got = append(got, o.Problem())
	}
	if want := []string{"", "exited 1", "exited 1"}; !slices.Equal(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
}
