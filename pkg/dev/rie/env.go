package rie

import (
	"errors"
	"fmt"
	"maps"
	"strconv"

	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/dev/testkit"
)

// The template's resources that the local stack stands in for.
const (
	TableResource = testkit.TableLogicalID // the DynamoDB table
	QueueResource = "ImportQueue"          // the import jobs' SQS queue
)

// Stack is the local stand-in for the deployed stack: DynamoDB Local and moto_server.
type Stack struct {
	Table            string // the local table standing in for RosterTable
	QueueURL         string // the local queue standing in for ImportQueue; "" when there is none
	DynamoDBEndpoint string
	SQSEndpoint      string
	// Set gives variables other values than the template's, in the functions that declare
	// them (a local run's Snap limits).
	Set map[string]string
}

// The emulator's settings (see the package doc).
const (
	functionNameEnv = "AWS_LAMBDA_FUNCTION_NAME"
	timeoutEnv      = "AWS_LAMBDA_FUNCTION_TIMEOUT"
	memorySizeEnv   = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
)

// localRegion is the region the local DynamoDB and SQS clients sign for.
const localRegion = "us-east-1"

// Environment is the whole environment of fn under the emulator against stack, as the package
// doc lists it. It fails on a value only the deployed stack knows that stack has no local value
// for, naming the variable.
func Environment(fn samtemplate.Function, stack Stack) (map[string]string, error) {
	local, err := LocalValues(fn, stack)
	if err != nil {
		return nil, err
	}
	env := maps.Clone(fn.Environment)
	if env == nil {
		env = map[string]string{}
	}
	maps.Copy(env, local)
	env["AWS_REGION"] = localRegion
	env["AWS_ACCESS_KEY_ID"] = "local"
	env["AWS_SECRET_ACCESS_KEY"] = "local"

	env[functionNameEnv] = fn.LogicalID
	if fn.Timeout > 0 {
		env[timeoutEnv] = strconv.Itoa(fn.Timeout)
	}
	if fn.MemorySize > 0 {
		env[memorySizeEnv] = strconv.Itoa(fn.MemorySize)
	}
	return env, nil
}

// LocalValues are the variables of fn that must differ from the deployed stack's to run it
// against stack: each value only the deployed stack knows, given stack's (the table's name,
// the queue's URL), DYNAMODB_ENDPOINT, and SQS_ENDPOINT for a function that uses the queue.
func LocalValues(fn samtemplate.Function, stack Stack) (map[string]string, error) {
	local := map[string]string{}
	usesQueue := false
	for name, ref := range fn.StackValues {
		value, err := stack.resolve(ref)
		if err != nil {
			return nil, fmt.Errorf("rie: %s: %s (%s in template.yaml): %w", fn.LogicalID, name, ref, err)
		}
		usesQueue = usesQueue || ref == QueueResource
		local[name] = value
	}
	for name, value := range stack.Set {
		if _, declared := fn.Environment[name]; declared {
			local[name] = value
		}
	}
	local["DYNAMODB_ENDPOINT"] = stack.DynamoDBEndpoint
	if usesQueue {
		local["SQS_ENDPOINT"] = stack.SQSEndpoint
	}
	return local, nil
}

// resolve is the local value of a template resource the environment refers to.
func (s Stack) resolve(ref string) (string, error) {
	var value, hint string
	switch ref {
	case TableResource:
		value, hint = s.Table, "no local table was given"
	case QueueResource:
		value, hint = s.QueueURL, "no local queue was given (IMPORT_QUEUE_URL and SQS_ENDPOINT)"
		if s.SQSEndpoint == "" {
			value = "" // a queue URL alone would send to AWS's SQS
		}
	default:
		return "", fmt.Errorf("the local stack has no value for it (it has %s and %s): give pkg/dev/rie's Stack one", TableResource, QueueResource)
	}
	if value == "" {
		return "", errors.New(hint)
	}
	return value, nil
}
