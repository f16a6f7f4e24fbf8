// Package localenv holds the defaults of the local stack, written once: what `make run`
// (cmd/local-api) starts, and so what `make invoke` (cmd/invoke) and the admin CLI
// (cmd/roster-admin) reach when nothing says otherwise.
package localenv

import "strconv"

const (
	// Table is the local table's name.
	Table = "roster-local"
	// DynamoDBPort is DynamoDB Local's port, on 127.0.0.1.
	DynamoDBPort = 8000
	// APIPort is the local API server's port, on 127.0.0.1.
	APIPort = 3000
	// ImportQueue is the local import queue's name (its DLQ is ImportQueue+"-dlq").
	ImportQueue = "roster-local-imports"
	// SQSPort is the local SQS's (moto_server's) port, on 127.0.0.1.
	SQSPort = 9324
	// SQSAccount is the account id in moto_server's queue URLs.
	SQSAccount = "123456789012"
	// ContainerHost is this machine as a SAM CLI container sees it (Docker Desktop's name for
	// it), for env.json.
	ContainerHost = "host.docker.internal"
)

// DynamoDBEndpoint is DynamoDB Local's URL at its default port.
var DynamoDBEndpoint = "http://127.0.0.1:" + strconv.Itoa(DynamoDBPort)
