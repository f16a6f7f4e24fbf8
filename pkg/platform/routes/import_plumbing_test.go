package routes_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/participant-roster/roster/pkg/platform/ddb"
)

// The import plumbing issue 4 ("Large imports through SQS") requires of template.yaml.
const (
	importWorker = "ImportWorkerFunction"
	importQueue  = "ImportQueue"
	importDLQ    = "ImportDeadLetterQueue"

	// Each invocation gets at most 10 chunks (Lambda's SQS maximum for a standard queue
	// without a batching window) and reports failed records one by one.
	wantImportBatchSize = 10
	wantResponseType    = "ReportBatchItemFailures"
	// A chunk may fail a few times on contention or throttling before it is poison.
	minMaxReceiveCount = 5
	// AWS's advice for SQS event sources: a visibility timeout of at least 6x the function's
	// timeout, so a batch still running is never redelivered just because it is slow.
	visibilityPerTimeout = 6
	// SQS's least MaximumConcurrency.
	minMaximumConcurrency = 2
	// The per-partition write budget: DynamoDB takes 1,000 WCU/s on one partition, and a fifth
	// is kept for the API's own writes to the same partitions. Each worker instance paces its
	// writes to IMPORT_PARTITION_WRITE_BUDGET WCU/s per partition key (ddb.Pacer), so
	// MaximumConcurrency instances together may write that many times the budget: at most 800.
	partitionWCUPerSecond = 1000
	importShare           = 0.8
	budgetEnv             = "IMPORT_PARTITION_WRITE_BUDGET"
	// What CloudFormation uses when a property is absent.
	defaultRetentionSeconds = 345600 // 4 days
)

// cfnInt is a number CloudFormation accepts either as a number or as a string ("5").
type cfnInt struct {
	Set   bool
	Value int
}

func (n *cfnInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		*n = cfnInt{true, v}
		return nil
	}
	var v int
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%s is not a whole number", b)
	}
	*n = cfnInt{true, v}
	return nil
}

// The parts of the template the import plumbing is made of, after intrinsics are resolved
// (Ref and Fn::GetAtt resolve to "LogicalId" and "LogicalId.Attribute", see resolvedTemplate).
type plumbingTemplate struct {
	Globals struct {
		Function struct {
			Timeout cfnInt
		}
	}
	Resources map[string]struct {
		Type       string
		Properties json.RawMessage
	}
}

type workerProps struct {
	Timeout     cfnInt
	Environment struct{ Variables map[string]string }
	Events      map[string]struct {
		Type       string
		Properties struct {
			Queue                 string
			BatchSize             cfnInt
			FunctionResponseTypes []string
			ScalingConfig         *struct{ MaximumConcurrency cfnInt }
		}
	}
}

type queueProps struct {
	VisibilityTimeout      cfnInt
	MessageRetentionPeriod cfnInt
	RedrivePolicy          *struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     cfnInt `json:"maxReceiveCount"`
	}
}

// resolvedTemplate reads template.yaml as goformation resolves it, except that a Ref names the
// resource (or a parameter's default) and a Fn::GetAtt reads "LogicalId.Attribute" (goformation
// resolves both to nothing), as a generic JSON tree that tests may alter.
//
// goformation's YAML tag processing mutates a package-level map: this must not run at the same
// time as another parse (samtemplate.Load); no test of this package runs in parallel with it.
func resolvedTemplate(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	opts := &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
		"Ref": func(name string, input, template interface{}) interface{} {
			if v := intrinsics.Ref(name, input, template); v != nil {
				return v
			}
			return input
		},
		"Fn::GetAtt": func(_ string, input, _ interface{}) interface{} {
			switch in := input.(type) {
			case string: // !GetAtt Queue.Arn
				return in
			case []interface{}: // Fn::GetAtt: [Queue, Arn]
				parts := make([]string, len(in))
				for i, p := range in {
					parts[i] = fmt.Sprint(p)
				}
				return strings.Join(parts, ".")
			}
			return nil
		},
	}}
	out, err := intrinsics.ProcessYAML(data, opts)
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	var tree map[string]any
	if err := json.Unmarshal(out, &tree); err != nil {
		t.Fatal(err)
	}
	return tree
}

// importPlumbingViolations lists, one sentence each, what a resolved template gets wrong about
// the import plumbing; nil means nothing.
func importPlumbingViolations(tree map[string]any) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	raw, err := json.Marshal(tree)
	if err != nil {
		return []string{err.Error()}
	}
	var tpl plumbingTemplate
	if err := json.Unmarshal(raw, &tpl); err != nil {
		return []string{"the template does not decode: " + err.Error()}
	}
	resource := func(id, typ string, props any) bool {
		r, ok := tpl.Resources[id]
		switch {
		case !ok:
			fail("%s is missing", id)
			return false
		case r.Type != typ:
			fail("%s is a %s, want %s", id, r.Type, typ)
			return false
		}
		if len(r.Properties) == 0 {
			return true
		}
		if err := json.Unmarshal(r.Properties, props); err != nil {
			fail("%s: Properties do not decode: %v", id, err)
			return false
		}
		return true
	}
	var worker workerProps
	var queue, dlq queueProps
	haveWorker := resource(importWorker, "AWS::Serverless::Function", &worker)
	haveQueue := resource(importQueue, "AWS::SQS::Queue", &queue)
	haveDLQ := resource(importDLQ, "AWS::SQS::Queue", &dlq)

	// The worker: fed by ImportQueue in batches of 10, reporting failed records one by one,
	// at most as many invocations at once as the partition write budget allows.
	timeout := tpl.Globals.Function.Timeout
	maxConcurrency := 0 // what the budget allows; 0 when the budget is unusable
	if haveWorker {
		if worker.Timeout.Set {
			timeout = worker.Timeout
		}
		budget := ddb.DefaultPartitionWriteBudget // what the worker uses without the variable
		if v, set := worker.Environment.Variables[budgetEnv]; set {
			b, err := strconv.ParseFloat(v, 64)
			if err != nil || b <= 0 {
				fail("%s %s is %q, want a positive number of write units per second", importWorker, budgetEnv, v)
				b = 0
			}
			budget = b
		}
		if budget > 0 {
			maxConcurrency = int(partitionWCUPerSecond * importShare / budget)
		}
		var sqsEvents []string
		for name, ev := range worker.Events {
			if ev.Type != "SQS" {
				continue
			}
			sqsEvents = append(sqsEvents, name)
			p := ev.Properties
			if p.Queue != importQueue+".Arn" {
				fail("%s event %s: Queue is %q, want !GetAtt %s.Arn", importWorker, name, p.Queue, importQueue)
			}
			if !p.BatchSize.Set || p.BatchSize.Value != wantImportBatchSize {
				fail("%s event %s: BatchSize is %s, want %d", importWorker, name, show(p.BatchSize), wantImportBatchSize)
			}
			if !slices.Equal(p.FunctionResponseTypes, []string{wantResponseType}) {
				fail("%s event %s: FunctionResponseTypes is %v, want [%s] (without it one failed chunk redelivers its whole batch)",
					importWorker, name, p.FunctionResponseTypes, wantResponseType)
			}
			switch {
			case p.ScalingConfig == nil || !p.ScalingConfig.MaximumConcurrency.Set:
				fail("%s event %s: no ScalingConfig.MaximumConcurrency; want %d to %d (unbounded, the workers' writes would exceed the partition write budget)",
					importWorker, name, minMaximumConcurrency, maxConcurrency)
			case p.ScalingConfig.MaximumConcurrency.Value < minMaximumConcurrency:
				fail("%s event %s: ScalingConfig.MaximumConcurrency is %d, below SQS's least, %d",
					importWorker, name, p.ScalingConfig.MaximumConcurrency.Value, minMaximumConcurrency)
			case maxConcurrency > 0 && p.ScalingConfig.MaximumConcurrency.Value > maxConcurrency:
				fail("%s event %s: ScalingConfig.MaximumConcurrency is %d, want at most %d: %d instances x %s %s WCU/s exceed %.0f WCU/s (%.0f%% of a partition's %d)",
					importWorker, name, p.ScalingConfig.MaximumConcurrency.Value, maxConcurrency, p.ScalingConfig.MaximumConcurrency.Value,
					budgetEnv, budgetText(worker), partitionWCUPerSecond*importShare, importShare*100, partitionWCUPerSecond)
			}
		}
		if len(sqsEvents) != 1 {
			fail("%s has %d SQS events %v, want exactly one, on %s", importWorker, len(sqsEvents), sqsEvents, importQueue)
		}
		// It hands back to its queue the records a batch has no time left for
		// (ChangeMessageVisibilityBatch, which the event source's role alone does not grant).
		if q := worker.Environment.Variables["IMPORT_QUEUE_URL"]; q != importQueue {
			fail("%s IMPORT_QUEUE_URL is %q, want !Ref %s (it hands back there what a batch has no time for)", importWorker, q, importQueue)
		}
		// Its right to (sqs:ChangeMessageVisibility on ImportQueue) is among the worker's queue
		// rights, which checkWorkerQueueRights (production_test.go) holds to the exact list.
		if !timeout.Set || timeout.Value <= 0 {
			fail("%s has no Timeout (neither its own nor Globals.Function's)", importWorker)
		}
	}

	// The queue: poison chunks go to the DLQ after enough receives, and a batch still running
	// is never redelivered for being slow.
	if haveQueue {
		rp := queue.RedrivePolicy
		switch {
		case rp == nil:
			fail("%s has no RedrivePolicy: a poison chunk would be retried until its retention ends", importQueue)
		default:
			if rp.DeadLetterTargetArn != importDLQ+".Arn" {
				fail("%s RedrivePolicy.deadLetterTargetArn is %q, want !GetAtt %s.Arn", importQueue, rp.DeadLetterTargetArn, importDLQ)
			}
			if !rp.MaxReceiveCount.Set || rp.MaxReceiveCount.Value < minMaxReceiveCount {
				fail("%s RedrivePolicy.maxReceiveCount is %s, want at least %d", importQueue, show(rp.MaxReceiveCount), minMaxReceiveCount)
			}
			if haveWorker {
				// The worker records a chunk as failed on its last receive, which it knows from
				// MAX_RECEIVE_COUNT: a different number records it too early or never.
				env := worker.Environment.Variables["MAX_RECEIVE_COUNT"]
				if rp.MaxReceiveCount.Set && env != strconv.Itoa(rp.MaxReceiveCount.Value) {
					fail("%s MAX_RECEIVE_COUNT is %q, but %s's RedrivePolicy.maxReceiveCount is %d", importWorker, env, importQueue, rp.MaxReceiveCount.Value)
				}
			}
		}
		if haveWorker && timeout.Set {
			if want := visibilityPerTimeout * timeout.Value; !queue.VisibilityTimeout.Set || queue.VisibilityTimeout.Value < want {
				fail("%s VisibilityTimeout is %s s, want at least %d x %s's Timeout (%d s) = %d s",
					importQueue, show(queue.VisibilityTimeout), visibilityPerTimeout, importWorker, timeout.Value, want)
			}
		}
	}

	// The DLQ keeps a message at least as long as the queue did, so what lands there is not
	// deleted before anyone can look at it.
	if haveQueue && haveDLQ {
		qr, dr := retention(queue), retention(dlq)
		if dr < qr {
			fail("%s MessageRetentionPeriod is %d s, shorter than %s's %d s", importDLQ, dr, importQueue, qr)
		}
	}
	return bad
}

func budgetText(w workerProps) string {
	if v, ok := w.Environment.Variables[budgetEnv]; ok {
		return v
	}
	return strconv.FormatFloat(ddb.DefaultPartitionWriteBudget, 'f', -1, 64) + " (the default)"
}

func retention(q queueProps) int {
	if q.MessageRetentionPeriod.Set {
		return q.MessageRetentionPeriod.Value
	}
	return defaultRetentionSeconds
}

func show(n cfnInt) string {
	if !n.Set {
		return "absent"
	}
	return strconv.Itoa(n.Value)
}

// TestTemplateImportPlumbing holds template.yaml to the import plumbing issue 4 requires: the
// worker's SQS event (batch size, partial batch responses, bounded concurrency) and the queue
// (redrive to the DLQ, visibility timeout against the worker's timeout, DLQ retention).
func TestTemplateImportPlumbing(t *testing.T) {
	tree := resolvedTemplate(t)
	for _, v := range importPlumbingViolations(tree) {
		t.Errorf("template.yaml: %s", v)
	}

	// The values as deployed, for the log (and so a change shows up in review).
	var tpl plumbingTemplate
	raw, _ := json.Marshal(tree)
	if err := json.Unmarshal(raw, &tpl); err == nil {
		var w workerProps
		var q, d queueProps
		_ = json.Unmarshal(tpl.Resources[importWorker].Properties, &w)
		_ = json.Unmarshal(tpl.Resources[importQueue].Properties, &q)
		_ = json.Unmarshal(tpl.Resources[importDLQ].Properties, &d)
		for name, ev := range w.Events {
			if ev.Type == "SQS" && ev.Properties.ScalingConfig != nil {
				t.Logf("event %s: BatchSize %s, FunctionResponseTypes %v, MaximumConcurrency %s x %s %s WCU/s per partition key (at most %.0f)", name,
					show(ev.Properties.BatchSize), ev.Properties.FunctionResponseTypes, show(ev.Properties.ScalingConfig.MaximumConcurrency),
					budgetEnv, budgetText(w), partitionWCUPerSecond*importShare)
			}
		}
		if q.RedrivePolicy != nil {
			t.Logf("queue: VisibilityTimeout %s s, maxReceiveCount %s, retention %d s; DLQ retention %d s; worker Timeout %s s",
				show(q.VisibilityTimeout), show(q.RedrivePolicy.MaxReceiveCount), retention(q), retention(d), show(w.Timeout))
		}
	}
}

// TestTemplateImportPlumbingChecksCanFail breaks one point at a time in a copy of the template
// and expects exactly that point to be reported, so a check that has gone blind fails here.
func TestTemplateImportPlumbingChecksCanFail(t *testing.T) {
	base := resolvedTemplate(t)
	if v := importPlumbingViolations(base); len(v) != 0 {
		t.Fatalf("template.yaml itself has violations (see TestTemplateImportPlumbing): %v", v)
	}
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, tree map[string]any)
		wants string // a fragment of the one violation expected; "" for none
	}{
		{"batch size", func(t *testing.T, tr map[string]any) { sqsEvent(t, tr)["BatchSize"] = 5 }, "BatchSize is 5, want 10"},
		{"batch size absent", func(t *testing.T, tr map[string]any) { delete(sqsEvent(t, tr), "BatchSize") }, "BatchSize is absent"},
		{"no partial batch responses", func(t *testing.T, tr map[string]any) { delete(sqsEvent(t, tr), "FunctionResponseTypes") }, "FunctionResponseTypes is []"},
		{"no scaling config", func(t *testing.T, tr map[string]any) { delete(sqsEvent(t, tr), "ScalingConfig") }, "no ScalingConfig.MaximumConcurrency"},
		{"concurrency over the write budget", func(t *testing.T, tr map[string]any) {
			sqsEvent(t, tr)["ScalingConfig"] = map[string]any{"MaximumConcurrency": 3}
			dig(t, props(t, tr, importWorker), "Environment", "Variables")[budgetEnv] = "400"
		}, "MaximumConcurrency is 3, want at most 2: 3 instances x IMPORT_PARTITION_WRITE_BUDGET 400 WCU/s exceed 800 WCU/s"},
		{"concurrency below SQS's least", func(t *testing.T, tr map[string]any) {
			sqsEvent(t, tr)["ScalingConfig"] = map[string]any{"MaximumConcurrency": 1}
		}, "MaximumConcurrency is 1, below SQS's least, 2"},
		{"budget raised", func(t *testing.T, tr map[string]any) {
			sqsEvent(t, tr)["ScalingConfig"] = map[string]any{"MaximumConcurrency": 2}
			dig(t, props(t, tr, importWorker), "Environment", "Variables")[budgetEnv] = "500"
		}, "2 instances x IMPORT_PARTITION_WRITE_BUDGET 500 WCU/s exceed 800 WCU/s"},
		{"budget not a number", func(t *testing.T, tr map[string]any) {
			dig(t, props(t, tr, importWorker), "Environment", "Variables")[budgetEnv] = "fast"
		}, `IMPORT_PARTITION_WRITE_BUDGET is "fast"`},
		{"budget absent: the worker's default applies", func(t *testing.T, tr map[string]any) {
			sqsEvent(t, tr)["ScalingConfig"] = map[string]any{"MaximumConcurrency": 2}
			delete(dig(t, props(t, tr, importWorker), "Environment", "Variables"), budgetEnv)
		}, ""},
		{"another queue", func(t *testing.T, tr map[string]any) { sqsEvent(t, tr)["Queue"] = "OtherQueue.Arn" }, `Queue is "OtherQueue.Arn"`},
		{"no queue to hand back to", func(t *testing.T, tr map[string]any) {
			delete(dig(t, props(t, tr, importWorker), "Environment", "Variables"), "IMPORT_QUEUE_URL")
		}, `IMPORT_QUEUE_URL is ""`},
		{"no redrive policy", func(t *testing.T, tr map[string]any) { delete(props(t, tr, importQueue), "RedrivePolicy") }, "has no RedrivePolicy"},
		{"redrive elsewhere", func(t *testing.T, tr map[string]any) {
			dig(t, props(t, tr, importQueue), "RedrivePolicy")["deadLetterTargetArn"] = "OtherQueue.Arn"
		}, "deadLetterTargetArn is"},
		{"few receives", func(t *testing.T, tr map[string]any) {
			dig(t, props(t, tr, importQueue), "RedrivePolicy")["maxReceiveCount"] = 3
			dig(t, props(t, tr, importWorker), "Environment", "Variables")["MAX_RECEIVE_COUNT"] = "3"
		}, "maxReceiveCount is 3, want at least 5"},
		{"worker disagrees on receives", func(t *testing.T, tr map[string]any) {
			dig(t, props(t, tr, importWorker), "Environment", "Variables")["MAX_RECEIVE_COUNT"] = "4"
		}, `MAX_RECEIVE_COUNT is "4"`},
		{"short visibility", func(t *testing.T, tr map[string]any) {
			q := props(t, tr, importQueue)
			q["VisibilityTimeout"] = "119" // a string, as CloudFormation also takes it
		}, "VisibilityTimeout is 119 s"},
		{"longer worker timeout", func(t *testing.T, tr map[string]any) { props(t, tr, importWorker)["Timeout"] = 900 }, "= 5400 s"},
		{"DLQ keeps less", func(t *testing.T, tr map[string]any) { props(t, tr, importDLQ)["MessageRetentionPeriod"] = 60 }, "MessageRetentionPeriod is 60 s"},
		{"DLQ default retention under the queue's", func(t *testing.T, tr map[string]any) {
			delete(props(t, tr, importDLQ), "MessageRetentionPeriod")
			props(t, tr, importQueue)["MessageRetentionPeriod"] = defaultRetentionSeconds + 1
		}, "MessageRetentionPeriod is 345600 s"},
		{"no DLQ", func(t *testing.T, tr map[string]any) { delete(dig(t, tr, "Resources"), importDLQ) }, importDLQ + " is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := deepCopy(t, base)
			tc.edit(t, tree)
			got := importPlumbingViolations(tree)
			switch {
			case tc.wants == "" && len(got) != 0:
				t.Errorf("violations %q, want none", got)
			case tc.wants != "" && (len(got) != 1 || !strings.Contains(got[0], tc.wants)):
				t.Errorf("violations %q, want exactly one containing %q", got, tc.wants)
			}
		})
	}
}

func deepCopy(t *testing.T, tree map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// dig follows keys through nested objects.
func dig(t *testing.T, m map[string]any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			t.Fatalf("template: no object at %s", strings.Join(keys, "."))
		}
		m = next
	}
	return m
}

func props(t *testing.T, tree map[string]any, id string) map[string]any {
	t.Helper()
	return dig(t, tree, "Resources", id, "Properties")
}

// sqsEvent is the Properties of the worker's (one) SQS event.
func sqsEvent(t *testing.T, tree map[string]any) map[string]any {
	t.Helper()
	for _, ev := range dig(t, props(t, tree, importWorker), "Events") {
		if ev, ok := ev.(map[string]any); ok && ev["Type"] == "SQS" {
			p, ok := ev["Properties"].(map[string]any)
			if !ok {
				t.Fatal("template: the SQS event has no Properties")
			}
			return p
		}
	}
	t.Fatalf("template: %s has no SQS event", importWorker)
	return nil
}
