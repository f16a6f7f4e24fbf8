package archtest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/allroutes"
	"github.com/participant-roster/roster/pkg/dev/archtest"
	"github.com/participant-roster/roster/pkg/platform/routes"
)

const module = "github.com/participant-roster/roster"

// listAll is every package of the module as `go list -json` sees it.
func listAll(t *testing.T) []archtest.Package {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json", module+"/...")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var out []archtest.Package
	dec := json.NewDecoder(&stdout)
	for {
		var p archtest.Package
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
}

// declaredFunctions is what the route tables, the workers and the schedules say of each
// functions/ dir.
func declaredFunctions() map[string]archtest.FunctionInfo {
	out := map[string]archtest.FunctionInfo{}
	for _, r := range allroutes.All {
		out[r.Dir] = archtest.FunctionInfo{Family: string(r.Family), SendsImports: r.SendsImports != ""}
	}
	out[routes.Default.Dir] = archtest.FunctionInfo{} // both families' route tables, no store
	for _, w := range routes.Workers {
		out[w.Dir] = archtest.FunctionInfo{}
	}
	for _, sc := range routes.Schedules {
		out[sc.Dir] = archtest.FunctionInfo{}
	}
	return out
}

// TestLayers: no package of the module breaks a layer rule, and every function binary links
// only what its route needs.
func TestLayers(t *testing.T) {
	pkgs := listAll(t)
	functions := 0
	for _, p := range pkgs {
		if archtest.Classify(module, p.ImportPath) == archtest.Function {
			functions++
		}
	}
	if want := len(declaredFunctions()); functions != want {
		t.Fatalf("go list found %d function packages, the declarations %d", functions, want)
	}
	for _, v := range archtest.Check(module, pkgs, declaredFunctions()) {
		t.Error(v)
	}
}

// TestCheckFindsEveryKindOfBreak: a made-up module where each rule is broken once; Check
// must name each break.
func TestCheckFindsEveryKindOfBreak(t *testing.T) {
	m := func(rel string) string { return module + "/" + rel }
	pkgs := []archtest.Package{
		{ImportPath: m("pkg/spot/spotapi"), Imports: []string{m("pkg/spot/spotstore")}},
		{ImportPath: m("pkg/snap/survey"), Imports: []string{"net/http"}, Deps: []string{"net/http"}},
		{ImportPath: m("pkg/spot/screening"), Imports: []string{m("pkg/platform/ddb")}, Deps: []string{"github.com/aws/aws-sdk-go-v2/service/dynamodb"}},
		{ImportPath: m("pkg/jobs"), Imports: []string{m("pkg/snap/survey")}},
		{ImportPath: m("pkg/snap/snapjobs"), Imports: []string{m("pkg/spot/screening")}},
		{ImportPath: m("pkg/jobs/jobstore"), Imports: []string{m("pkg/snap/snapstore")}},
		{ImportPath: m("pkg/platform/auth"), Imports: []string{m("pkg/spot/screening")}},
		{ImportPath: m("pkg/platform/idempotency"), Imports: []string{m("pkg/platform/idempotency/idemstore")}, Deps: []string{"github.com/aws/aws-sdk-go-v2/service/dynamodb"}},
		{ImportPath: m("pkg/snap/snapapi"), Imports: []string{m("pkg/platform/idempotency/idemstore")}},
		{ImportPath: m("pkg/wiring/spotwire"), Imports: []string{m("pkg/dev/demo")}},
		{ImportPath: m("functions/get-screener"), Deps: []string{m("pkg/dev/poller"), m("pkg/snap/survey"), "github.com/aws/aws-sdk-go-v2/service/sqs", "github.com/getkin/kin-openapi/openapi3"}},
		{ImportPath: m("functions/orphan")},
	}
	got := strings.Join(archtest.Check(module, pkgs, map[string]archtest.FunctionInfo{"get-screener": {Family: "spot"}}), "\n")
	for _, want := range []string{
		"pkg/spot/spotapi imports pkg/spot/spotstore: a handler goes through its domain",
		"pkg/snap/survey imports net/http: a domain links no HTTP",
		"pkg/spot/screening imports pkg/platform/ddb: a domain imports no adapter",
		"pkg/spot/screening imports github.com/aws/aws-sdk-go-v2/service/dynamodb: a domain links no HTTP and no AWS SDK",
		"pkg/jobs imports pkg/snap/survey: the import engine knows no family",
		"pkg/snap/snapjobs imports pkg/spot/screening: Spot and Snap never import each other",
		"pkg/jobs/jobstore imports pkg/snap/snapstore: an adapter imports no handler, wiring or other adapter",
		"pkg/platform/auth imports pkg/spot/screening: the platform knows no family",
		"pkg/platform/idempotency imports pkg/platform/idempotency/idemstore: the platform knows no family, domain or adapter",
		"pkg/platform/idempotency imports github.com/aws/aws-sdk-go-v2/service/dynamodb: an SDK-free platform package links no AWS SDK",
		"pkg/snap/snapapi imports pkg/platform/idempotency/idemstore: a handler goes through its domain, never to an adapter",
		"pkg/wiring/spotwire imports pkg/dev/demo: only dev code and commands may import dev code",
		"functions/get-screener links pkg/dev/poller: no function binary links dev code",
		"functions/get-screener links github.com/getkin/kin-openapi/openapi3: no function binary links dev code",
		"functions/get-screener links pkg/snap/survey: a spot function links no other family",
		"functions/get-screener links github.com/aws/aws-sdk-go-v2/service/sqs: only a function that sends imports",
		"functions/orphan: no route or worker declares it",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Check did not report %q; it reported:\n%s", want, got)
		}
	}
	if n := len(strings.Split(got, "\n")); n != 17 {
		t.Errorf("Check reported %d breaks, want 17:\n%s", n, got)
	}
	if slices.Contains(archtest.Check(module, pkgs[:0], nil), "") {
		t.Error("an empty module has breaks")
	}
}
