package snapapi_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/jobs"
)

// The seed's messages, as literals: the import must answer with Add Participant's own words.
const (
	lockMessage     = "Participants cannot be added, updated or deleted whilst an import is scheduled or running."
	loginTaken      = "Another participant already has this login name."
	emailTaken      = "Another participant already has this email address."
	loginRequired   = "You must provide a login name."
	optedOutAndSend = "Participant cannot be opted out and have send invitations enabled at the same time."
)

type snapImport struct {
	ImportID string `json:"importId"`
	SurveyID string `json:"surveyId"`
	Mode     string `json:"mode"`
	Status   string `json:"status"`
	Counts   struct {
		Total, Processed, Created, Unchanged, Failed int
	} `json:"counts"`
	Errors []struct {
		Row     int    `json:"row"`
		Message string `json:"message"`
	} `json:"errors"`
	Reason     *string `json:"reason"`
	FinishedAt *string `json:"finishedAt"`
}

func importBody(rows ...string) string {
	return `{"participants": [` + strings.Join(rows, ",") + `]}`
}

// groupRows are n valid group-survey rows, logins p<from>..p<from+n-1>.
func groupRows(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		id := fmt.Sprintf("p%05d", from+i)
		out[i] = groupBody(id, id+"@example.com")
	}
	return out
}

func (f *fixture) importRows(surveyID, body string) testkit.Response {
	f.t.Helper()
	return f.do(f.owner, "2.0", "SnapImportParticipantsFunction", "POST", base+surveyID+"/participant-imports", "", body)
}

// accepted checks a 202 and its Location, and returns the job.
func (f *fixture) accepted(surveyID string, r testkit.Response) snapImport {
	f.t.Helper()
	wantStatus(f.t, r, 202)
	var job snapImport
	r.JSON(&job)
	want := "/snaponline/api/surveys/" + surveyID + "/participant-imports/" + job.ImportID
	if loc := r.Headers["Location"]; !strings.HasSuffix(loc, want) || !jobs.ValidID(job.ImportID) {
		f.t.Fatalf("Location %q, want …%s", loc, want)
	}
	if job.Status != "QUEUED" || job.Mode != "ADD" || job.SurveyID != surveyID || job.FinishedAt != nil {
		f.t.Fatalf("accepted job %+v", job)
	}
	return job
}

func (f *fixture) importJob(surveyID, id string) snapImport {
	f.t.Helper()
	r := f.do(f.owner, "2.0", "SnapGetParticipantImportFunction", "GET", base+surveyID+"/participant-imports/"+id, "", "")
	wantStatus(f.t, r, 200)
	var job snapImport
	r.JSON(&job)
	return job
}

// logins lists a survey's participants' logins, walking every page.
func (f *fixture) logins(surveyID string) []string {
	f.t.Helper()
	var out []string
	token := "0"
	for {
		r := f.do(f.owner, "2.0", "SnapListParticipantsFunction", "GET", base+surveyID+"/participants", "startingFrom="+token, "")
		wantStatus(f.t, r, 200)
		var page struct {
			Progress     string `json:"progress"`
			UpToDate     bool   `json:"upToDate"`
			Participants []struct {
				Login struct {
					Login string `json:"login"`
				} `json:"loginSection"`
			} `json:"participants"`
		}
		r.JSON(&page)
		for _, p := range page.Participants {
			out = append(out, p.Login.Login)
		}
		if page.UpToDate {
			slices.Sort(out)
			return out
		}
		token = page.Progress
	}
}

// TestImportHoldsTheRoster: from the 202 until the job ends, participant and subject changes
// and a second import of the survey are refused with the seed's lock message while reads go
// on; the job completes with exact counts and frees the roster.
func TestImportHoldsTheRoster(t *testing.T) {
	f := newFixture(t)
	q := f.env.EnableImports()
	wantStatus(t, f.add(f.owner, f.group, groupBody("taken", "taken@example.com", "L1", "L2")), 201)

	job := f.accepted(f.group, f.importRows(f.group, importBody(groupRows(0, 1200)...)))
	participant := base + f.group + "/participants/taken"
	for _, tc := range []struct{ name, fn, method, path, body string }{
		{"add", "SnapAddParticipantFunction", "POST", base + f.group + "/participants", groupBody("new", "new@example.com")},
		{"update", "SnapUpdateParticipantFunction", "PUT", participant, groupBody("taken", "taken@example.com", "L1", "L2")},
		{"delete", "SnapDeleteParticipantFunction", "DELETE", participant, ""},
		{"add subject", "SnapAddParticipantSubjectFunction", "POST", participant + "/subjects", `{"subjectName": "L3", "questionnaireSeeding": {}}`},
		{"delete subject", "SnapDeleteParticipantSubjectFunction", "DELETE", participant + "/subjects/L2", ""},
		{"second import", "SnapImportParticipantsFunction", "POST", base + f.group + "/participant-imports", importBody(groupRows(5000, 1)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantMessage(t, f.do(f.owner, "2.0", tc.fn, tc.method, tc.path, "", tc.body), 400, lockMessage)
		})
	}
	wantStatus(t, f.do(f.owner, "2.0", "SnapGetParticipantFunction", "GET", participant, "", ""), 200)
	// Another survey's roster is not held.
	wantStatus(t, f.add(f.owner, f.loginOnly, `{"loginSection": {"login": "solo", "subjects": [{"subjectName": "", "questionnaireSeeding": {}}]}}`), 201)

	stats := q.Drain()
	got := f.importJob(f.group, job.ImportID)
	if got.Status != "COMPLETED" || got.Counts.Total != 1200 || got.Counts.Processed != 1200 || got.Counts.Created != 1200 ||
		got.Counts.Unchanged != 0 || got.Counts.Failed != 0 || len(got.Errors) != 0 || got.FinishedAt == nil {
		t.Fatalf("finished job %+v", got)
	}
	t.Logf("1,200 rows: %+v", stats)
	want := append([]string{"taken"}, loginsOf(0, 1200)...)
	slices.Sort(want)
	if logins := f.logins(f.group); !slices.Equal(logins, want) {
		t.Fatalf("survey has %d participants, want the 1,200 rows and taken", len(logins))
	}
	// Released: changes go through again.
	wantStatus(t, f.add(f.owner, f.group, groupBody("new", "new@example.com")), 201)
	wantStatus(t, f.do(f.owner, "2.0", "SnapDeleteParticipantFunction", "DELETE", participant, "", ""), 200)
}

// records reads every item of the table but the import jobs' own and the rate counters (every
// call counts itself, the only write of a call that changes nothing), by key.
func (f *fixture) records() map[string]string {
	f.t.Helper()
	out := map[string]string{}
	in := &dynamodb.ScanInput{TableName: aws.String(f.env.Table), ConsistentRead: aws.Bool(true)}
	for {
		res, err := f.env.Client.Scan(context.Background(), in)
		must(f.t, err)
		for _, it := range res.Items {
			var rec map[string]any
			must(f.t, attributevalue.UnmarshalMap(it, &rec))
			if pk, _ := rec["pk"].(string); !strings.Contains(pk, "#IMPORT") && !strings.Contains(pk, "#RATE#") {
				out[fmt.Sprint(rec["pk"], "|", rec["sk"])] = js(rec)
			}
		}
		if res.LastEvaluatedKey == nil {
			return out
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func loginsOf(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("p%05d", from+i)
	}
	return out
}

// TestImportRowsValidatedUpFront: a payload with bad rows is a 400 listing every bad row with
// Add Participant's messages, and nothing is stored (no job, no lock).
func TestImportRowsValidatedUpFront(t *testing.T) {
	f := newFixture(t)
	f.env.EnableImports()
	rows := groupRows(0, 5)
	rows[1] = groupBody("", "blank@example.com")                              // no login
	rows[3] = groupBody("P00000", "other@example.com")                        // repeats row 0's login, in another case
	rows = append(rows, groupBody("p00009", "P00002@EXAMPLE.com"))            // repeats row 2's email
	rows = append(rows, strings.Replace(groupBody("p00010", "x@example.com"), // opted out and sending
		`"optedOut":false`, `"optedOut":true`, 1))
	r := f.importRows(f.group, importBody(rows...))
	wantStatus(t, r, 400)
	var invalid struct {
		Message string `json:"message"`
		Errors  []struct {
			Row     int    `json:"row"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	r.JSON(&invalid)
	if invalid.Message != "4 of 7 participants are invalid; nothing was imported." {
		t.Errorf("message %q", invalid.Message)
	}
	want := []struct {
		row int
		msg string
	}{{1, loginRequired}, {3, loginTaken}, {5, emailTaken}, {6, optedOutAndSend}}
	if len(invalid.Errors) != len(want) {
		t.Fatalf("errors %+v", invalid.Errors)
	}
	for i, w := range want {
		if e := invalid.Errors[i]; e.Row != w.row || e.Message != w.msg {
			t.Errorf("error %d: %+v, want row %d %q", i, e, w.row, w.msg)
		}
	}

	for _, tc := range []struct {
		name, body string
		status     int
		message    string
	}{
		{"not an object", `[1, 2]`, 400, "The request body must be a JSON object."},
		{"no participants", `{"rows": []}`, 400, `The import needs a "participants" array with at least one participant.`},
		{"empty", `{"participants": []}`, 400, `The import needs a "participants" array with at least one participant.`},
		{"participants not an array", `{"participants": {}}`, 400, "'participants' must be an array."},
		{"row not an object", `{"participants": [7]}`, 400, "1 of 1 participants are invalid; nothing was imported."},
		{"too large", `{"participants": ["` + strings.Repeat("x", 6_000_000) + `"]}`, 413, "The request body is larger than 6000000 bytes."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantMessage(t, f.importRows(f.group, tc.body), tc.status, tc.message)
		})
	}
	// An invite-only survey's rows need no login section; a login-only survey's do.
	wantStatus(t, f.importRows(f.loginOnly, importBody(`{"invitationSection": {"emailAddress": "a@example.com"}}`)), 400)
	wantMessage(t, f.importRows(f.closed, importBody(`{}`)), 400, "1 of 1 participants are invalid; nothing was imported.")

	// Nothing was stored: the roster is free and there is no job.
	wantStatus(t, f.add(f.owner, f.group, groupBody("free", "free@example.com")), 201)
	if logins := f.logins(f.group); !slices.Equal(logins, []string{"free"}) {
		t.Errorf("participants %v, want only the one added after", logins)
	}
}

// TestImportAddsOnlyWhatIsNew: rows already there as they say are unchanged, rows whose login
// or email another participant holds fail with Add Participant's messages, the same import
// again changes nothing, and jobs are seen only through their own survey and workspace.
func TestImportAddsOnlyWhatIsNew(t *testing.T) {
	f := newFixture(t)
	q := f.env.EnableImports()
	same := groupBody("same", "same@example.com")
	wantStatus(t, f.add(f.owner, f.group, same), 201)
	wantStatus(t, f.add(f.owner, f.group, groupBody("holder", "held@example.com")), 201)

	rows := append(groupRows(0, 3),
		same,                                     // unchanged: a status differs, which is not the client's to set
		groupBody("holder", "other@example.com"), // the login is another participant's
		groupBody("newcomer", "held@example.com"), // the email is another participant's
	)
	rows[3] = strings.Replace(rows[3], `"status":"Completed"`, `"status":"NotStarted"`, 1)
	body := importBody(rows...)
	first := f.accepted(f.group, f.importRows(f.group, body))
	q.Drain()
	got := f.importJob(f.group, first.ImportID)
	if got.Status != "COMPLETED" || got.Counts.Processed != 6 || got.Counts.Created != 3 || got.Counts.Unchanged != 1 || got.Counts.Failed != 2 {
		t.Fatalf("job %+v", got)
	}
	if len(got.Errors) != 2 || got.Errors[0].Row != 4 || got.Errors[0].Message != loginTaken || got.Errors[1].Row != 5 || got.Errors[1].Message != emailTaken {
		t.Fatalf("row errors %+v", got.Errors)
	}
	want := []string{"holder", "p00000", "p00001", "p00002", "same"}
	if logins := f.logins(f.group); !slices.Equal(logins, want) {
		t.Fatalf("logins %v, want %v", logins, want)
	}

	before := f.records()
	again := f.accepted(f.group, f.importRows(f.group, body))
	q.Drain()
	got = f.importJob(f.group, again.ImportID)
	if got.Status != "COMPLETED" || got.Counts.Created != 0 || got.Counts.Unchanged != 4 || got.Counts.Failed != 2 {
		t.Fatalf("the same import again: %+v", got)
	}
	if after := f.records(); !maps.Equal(before, after) {
		t.Errorf("the same import again changed records: %d before, %d after", len(before), len(after))
	}

	// Jobs are found only through their survey, and only in their workspace.
	wantMessage(t, f.do(f.owner, "2.0", "SnapGetParticipantImportFunction", "GET", base+f.inviteOnly+"/participant-imports/"+first.ImportID, "", ""), 404, "Import not found.")
	wantMessage(t, f.do(f.owner, "2.0", "SnapGetParticipantImportFunction", "GET", base+f.group+"/participant-imports/"+jobs.NewID(), "", ""), 404, "Import not found.")
	wantMessage(t, f.do(f.owner, "2.0", "SnapGetParticipantImportFunction", "GET", base+f.group+"/participant-imports/not-a-job", "", ""), 404, "Import not found.")
	other := fixtureIn(t, f.env)
	wantMessage(t, other.do(other.owner, "2.0", "SnapGetParticipantImportFunction", "GET", base+f.group+"/participant-imports/"+first.ImportID, "", ""), 401,
		"The survey does not exist or you do not have access to it.")
	// The colleague the survey is shared with sees the job.
	wantStatus(t, f.do(f.colleague, "2.0", "SnapGetParticipantImportFunction", "GET", base+f.group+"/participant-imports/"+first.ImportID, "", ""), 200)
}

// TestImportChunksDeliveredFiveTimes: every chunk is delivered three times at once and twice
// more after: the participants are there once each and the counts are exact.
func TestImportChunksDeliveredFiveTimes(t *testing.T) {
	f := newFixture(t)
	q := f.env.EnableImports()
	worker := q.Poller.Handler
	q.Poller.Handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if resp, err := worker(ctx, ev); err != nil || len(resp.BatchItemFailures) > 0 {
					t.Errorf("concurrent delivery: %v, %v", err, resp.BatchItemFailures)
				}
			})
		}
		wg.Wait()
		worker(ctx, ev)
		return worker(ctx, ev)
	}
	const n = jobs.MaxChunkRows + 100 // more than one chunk
	job := f.accepted(f.group, f.importRows(f.group, importBody(groupRows(0, n)...)))
	q.Drain()
	got := f.importJob(f.group, job.ImportID)
	if got.Status != "COMPLETED" || got.Counts.Processed != n || got.Counts.Created != n || got.Counts.Unchanged != 0 || got.Counts.Failed != 0 {
		t.Fatalf("job %+v", got)
	}
	if logins := f.logins(f.group); !slices.Equal(logins, loginsOf(0, n)) {
		t.Fatalf("%d participants, want the %d rows once each", len(logins), n)
	}
}
