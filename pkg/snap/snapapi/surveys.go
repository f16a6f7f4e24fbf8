package snapapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

// PublicBaseURL is where surveys' own pages live; API Gateway serves only the API.
const PublicBaseURL = "https://online.snapsurveys.com"

type userJSON struct {
	Username     string `json:"username"`
	Fullname     string `json:"fullname"`
	EmailAddress string `json:"emailAddress"`
}

func (a *API) getUserInfo(w http.ResponseWriter, r *http.Request) {
	if !noQuery(w, r) {
		return
	}
	u, err := a.Service.User(r.Context(), callOf(r.Context()).KeyName)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, userJSON{Username: u.Username, Fullname: u.Fullname, EmailAddress: u.Username})
}

// noQuery answers 400 when a call that takes no parameters is given one.
func noQuery(w http.ResponseWriter, r *http.Request) bool {
	q := parseQuery(r.URL)
	if q.err != "" {
		WriteMessage(w, http.StatusBadRequest, q.err)
		return false
	}
	return true
}

type surveyJSON struct {
	ID                  string   `json:"id"`
	OwnerID             string   `json:"ownerId"`
	OwnerName           string   `json:"ownerName"`
	Name                string   `json:"name"`
	Path                []string `json:"path"`
	Title               string   `json:"title"`
	URL                 string   `json:"url"`
	InterviewURL        string   `json:"interviewUrl"`
	InterviewPreviewURL string   `json:"interviewPreviewUrl"`
	InterviewingState   string   `json:"interviewingState"`
}

func toSurvey(s survey.Survey, version int) surveyJSON {
	state := s.InterviewingState
	if state == "" {
		state = "Unknown"
	}
	if version == 1 && state == "Started" {
		state = "Live" // v1's word for it
	}
	path := s.Path
	if path == nil {
		path = []string{}
	}
	return surveyJSON{
		ID: s.ID, OwnerID: s.OwnerID, OwnerName: s.OwnerName, Name: s.Name, Path: path, Title: s.Title,
		URL:                 PublicBaseURL + "/snaponline/surveys/" + s.ID,
		InterviewURL:        PublicBaseURL + "/interview/" + s.ID,
		InterviewPreviewURL: PublicBaseURL + "/interview/" + s.ID + "?preview=true",
		InterviewingState:   state,
	}
}

func (a *API) listSurveys(w http.ResponseWriter, r *http.Request) {
	if !noQuery(w, r) {
		return
	}
	c := callOf(r.Context())
	surveys, err := a.Service.Surveys(r.Context(), c.caller())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]surveyJSON, len(surveys))
	for i, s := range surveys {
		out[i] = toSurvey(s, c.version)
	}
	writeOK(w, http.StatusOK, out)
}

func (a *API) getSurvey(w http.ResponseWriter, r *http.Request) {
	if noQuery(w, r) {
		writeOK(w, http.StatusOK, toSurvey(surveyOf(r.Context()).Survey, callOf(r.Context()).version))
	}
}

type codeJSON struct {
	CodeIndex int    `json:"codeIndex"`
	CodeValue string `json:"codeValue"`
	CodeLabel string `json:"codeLabel"`
}

type variableJSON struct {
	Order          int         `json:"order"`
	VariableID     string      `json:"variableId"`
	Label          string      `json:"label"`
	Name           string      `json:"name"`
	QuestionText   string      `json:"questionText"`
	VariableTypeID int         `json:"variableTypeId"`
	ResponseTypeID int         `json:"responseTypeId"`
	VariableType   string      `json:"variableType"`
	ResponseType   string      `json:"responseType"`
	CodeCount      int         `json:"codeCount"`
	Codes          *[]codeJSON `json:"codes,omitempty"`
}

func toVariable(v survey.Variable, withCodes bool) variableJSON {
	out := variableJSON{
		Order: v.Order, VariableID: v.ID, Label: v.Label, Name: v.Name, QuestionText: v.QuestionText,
		VariableTypeID: v.VariableTypeID, ResponseTypeID: v.ResponseTypeID, VariableType: v.VariableType,
		ResponseType: v.ResponseType, CodeCount: len(v.Codes),
	}
	if withCodes {
		codes := make([]codeJSON, len(v.Codes))
		for i, c := range v.Codes {
			codes[i] = codeJSON{CodeIndex: c.Index, CodeValue: c.Value, CodeLabel: c.Label}
		}
		out.Codes = &codes
	}
	return out
}

func (a *API) listVariables(w http.ResponseWriter, r *http.Request) {
	q := parseQuery(r.URL, "includeCodes")
	withCodes := q.boolean("includeCodes", true)
	if q.err != "" {
		WriteMessage(w, http.StatusBadRequest, q.err)
		return
	}
	sv := surveyOf(r.Context())
	vars := make([]variableJSON, len(sv.Variables))
	for i, v := range sv.Variables {
		vars[i] = toVariable(v, withCodes)
	}
	writeOK(w, http.StatusOK, map[string]any{"surveyId": sv.ID, "variables": vars})
}

func (a *API) getVariable(w http.ResponseWriter, r *http.Request) {
	if !noQuery(w, r) {
		return
	}
	v, ok := surveyOf(r.Context()).Variable(r.PathValue("variableId"))
	if !ok {
		WriteMessage(w, http.StatusNotFound, MsgVariableNotFound)
		return
	}
	writeOK(w, http.StatusOK, toVariable(v, true))
}

// responsesQuery is a parsed Get Survey Responses request.
type responsesQuery struct {
	startingFrom, after string
	max                 int
	caseIDs, labels     bool
	variables           []survey.Variable
	filter              []clause
	filterText          *string
}

// clause is one filter condition: the variable's value equals (multiple choice: contains) value.
type clause struct {
	variable survey.Variable
	value    string
}

func parseResponsesQuery(r *http.Request, sv survey.Survey) (responsesQuery, string) {
	q := parseQuery(r.URL, "maxResponses", "startingFrom", "returnCaseIds", "useCodeLabels", "variables", "filter")
	rq := responsesQuery{max: q.size("maxResponses"), caseIDs: q.boolean("returnCaseIds", false), labels: q.boolean("useCodeLabels", false)}
	rq.startingFrom, rq.after = q.startingFrom(ids.SnapResponse)
	rq.variables = sv.Variables
	if list := q.get("variables"); list != "" {
		rq.variables = nil
		for _, id := range strings.Split(list, ",") {
			v, ok := sv.Variable(strings.TrimSpace(id))
			if !ok {
				q.fail(survey.MsgNoSuchVariable(strings.TrimSpace(id)))
				break
			}
			rq.variables = append(rq.variables, v)
		}
	}
	if f := q.get("filter"); f != "" {
		rq.filterText = &f
		for _, part := range strings.Split(f, ",") {
			id, value, ok := strings.Cut(part, ":")
			v, known := sv.Variable(strings.TrimSpace(id))
			switch {
			case !ok || strings.TrimSpace(value) == "":
				q.fail(fmt.Sprintf("The filter '%s' is not valid: use <variableId>:<value>, separated by commas.", f))
			case !known:
				q.fail(survey.MsgNoSuchVariable(strings.TrimSpace(id)))
			}
			rq.filter = append(rq.filter, clause{variable: v, value: strings.TrimSpace(value)})
		}
	}
	return rq, q.err
}

func (c clause) matches(resp survey.Response) bool {
	got := resp.Values[c.variable.ID]
	if c.variable.ResponseType == survey.ResponseMultiple {
		for _, v := range strings.Split(got, ";") {
			if strings.TrimSpace(v) == c.value {
				return true
			}
		}
		return false
	}
	return got == c.value
}

func (a *API) listResponses(w http.ResponseWriter, r *http.Request) {
	sv := surveyOf(r.Context())
	c := callOf(r.Context())
	rq, bad := parseResponsesQuery(r, sv.Survey)
	if bad != "" {
		WriteMessage(w, http.StatusBadRequest, bad)
		return
	}
	page, more, err := a.Service.Responses(r.Context(), c.caller(), sv.ID, rq.after, rq.max)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := []any{}
	last := ""
	for _, resp := range page {
		last = resp.ID
		if rq.keeps(resp) {
			items = append(items, rq.render(resp, c.version))
		}
	}
	body := map[string]any{
		"surveyId": sv.ID, "startingFrom": rq.startingFrom, "progress": progress(rq.startingFrom, last),
		"upToDate": !more, "responses": items,
	}
	if c.version == 2 {
		body["filter"] = rq.filterText
	}
	writeOK(w, http.StatusOK, body)
}

func (rq responsesQuery) keeps(resp survey.Response) bool {
	for _, c := range rq.filter {
		if !c.matches(resp) {
			return false
		}
	}
	return true
}

// render writes one response in the version's shape: v1 variableId/value/status, v2 id/v/s.
func (rq responsesQuery) render(resp survey.Response, version int) map[string]any {
	values := make([]map[string]string, len(rq.variables))
	idKey, valueKey, statusKey := "variableId", "value", "status"
	if version == 2 {
		idKey, valueKey, statusKey = "id", "v", "s"
	}
	for i, v := range rq.variables {
		value := resp.Values[v.ID]
		if rq.labels {
			value = labelsOf(v, value)
		}
		values[i] = map[string]string{idKey: v.ID, valueKey: value}
	}
	out := map[string]any{statusKey: resp.Status, "values": values}
	if rq.caseIDs {
		out["caseId"] = resp.CaseID
	}
	return out
}

// labelsOf turns a choice variable's code values into their labels.
func labelsOf(v survey.Variable, value string) string {
	if value == "" || (v.ResponseType != survey.ResponseSingle && v.ResponseType != survey.ResponseMultiple) {
		return value
	}
	parts := strings.Split(value, ";")
	for i, p := range parts {
		for _, c := range v.Codes {
			if c.Value == strings.TrimSpace(p) {
				parts[i] = c.Label
			}
		}
	}
	return strings.Join(parts, ";")
}
