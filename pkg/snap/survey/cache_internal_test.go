package survey

import (
	"fmt"
	"testing"
	"time"
)

func TestTheSurveyCacheForgetsAfterItsTTLAndAtItsBound(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := newSurveyCache(SurveyCacheTTL)
	c.now = func() time.Time { return now }
	c.put("ws", SurveyState{Survey: Survey{ID: "a", Version: 3}})
	c.put("ws", SurveyState{Survey: Survey{ID: "held"}, Locked: true})
	if sv, ok := c.get("ws", "a"); !ok || sv.Version != 3 {
		t.Fatalf("fresh entry: %+v, %v", sv, ok)
	}
	if _, ok := c.get("other", "a"); ok {
		t.Fatal("another workspace reads the entry")
	}
	if _, ok := c.get("ws", "held"); ok {
		t.Fatal("a held roster was cached")
	}
	now = now.Add(SurveyCacheTTL)
	if _, ok := c.get("ws", "a"); ok {
		t.Fatal("the entry outlived its TTL")
	}
	for i := range surveyCacheMax + 1 {
		c.put("ws", SurveyState{Survey: Survey{ID: fmt.Sprint(i)}})
	}
	if len(c.entries) > surveyCacheMax {
		t.Fatalf("%d entries, bound %d", len(c.entries), surveyCacheMax)
	}
}
