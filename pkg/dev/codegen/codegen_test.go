package codegen_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/allroutes"
	"github.com/participant-roster/roster/pkg/dev/codegen"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/platform/routes"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// declared is what `make generate` writes from.
var declared = codegen.Input{Routes: allroutes.All, Default: &routes.Default, Workers: routes.Workers, Schedules: routes.Schedules}

func generate(t *testing.T, root string, in codegen.Input) codegen.Output {
	t.Helper()
	out, err := codegen.Generate(root, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGeneratedFilesAreCurrent fails when `make generate` would change anything: template.yaml's
// route functions, the Makefile's build targets or functions/ disagree with the declarations.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root := repoRoot(t)
	for _, s := range generate(t, root, declared).Stale(root) {
		t.Errorf("%s (run `make generate`)", s)
	}
}

// getScreenerPolicy is GetScreenerFunction's read policy, with nothing before it on its line.
const getScreenerPolicy = "        - DynamoDBReadPolicy:\n            TableName: !Ref RosterTable\n      Events:\n        HttpApi:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref RosterApi\n            Method: GET\n            Path: /screeners/{id}\n"

// TestStaleFindsEveryBreak breaks a copy of the generated files one way at a time and expects
// Stale to name the file and line, Generate to keep hand-written lines, and Write to repair it.
func TestStaleFindsEveryBreak(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, root string)
		wants string // the one stale line's start
	}{
		{"route path in the template", func(t *testing.T, root string) {
			replaceIn(t, root, "template.yaml", "Path: /screeners/{id}\n", "Path: /screeners/{screenerId}\n")
		}, `template.yaml:` + lineOf(t, "template.yaml", "Path: /screeners/{id}\n") + `: have "            Path: /screeners/{screenerId}\n"`},
		{"policy in the template", func(t *testing.T, root string) {
			replaceIn(t, root, "template.yaml", getScreenerPolicy, strings.Replace(getScreenerPolicy, "Read", "Crud", 1))
		}, `template.yaml:` + lineOf(t, "template.yaml", getScreenerPolicy) + `: have "        - DynamoDBCrudPolicy:\n"`},
		{"build recipe", func(t *testing.T, root string) {
			replaceIn(t, root, "Makefile", "./functions/get-screener\n", "./functions/get-screeners\n")
		}, `Makefile:` + lineOf(t, "Makefile", "./functions/get-screener\n") + `: have`},
		{"build target dropped", func(t *testing.T, root string) {
			replaceIn(t, root, "Makefile", "build-ImportWorkerFunction:\n\t$(GO_BUILD) -o \"$(ARTIFACTS_DIR)/bootstrap\" ./functions/import-worker\n", "")
		}, `Makefile:` + lineOf(t, "Makefile", "build-ImportWorkerFunction:\n") + `: have "\n", want "build-ImportWorkerFunction:\n"`},
		{"main.go edited", func(t *testing.T, root string) {
			replaceIn(t, root, "functions/get-screener/main.go", `spotwire.Main("GetScreenerFunction")`, `spotwire.Main("ListScreenersFunction")`)
		}, `functions/get-screener/main.go:` + lineOf(t, "functions/get-screener/main.go", "func main()") + `: have "func main() { spotwire.Main(\"ListScreenersFunction\") }\n"`},
		{"main.go missing", func(t *testing.T, root string) {
			must(t, os.RemoveAll(filepath.Join(root, "functions", "snap-get-survey")))
		}, `functions/snap-get-survey/main.go: open `},
		{"undeclared generated function", func(t *testing.T, root string) {
			copyFile(t, filepath.Join(root, "functions", "get-screener", "main.go"), filepath.Join(root, "functions", "get-old-screener", "main.go"))
		}, `functions/get-old-screener: no route or worker declares it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := generatedCopy(t)
			outsideBefore := readFile(t, root, "Makefile")
			handWritten := "# a hand-written line the generator must keep\n"
			replaceIn(t, root, "Makefile", ".PHONY:", handWritten+".PHONY:")
			replaceIn(t, root, "template.yaml", "Outputs:\n", handWritten+"Outputs:\n")
			tc.edit(t, root)

			out := generate(t, root, declared)
			stale := out.Stale(root)
			if len(stale) != 1 || !strings.HasPrefix(stale[0], tc.wants) {
				t.Fatalf("Stale = %q, want one line starting %q", stale, tc.wants)
			}
			must(t, out.Write(root))
			if again := generate(t, root, declared).Stale(root); len(again) != 0 {
				t.Errorf("after Write, Stale = %q", again)
			}
			for _, f := range []string{"Makefile", "template.yaml"} {
				if !strings.Contains(readFile(t, root, f), handWritten) {
					t.Errorf("%s lost its hand-written line", f)
				}
			}
			if got := strings.Replace(readFile(t, root, "Makefile"), handWritten, "", 1); got != outsideBefore {
				d, _ := codegen.FirstDifference([]byte(got), []byte(outsideBefore))
				t.Errorf("Makefile after Write differs from the original at %s", d)
			}
		})
	}
}

// A functions/ directory the generator did not write is not its to remove: Generate refuses.
func TestUndeclaredHandWrittenFunction(t *testing.T) {
	root := generatedCopy(t)
	path := filepath.Join(root, "functions", "hand-made", "main.go")
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	must(t, os.WriteFile(path, []byte("package main\n\nfunc main() {}\n"), 0o644))
	_, err := codegen.Generate(root, declared)
	if err == nil || !strings.Contains(err.Error(), "functions/hand-made: no route or worker declares it") {
		t.Fatalf("Generate: %v, want it to refuse functions/hand-made", err)
	}
}

// A route's function is written as its declaration says: the table access its ReadOnly
// allows, the import queue when it sends imports (with its reason as the comment), one HttpApi
// event on its method and path; the Makefile builds it and its main.go wires its family. A
// scheduled function gets CRUD access, one Schedule event on its expression and its reason as
// the comment; its main.go calls schedwire. The $default route's function gets no policy, one
// HttpApi event on ANY $default and its reason as the comment; its main.go calls defaultwire.
func TestGeneratedFunction(t *testing.T) {
	root := generatedCopy(t)
	reader := routes.Route{LogicalID: "ReadThingFunction", Dir: "read-thing", Method: "GET", Path: "/things/{id}", ReadOnly: true, Family: routes.Spot}
	importer := routes.Route{LogicalID: "ImportThingsFunction", Dir: "import-things", Method: "POST", Path: "/snaponline/api/things",
		SendsImports: "Large thing imports are jobs whose chunks go to ImportQueue; ImportWorkerFunction runs them, so this reason needs two lines.",
		Family:       routes.Snap}
	snapReader := routes.Route{LogicalID: "ListThingsFunction", Dir: "list-things", Method: "GET", Path: "/snaponline/api/things", ReadOnly: true, Family: routes.Snap}
	tidy := routes.Scheduled{LogicalID: "TidyThingsFunction", Dir: "tidy-things", Schedule: "cron(0 3 * * ? *)", Why: "Tidies things at night."}
	catchAll := routes.Fallback{LogicalID: "CatchAllFunction", Dir: "catch-all", Why: "Answers the rest."}
	out := generate(t, root, codegen.Input{Routes: []routes.Route{reader, importer, snapReader}, Default: &catchAll, Workers: routes.Workers, Schedules: []routes.Scheduled{tidy}})
	must(t, out.Write(root))
	if got := dirs(t, root); !slices.Equal(got, []string{"catch-all", "import-things", "import-worker", "list-things", "read-thing", "tidy-things"}) {
		t.Errorf("functions/ = %v, want the three routes', the $default one's, the worker's and the scheduled one's (the old ones removed)", got)
	}

	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tmpl.HTTPRoutes(); !slices.Equal(got, []samtemplate.HTTPRoute{
		{LogicalID: "CatchAllFunction", Method: "ANY", Path: routes.DefaultPath},
		{LogicalID: "ImportThingsFunction", Method: "POST", Path: "/snaponline/api/things"},
		{LogicalID: "ListThingsFunction", Method: "GET", Path: "/snaponline/api/things"},
		{LogicalID: "ReadThingFunction", Method: "GET", Path: "/things/{id}"},
	}) {
		t.Errorf("HTTPRoutes = %v", got)
	}
	// A Snap function reads the per-user limits (template parameters, at their defaults here);
	// a read-only one may also count its calls (an inline UpdateItem statement).
	snapLimits := map[string]string{"SNAP_RATE_LIMIT_PER_SEC": "1", "SNAP_RATE_LIMIT_PER_MIN": "10"}
	for _, tc := range []struct {
		id       string
		policies []samtemplate.Policy
		queueURL string
		limits   map[string]string
	}{
		{reader.LogicalID, []samtemplate.Policy{{Name: "DynamoDBReadPolicy", TableName: "RosterTable"}}, "", map[string]string{}},
		{importer.LogicalID, []samtemplate.Policy{{Name: "DynamoDBCrudPolicy", TableName: "RosterTable"}, {Name: "SQSSendMessagePolicy"}}, "ImportQueue", snapLimits},
		{snapReader.LogicalID, []samtemplate.Policy{{Name: "DynamoDBReadPolicy", TableName: "RosterTable"}, {Name: "inline"}}, "", snapLimits},
	} {
		f, ok := tmpl.Function(tc.id)
		if !ok {
			t.Fatalf("no function %s", tc.id)
		}
		if !slices.Equal(f.Policies, tc.policies) {
			t.Errorf("%s policies = %v, want %v", tc.id, f.Policies, tc.policies)
		}
		if got := f.Environment["IMPORT_QUEUE_URL"]; got != tc.queueURL {
			t.Errorf("%s IMPORT_QUEUE_URL = %q, want %q", tc.id, got, tc.queueURL)
		}
		limits := maps.Clone(f.Environment)
		maps.DeleteFunc(limits, func(k, _ string) bool { return !strings.HasPrefix(k, "SNAP_RATE_") })
		if !maps.Equal(limits, tc.limits) {
			t.Errorf("%s limits = %v, want %v", tc.id, limits, tc.limits)
		}
		if f.BuildMethod != "makefile" || len(f.Events) != 1 || f.Events[0].ApiID != "RosterApi" || f.Events[0].PayloadFormatVersion != "2.0" {
			t.Errorf("%s: BuildMethod %q, events %+v; want makefile and one RosterApi 2.0 event", tc.id, f.BuildMethod, f.Events)
		}
	}
	if f, ok := tmpl.Function(tidy.LogicalID); !ok || len(f.Events) != 1 || f.Events[0].Type != "Schedule" ||
		!slices.Equal(f.Policies, []samtemplate.Policy{{Name: "DynamoDBCrudPolicy", TableName: "RosterTable"}}) {
		t.Errorf("%s: %+v, want one Schedule event and CRUD access to the table", tidy.LogicalID, f)
	}
	template := readFile(t, root, "template.yaml")
	for _, want := range []string{
		"      # Large thing imports are jobs whose chunks go to ImportQueue; ImportWorkerFunction runs\n      # them, so this reason needs two lines.\n      Environment:\n",
		"      # Tidies things at night.\n      Policies:\n",
		"      # Answers the rest.\n      Events:\n", // no Policies: it reads no table
		"                  dynamodb:LeadingKeys:\n                    - \"WS#*#RATE#*\"\n",
		"          Type: Schedule\n          Properties:\n            Schedule: cron(0 3 * * ? *)\n",
	} {
		if !strings.Contains(template, want) {
			t.Errorf("template.yaml lacks\n%s", want)
		}
	}

	makefile := readFile(t, root, "Makefile")
	for _, want := range []string{
		"\nbuild-ReadThingFunction:\n\t$(GO_BUILD) -o \"$(ARTIFACTS_DIR)/bootstrap\" ./functions/read-thing\n\nbuild-ImportThingsFunction:\n",
		"\nbuild-ImportWorkerFunction:\n\t$(GO_BUILD) -o \"$(ARTIFACTS_DIR)/bootstrap\" ./functions/import-worker\n",
		"\nbuild-CatchAllFunction:\n\t$(GO_BUILD) -o \"$(ARTIFACTS_DIR)/bootstrap\" ./functions/catch-all\n",
		"\nbuild-TidyThingsFunction:\n\t$(GO_BUILD) -o \"$(ARTIFACTS_DIR)/bootstrap\" ./functions/tidy-things\n",
	} {
		if !strings.Contains(makefile, want) {
			t.Errorf("Makefile lacks %q", want)
		}
	}
	for dir, call := range map[string]string{
		"read-thing":    `spotwire.Main("ReadThingFunction")`,
		"import-things": `snapwire.Main("ImportThingsFunction", queuewire.FromEnv)`,
		"import-worker": `workerwire.Main("ImportWorkerFunction")`,
		"catch-all":     `defaultwire.Main()`,
		"tidy-things":   `schedwire.Main("TidyThingsFunction")`,
	} {
		if main := readFile(t, root, "functions/"+dir+"/main.go"); !strings.Contains(main, call) || !strings.HasPrefix(main, "// Code generated ") {
			t.Errorf("functions/%s/main.go does not call %s or is not marked generated:\n%s", dir, call, main)
		}
	}
}

func TestRefusedDeclarations(t *testing.T) {
	root := generatedCopy(t)
	ok := routes.Route{LogicalID: "GetThingFunction", Dir: "get-thing", Method: "GET", Path: "/things/{id}", Family: routes.Spot}
	for _, tc := range []struct {
		name  string
		in    codegen.Input
		wants string
	}{
		{"logical id twice", codegen.Input{Routes: []routes.Route{ok}, Workers: []routes.Worker{{LogicalID: ok.LogicalID, Dir: "thing-worker"}}}, "logical id GetThingFunction is declared twice"},
		{"dir twice", codegen.Input{Routes: []routes.Route{ok, with(ok, func(r *routes.Route) { r.LogicalID, r.Path = "OtherFunction", "/other" })}}, "OtherFunction: functions/get-thing is another function's"},
		{"pattern twice", codegen.Input{Routes: []routes.Route{ok, with(ok, func(r *routes.Route) { r.LogicalID, r.Dir = "OtherFunction", "other" })}}, "OtherFunction: GET /things/{id} is another route's"},
		{"bad logical id", codegen.Input{Routes: []routes.Route{with(ok, func(r *routes.Route) { r.LogicalID = "Get-Thing" })}}, `logical id "Get-Thing"`},
		{"bad dir", codegen.Input{Routes: []routes.Route{with(ok, func(r *routes.Route) { r.Dir = "../thing" })}}, `functions/ dir "../thing"`},
		{"no family", codegen.Input{Routes: []routes.Route{with(ok, func(r *routes.Route) { r.Family = "" })}}, `family "" has no wiring package`},
		{"bad schedule", codegen.Input{Schedules: []routes.Scheduled{{LogicalID: "TidyFunction", Dir: "tidy", Schedule: "every 10 minutes"}}}, `TidyFunction: schedule "every 10 minutes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := codegen.Generate(root, tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.wants) {
				t.Errorf("Generate: %v, want an error containing %q", err, tc.wants)
			}
		})
	}
}

func TestMissingMarkers(t *testing.T) {
	for _, tc := range []struct{ file, marker string }{
		{"template.yaml", codegen.TemplateBegin},
		{"template.yaml", codegen.TemplateEnd},
		{"Makefile", codegen.MakefileBegin},
		{"Makefile", codegen.MakefileEnd},
	} {
		t.Run(tc.marker, func(t *testing.T) {
			root := generatedCopy(t)
			replaceIn(t, root, tc.file, tc.marker, "# a marker no more")
			_, err := codegen.Generate(root, declared)
			if err == nil || !strings.HasPrefix(err.Error(), tc.file+": ") || !strings.Contains(err.Error(), tc.marker) {
				t.Errorf("Generate: %v, want %s's missing %q named", err, tc.file, tc.marker)
			}
		})
	}
}

func TestFirstDifference(t *testing.T) {
	for _, tc := range []struct {
		have, want string
		diff       string // "" for equal
	}{
		{"a\nb\n", "a\nb\n", ""},
		{"", "", ""},
		{"a\nb\nc\n", "a\nB\nc\n", `2: have "b\n", want "B\n"`},
		{"a\n", "a\nb\n", `2: missing, want "b\n"`},
		{"a\nb\n", "a\n", `2: have "b\n", want the file to end before it`},
		{"a\nb", "a\nb\n", `2: have "b", want "b\n"`},
		{"x\n", "y\n", `1: have "x\n", want "y\n"`},
	} {
		d, differ := codegen.FirstDifference([]byte(tc.have), []byte(tc.want))
		switch {
		case tc.diff == "" && differ:
			t.Errorf("%q vs %q: differ at %s, want equal", tc.have, tc.want, d)
		case tc.diff != "" && (!differ || d.String() != tc.diff):
			t.Errorf("%q vs %q: %v %s, want %s", tc.have, tc.want, differ, d, tc.diff)
		}
	}
}

// generatedCopy copies what the generator reads and writes (go.mod, template.yaml, the
// Makefile, functions/) from the repository into a temporary root.
func generatedCopy(t *testing.T) string {
	t.Helper()
	src, dst := repoRoot(t), t.TempDir()
	for _, f := range []string{"go.mod", "template.yaml", "Makefile"} {
		copyFile(t, filepath.Join(src, f), filepath.Join(dst, f))
	}
	for _, d := range dirs(t, src) {
		copyFile(t, filepath.Join(src, "functions", d, "main.go"), filepath.Join(dst, "functions", d, "main.go"))
	}
	return dst
}

func dirs(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.MkdirAll(filepath.Dir(to), 0o755))
	must(t, os.WriteFile(to, data, 0o644))
}

func readFile(t *testing.T, root, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// replaceIn replaces the one occurrence of old in root/path.
func replaceIn(t *testing.T, root, path, old, new string) {
	t.Helper()
	s := readFile(t, root, path)
	if strings.Count(s, old) != 1 {
		t.Fatalf("%s holds %q %d times, want once", path, old, strings.Count(s, old))
	}
	must(t, os.WriteFile(filepath.Join(root, path), []byte(strings.Replace(s, old, new, 1)), 0o644))
}

// lineOf is the (1-based) line of the repository's path on which the one occurrence of s starts.
func lineOf(t *testing.T, path, s string) string {
	t.Helper()
	text := readFile(t, repoRoot(t), path)
	i := strings.Index(text, s)
	if i < 0 || strings.Count(text, s) != 1 {
		t.Fatalf("%s does not hold %q exactly once", path, s)
	}
	return strconv.Itoa(strings.Count(text[:i], "\n") + 1)
}

func with(r routes.Route, edit func(*routes.Route)) routes.Route {
	edit(&r)
	return r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
