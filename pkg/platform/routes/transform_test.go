package routes_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// samTransform runs the SAM transform (aws-sam-translator, which cfn-lint installs and uses)
// on a template, as CloudFormation would before deploying it. The code location is replaced by
// an S3 one, as `sam deploy` does, and no managed policy is looked up in IAM.
const samTransform = `
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoIAM:
    def load(self):
        return {}

template = yaml_parse(sys.stdin.read())
template["Globals"]["Function"]["CodeUri"] = "s3://bucket/key"
json.dump(transform(template, {}, NoIAM()), sys.stdout)
`

// transformed is the CloudFormation template SAM makes of tree.
func transformed(t *testing.T, tree map[string]any) tmpl {
	t.Helper()
	in, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "-c", samTransform)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION=us-east-1") // the transform wants a Region
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("SAM transform (python3 with aws-sam-translator; `python3 -m pip install --user cfn-lint` installs it): %v\n%s", err, stderr.String())
	}
	var result map[string]any
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatal(err)
	}
	return tmpl{normalizeGetAtt(result).(map[string]any)}
}

// The CRUD function whose SAM-written role shows what DynamoDBCrudPolicy grants.
const crudReference = "ImportSweeperFunction"

// deployedViolations lists what the transformed template gets wrong about the production
// settings SAM carries over: no role may reach every queue, the worker's table rights are
// DynamoDBCrudPolicy's, and the API's stage and the functions keep their settings.
func deployedViolations(p tmpl) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	for _, id := range p.ofType("AWS::IAM::Role") {
		role := p.props(id)
		for _, arn := range asList(role["ManagedPolicyArns"]) {
			if strings.Contains(fmt.Sprint(arn), "SQSQueueExecutionRole") {
				fail("%s has %v, which grants receive and delete on every queue", id, arn)
			}
		}
		for _, st := range roleStatements(role) {
			for _, a := range asList(st["Action"]) {
				if strings.HasPrefix(fmt.Sprint(a), "sqs:") && slices.Contains(asList(st["Resource"]), any("*")) {
					fail("%s grants %v on every queue", id, a)
				}
			}
		}
	}
	if r := p.props(importWorker)["Role"]; !same(r, getAtt(importWorkerRole+".Arn")) {
		fail("%s runs with %v, want %s", importWorker, r, importWorkerRole)
	}
	if have, want := dynamoActions(p, importWorkerRole), dynamoActions(p, crudReference+"Role"); len(want) == 0 || !slices.Equal(have, want) {
		fail("%s grants DynamoDB %v; %s's DynamoDBCrudPolicy grants %v", importWorkerRole, have, crudReference, want)
	}
	stage := p.props(apiID + "ApiGatewayDefaultStage")
	for _, key := range []string{"AccessLogSettings", "DefaultRouteSettings"} {
		if stage[key] == nil {
			fail("the API's stage has no %s", key)
		}
	}
	for _, id := range p.ofType("AWS::Lambda::Function") {
		if mode := obj(p.props(id)["TracingConfig"])["Mode"]; mode != "Active" {
			fail("%s TracingConfig.Mode is %v, want Active", id, mode)
		}
	}
	return bad
}

// dynamoActions lists, sorted, the DynamoDB actions a role's inline policies grant.
func dynamoActions(p tmpl, role string) []string {
	var out []string
	for _, st := range roleStatements(p.props(role)) {
		for _, a := range asList(st["Action"]) {
			if s := fmt.Sprint(a); strings.HasPrefix(s, "dynamodb:") {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// The SAM transform takes the template, and what it makes of it keeps the production settings;
// with the worker on a role SAM writes (its Role removed, its rights as policy templates), the
// managed policy on every queue comes back, and the check says so.
func TestTemplateTransform(t *testing.T) {
	base := unresolvedTemplate(t)
	for _, v := range deployedViolations(transformed(t, base)) {
		t.Errorf("template.yaml, transformed: %s", v)
	}

	tree := deepCopy(t, base)
	worker := tmpl{tree}.props(importWorker)
	delete(worker, "Role")
	worker["Policies"] = []any{
		map[string]any{"DynamoDBCrudPolicy": map[string]any{"TableName": ref(rosterTable)}},
		map[string]any{"SQSPollerPolicy": map[string]any{"QueueName": getAtt(importQueue + ".QueueName")}},
	}
	got := deployedViolations(transformed(t, tree))
	if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, "AWSLambdaSQSQueueExecutionRole") }) {
		t.Errorf("with SAM's role for the worker: violations %q, want one naming AWSLambdaSQSQueueExecutionRole", got)
	}
}
