package codegen

import (
	"fmt"
	"strings"

	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/snap/snapstore"
	"github.com/participant-roster/roster/pkg/wiring/snapwire"
)

// commentWidth is where a route's template.yaml comment wraps, like the file's other comments.
const commentWidth = 98

// templateRegion is every route's function resource, then the $default route's, then every
// scheduled function's, each followed by its log group and alarms (writeMonitoring), then the
// workers' log groups and alarms (their functions are written by hand), each resource after a
// blank line, then a blank line before the end marker.
func templateRegion(in Input) string {
	var b strings.Builder
	for _, r := range in.Routes {
		b.WriteString("\n")
		writeFunction(&b, r)
		writeMonitoring(&b, r.LogicalID)
	}
	if in.Default != nil {
		b.WriteString("\n")
		writeDefault(&b, *in.Default)
		writeMonitoring(&b, in.Default.LogicalID)
	}
	for i, sc := range in.Schedules {
		b.WriteString("\n")
		if i == 0 {
			b.WriteString("  # Scheduled functions (pkg/platform/routes.Schedules), after the routes.\n")
		}
		writeScheduled(&b, sc)
		writeMonitoring(&b, sc.LogicalID)
	}
	for i, w := range in.Workers {
		b.WriteString("\n")
		if i == 0 {
			b.WriteString("  # The log groups and alarms of the workers (pkg/platform/routes.Workers), whose functions\n")
			b.WriteString("  # are written by hand below.\n")
		}
		writeLogGroup(&b, w.LogicalID)
		writeFunctionAlarms(&b, w.LogicalID)
	}
	b.WriteString("\n")
	return b.String()
}

// Suffixes of the logical ids of a function's log group and alarms.
const (
	LogGroupSuffix       = "LogGroup"
	ErrorsAlarmSuffix    = "ErrorsAlarm"
	ThrottlesAlarmSuffix = "ThrottlesAlarm"
)

// The alarms on each function: any failed invocation (an error, a panic, a timeout) or
// throttled one, in a 5-minute period.
var functionAlarms = []struct{ suffix, metric, what string }{
	{ErrorsAlarmSuffix, "Errors", "failed an invocation (an error, a panic or a timeout)"},
	{ThrottlesAlarmSuffix, "Throttles", "was throttled (an invocation refused for lack of concurrency)"},
}

// writeMonitoring writes, after a function, its log group and alarms, each after a blank line.
func writeMonitoring(b *strings.Builder, logicalID string) {
	b.WriteString("\n")
	writeLogGroup(b, logicalID)
	writeFunctionAlarms(b, logicalID)
}

// writeLogGroup writes the log group Lambda writes the function's logs to (by its default
// name, /aws/lambda/<function name>), kept LogRetentionDays.
func writeLogGroup(b *strings.Builder, logicalID string) {
	fmt.Fprintf(b, "  %s%s:\n", logicalID, LogGroupSuffix)
	b.WriteString("    Type: AWS::Logs::LogGroup\n")
	b.WriteString("    Properties:\n")
	fmt.Fprintf(b, "      LogGroupName: !Sub /aws/lambda/${%s}\n", logicalID)
	b.WriteString("      RetentionInDays: !Ref LogRetentionDays\n")
	b.WriteString("      Tags:\n")
	b.WriteString("        - Key: app\n")
	b.WriteString("          Value: participant-roster\n")
	b.WriteString("        - Key: stage\n")
	b.WriteString("          Value: !Ref Stage\n")
}

// writeFunctionAlarms writes the function's alarms, each after a blank line, notifying
// AlarmTopicArn when one is given.
func writeFunctionAlarms(b *strings.Builder, logicalID string) {
	for _, a := range functionAlarms {
		b.WriteString("\n")
		fmt.Fprintf(b, "  %s%s:\n", logicalID, a.suffix)
		b.WriteString("    Type: AWS::CloudWatch::Alarm\n")
		b.WriteString("    Properties:\n")
		fmt.Fprintf(b, "      AlarmDescription: %s %s.\n", logicalID, a.what)
		b.WriteString("      Namespace: AWS/Lambda\n")
		fmt.Fprintf(b, "      MetricName: %s\n", a.metric)
		b.WriteString("      Dimensions:\n")
		b.WriteString("        - Name: FunctionName\n")
		fmt.Fprintf(b, "          Value: !Ref %s\n", logicalID)
		b.WriteString("      Statistic: Sum\n")
		b.WriteString("      Period: 300\n")
		b.WriteString("      EvaluationPeriods: 1\n")
		b.WriteString("      Threshold: 0\n")
		b.WriteString("      ComparisonOperator: GreaterThanThreshold\n")
		b.WriteString("      TreatMissingData: notBreaching\n")
		b.WriteString("      AlarmActions: !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]\n")
		b.WriteString("      OKActions: !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]\n")
	}
}

// writeFunction writes one route's AWS::Serverless::Function: built by the Makefile, read or
// CRUD access to the table, the import queue when it sends imports, a Snap route's per-user
// limits (and, read-only, the writes that count its calls), one HttpApi event.
func writeFunction(b *strings.Builder, r routes.Route) {
	policy := "DynamoDBCrudPolicy"
	if r.ReadOnly {
		policy = "DynamoDBReadPolicy"
	}
	throttled := r.Family == routes.Snap
	writeFunctionStart(b, r.LogicalID)
	if r.SendsImports != "" {
		for _, l := range wrap(r.SendsImports, "      # ", commentWidth) {
			b.WriteString(l + "\n")
		}
	}
	if r.SendsImports != "" || throttled {
		b.WriteString("      Environment:\n")
		b.WriteString("        Variables:\n")
	}
	if throttled {
		for _, e := range snapwire.LimitsEnv {
			fmt.Fprintf(b, "          %s: !Ref %s\n", e.Variable, e.Parameter)
		}
	}
	if r.SendsImports != "" {
		b.WriteString("          IMPORT_QUEUE_URL: !Ref ImportQueue\n")
	}
	writeTablePolicy(b, policy)
	if throttled && r.ReadOnly {
		writeRateCounterPolicy(b)
	}
	if r.SendsImports != "" {
		b.WriteString("        - SQSSendMessagePolicy:\n")
		b.WriteString("            QueueName: !GetAtt ImportQueue.QueueName\n")
	}
	writeHTTPAPIEvent(b, r)
}

// writeHTTPAPIEvent writes a function's Events: one HttpApi event for the route.
func writeHTTPAPIEvent(b *strings.Builder, r routes.Route) {
	b.WriteString("      Events:\n")
	b.WriteString("        HttpApi:\n")
	b.WriteString("          Type: HttpApi\n")
	b.WriteString("          Properties:\n")
	b.WriteString("            ApiId: !Ref RosterApi\n")
	fmt.Fprintf(b, "            Method: %s\n", r.Method)
	fmt.Fprintf(b, "            Path: %s\n", r.Path)
	b.WriteString("            PayloadFormatVersion: \"2.0\"\n")
}

// writeDefault writes the $default route's AWS::Serverless::Function: built by the Makefile,
// no access to the table, one HttpApi event on every method of the $default path.
func writeDefault(b *strings.Builder, f routes.Fallback) {
	b.WriteString("  # The $default route (pkg/platform/routes.Default), after the routes.\n")
	writeFunctionStart(b, f.LogicalID)
	for _, l := range wrap(f.Why, "      # ", commentWidth) {
		b.WriteString(l + "\n")
	}
	writeHTTPAPIEvent(b, f.Route())
}

// writeScheduled writes one scheduled function's AWS::Serverless::Function: built by the
// Makefile, CRUD access to the table, one EventBridge Schedule event.
func writeScheduled(b *strings.Builder, sc routes.Scheduled) {
	writeFunctionStart(b, sc.LogicalID)
	for _, l := range wrap(sc.Why, "      # ", commentWidth) {
		b.WriteString(l + "\n")
	}
	writeTablePolicy(b, "DynamoDBCrudPolicy")
	b.WriteString("      Events:\n")
	b.WriteString("        Schedule:\n")
	b.WriteString("          Type: Schedule\n")
	b.WriteString("          Properties:\n")
	fmt.Fprintf(b, "            Schedule: %s\n", sc.Schedule)
}

// writeFunctionStart opens a function resource built by the Makefile, up to its Properties.
func writeFunctionStart(b *strings.Builder, logicalID string) {
	fmt.Fprintf(b, "  %s:\n", logicalID)
	b.WriteString("    Type: AWS::Serverless::Function\n")
	b.WriteString("    Metadata:\n")
	b.WriteString("      BuildMethod: makefile\n")
	b.WriteString("    Properties:\n")
}

// writeTablePolicy starts a function's Policies with a SAM policy template over the table.
func writeTablePolicy(b *strings.Builder, policy string) {
	b.WriteString("      Policies:\n")
	fmt.Fprintf(b, "        - %s:\n", policy)
	b.WriteString("            TableName: !Ref RosterTable\n")
}

// writeRateCounterPolicy lets a read-only Snap function count its calls (UpdateItem of the
// rate counters, snapstore access pattern 29) and write nothing else.
func writeRateCounterPolicy(b *strings.Builder) {
	b.WriteString("        - Statement:\n")
	b.WriteString("            - Effect: Allow\n")
	b.WriteString("              Action: dynamodb:UpdateItem\n")
	b.WriteString("              Resource: !GetAtt RosterTable.Arn\n")
	b.WriteString("              Condition:\n")
	b.WriteString("                ForAllValues:StringLike:\n")
	b.WriteString("                  dynamodb:LeadingKeys:\n")
	fmt.Fprintf(b, "                    - \"%s\"\n", snapstore.RatePartitionGlob)
}

// wrap fills text into lines of at most width characters, each starting with prefix; a word
// longer than a line gets a line of its own.
func wrap(text, prefix string, width int) []string {
	var lines []string
	line := prefix
	for _, w := range strings.Fields(text) {
		if line != prefix && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = prefix
		}
		if line != prefix {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// makefileRegion is one build-<LogicalId> target per route, then the $default route's, then
// one per worker, then per scheduled function, separated by blank lines.
func makefileRegion(in Input) string {
	var blocks []string
	for _, r := range in.Routes {
		blocks = append(blocks, buildTarget(r.LogicalID, r.Dir))
	}
	if d := in.Default; d != nil {
		blocks = append(blocks, "# The $default route (pkg/platform/routes.Default), after the routes.\n"+buildTarget(d.LogicalID, d.Dir))
	}
	for i, w := range in.Workers {
		block := buildTarget(w.LogicalID, w.Dir)
		if i == 0 {
			block = "# Workers (pkg/platform/routes.Workers): functions fed by a queue, after the routes.\n" + block
		}
		blocks = append(blocks, block)
	}
	for i, sc := range in.Schedules {
		block := buildTarget(sc.LogicalID, sc.Dir)
		if i == 0 {
			block = "# Scheduled functions (pkg/platform/routes.Schedules), after the workers.\n" + block
		}
		blocks = append(blocks, block)
	}
	return "\n" + strings.Join(blocks, "\n") + "\n"
}

func buildTarget(id, dir string) string {
	return fmt.Sprintf("build-%s:\n\t$(GO_BUILD) -o \"$(ARTIFACTS_DIR)/bootstrap\" ./functions/%s\n", id, dir)
}
