// Package walkthrough runs the README's walk-throughs as a reader would paste them: the `sh`
// code blocks of a section, command by command, in one bash shell, against a running local API.
// Each command must exit 0 (so a `| grep` the README pipes an answer into must find what it
// looks for), and each curl command must answer the HTTP status its comments name (`# 401`,
// `# 200; again: 404`, a `# HTTP/1.1 202 Accepted` line right below it), or a 2xx when they
// name none, so a walk-through that stops working, or a comment that stops being true, fails a
// test.
//
// A command is one logical line: a line ending in a backslash, or inside a quoted string, goes
// on to the next. Comment lines indented right below a command, or starting `# HTTP/`, belong to
// it. `go run` commands (the admin and sync CLIs, which have tests of their own and take ids a
// reader copies from their output) are not run; every other command is. The README's
// http://localhost:3000 becomes the server's URL and its /tmp/ a directory of the run's own, so
// runs can go side by side; a variable can be given another value (say, fewer rows to import).
package walkthrough

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Command is one shell command of a walk-through.
type Command struct {
	Text string // as written, continuation lines included
	Line int    // its first line in the README
	// Expect is the HTTP statuses its comments name; none means any 2xx.
	Expect []int
}

// Curl reports whether the command calls the API (and so must answer a status).
func (c Command) Curl() bool { return curlWord.MatchString(c.Text) }

// Run reports whether the command is run: every command but `go run`.
func (c Command) Run() bool { return !strings.HasPrefix(strings.TrimSpace(c.Text), "go run ") }

var (
	curlWord = regexp.MustCompile(`(^|[\s|;&(])curl\s`)
	// statusCode is a 3-digit HTTP status in a comment, not part of a longer number (1,000; 1.0.0).
	statusCode = regexp.MustCompile(`(^|[^\w.,\[/-])([1-5][0-9][0-9])([^\w.]|$)`)
)

// Extract returns the commands of the `sh` blocks under the level-2 heading that starts with
// heading, up to the next level-2 heading (its subsections included).
func Extract(readme []byte, heading string) ([]Command, error) {
	lines := strings.Split(string(readme), "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "## "+heading) {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("walkthrough: no section %q", "## "+heading)
	}
	var cmds []Command
	inBlock := false
	var block []string
	blockLine := 0
	for i := start + 1; i < len(lines); i++ {
		l := lines[i]
		if !inBlock && strings.HasPrefix(l, "## ") {
			break
		}
		switch {
		case !inBlock && strings.TrimSpace(l) == "```sh":
			inBlock, block, blockLine = true, nil, i+2
		case inBlock && strings.TrimSpace(l) == "```":
			inBlock = false
			got, err := split(block, blockLine)
			if err != nil {
				return nil, err
			}
			cmds = append(cmds, got...)
		case inBlock:
			block = append(block, l)
		}
	}
	if inBlock {
		return nil, fmt.Errorf("walkthrough: a code block of %q is not closed", heading)
	}
	return cmds, nil
}

// split cuts a block's lines into commands; first is the README line of the block's first line.
func split(lines []string, first int) ([]Command, error) {
	var cmds []Command
	var cur *Command
	var comments []string
	var quote byte
	finish := func() {
		if cur != nil {
			cur.Expect = expected(comments)
			cmds = append(cmds, *cur)
		}
		cur, comments = nil, nil
	}
	attached := false // the last command ended on the line just above
	for i, l := range lines {
		if quote == 0 && cur == nil {
			trimmed := strings.TrimSpace(l)
			if strings.HasPrefix(trimmed, "#") {
				if attached && len(cmds) > 0 && (strings.HasPrefix(l, " ") || strings.HasPrefix(trimmed, "# HTTP/")) {
					last := &cmds[len(cmds)-1]
					last.Expect = append(last.Expect, expected([]string{trimmed})...)
					continue
				}
				attached = false
				continue
			}
			if trimmed == "" {
				attached = false
				continue
			}
			cur = &Command{Line: first + i}
		} else {
			cur.Text += "\n"
		}
		code, comment, q := scan(l, quote)
		quote = q
		cur.Text += l
		if comment != "" {
			comments = append(comments, comment)
		}
		if quote == 0 && !strings.HasSuffix(strings.TrimRight(code, " \t"), `\`) {
			finish()
			attached = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("walkthrough: a quote opened on line %d is not closed", first+len(lines)-1)
	}
	if cur != nil {
		return nil, fmt.Errorf("walkthrough: the command on line %d goes on past its block", cur.Line)
	}
	return cmds, nil
}

// scan reads one line in shell quoting, starting inside quote (0 for none), and returns the
// line's code and its comment (a # starting a word outside quotes), and the quote still open.
func scan(line string, quote byte) (code, comment string, open byte) {
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
		case quote == '"':
			if c == '\\' {
				i++
			} else if c == '"' {
				quote = 0
			}
		case c == '\\':
			i++
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i], line[i:], 0
		}
	}
	return line, "", quote
}

// expected returns the HTTP statuses comments name for the command's run: a status after
// "again" is what running it a second time answers, which the walk-through does not do.
func expected(comments []string) []int {
	var out []int
	for _, c := range comments {
		if i := strings.Index(strings.ToLower(c), "again"); i >= 0 {
			c = c[:i]
		}
		for _, m := range statusCode.FindAllStringSubmatch(c, -1) {
			n, _ := strconv.Atoi(m[2])
			out = append(out, n)
		}
	}
	return out
}

// Runner runs commands against a local API.
type Runner struct {
	BaseURL string // replaces the README's http://localhost:3000
	Dir     string // replaces the README's /tmp/
	// Set gives variables other values than the walk-through's: a command assigning one of
	// them (NAME=value at its start) assigns this value instead.
	Set map[string]string
}

// Outcome is what one command did.
type Outcome struct {
	Command
	Statuses []int  // the HTTP status of each curl call it made
	Exit     int    // its exit status (a pipeline's: its last command's, so a grep that finds nothing fails)
	Output   string // its standard output and error
}

// Problem says what is wrong with the outcome, or "" if nothing is.
func (o Outcome) Problem() string {
	if o.Exit != 0 {
		return fmt.Sprintf("exited %d", o.Exit)
	}
	if !o.Curl() {
		return ""
	}
	if len(o.Statuses) == 0 {
		return "no HTTP answer"
	}
	for _, s := range o.Statuses {
		if !o.allows(s) {
			want := "a 2xx"
			if len(o.Expect) > 0 {
				want = fmt.Sprint(o.Expect)
			}
			return fmt.Sprintf("answered %d, its comments say %s", s, want)
		}
	}
	return ""
}

func (o Outcome) allows(status int) bool {
	if len(o.Expect) == 0 {
		return status >= 200 && status < 300
	}
	for _, e := range o.Expect {
		if e == status {
			return true
		}
	}
	return false
}

const (
	readmeURL = "http://localhost:3000"
	readmeTmp = "/tmp/"
	mark      = "@@walkthrough"
)

// Exec runs the commands that are run (Command.Run) in one bash shell, in order, and returns
// their outcomes. Every curl call reports its status on standard error (curl -w %{stderr}).
func (r Runner) Exec(ctx context.Context, cmds []Command) ([]Outcome, error) {
	var script strings.Builder
	script.WriteString("curl() { command curl -w '%{stderr}" + mark + " status %{http_code}\\n' \"$@\"; }\n")
	var run []Command
	for _, c := range cmds {
		if !c.Run() {
			continue
		}
		fmt.Fprintf(&script, "echo '%s command %d' >&2\n", mark, len(run))
		script.WriteString(r.rewrite(c.Text) + "\n")
		fmt.Fprintf(&script, "echo \"%s exit $?\" >&2\n", mark)
		run = append(run, c)
	}
	path := filepath.Join(r.Dir, "walkthrough.sh")
	if err := os.WriteFile(path, []byte(script.String()), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "bash", path)
	cmd.Dir = r.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("walkthrough: %w\n%s", ctx.Err(), out.String())
	}
	return outcomes(run, out.String()), nil
}

// rewrite points a command at the runner's server and directory, and gives the runner's
// variables their values.
func (r Runner) rewrite(text string) string {
	text = strings.ReplaceAll(text, readmeURL, r.BaseURL)
	text = strings.ReplaceAll(text, readmeTmp, strings.TrimSuffix(r.Dir, "/")+"/")
	for name, value := range r.Set {
		if m := regexp.MustCompile(`^(` + regexp.QuoteMeta(name) + `=)\S*`).FindStringIndex(text); m != nil {
			text = name + "=" + value + text[m[1]:]
		}
	}
	return text
}

// outcomes splits the shell's output by command and reads each command's statuses.
func outcomes(run []Command, output string) []Outcome {
	res := make([]Outcome, len(run))
	for i, c := range run {
		res[i].Command = c
	}
	cur := -1
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, mark+" "); i >= 0 {
			if line[:i] != "" && cur >= 0 {
				res[cur].Output += line[:i] + "\n"
			}
			fields := strings.Fields(line[i+len(mark):])
			if len(fields) == 2 {
				n, _ := strconv.Atoi(fields[1])
				switch fields[0] {
				case "command":
					cur = n
				case "status":
					if cur >= 0 {
						res[cur].Statuses = append(res[cur].Statuses, n)
					}
				case "exit":
					if cur >= 0 {
						res[cur].Exit = n
					}
				}
			}
			continue
		}
		if cur >= 0 {
			res[cur].Output += line + "\n"
		}
	}
	return res
}
