package codegen_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/participant-roster/roster/pkg/dev/codegen"
	"github.com/participant-roster/roster/pkg/dev/rie"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
)

// env.json, the SAM CLI's environment file, is what `make generate` writes from template.yaml
// (rie.SAMEnvVars), and names only variables the template declares for each function: the
// SAM CLI ignores any other.
func TestEnvJSONIsCurrent(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := rie.SAMEnvVars(tpl, rie.ContainerStack())
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(filepath.Join(root, rie.EnvVarsFile))
	if err != nil {
		t.Fatalf("%v (run make generate)", err)
	}
	if d, ok := codegen.FirstDifference(have, want); ok {
		t.Fatalf("%s is stale (run make generate):%s", rie.EnvVarsFile, d)
	}

	var file map[string]map[string]string
	if err := json.Unmarshal(have, &file); err != nil {
		t.Fatal(err)
	}
	if len(file) != len(tpl.Functions()) {
		t.Errorf("%s has %d functions, template.yaml %d", rie.EnvVarsFile, len(file), len(tpl.Functions()))
	}
	queued := 0
	for id, vars := range file {
		fn, ok := tpl.Function(id)
		if !ok {
			t.Errorf("%s: no such function in template.yaml", id)
			continue
		}
		for name := range vars {
			if _, declared := fn.Environment[name]; !declared {
				t.Errorf("%s: %s is not declared in template.yaml, so sam local would ignore it", id, name)
			}
		}
		if vars["TABLE_NAME"] != rie.ContainerStack().Table || vars["DYNAMODB_ENDPOINT"] != rie.ContainerStack().DynamoDBEndpoint {
			t.Errorf("%s: %v, want the local table at DynamoDB Local as a container sees it", id, vars)
		}
		if vars["IMPORT_QUEUE_URL"] != "" {
			queued++
			if vars["SQS_ENDPOINT"] != rie.ContainerStack().SQSEndpoint {
				t.Errorf("%s: IMPORT_QUEUE_URL without the local SQS_ENDPOINT: %v", id, vars)
			}
		}
	}
	if queued < 3 {
		t.Errorf("%d functions of %s have the local queue, want both import functions and the worker", queued, rie.EnvVarsFile)
	}
}
