package survey_test

import (
	"errors"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/participant-roster/roster/pkg/snap/survey"
)

// FuzzDecodeParticipant: decoding never panics; it fails with an *Error or gives an input that
// ValidateParticipant takes, for every survey kind and call, without panicking, and what it
// accepts has exactly the sections the survey needs.
func FuzzDecodeParticipant(f *testing.F) {
	for _, seed := range []string{
		seedExampleBody,
		seedExampleResponse,
		`{"invitationSection":{"optedOut":false,"sendInvitations":true,"emailAddress":"a@example.com","inviteSeeding":{"forenames":"A"}},"enabled":true}`,
		`{"loginSection":{"login":"E","password":null,"interviewer":"","subjects":[{"subjectName":"","questionnaireSeeding":{"v46":"4"}}]}}`,
		`{"loginSection":{"login":"E","subjects":[{"subjectName":"L1"},{"subjectName":"l1"}]}}`,
		`{"invitationSection":{"inviteSeeding":{"a":"1"},"invitationSeeding":{"a":"2"}}}`,
		`{"loginSection":{"subjects":[{"questionnaireSeeding":{"v48":"1;1;"}}]}}`,
		`{}`, `null`, `[]`, `{"enabled":null}`, ``,
		`{"loginSection":{"login":"E","login":"F"}}`, `{"loginSection":{"subjects":[{"questionnaireSeeding":{"v46":"1","v46":"2"}}]}}`,
		"{\"loginSection\":{\"login\":\"\xc3(\"}}", "{\"loginSection\":{\"lo\xffgin\":\"E\"}}", `{"loginSection":{"login":"\ud800"}}`,
	} {
		f.Add([]byte(seed))
	}
	kinds := []survey.Survey{noParticipants, inviteOnly, loginOnly, inviteLogin, inviteLoginGrp, loginGroup, soi}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := survey.DecodeParticipant(body)
		if err != nil {
			var e *survey.Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("decode error %v is not a *survey.Error with a message", err)
			}
			return
		}
		if !jsontext.Value(body).IsValid() {
			t.Fatalf("accepted a body with invalid UTF-8 or a repeated key: %q", body)
		}
		for _, s := range kinds {
			for _, ctx := range []survey.Context{
				add(s, ownerID),
				add(s, otherID),
				update(s, managerID, "A", nil),
				update(s, otherID, "a@example.com", storedGroup()),
				update(s, ownerID, "E", storedSOI(ptr(""))),
			} {
				p, err := survey.ValidateParticipant(ctx, in)
				if err != nil {
					var e *survey.Error
					if !errors.As(err, &e) || e.Message == "" {
						t.Fatalf("validate error %v is not a *survey.Error with a message", err)
					}
					continue
				}
				if (p.Invitation != nil) != s.Invites || (p.Login != nil) != s.Logins {
					t.Fatalf("accepted participant with wrong sections for %+v: %s", s.Settings, dump(p))
				}
				if p.UniqueID(s.Settings) == "" && !s.Logins {
					t.Fatalf("accepted invite-only participant without email: %s", dump(p))
				}
				if s.Logins && p.UniqueID(s.Settings) == "" {
					t.Fatalf("accepted logged-on participant without login: %s", dump(p))
				}
			}
		}
	})
}
