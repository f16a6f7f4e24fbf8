package routes_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/allroutes"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/platform/routes"
)

// What template.yaml promises for every function (Globals or the function itself).
const (
	wantBuildMethod = "makefile"
	wantHandler     = "bootstrap"
	wantRuntime     = "provided.al2023"
	wantArch        = "arm64"
	wantPayload     = "2.0"
	wantAPI         = "RosterApi"
	readPolicy      = "DynamoDBReadPolicy"
	crudPolicy      = "DynamoDBCrudPolicy"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func loadTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Load(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// function is what every function has, route or worker.
type function struct{ LogicalID, Dir string }

// allFunctions lists the routes' functions, then the workers', in template.yaml's order.
func allFunctions() []function {
	var out []function
	for _, r := range allroutes.All {
		out = append(out, function{r.LogicalID, r.Dir})
	}
	for _, w := range routes.Workers {
		out = append(out, function{w.LogicalID, w.Dir})
	}
	return out
}

func logicalIDs() []string {
	var ids []string
	for _, f := range allFunctions() {
		ids = append(ids, f.LogicalID)
	}
	return ids
}

// sameSet reports, as the test's error, the names only one side has.
func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: missing %s", what, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("%s: %s is not in allroutes.All or routes.Workers", what, g)
		}
	}
}

func TestTemplateFunctionsMatchRoutes(t *testing.T) {
	tmpl := loadTemplate(t)
	sameSet(t, "template.yaml functions", tmpl.Functions(), logicalIDs())
	for _, r := range allroutes.All {
		f, ok := tmpl.Function(r.LogicalID)
		if !ok {
			continue // reported above
		}
		t.Run(r.LogicalID, func(t *testing.T) {
			checkSettings(t, f)
			checkHTTPEvent(t, r, f)
			checkPolicies(t, r, f)
		})
	}
	for _, w := range routes.Workers {
		f, ok := tmpl.Function(w.LogicalID)
		if !ok {
			continue // reported above
		}
		t.Run(w.LogicalID, func(t *testing.T) {
			checkSettings(t, f)
			checkWorkerEvents(t, f)
			checkPolicies(t, routes.Route{LogicalID: w.LogicalID, ReadOnly: false}, f)
		})
	}
}

// A worker is fed by exactly one SQS event source and no HTTP route.
func checkWorkerEvents(t *testing.T, f samtemplate.Function) {
	sqs := 0
	for _, ev := range f.Events {
		switch ev.Type {
		case "SQS":
			sqs++
		case "HttpApi":
			t.Errorf("worker has an HttpApi event %s", ev.Name)
		}
	}
	if sqs != 1 {
		t.Errorf("%d SQS events, want exactly 1", sqs)
	}
}

func checkSettings(t *testing.T, f samtemplate.Function) {
	if f.BuildMethod != wantBuildMethod {
		t.Errorf("Metadata.BuildMethod = %q, want %q", f.BuildMethod, wantBuildMethod)
	}
	if f.Handler != wantHandler {
		t.Errorf("Handler = %q, want %q", f.Handler, wantHandler)
	}
	if f.Runtime != wantRuntime {
		t.Errorf("Runtime = %q, want %q", f.Runtime, wantRuntime)
	}
	if !reflect.DeepEqual(f.Architectures, []string{wantArch}) {
		t.Errorf("Architectures = %v, want [%s]", f.Architectures, wantArch)
	}
}

func checkHTTPEvent(t *testing.T, r routes.Route, f samtemplate.Function) {
	var http []samtemplate.Event
	for _, ev := range f.Events {
		if ev.Type == "HttpApi" {
			http = append(http, ev)
		}
	}
	if len(http) != 1 {
		t.Fatalf("%d HttpApi events, want exactly 1", len(http))
	}
	ev := http[0]
	if ev.Method != r.Method || ev.Path != r.Path {
		t.Errorf("HttpApi event %s = %s %s, allroutes.All says %s", ev.Name, ev.Method, ev.Path, r.Pattern())
	}
	if ev.PayloadFormatVersion != wantPayload {
		t.Errorf("PayloadFormatVersion = %q, want %q", ev.PayloadFormatVersion, wantPayload)
	}
	if ev.ApiID != wantAPI {
		t.Errorf("ApiId = %q, want !Ref %s", ev.ApiID, wantAPI)
	}
}

// Read-only routes get read access and nothing else; the others need CRUD. Either way the
// policy must cover the table the function is told to use.
func checkPolicies(t *testing.T, r routes.Route, f samtemplate.Function) {
	var names []string
	for _, p := range f.Policies {
		names = append(names, p.Name)
		if (p.Name == readPolicy || p.Name == crudPolicy) && p.TableName != f.Environment["TABLE_NAME"] {
			t.Errorf("%s covers table %q, but TABLE_NAME is %q", p.Name, p.TableName, f.Environment["TABLE_NAME"])
		}
	}
	if r.ReadOnly && !reflect.DeepEqual(names, []string{readPolicy}) {
		t.Errorf("read-only route has policies %v, want only %s", names, readPolicy)
	}
	if !r.ReadOnly && !slices.Contains(names, crudPolicy) {
		t.Errorf("writing route has policies %v, want %s", names, crudPolicy)
	}
}

// HTTPRoutes is what local tools serve, so it must list exactly the registry's routes.
func TestTemplateHTTPRoutesMatchRoutes(t *testing.T) {
	var got, want []string
	for _, hr := range loadTemplate(t).HTTPRoutes() {
		got = append(got, hr.LogicalID+" "+hr.Method+" "+hr.Path)
	}
	for _, r := range allroutes.All {
		want = append(want, r.LogicalID+" "+r.Pattern())
	}
	sameSet(t, "template.yaml HttpApi events", got, want)
}

func TestFunctionDirs(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "functions")
	var want []string
	for _, r := range allFunctions() {
		want = append(want, r.Dir)
		if _, err := os.Stat(filepath.Join(dir, r.Dir, "main.go")); err != nil {
			t.Errorf("%s: %v", r.LogicalID, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !slices.Contains(want, e.Name()) {
			t.Errorf("functions/%s is no function of allroutes.All or routes.Workers", e.Name())
		}
	}
}

var buildTarget = regexp.MustCompile(`^build-([A-Za-z0-9]+):`)

// makeTargets returns the Makefile's build-<LogicalID> targets in order, each with its first
// recipe line.
func makeTargets(t *testing.T) (ids, recipes []string) {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := buildTarget.FindStringSubmatch(sc.Text()); m != nil {
			sc.Scan()
			ids = append(ids, m[1])
			recipes = append(recipes, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ids, recipes
}

func TestMakefileTargets(t *testing.T) {
	ids, recipes := makeTargets(t)
	if !reflect.DeepEqual(ids, logicalIDs()) {
		sameSet(t, "Makefile build-* targets", ids, logicalIDs())
		t.Errorf("Makefile build-* targets, in order:\n  %v\nwant one per allroutes.All entry, then one per routes.Workers entry, in their order:\n  %v", ids, logicalIDs())
	}
	for i, id := range ids {
		for _, f := range allFunctions() {
			if f.LogicalID == id && !strings.HasSuffix(recipes[i], " ./functions/"+f.Dir) {
				t.Errorf("build-%s recipe %q does not build ./functions/%s", id, recipes[i], f.Dir)
			}
		}
	}
}

// Each events/ file belongs to the function whose Dir is its longest prefix ending at '.', '-'
// or '_' (get-screener-session.json is get-screener-session's, not get-screener's).
func eventOwner(file string) (function, bool) {
	var best function
	for _, r := range allFunctions() {
		rest, ok := strings.CutPrefix(file, r.Dir)
		if ok && rest != "" && strings.ContainsRune(".-_", rune(rest[0])) && len(r.Dir) > len(best.Dir) {
			best = r
		}
	}
	return best, best.Dir != ""
}

func TestEvents(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(repoRoot(t), "events"))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range entries {
		r, ok := eventOwner(e.Name())
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" || !ok {
			t.Errorf("events/%s is not a <Dir>*.json event of any function in allroutes.All or routes.Workers", e.Name())
			continue
		}
		count[r.LogicalID]++
	}
	for _, r := range allFunctions() {
		if count[r.LogicalID] == 0 {
			t.Errorf("%s: no events/%s*.json", r.LogicalID, r.Dir)
		}
	}
}

func TestCfnLint(t *testing.T) {
	if _, err := exec.LookPath("cfn-lint"); err != nil {
		t.Fatalf("cfn-lint is not on PATH (install it with `python3 -m pip install --user cfn-lint`; `make test` does): %v", err)
	}
	cmd := exec.Command("cfn-lint", "template.yaml")
	cmd.Dir = repoRoot(t)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}
