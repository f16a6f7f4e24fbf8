package ddb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// NewClient returns a metered client: on AWS (endpoint "") with the ordinary credentials and
// region; on a local endpoint (DynamoDB Local) with dummy credentials and nothing read from
// the developer's AWS config, so a stale profile cannot break local runs and local runs can
// never reach AWS.
func NewClient(ctx context.Context, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	opts := append([]func(*dynamodb.Options){MeterOption}, optFns...)
	if endpoint != "" {
		return dynamodb.New(dynamodb.Options{
			Region:      "us-east-1",
			Credentials: localCredentials{},
			// DynamoDB Local's error responses lack the CRC32 header the SDK checks.
			DisableValidateResponseChecksum: true,
			BaseEndpoint:                    &endpoint,
		}, opts...), nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return dynamodb.NewFromConfig(cfg, opts...), nil
}

// localCredentials are DynamoDB Local's: it accepts any.
type localCredentials struct{}

func (localCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "local"}, nil
}
