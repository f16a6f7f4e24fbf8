package routes_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// maxBuilds caps concurrent builds: go build already uses every core, and the machine has two.
const maxBuilds = 2

// TestMakeBuild builds every function the way sam build does (make --makefile <Makefile>
// build-<LogicalID>, from the code directory, with the environment plus ARTIFACTS_DIR) and
// checks the result is what provided.al2023 on arm64 can run: a static aarch64 ELF named bootstrap.
func TestMakeBuild(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is not on PATH: %v", err)
	}
	root := repoRoot(t)
	slots := make(chan struct{}, maxBuilds)
	for _, r := range allFunctions() {
		t.Run(r.LogicalID, func(t *testing.T) {
			t.Parallel()
			slots <- struct{}{}
			defer func() { <-slots }()

			artifacts := t.TempDir()
			cmd := exec.Command("make", "--makefile", filepath.Join(root, "Makefile"), "build-"+r.LogicalID)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "ARTIFACTS_DIR="+artifacts)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make build-%s: %v\n%s", r.LogicalID, err, out)
			}
			checkBootstrap(t, filepath.Join(artifacts, "bootstrap"))
		})
	}
}

func checkBootstrap(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("bootstrap is not a readable ELF file: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap machine = %v, want %v", f.Machine, elf.EM_AARCH64)
	}
	// A program interpreter or a needed shared library means the binary is dynamically
	// linked and would depend on the runtime image's libc.
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap has a PT_INTERP program header: not statically linked")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Errorf("reading DT_NEEDED: %v", err)
	}
	if len(libs) > 0 {
		t.Errorf("bootstrap needs shared libraries %v: not statically linked", libs)
	}
}
