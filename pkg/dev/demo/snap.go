package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/snap/snapstore"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Fixed Snap XMP Online demo identities, in the demo workspace. The API keys are public: never
// use them outside a local table. Send them as X-USERNAME and X-API-KEY.
const (
	SnapUserID   = "usr_01jd3m00000000000000snap01"
	SnapUsername = "researcher@example.com"
	SnapFullname = "Demo Researcher"
	SnapAPIKey   = "snap_local_demo_key_do_not_deploy"

	// The colleague has the group survey shared with them, and owns nothing.
	SnapColleagueID       = "usr_01jd3m00000000000000snap02"
	SnapColleagueUsername = "colleague@example.com"
	SnapColleagueFullname = "Demo Colleague"
	SnapColleagueAPIKey   = "snap_local_colleague_key_do_not_deploy"

	// GroupSurveyID is "Study Group Sessions": invites and logins, group questionnaire, SOI.
	GroupSurveyID = "3f2b8c4e-6a1d-4e57-9b0a-5d7c1e2f4a60"
	// FeedbackSurveyID is "Customer Feedback": invite only, not shared.
	FeedbackSurveyID = "8d41e6a2-2c9b-4f03-a7e5-1b6f0c3d9e82"

	// SOIInterviewer is the one user with SOI access to the group survey.
	SOIInterviewer = "interviewer@example.com"
)

// The group survey's participants (logins): Alice has two subjects, L1 and L2.
const (
	LoginAlice = "alice"
	LoginBob   = "bob"
	LoginCarol = "carol"
)

// SnapData names the Snap demo records that sample events refer to.
type SnapData struct {
	User, Colleague survey.User
	// APIKey and ColleagueAPIKey are the users' (public, local-only) API keys.
	APIKey, ColleagueAPIKey string
	// Surveys are the demo surveys, the group survey first.
	Surveys []survey.Survey
	// Participants and Responses are by survey id, in creation order.
	Participants map[string][]survey.StoredParticipant
	Responses    map[string][]survey.Response
}

func codes(labels ...string) []survey.Code {
	out := make([]survey.Code, len(labels))
	for i, l := range labels {
		out[i] = survey.Code{Index: i + 1, Value: fmt.Sprint(i + 1), Label: l}
	}
	return out
}

// responseTypeIDs are the responseTypeId this service gives each response type; cmd/roster-admin
// gives the surveys it creates the same numbers.
var responseTypeIDs = map[string]int{
	survey.ResponseSingle: 1, survey.ResponseMultiple: 2, survey.ResponseNumeric: 3,
	survey.ResponseText: 4, survey.ResponseDate: 5,
}

// questionVariableTypeID is the variableTypeId of a "Question" variable.
const questionVariableTypeID = 1

func variable(order int, id, name, label, text, responseType string, seeding bool, cs []survey.Code) survey.Variable {
	return survey.Variable{
		ID: id, Order: order, Name: name, Label: label, QuestionText: text,
		VariableTypeID: questionVariableTypeID, VariableType: "Question",
		ResponseTypeID: responseTypeIDs[responseType], ResponseType: responseType,
		Seeding: seeding, Codes: cs,
	}
}

// SnapSurveys are the demo survey definitions, the group survey first.
func SnapSurveys() []survey.Survey {
	keys := []string{"Forenames", "Surname"}
	return []survey.Survey{
		{
			ID: GroupSurveyID, OwnerID: SnapUserID, OwnerName: SnapFullname,
			Name: "Study Group Sessions", Title: "How study groups work together",
			Path: []string{"Demo", "Education"}, InterviewingState: "Started",
			Settings: survey.Settings{Invites: true, Logins: true, Group: true, SOIAllowed: true,
				SOIUsers: []string{SOIInterviewer}, SOIManagers: []string{SnapUserID}, InviteKeys: keys},
			Variables: []survey.Variable{
				variable(1, "V46", "Q1", "Year of study", "Which year of study are you in?", survey.ResponseSingle, true,
					codes("First year", "Second year", "Third year", "Fourth year", "Postgraduate")),
				variable(2, "V48", "Q2", "Meeting places", "Where does your group meet? Choose all that apply.", survey.ResponseMultiple, true,
					codes("Library", "Home", "Cafe", "Online")),
				variable(3, "V50", "Q3", "Group name", "What is your study group called?", survey.ResponseText, true, nil),
				variable(4, "V51", "Q4", "Course", "Which course is the group studying for?", survey.ResponseText, true, nil),
				variable(5, "V53", "Q5", "Subject", "Who is answering (the subject's label)?", survey.ResponseText, true, nil),
				variable(6, "V60", "Q6", "Session rating", "How useful was your last session?", survey.ResponseSingle, false,
					codes("Not useful", "Somewhat useful", "Very useful")),
			},
			SharedWith: []string{SnapColleagueID},
			CreatedAt:  epoch,
		},
		{
			ID: FeedbackSurveyID, OwnerID: SnapUserID, OwnerName: SnapFullname,
			Name: "Customer Feedback", Title: "Tell us about your experience",
			Path: []string{"Demo", "Customers"}, InterviewingState: "Started",
			Settings: survey.Settings{Invites: true, InviteKeys: keys},
			Variables: []survey.Variable{
				variable(1, "V10", "Q1", "Overall satisfaction", "Overall, how satisfied are you with our service?", survey.ResponseSingle, false,
					codes("Very dissatisfied", "Dissatisfied", "Neither", "Satisfied", "Very satisfied")),
				variable(2, "V11", "Q2", "Channels used", "How have you contacted us? Choose all that apply.", survey.ResponseMultiple, false,
					codes("Email", "Phone", "Chat")),
				variable(3, "V12", "Q3", "Comments", "Anything else you would like to tell us?", survey.ResponseText, false, nil),
			},
			CreatedAt: epoch,
		},
	}
}

// snapParticipants are the demo participants as Add Participant bodies, by survey, with the
// subject statuses interviewing has reached (a new participant's subjects are NotStarted).
var snapParticipants = []struct {
	surveyID string
	body     string
	statuses map[string]string // subject name -> status
}{
	{GroupSurveyID, `{
  "invitationSection": {"optedOut": false, "sendInvitations": true, "emailAddress": "alice@example.com",
    "invitationSeeding": {"Forenames": "Alice", "Surname": "Archer"}},
  "loginSection": {"login": "alice", "password": null, "interviewer": "interviewer@example.com", "subjects": [
    {"subjectName": "L1", "questionnaireSeeding": {"V46": "2", "V48": "1;3", "V50": "Night Owls", "V51": "Biology 101", "V53": "L1"}},
    {"subjectName": "L2", "questionnaireSeeding": {"V46": "3", "V48": "2", "V50": "Night Owls", "V51": "Biology 101", "V53": "L2"}}]},
  "enabled": true}`, map[string]string{"L1": survey.Completed}},
	{GroupSurveyID, `{
  "invitationSection": {"optedOut": false, "sendInvitations": true, "emailAddress": "bob@example.com",
    "invitationSeeding": {"Forenames": "Bob", "Surname": "Baker"}},
  "loginSection": {"login": "bob", "password": null, "interviewer": "", "subjects": [
    {"subjectName": "L1", "questionnaireSeeding": {"V46": "1", "V48": "4", "V50": "Chem Crew", "V51": "Chemistry 201", "V53": "L1"}}]},
  "enabled": true}`, map[string]string{"L1": survey.Completed}},
	{GroupSurveyID, `{
  "invitationSection": {"optedOut": false, "sendInvitations": false, "emailAddress": "carol@example.com",
    "invitationSeeding": {"Forenames": "Carol", "Surname": "Chen"}},
  "loginSection": {"login": "carol", "password": "demo-password", "interviewer": "", "subjects": [
    {"subjectName": "L1", "questionnaireSeeding": {"V46": "5", "V53": "L1"}}]},
  "enabled": true}`, nil},
	{FeedbackSurveyID, `{"invitationSection": {"optedOut": false, "sendInvitations": true, "emailAddress": "dana@example.com",
    "invitationSeeding": {"Forenames": "Dana", "Surname": "Diaz"}}, "enabled": true}`, nil},
	{FeedbackSurveyID, `{"invitationSection": {"optedOut": false, "sendInvitations": true, "emailAddress": "eli@example.com",
    "invitationSeeding": {"Forenames": "Eli", "Surname": "Evans"}}, "enabled": true}`, nil},
	{FeedbackSurveyID, `{"invitationSection": {"optedOut": true, "sendInvitations": false, "emailAddress": "farah@example.com",
    "invitationSeeding": {"Forenames": "Farah", "Surname": "Faris"}}, "enabled": false}`, nil},
}

// snapResponses are the demo responses, by survey, in case id order (1, 2, ...).
var snapResponses = map[string][]survey.Response{
	GroupSurveyID: {
		{Status: survey.Completed, Values: map[string]string{"V46": "2", "V48": "1;3", "V50": "Night Owls", "V51": "Biology 101", "V53": "L1", "V60": "3"}},
		{Status: survey.Partial, Values: map[string]string{"V46": "1", "V48": "4", "V50": "Chem Crew", "V51": "Chemistry 201", "V53": "L1"}},
		{Status: survey.Completed, Values: map[string]string{"V46": "4", "V48": "1;2", "V50": "Quiet Corner", "V51": "History 110", "V53": "L1", "V60": "2"}},
		{Status: survey.Completed, Values: map[string]string{"V46": "2", "V48": "3", "V50": "Night Owls", "V51": "Biology 101", "V53": "L3", "V60": "1"}},
		{Status: survey.Partial, Values: map[string]string{"V46": "5", "V48": "4", "V50": "Thesis Club", "V53": "L1"}},
	},
	FeedbackSurveyID: {
		{Status: survey.Completed, Values: map[string]string{"V10": "5", "V11": "1;3", "V12": "Quick and friendly answers."}},
		{Status: survey.Completed, Values: map[string]string{"V10": "2", "V11": "2", "V12": "I waited 40 minutes on the phone."}},
		{Status: survey.Partial, Values: map[string]string{"V10": "4", "V11": "3"}},
		{Status: survey.Completed, Values: map[string]string{"V10": "3", "V11": "1;2", "V12": "Fine, nothing special."}},
		{Status: survey.Completed, Values: map[string]string{"V10": "4", "V11": "1", "V12": ""}},
	},
}

// seedSnap provisions the Snap demo unless the researcher exists. The researcher is written
// last, so a seed cut short is finished by the next run: every earlier step is repeatable.
func seedSnap(ctx context.Context, st *snapstore.Store) error {
	_, err := st.GetSnapUser(ctx, SnapUsername)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, vocab.ErrNotFound):
		return err
	}
	colleague := survey.User{ID: SnapColleagueID, WorkspaceID: WorkspaceID, Username: SnapColleagueUsername, Fullname: SnapColleagueFullname, CreatedAt: epoch}
	if err := st.PutSnapUser(ctx, colleague, auth.HashSecret(SnapColleagueAPIKey)); err != nil && !errors.Is(err, vocab.ErrExists) {
		return err
	}
	surveys := SnapSurveys()
	byID := map[string]survey.Survey{}
	for _, sv := range surveys {
		if err := st.PutSurvey(ctx, WorkspaceID, sv); err != nil {
			return err
		}
		stored, _, err := st.GetSurveyConsistent(ctx, WorkspaceID, sv.ID) // at its new version
		if err != nil {
			return err
		}
		byID[sv.ID] = stored
	}
	for _, sp := range snapParticipants {
		sv := byID[sp.surveyID]
		p, err := snapParticipant(sv, sp.body, sp.statuses)
		if err != nil {
			return err
		}
		_, err = st.AddSnapParticipant(ctx, WorkspaceID, sv, p)
		if err != nil && !errors.Is(err, survey.ErrLoginTaken) && !errors.Is(err, survey.ErrEmailTaken) {
			return fmt.Errorf("participant %s of %q: %w", p.UniqueID(sv.Settings), sv.Name, err)
		}
	}
	for _, sv := range surveys {
		if existing, _, err := st.ListResponses(ctx, WorkspaceID, sv.ID, "", 1); err != nil {
			return err
		} else if len(existing) > 0 {
			continue // an earlier, interrupted run wrote them
		}
		for _, r := range snapResponses[sv.ID] {
			if _, err := st.AddResponse(ctx, WorkspaceID, sv.ID, r); err != nil {
				return err
			}
		}
	}
	researcher := survey.User{ID: SnapUserID, WorkspaceID: WorkspaceID, Username: SnapUsername, Fullname: SnapFullname, CreatedAt: epoch}
	return st.PutSnapUser(ctx, researcher, auth.HashSecret(SnapAPIKey))
}

// snapParticipant validates an Add Participant body as the researcher (the owner) would send
// it, then gives its subjects the statuses interviewing has reached.
func snapParticipant(sv survey.Survey, body string, statuses map[string]string) (survey.Participant, error) {
	in, err := survey.DecodeParticipant([]byte(body))
	if err == nil {
		var p survey.Participant
		p, err = survey.ValidateParticipant(survey.Context{Survey: sv, UserID: SnapUserID, Op: survey.Add}, in)
		if err == nil {
			if p.Login != nil {
				for _, sub := range p.Login.Subjects {
					if status, ok := statuses[sub.Name]; ok {
						sub.Status = status
						p = p.PutSubject(sv.Settings, sub)
					}
				}
			}
			return p, nil
		}
	}
	return survey.Participant{}, fmt.Errorf("demo participant of %q rejected: %w\n%s", sv.Name, err, body)
}

func readSnap(ctx context.Context, st *snapstore.Store) (SnapData, error) {
	d := SnapData{APIKey: SnapAPIKey, ColleagueAPIKey: SnapColleagueAPIKey,
		Participants: map[string][]survey.StoredParticipant{}, Responses: map[string][]survey.Response{}}
	var err error
	if d.User, err = st.GetSnapUser(ctx, SnapUsername); err != nil {
		return SnapData{}, err
	}
	if d.Colleague, err = st.GetSnapUser(ctx, SnapColleagueUsername); err != nil {
		return SnapData{}, err
	}
	for _, id := range []string{GroupSurveyID, FeedbackSurveyID} {
		sv, _, err := st.GetSurvey(ctx, WorkspaceID, id)
		if err != nil {
			return SnapData{}, fmt.Errorf("survey %s: %w", id, err)
		}
		d.Surveys = append(d.Surveys, sv)
		if d.Participants[id], _, err = st.ListSnapParticipants(ctx, WorkspaceID, id, "", 1000); err != nil {
			return SnapData{}, err
		}
		if d.Responses[id], _, err = st.ListResponses(ctx, WorkspaceID, id, "", 1000); err != nil {
			return SnapData{}, err
		}
	}
	return d, nil
}
