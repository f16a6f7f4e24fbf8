package localstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/localstack"
)

// smallTable is a one-key on-demand table.
func smallTable(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
		},
	}
}

func newClient(t *testing.T, ctx context.Context, endpoint string) *dynamodb.Client {
	t.Helper()
	c, err := localstack.NewClient(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCapacityReported proves the local stack reports consumed capacity,
// which the benchmark relies on, and that CreateTable is idempotent.
func TestCapacityReported(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	endpoint, stop, err := localstack.DynamoDBEndpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	t.Logf("DynamoDB Local at %s, ready in %v", endpoint, time.Since(start).Round(time.Millisecond))

	c := newClient(t, ctx, endpoint)
	table := localstack.UniqueTableName(t.Name())
	for i := range 2 { // the second call hits ResourceInUseException
		if err := localstack.CreateTable(ctx, c, smallTable(table)); err != nil {
			t.Fatalf("CreateTable call %d: %v", i+1, err)
		}
	}

	item := map[string]types.AttributeValue{
		"pk":   &types.AttributeValueMemberS{Value: "p1"},
		"name": &types.AttributeValueMemberS{Value: "Ada"},
	}
	put, err := c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:              aws.String(table),
		Item:                   item,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkCapacity(t, "PutItem", put.ConsumedCapacity)

	get, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:              aws.String(table),
		Key:                    map[string]types.AttributeValue{"pk": item["pk"]},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkCapacity(t, "GetItem", get.ConsumedCapacity)
	if got := get.Item["name"]; got == nil || got.(*types.AttributeValueMemberS).Value != "Ada" {
		t.Fatalf("GetItem returned %v, want name=Ada", get.Item)
	}
}

func checkCapacity(t *testing.T, op string, cc *types.ConsumedCapacity) {
	t.Helper()
	if cc == nil || cc.CapacityUnits == nil || *cc.CapacityUnits <= 0 {
		t.Fatalf("%s: consumed capacity not reported: %+v", op, cc)
	}
	t.Logf("%s consumed %.1f capacity units", op, *cc.CapacityUnits)
}

// TestDataDirPersists checks that DataDir survives a Stop and a new Start,
// which the local API server relies on to keep data between runs.
func TestDataDirPersists(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	table := localstack.UniqueTableName(t.Name())
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "kept"}}

	db := start(t, ctx, dataDir)
	c := newClient(t, ctx, db.Endpoint)
	if err := localstack.CreateTable(ctx, c, smallTable(table)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key}); err != nil {
		t.Fatal(err)
	}
	if err := db.Stop(); err != nil {
		t.Fatal(err)
	}
	noRetry := func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} } // fail fast
	if _, err := c.ListTables(ctx, &dynamodb.ListTablesInput{}, noRetry); err == nil {
		t.Fatal("DynamoDB Local still answers after Stop")
	}

	db = start(t, ctx, dataDir)
	c = newClient(t, ctx, db.Endpoint)
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if got.Item == nil {
		t.Fatal("item written before Stop is gone after restart")
	}
}

func start(t *testing.T, ctx context.Context, dataDir string) *localstack.DynamoDB {
	t.Helper()
	begin := time.Now()
	db, err := localstack.StartDynamoDB(ctx, localstack.DynamoDBOptions{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Stop() }) // no-op after an explicit Stop
	t.Logf("started %s in %v", db.Endpoint, time.Since(begin).Round(time.Millisecond))
	return db
}
