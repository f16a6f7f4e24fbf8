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
	Worker    bool // an SQS event for a function of routes.Workers; else an HTTP API v2 event
}

// SampleEvents lists events/*.json of the repository at root with their functions, in file
// name order. A file belongs to the function of All or routes.Workers whose Dir is its
// name's longest prefix ending at '.', '-' or '_' (get-screener-session.json is
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
			return nil, fmt.Errorf("events/%s: no function of All or routes.Workers has a Dir that prefixes this name", e.Name())
		}
		ev.Path = filepath.Join(dir, e.Name())
		out = append(out, ev)
	}
	return out, nil
}

func eventOwner(file string) (SampleEvent, bool) {
	var best SampleEvent
	bestLen := 0
	consider := func(logicalID, dir string, worker bool) {
		rest, ok := strings.CutPrefix(file, dir)
		if ok && rest != "" && strings.ContainsRune(".-_", rune(rest[0])) && len(dir) > bestLen {
			best, bestLen = SampleEvent{LogicalID: logicalID, Worker: worker}, len(dir)
		}
	}
	for _, r := range All {
		consider(r.LogicalID, r.Dir, false)
	}
	for _, w := range routes.Workers {
		consider(w.LogicalID, w.Dir, true)
	}
	return best, bestLen > 0
}
