// Package snapwire is the composition root of the Snap XMP Online functions: the Snap store
// adapter, the survey service and the Snap handlers over one table, and one route's handler
// handed to the Lambda runtime. It links no Spot package, and no SQS client but through the
// queue source of a function that sends imports.
package snapwire

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobstore"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/lambdahttp"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
	"github.com/participant-roster/roster/pkg/snap/snapstore"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/wiring"
)

var _ jobstore.TargetHolder = (*snapstore.Store)(nil)

// Snap is the Snap family wired over one table.
type Snap struct {
	Store   *snapstore.Store
	Jobs    *jobstore.Store // Snap jobs hold their survey's roster
	Service *survey.Service
	API     *snapapi.API
	Log     *slog.Logger
}

// New wires the Snap family over a table, each user's calls held to limits.
func New(t *ddb.Table, authCacheTTL time.Duration, limits ratelimit.Limits, log *slog.Logger) *Snap {
	st := snapstore.New(t)
	js := jobstore.New(t, st)
	svc := survey.NewService(st)
	return &Snap{
		Store: st, Jobs: js, Service: svc, Log: log,
		API: &snapapi.API{
			Service: svc, Verifier: auth.NewVerifier(st.SnapKeys(), authCacheTTL), Log: log, Jobs: js, ImportRows: st.SnapImports(),
			Idempotency: wiring.IdempotencyGuard(t, log),
			Limiter:     &ratelimit.Limiter{Store: st.RateCounters(), Limits: limits},
		},
	}
}

// EnableImports makes bulk imports jobs whose chunks go to q.
func (s *Snap) EnableImports(q jobs.Queue) {
	s.API.Imports = &jobs.Submitter{Store: s.Jobs, Queue: q}
}

// LambdaHandler is the Lambda handler of one Snap route, by its function's logical id.
func (s *Snap) LambdaHandler(logicalID string) (lambdahttp.Handler, error) {
	d, ok := snapapi.Routes.Lookup(logicalID)
	if !ok {
		return nil, fmt.Errorf("no Snap route for function %q", logicalID)
	}
	return lambdahttp.New(d.Route, d.Handler(s.API), snapapi.WriteRouteError, s.Log), nil
}

// Main is the whole of a Snap function's main (wiring.Main), with the limits its environment
// gives (LimitsFromEnv).
func Main(logicalID string, queue ...wiring.QueueSource) {
	limits, err := LimitsFromEnv()
	if err != nil {
		wiring.InitFailed(wiring.Log(), logicalID, err)
	}
	wiring.Main(logicalID, func(t *ddb.Table, cfg wiring.Config, log *slog.Logger) wiring.Family {
		return New(t, cfg.AuthCacheTTL, limits, log)
	}, queue)
}

// LimitEnv is a limit of every Snap function's environment: the variable it reads and the
// template.yaml parameter that sets it (make generate writes one from the other).
type LimitEnv struct {
	Variable, Parameter string
	field               func(*ratelimit.Limits) *int // the limit it sets
}

// LimitsEnv are the per-user limits a Snap function reads from its environment.
var LimitsEnv = []LimitEnv{
	{"SNAP_RATE_LIMIT_PER_SEC", "SnapRateLimitPerSecond", func(l *ratelimit.Limits) *int { return &l.PerSecond }},
	{"SNAP_RATE_LIMIT_PER_MIN", "SnapRateLimitPerMinute", func(l *ratelimit.Limits) *int { return &l.PerMinute }},
}

// EnvOf is the environment that makes a Snap function read limits l (LimitsFrom's inverse):
// what a local run gives the functions it runs under the emulator.
func EnvOf(l ratelimit.Limits) map[string]string {
	env := map[string]string{}
	for _, e := range LimitsEnv {
		env[e.Variable] = strconv.Itoa(*e.field(&l))
	}
	return env
}

// LimitsFromEnv reads LimitsEnv from the process environment (LimitsFrom).
func LimitsFromEnv() (ratelimit.Limits, error) { return LimitsFrom(os.Getenv) }

// LimitsFrom reads LimitsEnv through getenv; a variable not set keeps the vendor's limit
// (ratelimit.VendorLimits).
func LimitsFrom(getenv func(string) string) (ratelimit.Limits, error) {
	l := ratelimit.VendorLimits
	for _, e := range LimitsEnv {
		v := getenv(e.Variable)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return l, fmt.Errorf("%s: %w", e.Variable, err)
		}
		*e.field(&l) = n
	}
	return l, l.Validate()
}
