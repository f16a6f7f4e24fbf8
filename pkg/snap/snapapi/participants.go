package snapapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Size limits. A participant is one DynamoDB item, which cannot exceed 400 KB: bodies are
// capped well below, and a participant whose stored form would outgrow maxParticipantBytes
// (subjects added one by one can) is refused with a 400 instead of failing in the store.
const (
	MaxBodyBytes        = 256 << 10
	maxParticipantBytes = 300 << 10
	maxUniqueIDBytes    = 512 // a unique id is a store key; DynamoDB caps keys at 1,024 bytes
)

// MsgParticipantTooLarge answers a participant that would not fit in one stored item.
const MsgParticipantTooLarge = "The participant is too large to store; send less seeding."

// storable reports whether a path's unique id can name a stored participant at all.
func storable(uniqueID string) bool {
	return uniqueID != "" && len(uniqueID) <= maxUniqueIDBytes && utf8.ValidString(uniqueID)
}

// fits reports whether a participant fits in one stored item.
func fits(p survey.Participant) bool {
	b, err := json.Marshal(p)
	return err == nil && len(b) <= maxParticipantBytes
}

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
	page, more, err := a.Store.ListSnapParticipants(r.Context(), c.WorkspaceID, sv.ID, after, max)
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

// participant loads the {participantUniqueId} participant; false when it answered.
func (a *API) participant(w http.ResponseWriter, r *http.Request) (survey.StoredParticipant, bool) {
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	id := r.PathValue("participantUniqueId")
	if !storable(id) {
		WriteMessage(w, http.StatusNotFound, MsgParticipantNotFound)
		return survey.StoredParticipant{}, false
	}
	p, err := a.Store.GetSnapParticipant(r.Context(), c.WorkspaceID, sv.Survey, id)
	if err != nil {
		a.writeError(w, r, err)
		return p, false
	}
	return p, true
}

func (a *API) getParticipant(w http.ResponseWriter, r *http.Request) {
	if !noQuery(w, r) {
		return
	}
	if p, ok := a.participant(w, r); ok {
		writeOK(w, http.StatusOK, toParticipant(p.Participant, surveyOf(r.Context()).Survey, callOf(r.Context()).userID(), true))
	}
}

// writable answers the checks every participant write shares: no query, no import holding the
// roster, and a readable body of at most maxBody bytes (0: the call takes none). It returns the
// body.
func writable(w http.ResponseWriter, r *http.Request, maxBody int) ([]byte, bool) {
	if !noQuery(w, r) {
		return nil, false
	}
	if surveyOf(r.Context()).locked {
		WriteMessage(w, http.StatusBadRequest, survey.MsgImportInProgress)
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
	body, ok := writable(w, r, MaxBodyBytes)
	if !ok {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	p, err := decodeAndValidate(body, survey.Context{Survey: sv.Survey, UserID: c.userID(), Op: survey.Add})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if !fits(p) {
		WriteMessage(w, http.StatusBadRequest, MsgParticipantTooLarge)
		return
	}
	if _, err := a.Store.AddSnapParticipant(r.Context(), c.WorkspaceID, sv.ID, p); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", location(r, participantPath(sv.ID, p.UniqueID(sv.Settings))))
	writeOK(w, http.StatusCreated, toParticipant(p, sv.Survey, c.userID(), true))
}

func decodeAndValidate(body []byte, ctx survey.Context) (survey.Participant, error) {
	in, err := survey.DecodeParticipant(body)
	if err != nil {
		return survey.Participant{}, err
	}
	return survey.ValidateParticipant(ctx, in)
}

func (a *API) updateParticipant(w http.ResponseWriter, r *http.Request) {
	body, ok := writable(w, r, MaxBodyBytes)
	if !ok {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	urlID := r.PathValue("participantUniqueId")
	var existing survey.StoredParticipant
	err := vocab.ErrNotFound
	if storable(urlID) {
		existing, err = a.Store.GetSnapParticipant(r.Context(), c.WorkspaceID, sv.Survey, urlID)
	}
	var current *survey.Participant
	switch {
	case err == nil:
		current = &existing.Participant
	case !errors.Is(err, vocab.ErrNotFound):
		a.writeError(w, r, err)
		return
	}
	p, err := decodeAndValidate(body, survey.Context{Survey: sv.Survey, UserID: c.userID(), Op: survey.Update, URLUniqueID: urlID, Existing: current})
	switch {
	case err != nil:
		a.writeError(w, r, err)
		return
	case current == nil: // validation names a missing participant; this only guards the store
		WriteMessage(w, http.StatusBadRequest, survey.MsgParticipantToUpdateNotFound)
		return
	case !fits(p):
		WriteMessage(w, http.StatusBadRequest, MsgParticipantTooLarge)
		return
	}
	if err := a.Store.ReplaceSnapParticipant(r.Context(), c.WorkspaceID, sv.ID, existing, p); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, toParticipant(p, sv.Survey, c.userID(), true))
}

func (a *API) deleteParticipant(w http.ResponseWriter, r *http.Request) {
	if _, ok := writable(w, r, 0); !ok {
		return
	}
	p, ok := a.participant(w, r)
	if !ok {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	if err := a.Store.DeleteSnapParticipant(r.Context(), c.WorkspaceID, sv.ID, p); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeEmpty(w)
}

// subjectsOf returns a participant's subjects; a survey without logins has none to ask about.
func subjectsOf(w http.ResponseWriter, sv survey.Survey, p survey.StoredParticipant) ([]survey.Subject, bool) {
	if !sv.Logins || p.Login == nil {
		WriteMessage(w, http.StatusBadRequest, survey.MsgSubjectsNeedLogins)
		return nil, false
	}
	return p.Login.Subjects, true
}

func (a *API) listSubjects(w http.ResponseWriter, r *http.Request) {
	if !noQuery(w, r) {
		return
	}
	p, ok := a.participant(w, r)
	if !ok {
		return
	}
	subjects, ok := subjectsOf(w, surveyOf(r.Context()).Survey, p)
	if !ok {
		return
	}
	out := make([]subjectJSON, len(subjects))
	for i, s := range subjects {
		out[i] = toSubject(s)
	}
	writeOK(w, http.StatusOK, out)
}

// findSubject resolves a path's subject name: on a non-group questionnaire "null" (or "")
// names the one, empty-named subject.
func findSubject(sv survey.Survey, subjects []survey.Subject, pathName string) (survey.Subject, bool) {
	name := strings.TrimSpace(pathName)
	if !sv.Group {
		if name != survey.NullSubjectPath && name != "" {
			return survey.Subject{}, false
		}
		name = ""
	} else if name == "" {
		return survey.Subject{}, false
	}
	for _, s := range subjects {
		if strings.EqualFold(strings.TrimSpace(s.Name), name) {
			return s, true
		}
	}
	return survey.Subject{}, false
}

func (a *API) getSubject(w http.ResponseWriter, r *http.Request) {
	if !noQuery(w, r) {
		return
	}
	p, ok := a.participant(w, r)
	if !ok {
		return
	}
	sv := surveyOf(r.Context()).Survey
	subjects, ok := subjectsOf(w, sv, p)
	if !ok {
		return
	}
	s, found := findSubject(sv, subjects, r.PathValue("subjectName"))
	if !found {
		WriteMessage(w, http.StatusNotFound, MsgSubjectNotFound)
		return
	}
	writeOK(w, http.StatusOK, toSubject(s))
}

// changeSubject runs a subject write: load the participant, let change compute its new state,
// and store it under the participant's version.
func (a *API) changeSubject(w http.ResponseWriter, r *http.Request, maxBody int,
	change func(sv survey.Survey, p survey.StoredParticipant, body []byte) (survey.Participant, error), done func(survey.Participant)) {
	body, ok := writable(w, r, maxBody)
	if !ok {
		return
	}
	p, ok := a.participant(w, r)
	if !ok {
		return
	}
	sv, c := surveyOf(r.Context()), callOf(r.Context())
	after, err := change(sv.Survey, p, body)
	if err == nil && !fits(after) {
		WriteMessage(w, http.StatusBadRequest, MsgParticipantTooLarge)
		return
	}
	if err == nil {
		err = a.Store.ReplaceSnapParticipant(r.Context(), c.WorkspaceID, sv.ID, p, after)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	done(after)
}

func (a *API) addSubject(w http.ResponseWriter, r *http.Request) {
	var added survey.Subject
	a.changeSubject(w, r, MaxBodyBytes, func(sv survey.Survey, p survey.StoredParticipant, body []byte) (survey.Participant, error) {
		in, err := survey.DecodeSubject(body)
		if err == nil {
			added, err = survey.ValidateNewSubject(sv, p.Participant, in)
		}
		if err != nil {
			return survey.Participant{}, err
		}
		return p.PutSubject(sv.Settings, added), nil
	}, func(survey.Participant) {
		sv := surveyOf(r.Context())
		uid := r.PathValue("participantUniqueId")
		w.Header().Set("Location", location(r, participantPath(sv.ID, uid)+"/subjects/"+url.PathEscape(added.Name)))
		writeOK(w, http.StatusCreated, toSubject(added))
	})
}

func (a *API) updateSubject(w http.ResponseWriter, r *http.Request) {
	var updated survey.Subject
	a.changeSubject(w, r, MaxBodyBytes, func(sv survey.Survey, p survey.StoredParticipant, body []byte) (survey.Participant, error) {
		in, err := survey.DecodeSubject(body)
		if err == nil {
			updated, err = survey.ValidateSubjectUpdate(sv, p.Participant, r.PathValue("subjectName"), in)
		}
		if err != nil {
			return survey.Participant{}, err
		}
		return p.PutSubject(sv.Settings, updated), nil
	}, func(survey.Participant) { writeOK(w, http.StatusOK, toSubject(updated)) })
}

func (a *API) deleteSubject(w http.ResponseWriter, r *http.Request) {
	a.changeSubject(w, r, 0, func(sv survey.Survey, p survey.StoredParticipant, _ []byte) (survey.Participant, error) {
		return survey.ValidateSubjectDelete(sv, p.Participant, r.PathValue("subjectName"))
	}, func(survey.Participant) { writeEmpty(w) })
}
