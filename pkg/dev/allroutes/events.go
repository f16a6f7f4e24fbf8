package allroutes

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/participant-roster/roster/pkg/platform/routes"
)

// SampleEvent is one events/*.json and the function it is for.
type SampleEvent struct {
	Path      string // events/<file>.json under the repository root
	LogicalID string
	Worker    bool // an SQS event for a function of routes.Workers
	Scheduled bool // an EventBridge scheduled event for a function of routes.Schedules
	Fallback  bool // an HTTP API v2 event no route matches, for routes.Default
	// None: an HTTP API v2 event for a route's function.
}

// SampleEvents lists events/*.json of the repository at root with their functions, in file
// name order. A file belongs to the function of All, routes.Workers or routes.Schedules whose
// Dir (or routes.Default's) is its name's longest prefix ending at '.', '-' or '_' (get-screener-session.json is
// get-screener-session's, not get-screener's), the rule TestEvents (pkg/platform/routes) holds
// events/ to; a file no function owns is an error.
func SampleEvents(root string) ([]SampleEvent, error) {
	dir := filepath.Join(root, "events")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []SampleEvent
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		ev, ok := eventOwner(e.Name())
		if !ok {
			return nil, fmt.Errorf("events/%s: no function of All, routes.Workers or routes.Schedules has a Dir that prefixes this name", e.Name())
		}
		ev.Path = filepath.Join(dir, e.Name())
		out = append(out, ev)
	}
	return out, nil
}

func eventOwner(file string) (SampleEvent, bool) {
	var best SampleEvent
	bestLen := 0
	consider := func(dir string, ev SampleEvent) {
		rest, ok := strings.CutPrefix(file, dir)
		if ok && rest != "" && strings.ContainsRune(".-_", rune(rest[0])) && len(dir) > bestLen {
			best, bestLen = ev, len(dir)
		}
	}
	for _, r := range All {
		consider(r.Dir, SampleEvent{LogicalID: r.LogicalID})
	}
	consider(routes.Default.Dir, SampleEvent{LogicalID: routes.Default.LogicalID, Fallback: true})
	for _, w := range routes.Workers {
		consider(w.Dir, SampleEvent{LogicalID: w.LogicalID, Worker: true})
	}
	for _, sc := range routes.Schedules {
		consider(sc.Dir, SampleEvent{LogicalID: sc.LogicalID, Scheduled: true})
	}
	return best, bestLen > 0
}
