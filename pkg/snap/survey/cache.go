package survey

import (
	"sync"
	"time"
)

// SurveyCacheTTL is how long a warm instance keeps a survey it read for participant writes,
// so that a write needs no read of its survey. A write under a cached copy is still exact: the
// store checks, in the write's own transaction, that the survey is at the copy's version and
// that no import holds its roster; a stale copy costs one failed check and one fresh read
// (Service.underSurvey). The TTL only bounds how long an unused entry takes memory.
const SurveyCacheTTL = 30 * time.Second

// surveyCacheMax bounds the entries one instance keeps; at the bound the cache starts over.
const surveyCacheMax = 1024

// surveyCacheKey names a cached survey by the workspace of the verified credential and the
// survey's canonical id, so a tenant never reads another's entry.
type surveyCacheKey struct{ workspace, surveyID string }

type cachedSurvey struct {
	survey  Survey
	expires time.Time
}

// surveyCache keeps surveys whose rosters were open when read. A held roster is never cached:
// the hold ends without the survey's version moving, so a cached "held" could not be undone.
type surveyCache struct {
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	entries map[surveyCacheKey]cachedSurvey
}

func newSurveyCache(ttl time.Duration) *surveyCache {
	return &surveyCache{ttl: ttl, now: time.Now, entries: map[surveyCacheKey]cachedSurvey{}}
}

func (c *surveyCache) get(workspace, surveyID string) (Survey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := surveyCacheKey{workspace, surveyID}
	e, ok := c.entries[k]
	if !ok || !c.now().Before(e.expires) {
		delete(c.entries, k)
		return Survey{}, false
	}
	return e.survey, true
}

func (c *surveyCache) put(workspace string, sv SurveyState) {
	if sv.Locked {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= surveyCacheMax {
		clear(c.entries)
	}
	c.entries[surveyCacheKey{workspace, sv.ID}] = cachedSurvey{survey: sv.Survey, expires: c.now().Add(c.ttl)}
}

func (c *surveyCache) drop(workspace, surveyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, surveyCacheKey{workspace, surveyID})
}
