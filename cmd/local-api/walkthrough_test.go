package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/dev/localrun"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/dev/walkthrough"
)

// walkthroughRows is how many rows the walk-throughs' imports send here: above the synchronous
// limit, so they still run as jobs, and few enough to keep the test short.
const walkthroughRows = "1200"

// TestREADMEWalkthroughs runs both README walk-throughs as written, command by command in bash
// with curl, against `make run`'s server in each of its modes (the handlers in process, and
// every function's own bootstrap under the Lambda emulator): every API call answers what its
// comments say.
func TestREADMEWalkthroughs(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []localrun.Mode{localrun.InProcess, localrun.Emulator} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			url := localrun.Start(t, localrun.Options{Lambda: mode}).URL
			for _, section := range []struct {
				heading  string
				minCurls int // fewer means the extraction lost commands
			}{
				{"Walk-through", 20},
				{"Snap XMP Online walk-through", 20},
			} {
				t.Run(section.heading, func(t *testing.T) {
					runWalkthrough(t, readme, section.heading, section.minCurls, url)
				})
			}
		})
	}
}

func runWalkthrough(t *testing.T, readme []byte, heading string, minCurls int, url string) {
	t.Helper()
	cmds, err := walkthrough.Extract(readme, heading)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute) // the emulator builds each function on its first call
	defer cancel()
	r := walkthrough.Runner{BaseURL: url, Dir: t.TempDir(), Set: map[string]string{"ROWS": walkthroughRows}}
	outcomes, err := r.Exec(ctx, cmds)
	if err != nil {
		t.Fatal(err)
	}
	curls := 0
	for _, o := range outcomes {
		if o.Curl() {
			curls++
		}
		if p := o.Problem(); p != "" {
			t.Errorf("README line %d: %s\n%s\nstatuses %v, output:\n%s", o.Line, p, o.Text, o.Statuses, o.Output)
		}
	}
	if curls < minCurls {
		t.Errorf("%d curl commands ran, want at least %d", curls, minCurls)
	}
	t.Logf("%d commands, %d of them curl", len(outcomes), curls)
}
