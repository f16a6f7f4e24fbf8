// Command generate (`make generate`) writes template.yaml's route, $default and scheduled
// functions, the Makefile's build targets and functions/ from the declarations
// (pkg/spot/spotapi/routes.go, pkg/snap/snapapi/routes.go, routes.Default, routes.Workers and
// routes.Schedules in pkg/platform/routes), and removes the functions/ directories no
// declaration names; then env.json, the SAM CLI's environment file, from the template it wrote
// (pkg/dev/rie.SAMEnvVars). It prints what was stale.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/participant-roster/roster/pkg/dev/allroutes"
	"github.com/participant-roster/roster/pkg/dev/codegen"
	"github.com/participant-roster/roster/pkg/dev/rie"
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
	return writeEnvVars(root)
}

// writeEnvVars writes env.json, the SAM CLI's environment file, from the template just
// written (rie.SAMEnvVars).
func writeEnvVars(root string) error {
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	data, err := rie.SAMEnvVars(tpl, rie.ContainerStack())
	if err != nil {
		return err
	}
	path := filepath.Join(root, rie.EnvVarsFile)
	if have, err := os.ReadFile(path); err == nil && bytes.Equal(have, data) {
		return nil
	}
	fmt.Println("was stale:", rie.EnvVarsFile)
	return os.WriteFile(path, data, 0o644)
}
