// Package queuewire is the import queue of the functions that send import chunks (the routes
// whose declaration sets SendsImports): only their binaries link it, and with it the SQS
// client.
package queuewire

import (
	"context"
	"os"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobqueue"
)

// FromEnv is the queue IMPORT_QUEUE_URL names (through SQS_ENDPOINT, moto_server, when set);
// nil when IMPORT_QUEUE_URL is unset, so every import runs synchronously.
func FromEnv(ctx context.Context) (jobs.Queue, error) {
	url := os.Getenv("IMPORT_QUEUE_URL")
	if url == "" {
		return nil, nil
	}
	client, err := jobqueue.NewClient(ctx, os.Getenv("SQS_ENDPOINT"))
	if err != nil {
		return nil, err
	}
	return &jobqueue.SQS{Client: client, QueueURL: url}, nil
}
