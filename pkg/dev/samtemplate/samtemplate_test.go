package samtemplate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/platform/ddb"
)

// sample exercises what Load must get right: Globals applied under function overrides,
// every Policies form SAM accepts, Refs to parameters and resources, values only the stack
// knows, and non-HttpApi events.
const sample = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Architectures: [arm64]
    Timeout: 10
    MemorySize: 256
    LoggingConfig:
      LogFormat: JSON
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        STAGE: !Ref Stage
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: g, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
      GlobalSecondaryIndexes:
        - IndexName: byG
          KeySchema:
            - {AttributeName: g, KeyType: HASH}
          Projection:
            ProjectionType: INCLUDE
            NonKeyAttributes: [name]
  Provisioned:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
      ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}
  Reader:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      Policies:
        - DynamoDBReadPolicy:
            TableName: !Ref Table
      Events:
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: GET
            Path: /things/{id}
            PayloadFormatVersion: "2.0"
        List:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: GET
            Path: /things
  Other:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2
      Architectures: [x86_64]
      Timeout: 60
      Environment:
        Variables:
          STAGE: test
          QUEUE_ARN: !GetAtt Queue.Arn
          REGION: !Ref AWS::Region
          LITERAL_MAP: "{\"Ref\": \"Table\"}"
      Policies:
        - AWSLambdaBasicExecutionRole
        - Statement:
            - Effect: Allow
              Action: s3:GetObject
              Resource: "*"
        - DynamoDBCrudPolicy: {TableName: other}
      Events:
        Tick:
          Type: Schedule
          Properties:
            Schedule: rate(1 hour)
  Single:
    Type: AWS::Serverless::Function
    Properties:
      Policies: AWSLambdaBasicExecutionRole
`

func loadSample(t *testing.T) *Template {
	t.Helper()
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return tmpl
}

func TestFunctions(t *testing.T) {
	tmpl := loadSample(t)
	if got, want := tmpl.Functions(), []string{"Other", "Reader", "Single"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Functions() = %v, want %v", got, want)
	}
	if _, ok := tmpl.Function("Api"); ok {
		t.Error(`Function("Api") found an HttpApi`)
	}
}

func TestFunctionAppliesGlobals(t *testing.T) {
	tmpl := loadSample(t)
	reader := mustFunction(t, tmpl, "Reader")
	want := Function{
		LogicalID:     "Reader",
		BuildMethod:   "makefile",
		Handler:       "bootstrap",
		Runtime:       "provided.al2023",
		Architectures: []string{"arm64"},
		Timeout:       10,
		MemorySize:    256,
		Environment:   map[string]string{"TABLE_NAME": "Table", "STAGE": "dev"},
		StackValues:   map[string]string{"TABLE_NAME": "Table"},
		Policies:      []Policy{{Name: "DynamoDBReadPolicy", TableName: "Table"}},
		Events: []Event{
			{Name: "Get", Type: "HttpApi", ApiID: "Api", Method: "GET", Path: "/things/{id}", PayloadFormatVersion: "2.0"},
			{Name: "List", Type: "HttpApi", ApiID: "Api", Method: "GET", Path: "/things"},
		},
	}
	if !reflect.DeepEqual(reader, want) {
		t.Errorf("Reader =\n%+v\nwant\n%+v", reader, want)
	}

	other := mustFunction(t, tmpl, "Other")
	if other.Runtime != "provided.al2" || !reflect.DeepEqual(other.Architectures, []string{"x86_64"}) {
		t.Errorf("Other: function properties must override Globals, got %q %v", other.Runtime, other.Architectures)
	}
	if other.Handler != "bootstrap" || other.BuildMethod != "" {
		t.Errorf("Other: Handler %q BuildMethod %q", other.Handler, other.BuildMethod)
	}
	if other.Timeout != 60 || other.MemorySize != 256 {
		t.Errorf("Other: Timeout %d MemorySize %d, want its own 60 and Globals' 256", other.Timeout, other.MemorySize)
	}
	if got := other.Environment; got["TABLE_NAME"] != "Table" || got["STAGE"] != "test" || got["LITERAL_MAP"] != `{"Ref": "Table"}` {
		t.Errorf("Other.Environment = %v, want Globals' TABLE_NAME, its own STAGE and LITERAL_MAP", got)
	}
	wantStack := map[string]string{"TABLE_NAME": "Table", "QUEUE_ARN": `{"Fn::GetAtt":"Queue.Arn"}`, "REGION": "AWS::Region"}
	if !reflect.DeepEqual(other.StackValues, wantStack) {
		t.Errorf("Other.StackValues = %v, want %v (the parameter STAGE and the literals are not stack values)", other.StackValues, wantStack)
	}
	if want := []Event{{Name: "Tick", Type: "Schedule"}}; !reflect.DeepEqual(other.Events, want) {
		t.Errorf("Other.Events = %+v, want %+v", other.Events, want)
	}
}

func TestPolicies(t *testing.T) {
	tmpl := loadSample(t)
	tests := map[string][]Policy{
		"Other": {
			{Name: "AWSLambdaBasicExecutionRole"},
			{Name: "inline"},
			{Name: "DynamoDBCrudPolicy", TableName: "other"},
		},
		"Single": {{Name: "AWSLambdaBasicExecutionRole"}},
	}
	for id, want := range tests {
		if got := mustFunction(t, tmpl, id).Policies; !reflect.DeepEqual(got, want) {
			t.Errorf("%s.Policies = %+v, want %+v", id, got, want)
		}
	}
}

func TestHTTPRoutes(t *testing.T) {
	want := []HTTPRoute{
		{LogicalID: "Reader", Method: "GET", Path: "/things/{id}"},
		{LogicalID: "Reader", Method: "GET", Path: "/things"},
	}
	if got := loadSample(t).HTTPRoutes(); !reflect.DeepEqual(got, want) {
		t.Errorf("HTTPRoutes() = %+v, want %+v", got, want)
	}
}

func TestTableInput(t *testing.T) {
	tmpl := loadSample(t)
	if got, want := tmpl.Tables(), []string{"Provisioned", "Table"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Tables() = %v, want %v", got, want)
	}
	in, err := tmpl.TableInput("Table", "local-table")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.TableName) != "local-table" || in.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("TableName %q BillingMode %q", aws.ToString(in.TableName), in.BillingMode)
	}
	if got := attrs(in.AttributeDefinitions); got != "pk:S g:N" {
		t.Errorf("AttributeDefinitions = %s", got)
	}
	if got := keys(in.KeySchema); got != "pk:HASH" {
		t.Errorf("KeySchema = %s", got)
	}
	if len(in.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("GlobalSecondaryIndexes = %d, want 1", len(in.GlobalSecondaryIndexes))
	}
	gsi := in.GlobalSecondaryIndexes[0]
	if aws.ToString(gsi.IndexName) != "byG" || keys(gsi.KeySchema) != "g:HASH" {
		t.Errorf("GSI %s %s", aws.ToString(gsi.IndexName), keys(gsi.KeySchema))
	}
	if p := gsi.Projection; p.ProjectionType != types.ProjectionTypeInclude || !reflect.DeepEqual(p.NonKeyAttributes, []string{"name"}) {
		t.Errorf("Projection = %+v", p)
	}
}

func TestTableInputRefusesWhatItCannotCopy(t *testing.T) {
	tmpl := loadSample(t)
	for _, id := range []string{"Provisioned", "Missing", "Reader"} {
		if _, err := tmpl.TableInput(id, "x"); err == nil {
			t.Errorf("TableInput(%q) succeeded", id)
		}
	}
}

// The project's own template must load, and its tables must convert, since local tools
// create their tables from it.
func TestProjectTemplate(t *testing.T) {
	root, err := FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tmpl.Functions()) == 0 || len(tmpl.Tables()) == 0 {
		t.Fatalf("functions %v, tables %v", tmpl.Functions(), tmpl.Tables())
	}
	for _, id := range tmpl.Tables() {
		if _, err := tmpl.TableInput(id, id); err != nil {
			t.Error(err)
		}
	}
}

// The table's TTL attribute is the one the stores write (ddb.TTLAttribute), so expired jobs,
// results and idempotency records really are deleted.
func TestProjectTableTTL(t *testing.T) {
	root, err := FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range tmpl.Tables() {
		if got, err := tmpl.TTLAttribute(id); err != nil || got != ddb.TTLAttribute {
			t.Errorf("table %s: TTL attribute %q (%v), want %q", id, got, err, ddb.TTLAttribute)
		}
	}
}

func TestFindRoot(t *testing.T) {
	root := t.TempDir()
	nested := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(nested)
	got, err := FindRoot()
	if err != nil || got != root {
		t.Errorf("FindRoot() = %q, %v; want %q", got, err, root)
	}
}

func mustFunction(t *testing.T, tmpl *Template, id string) Function {
	t.Helper()
	f, ok := tmpl.Function(id)
	if !ok {
		t.Fatalf("no function %s", id)
	}
	return f
}

func attrs(defs []types.AttributeDefinition) string {
	var s []string
	for _, d := range defs {
		s = append(s, aws.ToString(d.AttributeName)+":"+string(d.AttributeType))
	}
	return strings.Join(s, " ")
}

func keys(schema []types.KeySchemaElement) string {
	var s []string
	for _, k := range schema {
		s = append(s, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	return strings.Join(s, " ")
}
