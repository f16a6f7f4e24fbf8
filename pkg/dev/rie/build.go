package rie

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/participant-roster/roster/pkg/dev/samtemplate"
)

// maxBuilds caps concurrent builds: go build already uses every core, and the machine has two.
const maxBuilds = 2

// emulatorTool is the emulator as go.mod's tool directive names it.
const emulatorTool = "aws-lambda-rie"

// Builder builds bootstraps and the emulator, each once per Builder, at most maxBuilds at a
// time.
type Builder struct {
	root  string // the repository root: Makefile, go.mod, template.yaml
	dir   string // bootstraps go to dir/<LogicalId>/bootstrap
	slots chan struct{}

	mu     sync.Mutex
	builds map[string]*build // by logical id; emulatorTool for the emulator
}

type build struct {
	done chan struct{}
	path string
	err  error
}

// NewBuilder builds the functions of the repository at root into dir.
func NewBuilder(root, dir string) *Builder {
	return &Builder{root: root, dir: dir, slots: make(chan struct{}, maxBuilds), builds: map[string]*build{}}
}

// Bootstrap builds the function with its own Makefile line for the host architecture,
//
//	make build-<LogicalId> ARTIFACTS_DIR=<dir>/<LogicalId> LAMBDA_ARCH=<host GOARCH>
//
// as sam build runs it (from the repository root, with the caller's environment), and returns
// the bootstrap's path. A second call for the same function waits for the first build.
func (b *Builder) Bootstrap(ctx context.Context, logicalID string) (string, error) {
	return b.once(ctx, logicalID, func() (string, error) {
		artifacts := filepath.Join(b.dir, logicalID)
		cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "--makefile", filepath.Join(b.root, "Makefile"),
			"build-"+logicalID, "ARTIFACTS_DIR="+artifacts, "LAMBDA_ARCH="+runtime.GOARCH)
		cmd.Dir = b.root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("rie: make build-%s: %w\n%s", logicalID, err, out)
		}
		return filepath.Join(artifacts, "bootstrap"), nil
	})
}

// Emulator returns the path of aws-lambda-rie at the version go.mod pins, built by the go
// command into its build cache (`go tool -n`).
func (b *Builder) Emulator(ctx context.Context) (string, error) {
	return b.once(ctx, emulatorTool, func() (string, error) {
		cmd := exec.CommandContext(ctx, "go", "tool", "-n", emulatorTool)
		cmd.Dir = b.root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("rie: go tool -n %s: %w\n%s", emulatorTool, err, stderr.String())
		}
		path := strings.TrimSpace(string(out))
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("rie: go tool -n %s printed %q: %w", emulatorTool, path, err)
		}
		return path, nil
	})
}

// once runs run for key once, within the concurrency cap; a failed build stays failed.
func (b *Builder) once(ctx context.Context, key string, run func() (string, error)) (string, error) {
	b.mu.Lock()
	bd, started := b.builds[key]
	if !started {
		bd = &build{done: make(chan struct{})}
		b.builds[key] = bd
	}
	b.mu.Unlock()
	if !started {
		b.slots <- struct{}{}
		bd.path, bd.err = run()
		<-b.slots
		close(bd.done)
	}
	select {
	case <-bd.done:
		return bd.path, bd.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// StartFunction builds logicalID's function and the emulator, and starts the function under it
// with template.yaml's environment for it against stack. log is as in Options.
func (b *Builder) StartFunction(ctx context.Context, tpl *samtemplate.Template, logicalID string, stack Stack, log io.Writer) (*Emulator, error) {
	fn, ok := tpl.Function(logicalID)
	if !ok {
		return nil, fmt.Errorf("rie: template.yaml has no function %s", logicalID)
	}
	env, err := Environment(fn, stack)
	if err != nil {
		return nil, err
	}
	emulator, err := b.Emulator(ctx)
	if err != nil {
		return nil, err
	}
	bootstrap, err := b.Bootstrap(ctx, logicalID)
	if err != nil {
		return nil, err
	}
	return Start(ctx, Options{Emulator: emulator, Bootstrap: bootstrap, Env: env, Log: log})
}
