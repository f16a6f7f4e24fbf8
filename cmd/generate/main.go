// Command generate (`make generate`) writes template.yaml's route, $default and scheduled
// functions, the Makefile's build targets and functions/ from the declarations
// (pkg/spot/spotapi/routes.go, pkg/snap/snapapi/routes.go, routes.Default, routes.Workers and
// routes.Schedules in pkg/platform/routes), and
// removes the functions/ directories no declaration names. It prints what was stale.
package main

import (
	"fmt"
	"os"

	"github.com/participant-roster/roster/pkg/dev/allroutes"
	"github.com/participant-roster/roster/pkg/dev/codegen"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/platform/routes"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := samtemplate.FindRoot()
	if err != nil {
		return err
	}
	out, err := codegen.Generate(root, codegen.Input{Routes: allroutes.All, Default: &routes.Default, Workers: routes.Workers, Schedules: routes.Schedules})
	if err != nil {
		return err
	}
	stale := out.Stale(root)
	if err := out.Write(root); err != nil {
		return err
	}
	for _, s := range stale {
		fmt.Println("was stale:", s)
	}
	return nil
}
