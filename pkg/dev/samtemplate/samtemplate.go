// Package samtemplate reads the project's SAM template (template.yaml) so that tests and local
// tools take routes, function settings and the DynamoDB schema from the template itself
// instead of keeping a second copy.
package samtemplate

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	cfnddb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/global"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Template is a loaded SAM template. Its functions are resolved once, at Load, so the accessors
// cannot fail.
type Template struct {
	cfn       *cloudformation.Template
	functions map[string]Function
}

// Function is one AWS::Serverless::Function as SAM deploys it: Globals.Function applied,
// with the function's own properties taking precedence.
type Function struct {
	LogicalID     string
	BuildMethod   string // Metadata.BuildMethod, "makefile" for every function here
	Handler       string
	Runtime       string
	Architectures []string
	Timeout       int               // seconds; 0 when neither Globals nor the function sets it
	MemorySize    int               // MB; 0 when neither Globals nor the function sets it
	Environment   map[string]string // Globals and function variables merged; Refs resolved as below
	// StackValues are the variables of Environment whose values only the deployed stack knows,
	// each mapped to what it refers to: a Ref to a resource or pseudo parameter maps to its
	// name (TABLE_NAME: RosterTable); any other intrinsic function maps to its JSON
	// ({"Fn::GetAtt":"ImportQueue.Arn"}), which no logical id equals. A Ref to a template
	// parameter is not one of them: its default is the value. A local run must give each of
	// these a local value, and can tell from this map when it has none.
	StackValues map[string]string
	Policies    []Policy
	Events      []Event // sorted by name
}

// Policy is one entry of a function's Policies.
type Policy struct {
	Name      string // SAM policy template (DynamoDBReadPolicy), managed policy name or ARN, or "inline"
	TableName string // the policy template's TableName, if it has one
}

// Event is one entry of a function's Events. Method, Path, ApiID and PayloadFormatVersion are
// only set for HttpApi events.
type Event struct {
	Name                 string
	Type                 string
	ApiID                string
	Method               string
	Path                 string
	PayloadFormatVersion string
}

// HTTPRoute is one HttpApi event: the function that serves Method and Path.
type HTTPRoute struct {
	LogicalID string
	Method    string
	Path      string
}

// inlinePolicy names a Policies entry that is an IAM policy document rather than a name.
const inlinePolicy = "inline"

// Load parses the template at path.
//
// A Ref to a template parameter resolves to the parameter's default and a Ref to a resource
// resolves to that resource's logical id (goformation would resolve it to nothing), so that
// for example an event's ApiID reads "RosterApi" and a policy's TableName "RosterTable".
var parseMu sync.Mutex

func Load(path string) (*Template, error) {
	// goformation's YAML tag processing mutates a package-level map, so two parses at once
	// crash the process (concurrent map iteration and write); parse one template at a time.
	parseMu.Lock()
	defer parseMu.Unlock()
	opts := &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{"Ref": refToLogicalID},
	}
	cfn, err := parse(path, opts)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	policies, err := rawPolicies(path, opts)
	if err != nil {
		return nil, err
	}
	stackValues, err := rawStackValues(path)
	if err != nil {
		return nil, err
	}
	t := &Template{cfn: cfn, functions: map[string]Function{}}
	globals, _ := cfn.GetServerlessGlobalFunction() // absent Globals.Function is fine
	for id, fn := range cfn.GetAllServerlessFunctionResources() {
		f, err := newFunction(id, fn, globals, policies[id])
		if err != nil {
			return nil, fmt.Errorf("%s: function %s: %w", path, id, err)
		}
		f.StackValues = stackValues[id]
		t.functions[id] = f
	}
	return t, nil
}

// goformation spells an HttpApi's access log property AccessLogSetting, where SAM (and so the
// template) has AccessLogSettings, and refuses the template for it. Nothing here reads an API's
// settings, so parse removes the property before goformation sees it.
const httpAPIType, accessLogSettings = "AWS::Serverless::HttpApi", "AccessLogSettings"

// parse reads the template at path as goformation.OpenWithOptions does, without the HttpApi
// properties goformation does not know.
func parse(path string, opts *intrinsics.ProcessorOptions) (*cloudformation.Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	unresolved, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, err
	}
	var tree map[string]any
	if err := json.Unmarshal(unresolved, &tree); err != nil {
		return nil, err
	}
	resources, _ := tree["Resources"].(map[string]any)
	for _, r := range resources {
		if r, ok := r.(map[string]any); ok && r["Type"] == httpAPIType {
			if props, ok := r["Properties"].(map[string]any); ok {
				delete(props, accessLogSettings)
			}
		}
	}
	stripped, err := json.Marshal(tree)
	if err != nil {
		return nil, err
	}
	return goformation.ParseJSONWithOptions(stripped, opts)
}

func refToLogicalID(name string, input interface{}, template interface{}) interface{} {
	if v := intrinsics.Ref(name, input, template); v != nil {
		return v
	}
	if s, ok := input.(string); ok && s != "AWS::NoValue" {
		return s
	}
	return nil
}

// Functions returns the logical ids of all AWS::Serverless::Function resources, sorted.
func (t *Template) Functions() []string {
	ids := make([]string, 0, len(t.functions))
	for id := range t.functions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Function returns one function by logical id.
func (t *Template) Function(logicalID string) (Function, bool) {
	f, ok := t.functions[logicalID]
	return f, ok
}

// HTTPRoutes returns every HttpApi event of every function, sorted by logical id then event name.
func (t *Template) HTTPRoutes() []HTTPRoute {
	var routes []HTTPRoute
	for _, id := range t.Functions() {
		for _, ev := range t.functions[id].Events {
			if ev.Type == "HttpApi" {
				routes = append(routes, HTTPRoute{LogicalID: id, Method: ev.Method, Path: ev.Path})
			}
		}
	}
	return routes
}

// Tables returns the logical ids of all AWS::DynamoDB::Table resources, sorted.
func (t *Template) Tables() []string {
	var ids []string
	for id := range t.cfn.GetAllDynamoDBTableResources() {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// TableInput turns the AWS::DynamoDB::Table logicalID into a CreateTable request for a table
// named tableName. Settings that CreateTable does not take or that DynamoDB Local ignores
// (point-in-time recovery, encryption, tags, deletion policies) are left out. It fails on what
// it cannot carry over faithfully, so a local table never silently differs from the deployed one.
func (t *Template) TableInput(logicalID, tableName string) (*dynamodb.CreateTableInput, error) {
	table, err := t.cfn.GetDynamoDBTableWithName(logicalID)
	if err != nil {
		return nil, err
	}
	if table.BillingMode == nil || *table.BillingMode != string(types.BillingModePayPerRequest) {
		return nil, fmt.Errorf("table %s: only BillingMode PAY_PER_REQUEST is supported", logicalID)
	}
	if len(table.LocalSecondaryIndexes) > 0 {
		return nil, fmt.Errorf("table %s: LocalSecondaryIndexes are not supported", logicalID)
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(tableName),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   keySchema(table.KeySchema),
	}
	for _, a := range table.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName),
			AttributeType: types.ScalarAttributeType(a.AttributeType),
		})
	}
	for _, g := range table.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(g.IndexName),
			KeySchema:  keySchema(g.KeySchema),
			Projection: projection(g.Projection),
		})
	}
	return in, nil
}

// TTLAttribute returns the time-to-live attribute of the AWS::DynamoDB::Table logicalID, ""
// when it has none enabled.
func (t *Template) TTLAttribute(logicalID string) (string, error) {
	table, err := t.cfn.GetDynamoDBTableWithName(logicalID)
	if err != nil {
		return "", err
	}
	ttl := table.TimeToLiveSpecification
	if ttl == nil || !ttl.Enabled {
		return "", nil
	}
	return aws.ToString(ttl.AttributeName), nil
}

func keySchema(keys []cfnddb.Table_KeySchema) []types.KeySchemaElement {
	var out []types.KeySchemaElement
	for _, k := range keys {
		out = append(out, types.KeySchemaElement{
			AttributeName: aws.String(k.AttributeName),
			KeyType:       types.KeyType(k.KeyType),
		})
	}
	return out
}

func projection(p *cfnddb.Table_Projection) *types.Projection {
	if p == nil {
		return nil // CloudFormation requires a projection; let CreateTable report its absence
	}
	return &types.Projection{
		ProjectionType:   types.ProjectionType(aws.ToString(p.ProjectionType)),
		NonKeyAttributes: p.NonKeyAttributes,
	}
}

// FindRoot returns the nearest directory, from the working directory upwards, that holds
// go.mod: the repository root, where template.yaml lives.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or any parent")
		}
		dir = parent
	}
}

func newFunction(id string, fn *serverless.Function, g *global.Function, policies []Policy) (Function, error) {
	if g == nil {
		g = &global.Function{}
	}
	f := Function{
		LogicalID:     id,
		Handler:       firstSet(fn.Handler, g.Handler),
		Runtime:       firstSet(fn.Runtime, g.Runtime),
		Architectures: fn.Architectures,
		Timeout:       firstInt(fn.Timeout, g.Timeout),
		MemorySize:    firstInt(fn.MemorySize, g.MemorySize),
		Environment:   map[string]string{},
		Policies:      policies,
	}
	if len(f.Architectures) == 0 && g.Architectures != nil {
		f.Architectures = *g.Architectures
	}
	f.BuildMethod, _ = fn.AWSCloudFormationMetadata["BuildMethod"].(string)
	// SAM merges environment variables key by key, the function's winning.
	for _, env := range []*serverless.Function_FunctionEnvironment{g.Environment, fn.Environment} {
		if env != nil {
			for k, v := range env.Variables {
				f.Environment[k] = v
			}
		}
	}
	var err error
	f.Events, err = events(fn.Events)
	return f, err
}

func firstSet(vals ...*string) string {
	for _, v := range vals {
		if v != nil {
			return *v
		}
	}
	return ""
}

func firstInt(vals ...*int) int {
	for _, v := range vals {
		if v != nil {
			return *v
		}
	}
	return 0
}

func events(in map[string]serverless.Function_EventSource) ([]Event, error) {
	var out []Event
	for name, src := range in {
		ev := Event{Name: name, Type: src.Type}
		if src.Type == "HttpApi" {
			// goformation fills whichever event shapes the properties fit; for an HttpApi
			// event the HttpApi shape must be among them.
			if src.Properties == nil || src.Properties.HttpApiEvent == nil {
				return nil, fmt.Errorf("event %s: HttpApi properties not understood", name)
			}
			h := src.Properties.HttpApiEvent
			ev.ApiID = aws.ToString(h.ApiId)
			ev.Method = aws.ToString(h.Method)
			ev.Path = aws.ToString(h.Path)
			ev.PayloadFormatVersion = aws.ToString(h.PayloadFormatVersion)
		}
		out = append(out, ev)
	}
	slices.SortFunc(out, func(a, b Event) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// rawPolicies reads each serverless function's Policies from the template's resolved JSON.
// goformation's typed Policies cannot be used: a list is decoded into its string,
// policy-document and policy-template forms all at once, so which entries are which is lost.
func rawPolicies(path string, opts *intrinsics.ProcessorOptions) (map[string][]Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	resolved, err := intrinsics.ProcessYAML(data, opts)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	var raw struct {
		Resources map[string]struct {
			Type       string
			Properties struct{ Policies json.RawMessage }
		}
	}
	if err := json.Unmarshal(resolved, &raw); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	out := map[string][]Policy{}
	for id, res := range raw.Resources {
		if res.Type != "AWS::Serverless::Function" || len(res.Properties.Policies) == 0 {
			continue
		}
		if out[id], err = parsePolicies(res.Properties.Policies); err != nil {
			return nil, fmt.Errorf("%s: function %s: Policies: %w", path, id, err)
		}
	}
	return out, nil
}

// parsePolicies accepts SAM's forms: a name, a policy document, or a list of names, policy
// documents and single-key policy templates ({DynamoDBReadPolicy: {TableName: ...}}).
func parsePolicies(msg json.RawMessage) ([]Policy, error) {
	var v interface{}
	if err := json.Unmarshal(msg, &v); err != nil {
		return nil, err
	}
	list, ok := v.([]interface{})
	if !ok {
		list = []interface{}{v}
	}
	var out []Policy
	for _, item := range list {
		switch item := item.(type) {
		case string:
			out = append(out, Policy{Name: item})
		case map[string]interface{}:
			out = append(out, mapPolicies(item)...)
		default:
			return nil, fmt.Errorf("unexpected entry %v", item)
		}
	}
	return out, nil
}

func mapPolicies(m map[string]interface{}) []Policy {
	if _, ok := m["Statement"]; ok {
		return []Policy{{Name: inlinePolicy}}
	}
	var out []Policy
	for name, params := range m {
		p := Policy{Name: name}
		if params, ok := params.(map[string]interface{}); ok {
			p.TableName, _ = params["TableName"].(string)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Policy) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// rawStackValues finds, for each serverless function, the environment variables (Globals' and
// its own, merged as SAM does) set by an intrinsic function other than a Ref to a template
// parameter; see Function.StackValues. It reads the template with intrinsics left as written,
// since resolved they can no longer be told from literals.
func rawStackValues(path string) (map[string]map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	unresolved, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	type environment struct {
		Variables map[string]json.RawMessage
	}
	var raw struct {
		Parameters map[string]json.RawMessage
		Globals    struct {
			Function struct{ Environment environment }
		}
		Resources map[string]struct {
			Type       string
			Properties struct{ Environment environment }
		}
	}
	if err := json.Unmarshal(unresolved, &raw); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	out := map[string]map[string]string{}
	for id, res := range raw.Resources {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		vars := maps.Clone(raw.Globals.Function.Environment.Variables)
		if vars == nil {
			vars = map[string]json.RawMessage{}
		}
		maps.Copy(vars, res.Properties.Environment.Variables)
		values := map[string]string{}
		for name, v := range vars {
			if ref, ok := stackValue(v, raw.Parameters); ok {
				values[name] = ref
			}
		}
		out[id] = values
	}
	return out, nil
}

// stackValue tells what a variable's value refers to, when the deployed stack supplies it.
func stackValue(v json.RawMessage, params map[string]json.RawMessage) (string, bool) {
	var fn map[string]json.RawMessage
	if json.Unmarshal(v, &fn) != nil {
		return "", false // a literal
	}
	var ref string
	if len(fn) == 1 && json.Unmarshal(fn["Ref"], &ref) == nil {
		if _, isParameter := params[ref]; isParameter {
			return "", false
		}
		return ref, true
	}
	compact, err := json.Marshal(fn)
	if err != nil {
		return string(v), true
	}
	return string(compact), true
}
