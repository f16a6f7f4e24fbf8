package snapapi

import (
	"net/http"

	"github.com/participant-roster/roster/pkg/platform/routes"
)

// Routes declares every Snap XMP Online route: its function, method and path, what it may do,
// and the handler (with its middleware) that answers it. It is the one place a Snap route is
// written down: `make generate` writes template.yaml's functions, the Makefile's build targets
// and functions/ from it, and the wiring serves a function's handler from it.
var Routes = routes.Table[*API]{
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapGetUserInfoFunction", Dir: "snap-get-user-info",
			Method: "GET", Path: "/snaponline/api/account", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.admitted(a.getUserInfo)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapListSurveysFunction", Dir: "snap-list-surveys",
			Method: "GET", Path: "/snaponline/api/surveys", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.admitted(a.listSurveys)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapGetSurveyFunction", Dir: "snap-get-survey",
			Method: "GET", Path: "/snaponline/api/surveys/{surveyId}", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.getSurvey)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapListSurveyVariablesFunction", Dir: "snap-list-survey-variables",
			Method: "GET", Path: "/snaponline/api/surveys/{surveyId}/variables", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.listVariables)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapGetSurveyVariableFunction", Dir: "snap-get-survey-variable",
			Method: "GET", Path: "/snaponline/api/surveys/{surveyId}/variables/{variableId}", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.getVariable)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapListSurveyResponsesFunction", Dir: "snap-list-survey-responses",
			Method: "GET", Path: "/snaponline/api/surveys/{surveyId}/responses", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.listResponses)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapListParticipantsFunction", Dir: "snap-list-participants",
			Method: "GET", Path: "/snaponline/api/surveys/{surveyId}/participants", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.listParticipants)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapGetParticipantFunction", Dir: "snap-get-participant",
			Method: "GET", Path: "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.getParticipant)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapAddParticipantFunction", Dir: "snap-add-participant",
			Method: "POST", Path: "/snaponline/api/surveys/{surveyId}/participants", Idempotent: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurveyToWrite(a.addParticipant)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapUpdateParticipantFunction", Dir: "snap-update-participant",
			Method: "PUT", Path: "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}"},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurveyToWrite(a.updateParticipant)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapDeleteParticipantFunction", Dir: "snap-delete-participant",
			Method: "DELETE", Path: "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}"},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurveyToWrite(a.deleteParticipant)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapListParticipantSubjectsFunction", Dir: "snap-list-participant-subjects",
			Method: "GET", Path: "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}/subjects", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.listSubjects)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapGetParticipantSubjectFunction", Dir: "snap-get-participant-subject",
			Method: "GET", Path: "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}/subjects/{subjectName}", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.getSubject)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapAddParticipantSubjectFunction", Dir: "snap-add-participant-subject",
			Method: "POST", Path: "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}/subjects", Idempotent: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurveyToWrite(a.addSubject)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapUpdateParticipantSubjectFunction", Dir: "snap-update-participant-subject",
			Method: "PUT", Path: "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}/subjects/{subjectName}"},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurveyToWrite(a.updateSubject)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapDeleteParticipantSubjectFunction", Dir: "snap-delete-participant-subject",
			Method: "DELETE", Path: "/snaponline/api/surveys/{surveyId}/participants/{participantUniqueId}/subjects/{subjectName}"},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurveyToWrite(a.deleteSubject)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapImportParticipantsFunction", Dir: "snap-import-participants",
			Method: "POST", Path: "/snaponline/api/surveys/{surveyId}/participant-imports", Idempotent: true,
			SendsImports: "Every bulk import but a dry run of up to 1,000 rows is a job: stored (a real import's with the survey's roster held), its chunks sent to ImportQueue; ImportWorkerFunction runs them and frees the roster when the job ends."},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.importParticipants)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapListParticipantImportsFunction", Dir: "snap-list-participant-imports",
			Method: "GET", Path: "/snaponline/api/surveys/{surveyId}/participant-imports", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.listImports)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapGetParticipantImportFunction", Dir: "snap-get-participant-import",
			Method: "GET", Path: "/snaponline/api/surveys/{surveyId}/participant-imports/{importId}", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.getImport)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapCancelParticipantImportFunction", Dir: "snap-cancel-participant-import",
			Method: "DELETE", Path: "/snaponline/api/surveys/{surveyId}/participant-imports/{importId}"},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.cancelImport)) },
	},
	{
		Route: routes.Route{Family: routes.Snap, LogicalID: "SnapListParticipantImportResultsFunction", Dir: "snap-list-participant-import-results",
			Method: "GET", Path: "/snaponline/api/surveys/{surveyId}/participant-imports/{importId}/results", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.withSurvey(a.listImportResults)) },
	},
}
