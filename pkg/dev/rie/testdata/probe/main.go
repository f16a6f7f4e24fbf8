// Command probe is a Lambda function for the emulator harness's own tests: it answers with its
// environment, sleeps, or fails, as the event asks.
package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	Action string        `json:"action"` // "env", "sleep" or "fail"
	Sleep  time.Duration `json:"sleep"`  // for "sleep", in nanoseconds
}

func handle(_ context.Context, r request) (map[string]string, error) {
	switch r.Action {
	case "env":
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return env, nil
	case "sleep": // past the deadline too, as a stuck function would
		time.Sleep(r.Sleep)
		return map[string]string{"slept": r.Sleep.String()}, nil
	case "fail":
		return nil, errors.New("probe failed as asked")
	}
	return nil, errors.New("unknown action " + r.Action)
}

func main() { lambda.Start(handle) }
