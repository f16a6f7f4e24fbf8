package snapapi

import (
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

// MaxBodyBytes caps a participant call's body, well below what one stored participant may
// hold (survey.MaxParticipantBytes).
const MaxBodyBytes = 256 << 10

type invitationJSON struct {
	OptedOut        bool               `json:"optedOut"`
	SendInvitations bool               `json:"sendInvitations"`
	EmailAddress    string             `json:"emailAddress"`
	InviteSeeding   *map[string]string `json:"inviteSeeding,omitempty"`
}

type loginJSON struct {
	Login       *string        `json:"login"`
	Password    *string        `json:"password"`
	Interviewer *string        `json:"interviewer"`
	Status      *string        `json:"status"`
	Subjects    *[]subjectJSON `json:"subjects,omitempty"`
}

type subjectJSON struct {
	SubjectName          string            `json:"subjectName"`
	QuestionnaireSeeding map[string]string `json:"questionnaireSeeding"`
	Status               string            `json:"status"`
}

type participantJSON struct {
	Enabled    bool            `json:"enabled"`
	Invitation *invitationJSON `json:"invitationSection,omitempty"`
	Login      *loginJSON      `json:"loginSection,omitempty"`
}

// toParticipant renders a participant; full adds seeding and subjects (list items carry
// neither). The interviewer shows only to users who may manage SOI participants.
func toParticipant(p survey.Participant, sv survey.Survey, userID string, full bool) participantJSON {
	out := participantJSON{Enabled: p.Enabled}
	if inv := p.Invitation; inv != nil {
		out.Invitation = &invitationJSON{OptedOut: inv.OptedOut, SendInvitations: inv.SendInvitations, EmailAddress: inv.EmailAddress}
		if full {
			seeding := nonNil(inv.InviteSeeding)
			out.Invitation.InviteSeeding = &seeding
		}
	}
	if l := p.Login; l != nil {
		out.Login = &loginJSON{Login: l.Login, Password: l.Password, Status: nullable(p.Status())}
		if sv.CanManageSOI(userID) {
			out.Login.Interviewer = l.Interviewer
		}
		if full {
			subjects := make([]subjectJSON, len(l.Subjects))
			for i, s := range l.Subjects {
				subjects[i] = toSubject(s)
			}
			out.Login.Subjects = &subjects
		}
	}
	return out
}

func toSubject(s survey.Subject) subjectJSON {
	return subjectJSON{SubjectName: s.Name, QuestionnaireSeeding: nonNil(s.QuestionnaireSeeding), Status: s.Status}
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (a *API) listParticipants(w http.ResponseWriter, r *http.Request) {
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	q := parseQuery(r.URL, "maxParticipants", "startingFrom")
	max := q.size("maxParticipants")
	token, after := q.startingFrom(ids.SnapParticipant)
	if q.err != "" {
		WriteMessage(w, http.StatusBadRequest, q.err)
		return
	}
	page, more, err := a.Service.Participants(r.Context(), c.caller(), sv.ID, after, max)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]participantJSON, len(page))
	last := ""
	for i, p := range page {
		items[i] = toParticipant(p.Participant, sv.Survey, c.userID(), false)
		last = p.ID
	}
	writeOK(w, http.StatusOK, map[string]any{
		"surveyId": sv.ID, "startingFrom": token, "progress": progress(token, last), "upToDate": !more, "participants": items,
	})
}

func (a *API) getParticipant(w http.ResponseWriter, r *http.Request) {
	if !noQuery(w, r) {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	p, err := a.Service.Participant(r.Context(), c.caller(), sv.Survey, r.PathValue("participantUniqueId"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, toParticipant(p.Participant, sv.Survey, c.userID(), true))
}

// writable answers the checks every participant write shares: no query, no import holding the
// roster (before the body, which a locked roster would refuse whatever it holds), and a
// readable body of at most maxBody bytes (0: the call takes none). It returns the body.
func (a *API) writable(w http.ResponseWriter, r *http.Request, maxBody int) ([]byte, bool) {
	if !noQuery(w, r) {
		return nil, false
	}
	return a.writableBody(w, r, maxBody)
}

// writableBody is writable for a call that has read its query parameters itself.
func (a *API) writableBody(w http.ResponseWriter, r *http.Request, maxBody int) ([]byte, bool) {
	if err := surveyOf(r.Context()).Writable(); err != nil {
		a.writeError(w, r, err)
		return nil, false
	}
	if maxBody == 0 {
		return nil, true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(maxBody)+1))
	switch {
	case err != nil:
		WriteMessage(w, http.StatusBadRequest, "The request body could not be read.")
		return nil, false
	case len(body) > maxBody:
		WriteMessage(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", maxBody))
		return nil, false
	}
	return body, true
}

// location is the absolute URL of a path on the host the request came to: https, as API
// Gateway serves, unless the request came over plain http (the local server says so in
// X-Forwarded-Proto, as API Gateway does).
func location(r *http.Request, path string) string {
	if r.Host == "" {
		return path
	}
	scheme := "https"
	if r.Header.Get("X-Forwarded-Proto") == "http" {
		scheme = "http"
	}
	return scheme + "://" + r.Host + path
}

func participantPath(surveyID, uniqueID string) string {
	return "/snaponline/api/surveys/" + surveyID + "/participants/" + url.PathEscape(uniqueID)
}

func (a *API) addParticipant(w http.ResponseWriter, r *http.Request) {
	body, ok := a.writable(w, r, MaxBodyBytes)
	if !ok {
		return
	}
	c := callOf(r.Context())
	p, sv, err := a.Service.AddParticipant(r.Context(), c.caller(), surveyOf(r.Context()), body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", location(r, participantPath(sv.ID, p.UniqueID(sv.Settings))))
	writeOK(w, http.StatusCreated, toParticipant(p, sv.Survey, c.userID(), true))
}

func (a *API) updateParticipant(w http.ResponseWriter, r *http.Request) {
	body, ok := a.writable(w, r, MaxBodyBytes)
	if !ok {
		return
	}
	c := callOf(r.Context())
	p, sv, err := a.Service.ReplaceParticipant(r.Context(), c.caller(), surveyOf(r.Context()), r.PathValue("participantUniqueId"), body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, toParticipant(p, sv.Survey, c.userID(), true))
}

func (a *API) deleteParticipant(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.writable(w, r, 0); !ok {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	if err := a.Service.DeleteParticipant(r.Context(), c.caller(), sv, r.PathValue("participantUniqueId")); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeEmpty(w)
}

func (a *API) listSubjects(w http.ResponseWriter, r *http.Request) {
	if !noQuery(w, r) {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	subjects, err := a.Service.Subjects(r.Context(), c.caller(), sv.Survey, r.PathValue("participantUniqueId"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]subjectJSON, len(subjects))
	for i, s := range subjects {
		out[i] = toSubject(s)
	}
	writeOK(w, http.StatusOK, out)
}

func (a *API) getSubject(w http.ResponseWriter, r *http.Request) {
	if !noQuery(w, r) {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	s, err := a.Service.Subject(r.Context(), c.caller(), sv.Survey, r.PathValue("participantUniqueId"), r.PathValue("subjectName"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, toSubject(s))
}

func (a *API) addSubject(w http.ResponseWriter, r *http.Request) {
	body, ok := a.writable(w, r, MaxBodyBytes)
	if !ok {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	uid := r.PathValue("participantUniqueId")
	added, err := a.Service.AddSubject(r.Context(), c.caller(), sv, uid, body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", location(r, participantPath(sv.ID, uid)+"/subjects/"+url.PathEscape(added.Name)))
	writeOK(w, http.StatusCreated, toSubject(added))
}

func (a *API) updateSubject(w http.ResponseWriter, r *http.Request) {
	body, ok := a.writable(w, r, MaxBodyBytes)
	if !ok {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	updated, err := a.Service.UpdateSubject(r.Context(), c.caller(), sv, r.PathValue("participantUniqueId"), r.PathValue("subjectName"), body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, toSubject(updated))
}

func (a *API) deleteSubject(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.writable(w, r, 0); !ok {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	if err := a.Service.DeleteSubject(r.Context(), c.caller(), sv, r.PathValue("participantUniqueId"), r.PathValue("subjectName")); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeEmpty(w)
}
