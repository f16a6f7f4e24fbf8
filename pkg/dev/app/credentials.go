package app

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// staticCredentials are DynamoDB Local's: it accepts any.
type staticCredentials struct{}

func (staticCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "local"}, nil
}
