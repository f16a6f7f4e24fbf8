// Package archtest checks the layers (README, "Which layer may import which") against the
// packages' real imports, as `go list` reports them: Classify names each package's layer, and
// Check lists every import that breaks a rule. Its test runs in `make test` (it runs
// `go list`, so `make test-unit`, which runs no program, leaves it out).
package archtest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Package is one package as `go list -json` reports it: its direct imports and all its
// dependencies (non-test).
type Package struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// Layer names what a package of ours is, by its path under the module.
type Layer string

const (
	Handlers  Layer = "handlers" // a family's wire types and HTTP handlers
	Domain    Layer = "domain"   // a family's or the engine's use cases, rules and store interfaces
	Adapter   Layer = "adapter"  // a store or queue adapter
	Platform  Layer = "platform" // shared infrastructure (the store core, auth, ids, the Lambda adapter)
	Wiring    Layer = "wiring"   // the functions' composition roots
	Dev       Layer = "dev"      // what helps but never ships
	Function  Layer = "function" // a Lambda's main package
	Command   Layer = "command"  // a program under cmd/
	Vocabular Layer = "vocab"    // the shared words, below everything
	External  Layer = "external" // not ours
)

// layers maps our packages (paths under the module) to their layer; the first matching
// prefix wins, so more specific prefixes come first.
var layers = []struct {
	prefix string
	layer  Layer
}{
	{"pkg/spot/spotapi", Handlers}, {"pkg/snap/snapapi", Handlers},
	{"pkg/spot/spotstore", Adapter}, {"pkg/snap/snapstore", Adapter},
	{"pkg/jobs/jobstore", Adapter}, {"pkg/jobs/jobqueue", Adapter},
	{"pkg/platform/idempotency/idemstore", Adapter},
	{"pkg/spot/", Domain}, {"pkg/snap/", Domain}, {"pkg/jobs", Domain},
	{"pkg/vocab", Vocabular},
	{"pkg/platform/", Platform},
	{"pkg/wiring", Wiring},
	{"pkg/dev/", Dev},
	{"functions/", Function},
	{"cmd/", Command},
}

// Classify returns the layer of an import path (External for one not in the module).
func Classify(module, path string) Layer {
	rel, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		return External
	}
	for _, l := range layers {
		if rel == strings.TrimSuffix(l.prefix, "/") || strings.HasPrefix(rel, l.prefix) {
			return l.layer
		}
	}
	return External
}

// Family is the API family a package of ours belongs to ("spot", "snap"), or "".
func Family(module, path string) string {
	rel, _ := strings.CutPrefix(path, module+"/")
	for _, f := range []string{"spot", "snap"} {
		if strings.HasPrefix(rel, "pkg/"+f+"/") {
			return f
		}
	}
	return ""
}

// Outside the module: what a domain may not link, and what a function may not.
var (
	awsLibs    = []string{"github.com/aws/aws-sdk-go-v2", "github.com/aws/aws-lambda-go", "github.com/aws/smithy-go", "github.com/awslabs/"}
	httpAndAWS = append([]string{"net/http"}, awsLibs...)
	devLibs    = []string{"github.com/awslabs/goformation", "github.com/getkin/kin-openapi"}
	sqsClient  = "github.com/aws/aws-sdk-go-v2/service/sqs"
)

// sdkFree are the platform packages that link no AWS SDK, so that handlers take them without
// an adapter's reach (their adapters are separate packages).
var sdkFree = []string{"pkg/platform/idempotency", "pkg/platform/ratelimit"}

func hasPrefixIn(path string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool {
		return path == p || strings.HasPrefix(path, p+"/") || strings.HasPrefix(path, p) && strings.HasSuffix(p, "/")
	})
}

// FunctionInfo is what the route declarations say of one functions/ directory.
type FunctionInfo struct {
	Family       string // "spot", "snap", or "" for a worker or a scheduled function (they run every family)
	SendsImports bool
}

// Check lists the imports that break the layer rules, sorted.
func Check(module string, pkgs []Package, functions map[string]FunctionInfo) []string {
	var out []string
	bad := func(p Package, rule, dep string) {
		out = append(out, fmt.Sprintf("%s imports %s: %s", strings.TrimPrefix(p.ImportPath, module+"/"), strings.TrimPrefix(dep, module+"/"), rule))
	}
	for _, p := range pkgs {
		layer, fam := Classify(module, p.ImportPath), Family(module, p.ImportPath)
		for _, imp := range p.Imports {
			il, ifam := Classify(module, imp), Family(module, imp)
			switch {
			case il == Dev && layer != Dev && layer != Command:
				bad(p, "only dev code and commands may import dev code", imp)
			case layer == Handlers && (il == Adapter || il == Wiring || imp == module+"/pkg/platform/ddb"):
				bad(p, "a handler goes through its domain, never to an adapter", imp)
			case layer == Domain && (il == Adapter || il == Handlers || il == Wiring || imp == module+"/pkg/platform/ddb" || imp == module+"/pkg/platform/lambdahttp"):
				bad(p, "a domain imports no adapter, handler or wiring", imp)
			case layer == Adapter && (il == Handlers || il == Wiring || il == Adapter):
				bad(p, "an adapter imports no handler, wiring or other adapter", imp)
			case layer == Platform && (il == Domain || il == Handlers || il == Adapter || il == Wiring):
				bad(p, "the platform knows no family, domain or adapter", imp)
			case fam != "" && ifam != "" && fam != ifam:
				bad(p, "Spot and Snap never import each other", imp)
			case isEngine(module, p.ImportPath) && ifam != "":
				bad(p, "the import engine knows no family", imp)
			}
		}
		if layer == Domain || layer == Vocabular {
			for _, d := range p.Deps {
				if hasPrefixIn(d, httpAndAWS) {
					bad(p, "a domain links no HTTP and no AWS SDK", d)
				}
			}
		}
		if slices.Contains(sdkFree, strings.TrimPrefix(p.ImportPath, module+"/")) {
			for _, d := range p.Deps {
				if hasPrefixIn(d, awsLibs) {
					bad(p, "an SDK-free platform package links no AWS SDK", d)
				}
			}
		}
		if layer == Function {
			out = append(out, checkFunction(module, p, functions)...)
		}
	}
	sort.Strings(out)
	return out
}

// isEngine reports whether a package is the import engine or one of its adapters.
func isEngine(module, path string) bool {
	return path == module+"/pkg/jobs" || strings.HasPrefix(path, module+"/pkg/jobs/")
}

// checkFunction: a function binary links no dev code and no dev-only library; a family's
// function links no other family; a function that sends no imports links no SQS client.
func checkFunction(module string, p Package, functions map[string]FunctionInfo) []string {
	var out []string
	dir := strings.TrimPrefix(p.ImportPath, module+"/functions/")
	info, declared := functions[dir]
	if !declared {
		return []string{fmt.Sprintf("functions/%s: no route or worker declares it", dir)}
	}
	for _, d := range p.Deps {
		layer, fam := Classify(module, d), Family(module, d)
		switch {
		case layer == Dev || hasPrefixIn(d, devLibs):
			out = append(out, fmt.Sprintf("functions/%s links %s: no function binary links dev code", dir, strings.TrimPrefix(d, module+"/")))
		case info.Family != "" && fam != "" && fam != info.Family:
			out = append(out, fmt.Sprintf("functions/%s links %s: a %s function links no other family", dir, strings.TrimPrefix(d, module+"/"), info.Family))
		case info.Family != "" && !info.SendsImports && (d == sqsClient || strings.HasPrefix(d, sqsClient+"/")):
			out = append(out, fmt.Sprintf("functions/%s links %s: only a function that sends imports links the SQS client", dir, d))
		}
	}
	return out
}
