package rie

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/participant-roster/roster/pkg/dev/localenv"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
)

// EnvVarsFile is the SAM CLI's environment file, `sam local invoke|start-api --env-vars
// env.json`, relative to the repository root; `make generate` writes it (SAMEnvVars).
const EnvVarsFile = "env.json"

// ContainerStack is `make run`'s local stack as a SAM CLI container sees it: its table, and
// DynamoDB Local and the local SQS at their default ports on localenv.ContainerHost.
func ContainerStack() Stack {
	host := "http://" + localenv.ContainerHost + ":"
	sqs := host + strconv.Itoa(localenv.SQSPort)
	return Stack{
		Table:            localenv.Table,
		DynamoDBEndpoint: host + strconv.Itoa(localenv.DynamoDBPort),
		QueueURL:         sqs + "/" + localenv.SQSAccount + "/" + localenv.ImportQueue,
		SQSEndpoint:      sqs,
	}
}

// SAMEnvVars is the SAM CLI environment file for every function of tpl: by logical id, the
// variables that must differ locally (LocalValues against stack), as indented JSON. The SAM
// CLI sets only the variables the template declares, so every one of them must be declared
// there (Globals declares the endpoints, empty).
func SAMEnvVars(tpl *samtemplate.Template, stack Stack) ([]byte, error) {
	file := map[string]map[string]string{}
	for _, id := range tpl.Functions() {
		fn, _ := tpl.Function(id)
		local, err := LocalValues(fn, stack)
		if err != nil {
			return nil, err
		}
		file[id] = local
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(file); err != nil { // maps: sorted keys, so the same file every time
		return nil, err
	}
	return b.Bytes(), nil
}
