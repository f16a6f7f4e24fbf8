package routes

import (
	"net/url"
	"slices"
	"strings"
)

// DefaultPath is the path of the HTTP API's $default route (template.yaml's HttpApi event,
// with Method ANY): API Gateway sends it every request that no route matches.
const DefaultPath = "$default"

// Fallback is the function behind the $default route. Everything about it is declared here:
// `make generate` writes its template.yaml resource (after the routes', no table access), its
// build target and its functions/ main.go, which calls pkg/wiring/defaultwire.
type Fallback struct {
	LogicalID string // template.yaml resource name
	Dir       string // functions/<Dir>/main.go
	// Why says what the function answers: its template.yaml comment.
	Why string
}

// Default is the $default route's function.
var Default = Fallback{
	LogicalID: "DefaultRouteFunction", Dir: "default-route",
	Why: "Answers every request no route matches ($default) in its family's shape, by path prefix " +
		"(Snap's {\"message\"} with api-supported-versions under /snaponline/api/, else the Spot error " +
		"envelope): 405 with Allow for a path a route serves under another method, the route's own " +
		"not-found answer for an id holding a slash (API Gateway matches the decoded path, so " +
		"/screeners/%2F reaches no route), else 404. It reads no table and checks no credentials.",
}

// Route is the fallback as the HttpApi event template.yaml gives it: every method, the
// $default path.
func (f Fallback) Route() Route {
	return Route{LogicalID: f.LogicalID, Dir: f.Dir, Method: "ANY", Path: DefaultPath}
}

// MsgNoRoute is the message of a 404 for a path no route serves (each family writes it in its
// own shape).
const MsgNoRoute = "No route matches this path."

// MsgMethodNotAllowed is the message of a 405: the path is served, not under this method.
func MsgMethodNotAllowed(method string) string { return "This path does not accept " + method + "." }

// Param is one path parameter a request's path gives a route, in path order.
type Param struct{ Name, Value string }

// Unmatched is what the route tables say of a request API Gateway matched to no route.
type Unmatched struct {
	// Route is set when the path is a route's and the method is its, once a path parameter
	// takes more than one segment: an id holding a slash (see Resolve). Params are its values.
	Route  *Route
	Params []Param
	// Allow lists the methods of the routes serving the path, when none serves the method:
	// the answer is 405. Neither Route nor Allow: 404.
	Allow []string
}

// SlashParam is the first path parameter whose value holds a slash: the id that names
// nothing (false when none does).
func (u Unmatched) SlashParam() (Param, bool) {
	i := slices.IndexFunc(u.Params, func(p Param) bool { return strings.Contains(p.Value, "/") })
	if i < 0 {
		return Param{}, false
	}
	return u.Params[i], true
}

// Resolve matches a request no route took against the route templates. The path is split on
// its literal slashes and each segment percent-decoded after splitting, so an encoded slash
// (%2F) stays inside its segment when rawPath keeps the encoding; a path parameter may also
// take several segments, joined by "/", which is what an id holding a slash becomes once the
// path is decoded (API Gateway's HTTP API delivers rawPath decoded). The route with the most
// literal segments wins, as in API Gateway. A path that cannot be decoded matches nothing.
func Resolve(rs []Route, method, rawPath string) Unmatched {
	segs, ok := decodedSegments(rawPath)
	if !ok {
		return Unmatched{}
	}
	var out Unmatched
	best := -1
	for i := range rs {
		params, literals, ok := matchSegments(strings.Split(strings.TrimPrefix(rs[i].Path, "/"), "/"), segs)
		if !ok {
			continue
		}
		if rs[i].Method != method {
			if !slices.Contains(out.Allow, rs[i].Method) {
				out.Allow = append(out.Allow, rs[i].Method)
			}
			continue
		}
		if literals > best {
			out.Route, out.Params, best = &rs[i], params, literals
		}
	}
	if out.Route != nil {
		out.Allow = nil
	}
	return out
}

func decodedSegments(rawPath string) ([]string, bool) {
	segs := strings.Split(strings.TrimPrefix(rawPath, "/"), "/")
	for i, s := range segs {
		d, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		segs[i] = d
	}
	return segs, true
}

// matchSegments matches path segments against a template's: a literal must equal its segment;
// a {param} takes one non-empty segment or several (joined by "/"). It returns the parameters
// and how many literal segments matched.
func matchSegments(tmpl, segs []string) ([]Param, int, bool) {
	if len(tmpl) == 0 {
		return nil, 0, len(segs) == 0
	}
	t := tmpl[0]
	name, isParam := strings.CutPrefix(t, "{")
	if !isParam {
		if len(segs) == 0 || segs[0] != t {
			return nil, 0, false
		}
		params, literals, ok := matchSegments(tmpl[1:], segs[1:])
		return params, literals + 1, ok
	}
	name = strings.TrimSuffix(name, "}")
	// The fewest segments first: a parameter takes more only where the rest would not match.
	for n := 1; n <= len(segs)-(len(tmpl)-1); n++ {
		value := strings.Join(segs[:n], "/")
		if value == "" {
			continue
		}
		if params, literals, ok := matchSegments(tmpl[1:], segs[n:]); ok {
			return append([]Param{{name, value}}, params...), literals, true
		}
	}
	return nil, 0, false
}
