package spotapi

import (
	"net/http"

	"github.com/participant-roster/roster/pkg/platform/routes"
)

// Routes declares every Spot Thought route: its function, method and path, what it may do, and
// the handler (with its middleware) that answers it. It is the one place a Spot route is
// written down: `make generate` writes template.yaml's functions, the Makefile's build targets
// and functions/ from it, and the wiring serves a function's handler from it.
var Routes = routes.Table[*API]{
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "ListScreenerParticipantsFunction", Dir: "list-screener-participants",
			Method: "GET", Path: "/screener-participants", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.listScreenerParticipants) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "GetScreenerParticipantFunction", Dir: "get-screener-participant",
			Method: "GET", Path: "/screener-participants/{id}", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.getScreenerParticipant) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "DeleteScreenerParticipantFunction", Dir: "delete-screener-participant",
			Method: "DELETE", Path: "/screener-participants/{id}"},
		Handler: func(a *API) http.Handler { return a.authed(a.deleteScreenerParticipant) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "ImportScreenerParticipantsFunction", Dir: "import-screener-participants",
			Method: "POST", Path: "/screener-participants-import", Idempotent: true,
			SendsImports: "Imports above the synchronous limit (or with Prefer: respond-async) are stored as a job and their chunks sent to ImportQueue; ImportWorkerFunction runs them."},
		Handler: func(a *API) http.Handler { return a.authed(a.importScreenerParticipants) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "GetScreenerParticipantImportFunction", Dir: "get-screener-participant-import",
			Method: "GET", Path: "/screener-participants-imports/{id}", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.getScreenerParticipantImport) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "CancelScreenerParticipantImportFunction", Dir: "cancel-screener-participant-import",
			Method: "DELETE", Path: "/screener-participants-imports/{id}"},
		Handler: func(a *API) http.Handler { return a.authed(a.cancelScreenerParticipantImport) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "ListScreenerParticipantImportResultsFunction", Dir: "list-screener-participant-import-results",
			Method: "GET", Path: "/screener-participants-imports/{id}/results", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.listScreenerParticipantImportResults) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "ListScreenerParticipantImportsFunction", Dir: "list-screener-participant-imports",
			Method: "GET", Path: "/screener-participants-imports", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.listScreenerParticipantImports) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "ListParticipantsFunction", Dir: "list-participants",
			Method: "GET", Path: "/participants", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.listParticipants) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "GetParticipantFunction", Dir: "get-participant",
			Method: "GET", Path: "/participants/{id}", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.getParticipant) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "ListScreenersFunction", Dir: "list-screeners",
			Method: "GET", Path: "/screeners", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.listScreeners) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "GetScreenerFunction", Dir: "get-screener",
			Method: "GET", Path: "/screeners/{id}", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.getScreener) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "ListScreenerSessionsFunction", Dir: "list-screener-sessions",
			Method: "GET", Path: "/screener-sessions", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.listSessions) },
	},
	{
		Route: routes.Route{Family: routes.Spot, LogicalID: "GetScreenerSessionFunction", Dir: "get-screener-session",
			Method: "GET", Path: "/screener-sessions/{id}", ReadOnly: true},
		Handler: func(a *API) http.Handler { return a.authed(a.getSession) },
	},
}
