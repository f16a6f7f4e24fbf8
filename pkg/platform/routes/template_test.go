package routes_test

import (
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
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

// function is what every function has, route, worker or scheduled.
type function struct{ LogicalID, Dir string }

// allFunctions lists the routes' functions, then the $default route's, then the workers', then
// the scheduled ones.
func allFunctions() []function {
	var out []function
	for _, r := range allroutes.All {
		out = append(out, function{r.LogicalID, r.Dir})
	}
	out = append(out, function{routes.Default.LogicalID, routes.Default.Dir})
	for _, w := range routes.Workers {
		out = append(out, function{w.LogicalID, w.Dir})
	}
	for _, sc := range routes.Schedules {
		out = append(out, function{sc.LogicalID, sc.Dir})
	}
	return out
}

// template.yaml's functions are exactly the declared routes and workers (pkg/dev/codegen
// writes the routes'; a hand-written function without a declaration would have no build
// target), and each runs what the Makefile builds (settings from Globals or its own).
func TestTemplateFunctions(t *testing.T) {
	tmpl := loadTemplate(t)
	var want []string
	for _, f := range allFunctions() {
		want = append(want, f.LogicalID)
	}
	got := tmpl.Functions()
	for _, id := range got {
		if !slices.Contains(want, id) {
			t.Errorf("template.yaml function %s is no route's, worker's (routes.Workers) or scheduled function's (routes.Schedules)", id)
		}
		f, _ := tmpl.Function(id)
		t.Run(id, func(t *testing.T) { checkSettings(t, f) })
	}
	for _, id := range want {
		if !slices.Contains(got, id) {
			t.Errorf("template.yaml has no function %s", id)
		}
	}
}

// A worker's resource is written by hand: it is fed by exactly one SQS event source and no
// HTTP route. It runs with a role of its own (so that its queue rights are its queue's), whose
// table rights checkWorkerQueueRights (production_test.go) checks.
func TestTemplateWorkers(t *testing.T) {
	var ids []string
	for _, w := range routes.Workers {
		ids = append(ids, w.LogicalID)
	}
	eachFunction(t, ids, checkWorkerEvents)
}

// The $default route's function (generated) is fed by one HttpApi event, every method of the
// $default path on the API the routes are on, and has no policy: it reads no table.
func TestTemplateDefault(t *testing.T) {
	eachFunction(t, []string{routes.Default.LogicalID}, func(t *testing.T, f samtemplate.Function) {
		if len(f.Events) != 1 {
			t.Fatalf("events %+v, want exactly one", f.Events)
		}
		ev := f.Events[0]
		if ev.Type != "HttpApi" || ev.Method != "ANY" || ev.Path != routes.DefaultPath || ev.ApiID != "RosterApi" || ev.PayloadFormatVersion != "2.0" {
			t.Errorf("event %+v, want HttpApi ANY %s on RosterApi, payload 2.0", ev, routes.DefaultPath)
		}
		if len(f.Policies) != 0 {
			t.Errorf("policies %v, want none", f.Policies)
		}
	})
	var defaults []string
	for _, r := range loadTemplate(t).HTTPRoutes() {
		if r.Path == routes.DefaultPath {
			defaults = append(defaults, r.LogicalID)
		}
	}
	if !slices.Equal(defaults, []string{routes.Default.LogicalID}) {
		t.Errorf("$default routes %v, want only %s's", defaults, routes.Default.LogicalID)
	}
}

// A scheduled function (generated) runs on exactly one Schedule event and nothing else, and
// writes to the table its TABLE_NAME names.
func TestTemplateSchedules(t *testing.T) {
	var ids []string
	for _, sc := range routes.Schedules {
		ids = append(ids, sc.LogicalID)
	}
	eachFunction(t, ids, func(t *testing.T, f samtemplate.Function) {
		if len(f.Events) != 1 || f.Events[0].Type != "Schedule" {
			t.Errorf("events %+v, want exactly one Schedule event", f.Events)
		}
		checkCrudPolicy(t, f)
	})
}

// eachFunction runs check on each of template.yaml's functions of these ids, in a subtest.
func eachFunction(t *testing.T, ids []string, check func(*testing.T, samtemplate.Function)) {
	tmpl := loadTemplate(t)
	for _, id := range ids {
		f, ok := tmpl.Function(id)
		if !ok {
			t.Errorf("template.yaml has no function %s", id)
			continue
		}
		t.Run(id, func(t *testing.T) { check(t, f) })
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

// checkCrudPolicy: the function may write, and its policy covers the table it is told to use.
func checkCrudPolicy(t *testing.T, f samtemplate.Function) {
	for _, p := range f.Policies {
		if p.Name == crudPolicy {
			if p.TableName != f.Environment["TABLE_NAME"] {
				t.Errorf("%s covers table %q, but TABLE_NAME is %q", p.Name, p.TableName, f.Environment["TABLE_NAME"])
			}
			return
		}
	}
	t.Errorf("policies %v, want %s", f.Policies, crudPolicy)
}

func TestEvents(t *testing.T) {
	samples, err := allroutes.SampleEvents(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range samples {
		count[e.LogicalID]++
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
