package main

import (
	"os/exec"
	"strings"
	"testing"
)

// roster-sync is installed on CRM hosts and talks HTTP only: it links none of the service's
// code (only its own packages and the one shared backoff policy) and no AWS SDK.
func TestLinksNoServiceCode(t *testing.T) {
	const module = "github.com/participant-roster/roster/"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+"cmd/roster-sync").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := []string{module + "cmd/roster-sync", module + "pkg/platform/backoff"}
	for _, dep := range strings.Fields(string(out)) {
		ours := strings.HasPrefix(dep, module)
		ok := !ours || dep == allowed[0] || strings.HasPrefix(dep, allowed[0]+"/internal/") || dep == allowed[1]
		if !ok || strings.Contains(dep, "aws") {
			t.Errorf("roster-sync links %s", dep)
		}
	}
}
