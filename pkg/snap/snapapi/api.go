// Package snapapi serves the Snap XMP Online survey-participant API family over HTTP:
// X-USERNAME/X-API-KEY credentials, the X-VERSION header, surveys, variables, responses,
// participants and their subjects, with the vendor's `{"message": ...}` errors.
package snapapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/httpx"
	"github.com/participant-roster/roster/pkg/platform/idempotency"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
	"github.com/participant-roster/roster/pkg/platform/routes"
	"github.com/participant-roster/roster/pkg/snap/snapjobs"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Header names of the family.
const (
	HeaderUsername          = "X-USERNAME"
	HeaderAPIKey            = "X-API-KEY"
	HeaderVersion           = "X-VERSION"
	HeaderSupportedVersions = "api-supported-versions"
	SupportedVersions       = "1.0, 2.0"
)

// Messages of our own (the seed's are in pkg/snap/survey).
const (
	MsgUnauthorized        = "Authorization has been denied for this request."
	MsgNoSurveyAccess      = "The survey does not exist or you do not have access to it."
	MsgUnsupportedVersion  = "Unsupported X-VERSION. Supported versions: 1.0, 2.0."
	MsgParticipantNotFound = "Participant not found."
	MsgSubjectNotFound     = "Subject not found."
	MsgVariableNotFound    = "Variable not found."
	MsgInternal            = "An error has occurred."
	MsgRetry               = "The participant changed while this request ran; nothing was written. Retry the request."
)

// API holds what the handlers need.
type API struct {
	Service  *survey.Service
	Verifier *auth.Verifier
	Log      *slog.Logger
	// Jobs reads import jobs; Imports makes them (bulk imports need it).
	Jobs    jobs.Store
	Imports *jobs.Submitter
	// ImportRows reads the roster as an import's chunk does, for a synchronous dry run.
	ImportRows snapjobs.Store
	// Idempotency guards the routes declared Idempotent (routes.Route); nil ignores the
	// Idempotency-Key header.
	Idempotency *idempotency.Guard
	// Limiter counts every verified user's calls against Snap's per-user limits (throttle.go);
	// nil counts nothing and sends no rate headers.
	Limiter *ratelimit.Limiter
}

// WriteMessage writes the family's error body. Every response carries the supported versions.
func WriteMessage(w http.ResponseWriter, status int, message string) {
	w.Header().Set(HeaderSupportedVersions, SupportedVersions)
	httpx.WriteJSON(w, status, map[string]string{"message": message})
}

func writeOK(w http.ResponseWriter, status int, body any) {
	w.Header().Set(HeaderSupportedVersions, SupportedVersions)
	httpx.WriteJSON(w, status, body)
}

// writeEmpty answers 200 with no body (Delete calls).
func writeEmpty(w http.ResponseWriter) {
	w.Header().Set(HeaderSupportedVersions, SupportedVersions)
	w.WriteHeader(http.StatusOK)
}

// call is what a verified request carries: who asks, in which version.
type call struct {
	auth.Principal
	version   int // 1 or 2
	admission *admission
}

func (c call) userID() string { return c.KeyID }

func (c call) caller() survey.Caller {
	return survey.Caller{WorkspaceID: c.WorkspaceID, UserID: c.userID()}
}

type callKey struct{}

func callOf(ctx context.Context) call {
	c, _ := ctx.Value(callKey{}).(call)
	return c
}

// authed verifies the credential, starts counting the call against the user's limits, then
// checks the version header. The workspace and user come only from the verified credential. A
// 401 here knows no user, so it counts nothing and carries no rate headers. The handler must
// admit the call before it answers or writes: withSurvey does, beside its read, and admitted
// does for the routes without a survey.
func (a *API) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Verifier.Verify(r.Context(), r.Header.Get(HeaderUsername), r.Header.Get(HeaderAPIKey))
		switch {
		case errors.Is(err, auth.ErrUnauthorized):
			WriteMessage(w, http.StatusUnauthorized, MsgUnauthorized)
			return
		case err != nil:
			a.writeError(w, r, err)
			return
		}
		ad := a.startAdmission(r.Context(), p)
		version, ok := negotiateVersion(r.Header.Get(HeaderVersion))
		if !ok {
			if a.admit(w, r, ad) {
				WriteMessage(w, http.StatusBadRequest, MsgUnsupportedVersion)
			}
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callKey{}, call{Principal: p, version: version, admission: ad})))
	})
}

// negotiateVersion: no header means 1.0; "2" and "2.0" mean 2.0.
func negotiateVersion(v string) (int, bool) {
	switch v {
	case "", "1", "1.0":
		return 1, true
	case "2", "2.0":
		return 2, true
	}
	return 0, false
}

type surveyKey struct{}

func surveyOf(ctx context.Context) survey.SurveyState {
	s, _ := ctx.Value(surveyKey{}).(survey.SurveyState)
	return s
}

// withSurvey loads the {surveyId} survey while the call's count runs, then admits the call; a
// survey that does not exist, is not a GUID, or that the user cannot see is a 401, as the
// vendor answers. The handler then runs (behind the Idempotency-Key guard on an Idempotent
// route).
func (a *API) withSurvey(h http.HandlerFunc) http.HandlerFunc {
	return a.withSurveyFrom((*survey.Service).Survey, h)
}

// withSurveyToWrite is withSurvey for a participant write: the survey may come from the
// instance's cache (survey.Service.SurveyToWrite), which the write's own check keeps exact.
func (a *API) withSurveyToWrite(h http.HandlerFunc) http.HandlerFunc {
	return a.withSurveyFrom((*survey.Service).SurveyToWrite, h)
}

type surveyLoader func(s *survey.Service, ctx context.Context, c survey.Caller, id string) (survey.SurveyState, error)

func (a *API) withSurveyFrom(load surveyLoader, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sv, err := load(a.Service, r.Context(), callOf(r.Context()).caller(), r.PathValue("surveyId"))
		if !a.admit(w, r, callOf(r.Context()).admission) {
			return
		}
		if errors.Is(err, vocab.ErrNotFound) {
			WriteMessage(w, http.StatusUnauthorized, MsgNoSurveyAccess)
			return
		}
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		a.serveGuarded(w, r.WithContext(context.WithValue(r.Context(), surveyKey{}, sv)), h)
	}
}

// writeError maps domain and store errors to the family's statuses and messages; anything
// unknown is ours: a logged 500 without detail.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var invalid *survey.Error
	switch {
	case errors.As(err, &invalid):
		WriteMessage(w, http.StatusBadRequest, invalid.Message)
	case errors.Is(err, survey.ErrNoSurveyAccess):
		WriteMessage(w, http.StatusUnauthorized, MsgNoSurveyAccess)
	case errors.Is(err, survey.ErrRosterLocked), errors.Is(err, jobs.ErrTargetHeld):
		WriteMessage(w, http.StatusBadRequest, survey.MsgImportInProgress)
	case errors.Is(err, survey.ErrLoginTaken):
		WriteMessage(w, http.StatusBadRequest, survey.MsgLoginTaken)
	case errors.Is(err, survey.ErrEmailTaken):
		WriteMessage(w, http.StatusBadRequest, survey.MsgEmailTaken)
	case errors.Is(err, survey.ErrSubjectNotFound):
		WriteMessage(w, http.StatusNotFound, MsgSubjectNotFound)
	case errors.Is(err, vocab.ErrNotFound):
		WriteMessage(w, http.StatusNotFound, MsgParticipantNotFound)
	case errors.Is(err, vocab.ErrConflict), errors.Is(err, survey.ErrSurveyChanged):
		WriteMessage(w, http.StatusConflict, MsgRetry)
	default:
		a.Log.ErrorContext(r.Context(), "request failed", slog.String("requestId", httpx.RequestID(r.Context())), slog.Any("error", err))
		WriteMessage(w, http.StatusInternalServerError, MsgInternal)
	}
}

// PathPrefix begins every Snap path (the route table's, the API reference's); the $default
// route's function answers a path under it in this family's shape.
const PathPrefix = "/snaponline/api/"

// noSuchID is what a route answers, once the credentials pass, when its path parameter names
// nothing: a survey that does not exist is a 401, as the vendor answers (withSurvey); a
// participant, subject, variable or import that does not exist a 404.
var noSuchID = map[string]struct {
	status  int
	message string
}{
	"surveyId":            {http.StatusUnauthorized, MsgNoSurveyAccess},
	"participantUniqueId": {http.StatusNotFound, MsgParticipantNotFound},
	"subjectName":         {http.StatusNotFound, MsgSubjectNotFound},
	"variableId":          {http.StatusNotFound, MsgVariableNotFound},
	"importId":            {http.StatusNotFound, MsgImportNotFound},
}

// WriteNoSuchID writes route's answer for its path parameter param naming nothing
// (noSuchID), as its handler would once the credentials pass: the $default route's function
// answers so for an id API Gateway could not route, one holding a slash. Update Participant
// (a PUT whose target is the participant) names a missing participant in the seed's 400
// (survey.Service.ReplaceParticipant). A parameter no route has gets the 404 of a path no
// route matches.
func WriteNoSuchID(w http.ResponseWriter, _ *http.Request, route routes.Route, param string) {
	if route.Method == http.MethodPut && param == "participantUniqueId" && strings.HasSuffix(route.Path, "/{"+param+"}") {
		WriteMessage(w, http.StatusBadRequest, survey.MsgParticipantToUpdateNotFound)
		return
	}
	a, ok := noSuchID[param]
	if !ok {
		a.status, a.message = http.StatusNotFound, routes.MsgNoRoute
	}
	WriteMessage(w, a.status, a.message)
}

// WriteRouteError writes the family's error for a request its handler never answered: an
// event that is no request, a method or path the route does not serve, a panic.
func WriteRouteError(w http.ResponseWriter, _ *http.Request, status int, message string) {
	WriteMessage(w, status, message)
}
