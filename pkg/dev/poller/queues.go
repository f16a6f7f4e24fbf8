package poller

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// CreateQueues creates (or finds, SQS's CreateQueue being idempotent for equal attributes) a
// dead-letter queue name+"-dlq" and the queue name, whose redrive policy moves a message to
// the DLQ after maxReceiveCount receives. For local runs and tests: on AWS, template.yaml
// makes them.
func CreateQueues(ctx context.Context, client *sqs.Client, name string, visibility time.Duration, maxReceiveCount int) (queueURL, dlqURL string, err error) {
	dlq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		return "", "", fmt.Errorf("poller: create DLQ: %w", err)
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", fmt.Errorf("poller: DLQ ARN: %w", err)
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
		return "", "", fmt.Errorf("poller: create queue: %w", err)
	}
	return aws.ToString(q.QueueUrl), aws.ToString(dlq.QueueUrl), nil
}
