// Package defaultwire is the composition root of the $default route's function
// (routes.Default): it answers every request API Gateway matched to no route, in the shape of
// the family whose path it is (snapapi.PathPrefix, else Spot), from the two route tables and
// the families' error writers alone. It reads no table and checks no credentials: its answer
// depends on the method and path only, and the ids it answers for (ones holding a slash) name
// nothing in any workspace, so it tells a caller without credentials nothing a 401 would hide.
// It links no AWS SDK and no store, which is why it does not build on pkg/wiring.
package defaultwire

import (
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/participant-roster/roster/pkg/platform/lambdahttp"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
)

// family is what the fallback needs of one API family.
type family struct {
	routes   []routes.Route
	errors   lambdahttp.ErrorWriter                                                         // a 404 or 405 in the family's shape
	noSuchID func(w http.ResponseWriter, r *http.Request, route routes.Route, param string) // a route's answer for an id that names nothing
}

var (
	spot = family{spotapi.Routes.Routes(), spotapi.WriteRouteError, spotapi.WriteNoSuchID}
	snap = family{snapapi.Routes.Routes(), snapapi.WriteRouteError, snapapi.WriteNoSuchID}
)

// familyOf is the family whose path this is: Snap's under its prefix, else Spot's.
func familyOf(r *http.Request) family {
	p := r.URL.EscapedPath()
	if strings.HasPrefix(p, snapapi.PathPrefix) || p == strings.TrimSuffix(snapapi.PathPrefix, "/") {
		return snap
	}
	return spot
}

// Handler answers a request no route took (routes.Resolve over its family's table): the
// route's own answer for an id that names nothing when the path is a route's once an id holds
// a slash, a 405 with Allow when routes serve the path under other methods, else a 404.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := familyOf(r)
		u := routes.Resolve(f.routes, r.Method, r.URL.EscapedPath())
		if p, ok := u.SlashParam(); ok && u.Route != nil {
			f.noSuchID(w, r, *u.Route, p.Name)
			return
		}
		if len(u.Allow) > 0 {
			w.Header().Set("Allow", strings.Join(u.Allow, ", "))
			f.errors(w, r, http.StatusMethodNotAllowed, routes.MsgMethodNotAllowed(r.Method))
			return
		}
		// No route's, or a route's own request (API Gateway would have routed it; a hand-made
		// event may not).
		f.errors(w, r, http.StatusNotFound, routes.MsgNoRoute)
	})
}

// writeError writes what fails outside Handler (an event that is no request, a panic) in the
// family's shape.
func writeError(w http.ResponseWriter, r *http.Request, status int, message string) {
	familyOf(r).errors(w, r, status, message)
}

// LambdaHandler is the $default function's Lambda handler.
func LambdaHandler(log *slog.Logger) lambdahttp.Handler {
	return lambdahttp.NewDefault(routes.Default.Route(), Handler(), writeError, log)
}

// Main is the whole of the $default function's main. Its log is every function's (JSON lines
// on stdout, as wiring.Log).
func Main() {
	lambda.Start(LambdaHandler(slog.New(slog.NewJSONHandler(os.Stdout, nil))))
}
