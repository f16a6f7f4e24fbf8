package imports

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// NewSQSClient returns an SQS client: on AWS (endpoint "") from the ordinary configuration; on
// a local endpoint (moto_server) with static dummy credentials, region us-east-1 and nothing
// read from the developer's AWS configuration, so local runs can never reach AWS.
func NewSQSClient(ctx context.Context, endpoint string) (*sqs.Client, error) {
	if endpoint != "" {
		return sqs.New(sqs.Options{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
			BaseEndpoint: aws.String(endpoint),
		}), nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return sqs.NewFromConfig(cfg), nil
}

// CreateQueues creates (or finds, SQS's CreateQueue being idempotent for equal attributes) a
// dead-letter queue name+"-dlq" and the queue name, whose redrive policy moves a message to
// the DLQ after maxReceiveCount receives. For local runs and tests: on AWS, template.yaml
// makes them.
func CreateQueues(ctx context.Context, client *sqs.Client, name string, visibility time.Duration, maxReceiveCount int) (queueURL, dlqURL string, err error) {
	dlq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		return "", "", fmt.Errorf("imports: create DLQ: %w", err)
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", fmt.Errorf("imports: DLQ ARN: %w", err)
	}
	policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`,
		attrs.Attributes[string(types.QueueAttributeNameQueueArn)], maxReceiveCount)
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(name),
		Attributes: map[string]string{
			string(types.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(max(visibility.Round(time.Second)/time.Second, 0))),
			string(types.QueueAttributeNameRedrivePolicy):     policy,
		},
	})
	if err != nil {
		return "", "", fmt.Errorf("imports: create queue: %w", err)
	}
	return aws.ToString(q.QueueUrl), aws.ToString(dlq.QueueUrl), nil
}
