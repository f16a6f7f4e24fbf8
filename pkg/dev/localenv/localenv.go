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
)

// DynamoDBEndpoint is DynamoDB Local's URL at its default port.
var DynamoDBEndpoint = "http://127.0.0.1:" + strconv.Itoa(DynamoDBPort)
