package routes_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/participant-roster/roster/pkg/dev/codegen"
	"github.com/participant-roster/roster/pkg/platform/ddb"
)

// What issue 11 ("Production-ready", point 3) requires of template.yaml, by the names the
// template gives it.
const (
	apiID             = "RosterApi"
	apiAccessLogGroup = "ApiAccessLogGroup"
	api5xxAlarm       = "ApiServerErrorRateAlarm"
	dlqDepthAlarm     = "ImportDeadLetterQueueDepthAlarm"
	rosterTable       = "RosterTable"
	importWorkerRole  = "ImportWorkerRole"

	rateParam      = "ApiThrottlingRateLimit"
	burstParam     = "ApiThrottlingBurstLimit"
	retentionParam = "LogRetentionDays"
	topicParam     = "AlarmTopicArn"
	hasTopic       = "HasAlarmTopic"
	isProd         = "IsProd"

	// An HTTP API's only stage, the one SAM creates; its metrics carry it as Stage.
	apiStage = "$default"
)

// The $context variables an access log line must carry: who asked, which route, what answer,
// how long it took, and why the integration failed when it did.
var wantAccessLogVariables = []string{
	"$context.requestId", "$context.identity.sourceIp", "$context.routeKey", "$context.status",
	"$context.responseLatency", "$context.integrationErrorMessage",
}

// The worker's SQS rights, all on ImportQueue: what the event source mapping polls with
// (receive, delete, the queue's attributes) and what its hand-back's
// ChangeMessageVisibilityBatch needs (sqs:ChangeMessageVisibility authorizes the batch call).
var wantWorkerSQSActions = []string{
	"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage",
}

// unresolvedTemplate reads template.yaml with its intrinsic functions as written ({"Ref": X},
// {"Fn::GetAtt": "X.Arn"}, {"Fn::If": [...]}), so a check can tell a parameter's Ref from a
// literal; a GetAtt written as a list reads as the dotted string.
func unresolvedTemplate(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	var tree map[string]any
	if err := json.Unmarshal(out, &tree); err != nil {
		t.Fatal(err)
	}
	return normalizeGetAtt(tree).(map[string]any)
}

func normalizeGetAtt(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if parts, ok := v["Fn::GetAtt"].([]any); ok && len(v) == 1 {
			s := make([]string, len(parts))
			for i, p := range parts {
				s[i] = fmt.Sprint(p)
			}
			return map[string]any{"Fn::GetAtt": strings.Join(s, ".")}
		}
		for k, e := range v {
			v[k] = normalizeGetAtt(e)
		}
	case []any:
		for i, e := range v {
			v[i] = normalizeGetAtt(e)
		}
	}
	return v
}

// The intrinsics as the unresolved template holds them.
func ref(name string) any      { return map[string]any{"Ref": name} }
func getAtt(path string) any   { return map[string]any{"Fn::GetAtt": path} }
func sub(format string) any    { return map[string]any{"Fn::Sub": format} }
func same(have, want any) bool { return reflect.DeepEqual(have, want) }

// notifyTopic is the actions every alarm takes: the topic when one is given, none otherwise.
func notifyTopic() any {
	return map[string]any{"Fn::If": []any{hasTopic, []any{ref(topicParam)}, ref("AWS::NoValue")}}
}

// tmpl is a tree with lookups that never fail: a missing part reads as nil or empty.
type tmpl struct{ tree map[string]any }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

func (p tmpl) resource(id string) map[string]any { return obj(obj(p.tree["Resources"])[id]) }
func (p tmpl) props(id string) map[string]any    { return obj(p.resource(id)["Properties"]) }
func (p tmpl) parameter(id string) map[string]any {
	return obj(obj(p.tree["Parameters"])[id])
}
func (p tmpl) condition(id string) any { return obj(p.tree["Conditions"])[id] }

// ofType lists the logical ids of the resources of a type, sorted.
func (p tmpl) ofType(typ string) []string {
	var ids []string
	for id, r := range obj(p.tree["Resources"]) {
		if obj(r)["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// productionCheck is one point of issue 11's list; each names what it found missing.
type productionCheck struct {
	name  string
	check func(p tmpl, fail func(string, ...any))
}

var productionChecks = []productionCheck{
	{"stage throttling", checkThrottling},
	{"access logs", checkAccessLogs},
	{"function log groups", checkFunctionLogGroups},
	{"tracing", checkTracing},
	{"alarm topic", checkAlarmTopic},
	{"DLQ depth alarm", checkDLQAlarm},
	{"function alarms", checkFunctionAlarms},
	{"API 5xx alarm", checkAPI5xxAlarm},
	{"table TTL", checkTableTTL},
	{"table deletion protection", checkDeletionProtection},
	{"worker queue rights", checkWorkerQueueRights},
}

// productionViolations lists, one sentence each, what a template lacks of the production
// settings; nil means nothing.
func productionViolations(tree map[string]any) []string {
	var bad []string
	p := tmpl{tree}
	for _, c := range productionChecks {
		c.check(p, func(format string, args ...any) {
			bad = append(bad, c.name+": "+fmt.Sprintf(format, args...))
		})
	}
	return bad
}

// A number parameter with a positive default.
func checkNumberParameter(p tmpl, id string, fail func(string, ...any)) {
	param := p.parameter(id)
	if param["Type"] != "Number" {
		fail("parameter %s is %v, want a Number", id, param["Type"])
		return
	}
	if d, ok := param["Default"].(float64); !ok || d <= 0 {
		fail("parameter %s has default %v, want a positive number", id, param["Default"])
	}
}

func checkThrottling(p tmpl, fail func(string, ...any)) {
	settings := obj(p.props(apiID)["DefaultRouteSettings"])
	for key, param := range map[string]string{"ThrottlingRateLimit": rateParam, "ThrottlingBurstLimit": burstParam} {
		if !same(settings[key], ref(param)) {
			fail("%s DefaultRouteSettings.%s is %v, want !Ref %s", apiID, key, settings[key], param)
		}
		checkNumberParameter(p, param, fail)
	}
}

func checkAccessLogs(p tmpl, fail func(string, ...any)) {
	logs := obj(p.props(apiID)["AccessLogSettings"])
	if !same(logs["DestinationArn"], getAtt(apiAccessLogGroup+".Arn")) {
		fail("%s AccessLogSettings.DestinationArn is %v, want !GetAtt %s.Arn", apiID, logs["DestinationArn"], apiAccessLogGroup)
	}
	checkRetention(p, apiAccessLogGroup, fail)
	format, _ := logs["Format"].(string)
	var fields map[string]any
	if err := json.Unmarshal([]byte(format), &fields); err != nil {
		fail("%s AccessLogSettings.Format %q is not a JSON object: %v", apiID, format, err)
		return
	}
	values := map[string]bool{}
	for _, v := range fields {
		values[fmt.Sprint(v)] = true
	}
	for _, v := range wantAccessLogVariables {
		if !values[v] {
			fail("%s access log format has no field with %s", apiID, v)
		}
	}
}

// checkRetention: the log group exists and keeps its logs LogRetentionDays.
func checkRetention(p tmpl, id string, fail func(string, ...any)) {
	if p.resource(id)["Type"] != "AWS::Logs::LogGroup" {
		fail("%s is %v, want an AWS::Logs::LogGroup", id, p.resource(id)["Type"])
		return
	}
	if r := p.props(id)["RetentionInDays"]; !same(r, ref(retentionParam)) {
		fail("%s RetentionInDays is %v, want !Ref %s", id, r, retentionParam)
	}
}

// Every function writes to a log group of its own, by the name Lambda gives it
// (/aws/lambda/<function name>), with the retention of the parameter.
func checkFunctionLogGroups(p tmpl, fail func(string, ...any)) {
	checkNumberParameter(p, retentionParam, fail)
	for _, fn := range p.ofType("AWS::Serverless::Function") {
		group := fn + codegen.LogGroupSuffix
		checkRetention(p, group, fail)
		if name := p.props(group)["LogGroupName"]; !same(name, sub("/aws/lambda/${"+fn+"}")) {
			fail("%s LogGroupName is %v, want !Sub /aws/lambda/${%s}", group, name, fn)
		}
	}
}

// Every function traces actively: Globals say so, and no function says otherwise.
func checkTracing(p tmpl, fail func(string, ...any)) {
	if tr := obj(obj(p.tree["Globals"])["Function"])["Tracing"]; tr != "Active" {
		fail("Globals.Function.Tracing is %v, want Active", tr)
	}
	for _, fn := range p.ofType("AWS::Serverless::Function") {
		if tr, set := p.props(fn)["Tracing"]; set && tr != "Active" {
			fail("%s Tracing is %v, want Globals' Active", fn, tr)
		}
	}
}

// The topic is optional (empty by default), and every alarm notifies it exactly when given.
func checkAlarmTopic(p tmpl, fail func(string, ...any)) {
	if d, ok := p.parameter(topicParam)["Default"]; !ok || d != "" {
		fail("parameter %s has default %v, want \"\" (optional)", topicParam, d)
	}
	want := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref(topicParam), ""}}}}
	if c := p.condition(hasTopic); !same(c, want) {
		fail("condition %s is %v, want !Not [!Equals [!Ref %s, \"\"]]", hasTopic, c, topicParam)
	}
	for _, id := range p.ofType("AWS::CloudWatch::Alarm") {
		for _, key := range []string{"AlarmActions", "OKActions"} {
			if a := p.props(id)[key]; !same(a, notifyTopic()) {
				fail("%s %s is %v, want !If [%s, [!Ref %s], !Ref AWS::NoValue]", id, key, a, hasTopic, topicParam)
			}
		}
	}
}

// checkAlarm: id is an alarm on more than zero of the metric, with these dimensions.
func checkAlarm(p tmpl, id, namespace, metric string, dims map[string]any, fail func(string, ...any)) {
	if p.resource(id)["Type"] != "AWS::CloudWatch::Alarm" {
		fail("%s is %v, want an AWS::CloudWatch::Alarm", id, p.resource(id)["Type"])
		return
	}
	a := p.props(id)
	if a["Namespace"] != namespace || a["MetricName"] != metric {
		fail("%s watches %v %v, want %s %s", id, a["Namespace"], a["MetricName"], namespace, metric)
	}
	if !same(dimensions(a["Dimensions"]), dims) {
		fail("%s dimensions %v, want %v", id, dimensions(a["Dimensions"]), dims)
	}
	if a["ComparisonOperator"] != "GreaterThanThreshold" || !same(a["Threshold"], 0.0) {
		fail("%s fires when %v %v, want GreaterThanThreshold 0", id, a["ComparisonOperator"], a["Threshold"])
	}
}

// dimensions turns a Dimensions list into name: value.
func dimensions(v any) map[string]any {
	out := map[string]any{}
	list, _ := v.([]any)
	for _, d := range list {
		out[fmt.Sprint(obj(d)["Name"])] = obj(d)["Value"]
	}
	return out
}

func checkDLQAlarm(p tmpl, fail func(string, ...any)) {
	checkAlarm(p, dlqDepthAlarm, "AWS/SQS", "ApproximateNumberOfMessagesVisible",
		map[string]any{"QueueName": getAtt(importDLQ + ".QueueName")}, fail)
}

// Every function has an alarm on its errors and one on its throttles.
func checkFunctionAlarms(p tmpl, fail func(string, ...any)) {
	for _, fn := range p.ofType("AWS::Serverless::Function") {
		dims := map[string]any{"FunctionName": ref(fn)}
		checkAlarm(p, fn+codegen.ErrorsAlarmSuffix, "AWS/Lambda", "Errors", dims, fail)
		checkAlarm(p, fn+codegen.ThrottlesAlarmSuffix, "AWS/Lambda", "Throttles", dims, fail)
	}
}

// The API's 5xx rate: its 5xx over its requests (Count), both of RosterApi's $default stage.
func checkAPI5xxAlarm(p tmpl, fail func(string, ...any)) {
	want := map[string]any{"ApiId": ref(apiID), "Stage": apiStage}
	found := map[string]bool{}
	metrics, _ := p.props(api5xxAlarm)["Metrics"].([]any)
	for _, m := range metrics {
		metric := obj(obj(obj(m)["MetricStat"])["Metric"])
		if metric["Namespace"] == "AWS/ApiGateway" && same(dimensions(metric["Dimensions"]), want) {
			found[fmt.Sprint(metric["MetricName"])] = true
		}
	}
	for _, name := range []string{"5xx", "Count"} {
		if !found[name] {
			fail("%s has no AWS/ApiGateway %s metric of ApiId !Ref %s, Stage %s", api5xxAlarm, name, apiID, apiStage)
		}
	}
}

// Expiring records (jobs, results, idempotency records, ledgers) carry ddb.TTLAttribute.
func checkTableTTL(p tmpl, fail func(string, ...any)) {
	ttl := obj(p.props(rosterTable)["TimeToLiveSpecification"])
	if ttl["AttributeName"] != ddb.TTLAttribute || ttl["Enabled"] != true {
		fail("%s TimeToLiveSpecification is %v, want %q enabled", rosterTable, ttl, ddb.TTLAttribute)
	}
}

// In prod DynamoDB refuses to delete the table; in every stage CloudFormation keeps it.
func checkDeletionProtection(p tmpl, fail func(string, ...any)) {
	want := map[string]any{"Fn::Equals": []any{ref("Stage"), "prod"}}
	if c := p.condition(isProd); !same(c, want) {
		fail("condition %s is %v, want !Equals [!Ref Stage, prod]", isProd, c)
	}
	protect := map[string]any{"Fn::If": []any{isProd, true, false}}
	if d := p.props(rosterTable)["DeletionProtectionEnabled"]; !same(d, protect) {
		fail("%s DeletionProtectionEnabled is %v, want !If [%s, true, false]", rosterTable, d, isProd)
	}
	for _, policy := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
		if v := p.resource(rosterTable)[policy]; v != "Retain" {
			fail("%s %s is %v, want Retain", rosterTable, policy, v)
		}
	}
}

// The worker runs with ImportWorkerRole, whose SQS rights are exactly the poller's on
// ImportQueue (a SAM-written role would get AWSLambdaSQSQueueExecutionRole, on every queue),
// and whose table rights are DynamoDBCrudPolicy's on the table the worker is told to use.
func checkWorkerQueueRights(p tmpl, fail func(string, ...any)) {
	worker := p.props(importWorker)
	if !same(worker["Role"], getAtt(importWorkerRole+".Arn")) {
		fail("%s Role is %v, want !GetAtt %s.Arn", importWorker, worker["Role"], importWorkerRole)
	}
	if pol, set := worker["Policies"]; set {
		fail("%s has Policies %v, which SAM ignores beside a Role", importWorker, pol)
	}
	role := p.props(importWorkerRole)
	for _, arn := range asList(role["ManagedPolicyArns"]) {
		if strings.Contains(strings.ToLower(fmt.Sprint(arn)), "sqs") {
			fail("%s has the managed policy %v; want its queue rights inline, on %s only", importWorkerRole, arn, importQueue)
		}
	}
	var sqs []string
	for _, st := range roleStatements(role) {
		for _, action := range asList(st["Action"]) {
			a := fmt.Sprint(action)
			if !strings.HasPrefix(a, "sqs:") {
				continue
			}
			sqs = append(sqs, a)
			if !same(st["Resource"], getAtt(importQueue+".Arn")) {
				fail("%s grants %s on %v, want !GetAtt %s.Arn only", importWorkerRole, a, st["Resource"], importQueue)
			}
		}
	}
	slices.Sort(sqs)
	if !slices.Equal(sqs, wantWorkerSQSActions) {
		fail("%s grants SQS %v, want %v", importWorkerRole, sqs, wantWorkerSQSActions)
	}
	table := obj(obj(worker["Environment"])["Variables"])["TABLE_NAME"]
	if table == nil {
		table = obj(obj(obj(obj(p.tree["Globals"])["Function"])["Environment"])["Variables"])["TABLE_NAME"]
	}
	tableArns := []any{getAtt(rosterTable + ".Arn"), sub("${" + rosterTable + ".Arn}/index/*")}
	if !same(table, ref(rosterTable)) {
		fail("%s TABLE_NAME is %v, want !Ref %s", importWorker, table, rosterTable)
	}
	for _, st := range roleStatements(role) {
		if slices.ContainsFunc(asList(st["Action"]), func(a any) bool { return strings.HasPrefix(fmt.Sprint(a), "dynamodb:") }) &&
			!same(st["Resource"], tableArns) {
			fail("%s grants DynamoDB on %v, want %v", importWorkerRole, st["Resource"], tableArns)
		}
	}
}

// roleStatements lists the statements of a role's inline policies.
func roleStatements(role map[string]any) []map[string]any {
	var out []map[string]any
	for _, pol := range asList(role["Policies"]) {
		for _, st := range asList(obj(obj(pol)["PolicyDocument"])["Statement"]) {
			out = append(out, obj(st))
		}
	}
	return out
}

// asList reads a value IAM takes as one item or a list as a list.
func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// TestTemplateProduction holds template.yaml to issue 11's production settings.
func TestTemplateProduction(t *testing.T) {
	for _, v := range productionViolations(unresolvedTemplate(t)) {
		t.Errorf("template.yaml: %s", v)
	}
}

// TestTemplateProductionChecksCanFail removes one point at a time from a copy of the template
// and expects that point's check, and only it, to report it.
func TestTemplateProductionChecksCanFail(t *testing.T) {
	base := unresolvedTemplate(t)
	if v := productionViolations(base); len(v) != 0 {
		t.Fatalf("template.yaml itself has violations (see TestTemplateProduction): %v", v)
	}
	const someFunction = "GetScreenerFunction"
	for _, tc := range []struct {
		check, name string
		edit        func(p tmpl)
	}{
		{"stage throttling", "no route settings", func(p tmpl) { delete(p.props(apiID), "DefaultRouteSettings") }},
		{"stage throttling", "a literal burst", func(p tmpl) { obj(p.props(apiID)["DefaultRouteSettings"])["ThrottlingBurstLimit"] = 50 }},
		{"stage throttling", "rate without a default", func(p tmpl) { delete(p.parameter(rateParam), "Default") }},
		{"access logs", "no access logs", func(p tmpl) { delete(p.props(apiID), "AccessLogSettings") }},
		{"access logs", "logs kept forever", func(p tmpl) { delete(p.props(apiAccessLogGroup), "RetentionInDays") }},
		{"access logs", "no integration error", func(p tmpl) {
			logs := obj(p.props(apiID)["AccessLogSettings"])
			logs["Format"] = strings.ReplaceAll(logs["Format"].(string), "$context.integrationErrorMessage", "")
		}},
		{"access logs", "not JSON", func(p tmpl) { obj(p.props(apiID)["AccessLogSettings"])["Format"] = "$context.requestId" }},
		{"function log groups", "a function without one", func(p tmpl) {
			delete(obj(p.tree["Resources"]), someFunction+codegen.LogGroupSuffix)
		}},
		{"function log groups", "another function's name", func(p tmpl) {
			p.props(someFunction + codegen.LogGroupSuffix)["LogGroupName"] = sub("/aws/lambda/${GetScreenerSessionFunction}")
		}},
		{"function log groups", "a literal retention", func(p tmpl) {
			p.props(importWorker + codegen.LogGroupSuffix)["RetentionInDays"] = 7
		}},
		{"tracing", "no tracing", func(p tmpl) { delete(obj(obj(p.tree["Globals"])["Function"]), "Tracing") }},
		{"tracing", "one function passes through", func(p tmpl) { p.props(importWorker)["Tracing"] = "PassThrough" }},
		{"alarm topic", "a required topic", func(p tmpl) { delete(p.parameter(topicParam), "Default") }},
		{"alarm topic", "an alarm that notifies no one", func(p tmpl) { delete(p.props(dlqDepthAlarm), "AlarmActions") }},
		{"alarm topic", "recoveries unannounced", func(p tmpl) { delete(p.props(api5xxAlarm), "OKActions") }},
		{"DLQ depth alarm", "no DLQ alarm", func(p tmpl) { delete(obj(p.tree["Resources"]), dlqDepthAlarm) }},
		{"DLQ depth alarm", "the main queue watched", func(p tmpl) {
			p.props(dlqDepthAlarm)["Dimensions"] = []any{map[string]any{"Name": "QueueName", "Value": getAtt(importQueue + ".QueueName")}}
		}},
		{"function alarms", "no errors alarm", func(p tmpl) {
			delete(obj(p.tree["Resources"]), someFunction+codegen.ErrorsAlarmSuffix)
		}},
		{"function alarms", "no throttles alarm", func(p tmpl) {
			delete(obj(p.tree["Resources"]), importWorker+codegen.ThrottlesAlarmSuffix)
		}},
		{"function alarms", "a tolerated error", func(p tmpl) { p.props(someFunction + codegen.ErrorsAlarmSuffix)["Threshold"] = 1 }},
		{"API 5xx alarm", "no 5xx alarm", func(p tmpl) { delete(obj(p.tree["Resources"]), api5xxAlarm) }},
		{"API 5xx alarm", "another stage", func(p tmpl) {
			for _, m := range p.props(api5xxAlarm)["Metrics"].([]any) {
				for _, d := range asList(obj(obj(obj(m)["MetricStat"])["Metric"])["Dimensions"]) {
					if obj(d)["Name"] == "Stage" {
						obj(d)["Value"] = "prod"
					}
				}
			}
		}},
		{"table TTL", "no TTL", func(p tmpl) { delete(p.props(rosterTable), "TimeToLiveSpecification") }},
		{"table TTL", "another attribute", func(p tmpl) {
			obj(p.props(rosterTable)["TimeToLiveSpecification"])["AttributeName"] = "expiresAt"
		}},
		{"table deletion protection", "unprotected", func(p tmpl) { delete(p.props(rosterTable), "DeletionProtectionEnabled") }},
		{"table deletion protection", "deleted with the stack", func(p tmpl) { p.resource(rosterTable)["DeletionPolicy"] = "Delete" }},
		{"table deletion protection", "replaced without a copy", func(p tmpl) { delete(p.resource(rosterTable), "UpdateReplacePolicy") }},
		{"worker queue rights", "SAM's role", func(p tmpl) { delete(p.props(importWorker), "Role") }},
		{"worker queue rights", "every queue", func(p tmpl) {
			for _, st := range roleStatements(p.props(importWorkerRole)) {
				if slices.Contains(asList(st["Action"]), any("sqs:ReceiveMessage")) {
					st["Resource"] = "*"
				}
			}
		}},
		{"worker queue rights", "no hand-back", func(p tmpl) {
			for _, st := range roleStatements(p.props(importWorkerRole)) {
				st["Action"] = slices.DeleteFunc(asList(st["Action"]), func(a any) bool { return a == "sqs:ChangeMessageVisibility" })
			}
		}},
		{"worker queue rights", "the managed SQS policy", func(p tmpl) {
			role := p.props(importWorkerRole)
			role["ManagedPolicyArns"] = append(asList(role["ManagedPolicyArns"]),
				sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"))
		}},
	} {
		t.Run(tc.check+"/"+tc.name, func(t *testing.T) {
			tree := deepCopy(t, base)
			tc.edit(tmpl{tree})
			got := productionViolations(tree)
			if len(got) == 0 {
				t.Fatalf("no violation, want one from %q", tc.check)
			}
			for _, v := range got {
				if !strings.HasPrefix(v, tc.check+": ") {
					t.Errorf("violation %q, want only %q's", v, tc.check)
				}
			}
		})
	}
}
