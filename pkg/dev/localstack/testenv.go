package localstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"time"
)

// EndpointEnv names the environment variable holding the DynamoDB endpoint
// shared by a whole test run (set by cmd/withstack).
const EndpointEnv = "DYNAMODB_ENDPOINT"

// DynamoDBEndpoint returns the DynamoDB endpoint tests should use. When
// $DYNAMODB_ENDPOINT is set (e.g. `make test` runs under cmd/withstack) it is
// returned as is and stop does nothing, so all packages share one DynamoDB
// Local. Otherwise (`go test ./pkg/x` alone) it starts a private in-memory
// DynamoDB Local on a free port, and stop shuts it down.
//
// Tests sharing one endpoint must not collide: use UniqueTableName.
func DynamoDBEndpoint(ctx context.Context) (endpoint string, stop func(), err error) {
	if ep := os.Getenv(EndpointEnv); ep != "" {
		return ep, func() {}, nil
	}
	d, err := StartDynamoDB(ctx, DynamoDBOptions{}) // Root "": walk up to go.mod
	if err != nil {
		return "", nil, err
	}
	return d.Endpoint, func() { _ = d.Stop() }, nil
}

// UniqueTableName returns prefix-<unix nanos>-<random hex>, a table name that
// does not clash with other tests or earlier runs on a shared or persistent
// DynamoDB. Characters DynamoDB rejects (anything but letters, digits, '_',
// '-', '.') are replaced with '-', so t.Name() of a subtest is a fine prefix.
func UniqueTableName(prefix string) string {
	var r [4]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails (Go 1.24+)
	suffix := "-" + strconv.FormatInt(time.Now().UnixNano(), 10) + "-" + hex.EncodeToString(r[:])
	return sanitizeTableName(prefix) + suffix
}

// sanitizeTableName maps prefix onto DynamoDB's table name alphabet and keeps
// it short enough that prefix+suffix stays under the 255 character limit.
func sanitizeTableName(prefix string) string {
	const maxPrefix = 200
	if prefix == "" {
		prefix = "table"
	}
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '_', r == '-', r == '.':
			return r
		}
		return '-'
	}, prefix)
	if len(clean) > maxPrefix {
		clean = clean[:maxPrefix]
	}
	return clean
}

// SQSEndpointEnv names the environment variable holding the local SQS
// (moto_server) endpoint shared by a whole test run (set by cmd/withstack).
const SQSEndpointEnv = "SQS_ENDPOINT"

// SQSEndpoint returns the SQS endpoint tests should use. When $SQS_ENDPOINT is
// set (e.g. under cmd/withstack) it is returned as is and stop does nothing,
// so all packages share one moto_server. Otherwise it starts a private
// moto_server on a free 127.0.0.1 port, and stop shuts it down.
//
// Tests sharing one endpoint must not collide: use UniqueQueueName.
func SQSEndpoint(ctx context.Context) (endpoint string, stop func(), err error) {
	if ep := os.Getenv(SQSEndpointEnv); ep != "" {
		return ep, func() {}, nil
	}
	s, err := StartSQS(ctx, SQSOptions{})
	if err != nil {
		return "", nil, err
	}
	return s.Endpoint, func() { _ = s.Stop() }, nil
}

// UniqueQueueName is UniqueTableName for SQS: prefix-<unix nanos>-<random
// hex>, with characters SQS rejects in a standard queue name (anything but
// letters, digits, '_', '-') replaced with '-' and the prefix cut so that the
// whole name fits SQS's 80 characters.
func UniqueQueueName(prefix string) string {
	const maxName = 80
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	suffix := "-" + strconv.FormatInt(time.Now().UnixNano(), 10) + "-" + hex.EncodeToString(rnd[:])
	if prefix == "" {
		prefix = "queue"
	}
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '-'
	}, prefix)
	if limit := maxName - len(suffix); len(clean) > limit {
		clean = clean[:limit]
	}
	return clean + suffix
}
