// Package codegen writes what the route declarations decide into the files that cannot read
// them: template.yaml's route functions and the Makefile's build targets (each between two
// marker lines, the rest of the file kept byte for byte) and every functions/<dir>/main.go.
// cmd/generate (`make generate`) writes the output; a test fails when it differs from the
// files on disk.
package codegen

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/participant-roster/roster/pkg/platform/routes"
)

// The lines that enclose each generated region; a marker line may be indented.
const (
	TemplateBegin = "# BEGIN GENERATED ROUTES (make generate; do not edit)"
	TemplateEnd   = "# END GENERATED ROUTES"
	MakefileBegin = "# BEGIN GENERATED BUILD TARGETS (make generate; do not edit)"
	MakefileEnd   = "# END GENERATED BUILD TARGETS"
)

// Input is what the generator writes from: every route (both families), the $default route's
// function (if any), every worker and every scheduled function, in the order their functions
// are listed.
type Input struct {
	Routes    []routes.Route
	Default   *routes.Fallback
	Workers   []routes.Worker
	Schedules []routes.Scheduled
}

// File is one generated file, by its path relative to the repository root.
type File struct {
	Path string
	Data []byte
}

// Output is what regenerating leaves in the repository.
type Output struct {
	Files  []File
	Remove []string // functions/<dir> directories no declaration names
}

// The composition root each family's functions call (pkg/wiring/<name>).
var wiring = map[routes.Family]string{routes.Spot: "spotwire", routes.Snap: "snapwire"}

// The composition roots of the workers and of the scheduled functions.
const (
	workerWiring   = "workerwire"
	scheduleWiring = "schedwire"
	defaultWiring  = "defaultwire"
)

// Generate computes every generated file from in and the current template.yaml, Makefile and
// functions/ under root. It writes nothing.
func Generate(root string, in Input) (Output, error) {
	if err := check(in); err != nil {
		return Output{}, err
	}
	module, err := modulePath(root)
	if err != nil {
		return Output{}, err
	}
	var out Output
	for _, f := range []struct {
		path, begin, end string
		region           string
	}{
		{"template.yaml", TemplateBegin, TemplateEnd, templateRegion(in)},
		{"Makefile", MakefileBegin, MakefileEnd, makefileRegion(in)},
	} {
		data, err := os.ReadFile(filepath.Join(root, f.path))
		if err != nil {
			return Output{}, err
		}
		data, err = replaceRegion(data, f.begin, f.end, f.region)
		if err != nil {
			return Output{}, fmt.Errorf("%s: %w", f.path, err)
		}
		out.Files = append(out.Files, File{f.path, data})
	}
	declared := map[string]bool{}
	for _, r := range in.Routes {
		declared[r.Dir] = true
		out.Files = append(out.Files, File{mainPath(r.Dir), mainFile(module, wiring[r.Family], r.LogicalID, r.Dir, r.SendsImports != "")})
	}
	if d := in.Default; d != nil {
		declared[d.Dir] = true
		out.Files = append(out.Files, File{mainPath(d.Dir), defaultMainFile(module, d.LogicalID, d.Dir)})
	}
	for _, w := range in.Workers {
		declared[w.Dir] = true
		out.Files = append(out.Files, File{mainPath(w.Dir), mainFile(module, workerWiring, w.LogicalID, w.Dir, false)})
	}
	for _, sc := range in.Schedules {
		declared[sc.Dir] = true
		out.Files = append(out.Files, File{mainPath(sc.Dir), mainFile(module, scheduleWiring, sc.LogicalID, sc.Dir, false)})
	}
	out.Remove, err = undeclaredDirs(root, declared)
	return out, err
}

// Write writes the output under root and removes the directories it names.
func (o Output) Write(root string) error {
	for _, f := range o.Files {
		path := filepath.Join(root, f.Path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return err
		}
	}
	for _, dir := range o.Remove {
		if err := os.RemoveAll(filepath.Join(root, dir)); err != nil {
			return err
		}
	}
	return nil
}

// Stale lists, one line each, what on disk under root differs from the output: a file and its
// first differing line, a missing file, a directory that would be removed. None means
// regenerating would change nothing.
func (o Output) Stale(root string) []string {
	var stale []string
	for _, f := range o.Files {
		have, err := os.ReadFile(filepath.Join(root, f.Path))
		if err != nil {
			stale = append(stale, fmt.Sprintf("%s: %v", f.Path, err))
			continue
		}
		if d, ok := FirstDifference(have, f.Data); ok {
			stale = append(stale, f.Path+":"+d.String())
		}
	}
	for _, dir := range o.Remove {
		stale = append(stale, dir+": no route or worker declares it")
	}
	return stale
}

// Difference is the first line where two texts differ (1-based; a line past the end of
// one text is "" there, with Missing saying which side ended).
type Difference struct {
	Line       int
	Have, Want string
	Missing    string // "have" or "want" when that text has no such line
}

func (d Difference) String() string {
	switch d.Missing {
	case "have":
		return fmt.Sprintf("%d: missing, want %q", d.Line, d.Want)
	case "want":
		return fmt.Sprintf("%d: have %q, want the file to end before it", d.Line, d.Have)
	}
	return fmt.Sprintf("%d: have %q, want %q", d.Line, d.Have, d.Want)
}

// FirstDifference compares two texts line by line; false means they are equal.
func FirstDifference(have, want []byte) (Difference, bool) {
	if bytes.Equal(have, want) {
		return Difference{}, false
	}
	h, w := lines(have), lines(want)
	for i := 0; ; i++ {
		switch {
		case i >= len(h):
			return Difference{Line: i + 1, Want: w[i], Missing: "have"}, true
		case i >= len(w):
			return Difference{Line: i + 1, Have: h[i], Missing: "want"}, true
		case h[i] != w[i]:
			return Difference{Line: i + 1, Have: h[i], Want: w[i]}, true
		}
	}
}

// lines splits text after each newline; a final line without one is a line too.
func lines(text []byte) []string {
	l := strings.SplitAfter(string(text), "\n")
	if l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	return l
}

// replaceRegion puts region between the begin and end marker lines of data.
func replaceRegion(data []byte, begin, end, region string) ([]byte, error) {
	ls := lines(data)
	b, e := -1, -1
	for i, l := range ls {
		switch strings.TrimSpace(l) {
		case begin:
			if b >= 0 {
				return nil, fmt.Errorf("marker %q appears twice", begin)
			}
			b = i
		case end:
			if e >= 0 {
				return nil, fmt.Errorf("marker %q appears twice", end)
			}
			e = i
		}
	}
	if b < 0 || e < 0 || e < b {
		return nil, fmt.Errorf("want a line %q and after it a line %q", begin, end)
	}
	var out strings.Builder
	for _, l := range ls[:b+1] {
		out.WriteString(l)
	}
	out.WriteString(region)
	for _, l := range ls[e:] {
		out.WriteString(l)
	}
	return []byte(out.String()), nil
}

var (
	logicalID = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`) // CloudFormation's and the build targets' rule
	dirName   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	// scheduleExpression is EventBridge's form: rate(<n> <unit>) or cron(<six fields>).
	scheduleExpression = regexp.MustCompile(`^(rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\)|cron\(\S+( \S+){5}\))$`)
)

// check refuses declarations the output could not express: clashing ids, dirs or patterns,
// names a logical id or directory cannot have, a family without wiring, a schedule
// EventBridge would not take.
func check(in Input) error {
	var errs []error
	ids, dirs, patterns := map[string]bool{}, map[string]bool{}, map[string]bool{}
	name := func(id, dir string) {
		if !logicalID.MatchString(id) {
			errs = append(errs, fmt.Errorf("logical id %q: want letters and digits", id))
		}
		if !dirName.MatchString(dir) {
			errs = append(errs, fmt.Errorf("%s: functions/ dir %q: want lower-case words joined by '-'", id, dir))
		}
		if ids[id] {
			errs = append(errs, fmt.Errorf("logical id %s is declared twice", id))
		}
		if dirs[dir] {
			errs = append(errs, fmt.Errorf("%s: functions/%s is another function's", id, dir))
		}
		ids[id], dirs[dir] = true, true
	}
	for _, r := range in.Routes {
		name(r.LogicalID, r.Dir)
		if _, ok := wiring[r.Family]; !ok {
			errs = append(errs, fmt.Errorf("%s: family %q has no wiring package", r.LogicalID, r.Family))
		}
		if patterns[r.Pattern()] {
			errs = append(errs, fmt.Errorf("%s: %s is another route's", r.LogicalID, r.Pattern()))
		}
		patterns[r.Pattern()] = true
	}
	if in.Default != nil {
		name(in.Default.LogicalID, in.Default.Dir)
	}
	for _, w := range in.Workers {
		name(w.LogicalID, w.Dir)
	}
	for _, sc := range in.Schedules {
		name(sc.LogicalID, sc.Dir)
		if !scheduleExpression.MatchString(sc.Schedule) {
			errs = append(errs, fmt.Errorf("%s: schedule %q: want rate(<n> <unit>) or cron(<6 fields>)", sc.LogicalID, sc.Schedule))
		}
	}
	return errors.Join(errs...)
}

// modulePath reads the module path from root/go.mod.
func modulePath(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(l), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`), nil
		}
	}
	return "", errors.New("go.mod has no module line")
}

func mainPath(dir string) string { return "functions/" + dir + "/main.go" }

// generatedMark is the line Go's tools (and this generator) recognize as generated code.
const generatedMark = "// Code generated by make generate (cmd/generate) from the route declarations; DO NOT EDIT."

var generatedLine = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

func mainFile(module, wire, id, dir string, sendsImports bool) []byte {
	if sendsImports { // only the functions that send import chunks link the queue's client
		return fmt.Appendf(nil, `%s

// Command %s is the %s Lambda: it only wires; see pkg/wiring/%s (and
// pkg/wiring/queuewire, the import queue it sends chunks to).
package main

import (
	"%s/pkg/wiring/queuewire"
	"%s/pkg/wiring/%s"
)

func main() { %s.Main(%q, queuewire.FromEnv) }
`, generatedMark, dir, id, wire, module, module, wire, wire, id)
	}
	return fmt.Appendf(nil, `%s

// Command %s is the %s Lambda: it only wires; see pkg/wiring/%s.
package main

import "%s/pkg/wiring/%s"

func main() { %s.Main(%q) }
`, generatedMark, dir, id, wire, module, wire, wire, id)
}

// defaultMainFile is the $default function's main: its wiring takes no logical id, as there
// is one such function.
func defaultMainFile(module, id, dir string) []byte {
	return fmt.Appendf(nil, `%s

// Command %s is the %s Lambda: it only wires; see pkg/wiring/%s.
package main

import "%s/pkg/wiring/%s"

func main() { %s.Main() }
`, generatedMark, dir, id, defaultWiring, module, defaultWiring, defaultWiring)
}

// undeclaredDirs lists the functions/ directories holding a generated main.go that no
// declaration names. A directory holding anything else is no generator's to remove: it is an
// error, so a function cannot exist without a template resource.
func undeclaredDirs(root string, declared map[string]bool) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var remove []string
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || declared[e.Name()] {
			continue
		}
		dir := filepath.Join(root, "functions", e.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		main, err := os.ReadFile(filepath.Join(dir, "main.go"))
		if len(files) != 1 || err != nil || !generatedLine.Match(main) {
			errs = append(errs, fmt.Errorf("functions/%s: no route or worker declares it, and it holds more than a generated main.go: declare it or remove it", e.Name()))
			continue
		}
		remove = append(remove, "functions/"+e.Name())
	}
	slices.Sort(remove)
	return remove, errors.Join(errs...)
}
