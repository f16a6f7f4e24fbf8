package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/participant-roster/roster/pkg/dev/allroutes"
	"github.com/participant-roster/roster/pkg/platform/routes"
)

// nextPath is what the Lambda runtime client asks first: the next invocation.
const nextPath = "/2018-06-01/runtime/invocation/next"

// measureColdStarts is measure 4: each function's deployed bootstrap size, and how long a host
// build of it takes from exec to its first request for work; the route functions, then the
// workers.
func (b *bench) measureColdStarts(starts int) (section, error) {
	tmp, err := os.MkdirTemp("", "roster-bench-")
	if err != nil {
		return section{}, err
	}
	defer os.RemoveAll(tmp)
	home := filepath.Join(tmp, "home") // no shared AWS config, as in Lambda
	if err := os.Mkdir(home, 0o755); err != nil {
		return section{}, err
	}
	api, err := startRuntimeAPI()
	if err != nil {
		return section{}, err
	}
	defer api.close()

	t := newTable("Function", "bootstrap size (linux/arm64, deployed)", "Cold start p50 (linux/amd64 copy)", "min – max", "amd64 copy size")
	var functions []string
	for _, r := range allroutes.All {
		functions = append(functions, r.LogicalID)
	}
	functions = append(functions, routes.Default.LogicalID)
	for _, w := range routes.Workers {
		functions = append(functions, w.LogicalID)
	}
	var total int64
	for _, fn := range functions {
		progress("measure 4: %s: build, %d cold starts", fn, starts)
		armDir, amdDir := filepath.Join(tmp, "arm64", fn), filepath.Join(tmp, "amd64", fn)
		arm, err := b.build(fn, armDir, "", elf.EM_AARCH64)
		if err != nil {
			return section{}, err
		}
		amd, err := b.build(fn, amdDir, "amd64", elf.EM_X86_64)
		if err != nil {
			return section{}, err
		}
		env := []string{
			"AWS_LAMBDA_RUNTIME_API=" + api.addr,
			"TABLE_NAME=" + b.table,
			"DYNAMODB_ENDPOINT=" + b.endpoint,
			"AWS_REGION=us-east-1",
			"AWS_DEFAULT_REGION=us-east-1",
			"AWS_ACCESS_KEY_ID=local",
			"AWS_SECRET_ACCESS_KEY=local",
			"AWS_LAMBDA_FUNCTION_NAME=" + fn,
			"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
			"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
			"_HANDLER=bootstrap",
			"LAMBDA_TASK_ROOT=" + amdDir,
			"HOME=" + home,
			"PATH=/usr/local/bin:/usr/bin:/bin",
		}
		if _, err := api.start(amd.path, env); err != nil { // untimed: first exec of a fresh file
			return section{}, fmt.Errorf("%s: %w", fn, err)
		}
		var ds []time.Duration
		for range starts {
			d, err := api.start(amd.path, env)
			if err != nil {
				return section{}, fmt.Errorf("%s: %w", fn, err)
			}
			ds = append(ds, d)
		}
		t.add(fn, mib(arm.size), ms(percentile(ds, 50)),
			fmt.Sprintf("%s – %s", ms(percentile(ds, 0)), ms(percentile(ds, 100))), mib(amd.size))
		total += arm.size
	}
	// The count is in the label so that a total is compared only with one over as many functions.
	t.add(fmt.Sprintf("**All %d functions**", len(functions)), mib(total), "", "", "")
	return section{
		title: "4. Function bootstrap sizes and cold start to first /next",
		intro: fmt.Sprintf("Each function built with `make build-<LogicalId> ARTIFACTS_DIR=<tmp>` (linux/arm64, as deployed). "+
			"**This machine is amd64**, so for timing each was built a second time for the host: the same build line "+
			"(`make -n` of that target) with `GOARCH=amd64` in place of `GOARCH=arm64`. The cold start is the time from "+
			"just before exec of that amd64 `bootstrap` to the arrival of its first `GET %s` at a fake Lambda Runtime API "+
			"on 127.0.0.1 (environment: AWS_LAMBDA_RUNTIME_API, TABLE_NAME, DYNAMODB_ENDPOINT of the local DynamoDB, "+
			"AWS_REGION, dummy credentials, an empty HOME); the request is held and the process killed. One untimed "+
			"start, then the median (and range) of %d timed starts per function.", nextPath, starts),
		tables: []*table{t},
		notes: []string{
			"This covers process start, Go runtime and package initialisation, reading the environment and building the " +
				"DynamoDB client and handler. It does not cover what Lambda adds (sandbox creation, fetching the code) nor " +
				"the smaller CPU share of a 256 MB arm64 function, so it is not Lambda's Init Duration: read it as the part " +
				"the code and binary control.",
		},
	}, nil
}

type built struct {
	path string
	size int64
}

// build runs the function's Makefile target into dir; goarch "" builds as the Makefile says,
// another value rewrites the Makefile's GOARCH=arm64 in its build line and runs that.
func (b *bench) build(logicalID, dir, goarch string, want elf.Machine) (built, error) {
	args := []string{"--no-print-directory", "build-" + logicalID, "ARTIFACTS_DIR=" + dir}
	var cmd *exec.Cmd
	if goarch == "" {
		cmd = exec.Command("make", args...)
	} else {
		dry, err := exec.Command("make", append([]string{"-n", "-C", b.root}, args...)...).Output()
		if err != nil {
			return built{}, fmt.Errorf("make -n build-%s: %w", logicalID, err)
		}
		line := strings.TrimSpace(string(dry))
		if strings.Count(line, "GOARCH=arm64") != 1 {
			return built{}, fmt.Errorf("make -n build-%s: expected one GOARCH=arm64 in %q", logicalID, line)
		}
		cmd = exec.Command("sh", "-c", strings.Replace(line, "GOARCH=arm64", "GOARCH="+goarch, 1))
	}
	cmd.Dir = b.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return built{}, fmt.Errorf("build %s (%s): %w\n%s", logicalID, cmd, err, out)
	}
	path := filepath.Join(dir, "bootstrap")
	f, err := elf.Open(path)
	if err != nil {
		return built{}, err
	}
	machine := f.Machine
	f.Close()
	if machine != want {
		return built{}, fmt.Errorf("%s is %v, want %v", path, machine, want)
	}
	st, err := os.Stat(path)
	if err != nil {
		return built{}, err
	}
	return built{path: path, size: st.Size()}, nil
}

// runtimeAPI is a fake Lambda Runtime API: it notes when each request arrives and never hands
// out an invocation.
type runtimeAPI struct {
	addr     string
	srv      *http.Server
	arrivals chan arrival
}

type arrival struct {
	request string
	at      time.Time
}

func startRuntimeAPI() (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &runtimeAPI{addr: ln.Addr().String(), arrivals: make(chan arrival, 16)}
	a.srv = &http.Server{Handler: http.HandlerFunc(a.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	return a, nil
}

func (a *runtimeAPI) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	select {
	case a.arrivals <- arrival{request: r.Method + " " + r.URL.Path, at: at}:
	default:
	}
	if r.URL.Path == nextPath {
		<-r.Context().Done() // hold it: the process is killed meanwhile
		return
	}
	w.WriteHeader(http.StatusAccepted) // init/error and the like: noted above, reported by start
}

func (a *runtimeAPI) close() { _ = a.srv.Close() }

// start execs bin and returns the time until its first request; the process is killed then.
func (a *runtimeAPI) start(bin string, env []string) (time.Duration, error) {
	for len(a.arrivals) > 0 {
		<-a.arrivals
	}
	var out bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, filepath.Dir(bin), &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var d time.Duration
	var err error
	select {
	case first := <-a.arrivals:
		d = first.at.Sub(t0)
		if first.request != "GET "+nextPath {
			err = fmt.Errorf("first request was %s, not GET %s", first.request, nextPath)
		}
	case werr := <-exited:
		return 0, fmt.Errorf("exited before asking for work (%v):\n%s", werr, out.String())
	case <-time.After(20 * time.Second):
		err = fmt.Errorf("no request within 20s")
	}
	_ = cmd.Process.Kill()
	<-exited
	if err != nil {
		return 0, fmt.Errorf("%w; output:\n%s", err, out.String())
	}
	return d, nil
}
