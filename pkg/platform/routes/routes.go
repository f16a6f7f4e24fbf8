// Package routes is the registry of Lambda functions: which function (by its template.yaml
// logical id) serves which method and path, and which handler answers it. template.yaml,
// functions/, the Makefile's build targets and events/ must agree with this list; the tests in
// this package fail when they do not.
package routes

// Family names the public API a route belongs to; it selects the error shape.
type Family string

const (
	Spot Family = "spot"
	Snap Family = "snap"
)

// Route is one API Gateway route served by one Lambda function.
type Route struct {
	LogicalID string // template.yaml resource name, e.g. GetScreenerParticipantFunction
	Dir       string // functions/<Dir>/main.go
	Method    string // HTTP method as in the HttpApi event
	Path      string // HttpApi path, with {param} placeholders
	ReadOnly  bool   // gets DynamoDBReadPolicy instead of DynamoDBCrudPolicy
	Family    Family
}

// All lists every route, in the order template.yaml declares them.
var All = []Route{
	{"ListScreenerParticipantsFunction", "list-screener-participants", "GET", "/screener-participants", true, Spot},
	{"GetScreenerParticipantFunction", "get-screener-participant", "GET", "/screener-participants/{id}", true, Spot},
	{"DeleteScreenerParticipantFunction", "delete-screener-participant", "DELETE", "/screener-participants/{id}", false, Spot},
	{"ImportScreenerParticipantsFunction", "import-screener-participants", "POST", "/screener-participants-import", false, Spot},
	{"GetScreenerParticipantImportFunction", "get-screener-participant-import", "GET", "/screener-participants-imports/{id}", true, Spot},
	{"ListParticipantsFunction", "list-participants", "GET", "/participants", true, Spot},
	{"GetParticipantFunction", "get-participant", "GET", "/participants/{id}", true, Spot},
	{"ListScreenersFunction", "list-screeners", "GET", "/screeners", true, Spot},
	{"GetScreenerFunction", "get-screener", "GET", "/screeners/{id}", true, Spot},
	{"ListScreenerSessionsFunction", "list-screener-sessions", "GET", "/screener-sessions", true, Spot},
	{"GetScreenerSessionFunction", "get-screener-session", "GET", "/screener-sessions/{id}", true, Spot},

	{"SnapGetUserInfoFunction", "snap-get-user-info", "GET", "/snaponline/api/account", true, Snap},
	{"SnapListSurveysFunction", "snap-list-surveys", "GET", "/snaponline/api/surveys", true, Snap},
	{"SnapGetSurveyFunction", "snap-get-survey", "GET", "/snaponline/api/surveys/{surveyId}", true, Snap},
	{"SnapListSurveyVariablesFunction", "snap-list-survey-variables", "GET", "/snaponline/api/surveys/{surveyId}/variables", true, Snap},
	{"SnapGetSurveyVariableFunction", "snap-get-survey-variable", "GET", "/snaponline/api/surveys/{surveyId}/variables/{variableId}", true, Snap},
	{"SnapListSurveyResponsesFunction", "snap-list-survey-responses", "GET", "/snaponline/api/surveys/{surveyId}/responses", true, Snap},
	{"SnapListParticipantsFunction", "snap-list-participants", "GET", "/snaponline/api/surveys/{surveyId}/participants", true, Snap},
	{"SnapGetParticipantFunction", "snap-get-participant", "GET", "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}", true, Snap},
	{"SnapAddParticipantFunction", "snap-add-participant", "POST", "/snaponline/api/surveys/{surveyId}/participants", false, Snap},
	{"SnapUpdateParticipantFunction", "snap-update-participant", "PUT", "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}", false, Snap},
	{"SnapDeleteParticipantFunction", "snap-delete-participant", "DELETE", "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}", false, Snap},
	{"SnapListParticipantSubjectsFunction", "snap-list-participant-subjects", "GET", "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}/subjects", true, Snap},
	{"SnapGetParticipantSubjectFunction", "snap-get-participant-subject", "GET", "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}/subjects/{subjectName}", true, Snap},
	{"SnapAddParticipantSubjectFunction", "snap-add-participant-subject", "POST", "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}/subjects", false, Snap},
	{"SnapUpdateParticipantSubjectFunction", "snap-update-participant-subject", "PUT", "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}/subjects/{subjectName}", false, Snap},
	{"SnapDeleteParticipantSubjectFunction", "snap-delete-participant-subject", "DELETE", "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}/subjects/{subjectName}", false, Snap},
	{"SnapImportParticipantsFunction", "snap-import-participants", "POST", "/snaponline/api/surveys/{surveyId}/participant-imports", false, Snap},
	{"SnapGetParticipantImportFunction", "snap-get-participant-import", "GET", "/snaponline/api/surveys/{surveyId}/participant-imports/{importId}", true, Snap},
}

// Worker is a Lambda function fed by an event source other than the HTTP API (an SQS queue).
type Worker struct {
	LogicalID string // template.yaml resource name
	Dir       string // functions/<Dir>/main.go
}

// Workers lists every non-HTTP function, in the order template.yaml declares them (after the
// routes).
var Workers = []Worker{
	{"ImportWorkerFunction", "import-worker"},
}

// WorkerByLogicalID finds a worker by its function's logical id.
func WorkerByLogicalID(id string) (Worker, bool) {
	for _, w := range Workers {
		if w.LogicalID == id {
			return w, true
		}
	}
	return Worker{}, false
}

// ByLogicalID finds a route by its function's logical id.
func ByLogicalID(id string) (Route, bool) {
	for _, r := range All {
		if r.LogicalID == id {
			return r, true
		}
	}
	return Route{}, false
}

// Pattern is the route as a Go 1.22 http.ServeMux pattern ("GET /screeners/{id}").
func (r Route) Pattern() string { return r.Method + " " + r.Path }
