// Package allroutes is every route of both families in one list, for dev code and tests (the
// generator, the benchmark, the agreement checks that span families). It links both families,
// so no function binary may import it; a function's wiring reads its own family's table.
package allroutes

import (
	"fmt"

	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
)

// All lists every route, Spot's table then Snap's, in the order template.yaml declares them.
var All = append(ofFamily(routes.Spot, spotapi.Routes.Routes()), ofFamily(routes.Snap, snapapi.Routes.Routes())...)

// ofFamily returns a family's table's routes, refusing one that names another family: its
// function would be wired by the other family and answer errors in the wrong shape.
func ofFamily(f routes.Family, rs []routes.Route) []routes.Route {
	for _, r := range rs {
		if r.Family != f {
			panic(fmt.Sprintf("allroutes: %s is in the %s table but says family %q", r.LogicalID, f, r.Family))
		}
	}
	return rs
}
