package survey_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/snap/survey"
)

func TestDecodeBadJSON(t *testing.T) {
	tests := []struct {
		body string
		want string // exact message; "" checks only ErrBadJSON
	}{
		{``, survey.MsgBodyNotObject},
		{`   `, survey.MsgBodyNotObject},
		{`null`, survey.MsgBodyNotObject},
		{`[]`, survey.MsgBodyNotObject},
		{`"participant"`, survey.MsgBodyNotObject},
		{`42`, survey.MsgBodyNotObject},
		{`{`, ""},
		{`{"enabled":true}x`, ""},
		{`{"enabled":"yes"}`, survey.MsgWrongType("enabled", "a boolean")},
		{`{"invitationSection":[]}`, survey.MsgWrongType("invitationSection", "an object")},
		{`{"invitationSection":{"emailAddress":5}}`, survey.MsgWrongType("invitationSection.emailAddress", "a string")},
		{`{"invitationSection":{"optedOut":"no"}}`, survey.MsgWrongType("invitationSection.optedOut", "a boolean")},
		{`{"invitationSection":{"invitationSeeding":[]}}`, survey.MsgWrongType("invitationSection.invitationSeeding", "an object")},
		{`{"invitationSection":{"inviteSeeding":{"forenames":1}}}`, survey.MsgSeedingValueNotString("inviteSeeding", "forenames")},
		{`{"loginSection":{"login":5}}`, survey.MsgWrongType("loginSection.login", "a string")},
		{`{"loginSection":{"interviewer":5}}`, survey.MsgWrongType("loginSection.interviewer", "a string or null")},
		{`{"loginSection":{"subjects":{}}}`, survey.MsgWrongType("loginSection.subjects", "an array")},
		{`{"loginSection":{"subjects":[{"subjectName":1}]}}`, survey.MsgWrongType("loginSection.subjects.subjectName", "a string")},
		{`{"loginSection":{"subjects":[{},{"questionnaireSeeding":"v46=1"}]}}`, survey.MsgWrongType("loginSection.subjects[1].questionnaireSeeding", "an object")},
		{`{"loginSection":{"subjects":[{"questionnaireSeeding":{"v46":4}}]}}`, survey.MsgSeedingValueNotString("questionnaireSeeding", "v46")},
		{`{"loginSection":{"subjects":[{"questionnaireSeeding":{"v46":["1"]}}]}}`, survey.MsgSeedingValueNotString("questionnaireSeeding", "v46")},
	}
	for _, tt := range tests {
		_, err := survey.DecodeParticipant([]byte(tt.body))
		if !errors.Is(err, survey.ErrBadJSON) {
			t.Errorf("%s: error %v, want ErrBadJSON", tt.body, err)
			continue
		}
		got := message(t, err)
		if tt.want != "" && got != tt.want {
			t.Errorf("%s: message %q, want %q", tt.body, got, tt.want)
		}
		if got == "" {
			t.Errorf("%s: empty message", tt.body)
		}
	}
}

func TestDecodePresence(t *testing.T) {
	tests := []struct {
		name string
		body string
		want survey.ParticipantInput
	}{
		{"empty object", `{}`, survey.ParticipantInput{}},
		{"null sections read as absent", `{"invitationSection":null,"loginSection":null,"enabled":null}`, survey.ParticipantInput{}},
		{"enabled false", `{"enabled":false}`, survey.ParticipantInput{Enabled: new(bool)}},
		{"unknown fields ignored", `{"surprise":{"a":[1,2]},"loginSection":{"extra":true}}`, survey.ParticipantInput{Login: &survey.LoginInput{}}},
		{"interviewer absent", `{"loginSection":{"login":"A"}}`, survey.ParticipantInput{Login: &survey.LoginInput{Login: ptr("A")}}},
		{"interviewer null", `{"loginSection":{"login":null,"interviewer":null}}`, survey.ParticipantInput{Login: &survey.LoginInput{HasInterviewer: true}}},
		{"interviewer empty", `{"loginSection":{"interviewer":""}}`, survey.ParticipantInput{Login: &survey.LoginInput{HasInterviewer: true, Interviewer: ptr("")}}},
		{"interviewer email", `{"loginSection":{"interviewer":"i@example.com"}}`, survey.ParticipantInput{Login: &survey.LoginInput{HasInterviewer: true, Interviewer: ptr("i@example.com")}}},
		{"password", `{"loginSection":{"password":"p"}}`, survey.ParticipantInput{Login: &survey.LoginInput{Password: ptr("p")}}},
		{"empty sections are present", `{"invitationSection":{},"loginSection":{}}`, survey.ParticipantInput{Invitation: &survey.InvitationInput{}, Login: &survey.LoginInput{}}},
		{
			"seeding keeps the client's order and spelling; null values clear",
			`{"invitationSection":{"invitationSeeding":{"surname":"S","Forenames":null}},"loginSection":{"subjects":[{"subjectName":null,"questionnaireSeeding":{"v53":"L1","V46":"4"}},{"subjectName":"B","questionnaireSeeding":{}},{"questionnaireSeeding":null}]}}`,
			survey.ParticipantInput{
				Invitation: &survey.InvitationInput{Seeding: []survey.Seed{{Key: "surname", Value: "S"}, {Key: "Forenames", Value: ""}}},
				Login: &survey.LoginInput{Subjects: []survey.SubjectInput{
					{Name: "", Seeding: []survey.Seed{{Key: "v53", Value: "L1"}, {Key: "V46", Value: "4"}}},
					{Name: "B", Seeding: []survey.Seed{}},
					{},
				}},
			},
		},
		{
			"status fields ignored",
			`{"status":1,"loginSection":{"status":"Completed","subjects":[{"subjectName":"","status":{}}]}}`,
			survey.ParticipantInput{Login: &survey.LoginInput{Subjects: []survey.SubjectInput{{}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := survey.DecodeParticipant([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

func TestDecodeSeedExamples(t *testing.T) {
	for _, body := range []string{seedExampleBody, seedExampleResponse} {
		in, err := survey.DecodeParticipant([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if in.Invitation == nil || in.Login == nil || !in.Login.HasInterviewer || in.Login.Interviewer != nil ||
			len(in.Login.Subjects) != 1 || len(in.Login.Subjects[0].Seeding) != 5 || in.Enabled == nil || !*in.Enabled {
			t.Errorf("decoded %s", dump(in))
		}
	}
}

func TestDecodeSubject(t *testing.T) {
	got, err := survey.DecodeSubject([]byte(`{"subjectName":"L2","questionnaireSeeding":{"v46":"1"},"status":"Completed"}`))
	want := survey.SubjectInput{Name: "L2", Seeding: []survey.Seed{{Key: "v46", Value: "1"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeSubject = %s, %v", dump(got), err)
	}
	for _, body := range []string{``, `[]`, `{"subjectName":1}`, `{"questionnaireSeeding":{"v46":1}}`} {
		if _, err := survey.DecodeSubject([]byte(body)); !errors.Is(err, survey.ErrBadJSON) {
			t.Errorf("DecodeSubject(%s): %v, want ErrBadJSON", body, err)
		}
	}
}

func TestDecodeImport(t *testing.T) {
	rows, err := survey.DecodeImport([]byte(` {"participants":[{"invitationSection":{"emailAddress":"a@example.com"}}, {} ,42],"other":true} `))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"invitationSection":{"emailAddress":"a@example.com"}}`, `{}`, `42`}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		if string(r) != want[i] {
			t.Errorf("row %d: %s, want %s undecoded", i, r, want[i])
		}
	}
	for _, body := range []string{`{}`, `{"participants":null}`, `{"participants":[]}`} {
		if rows, err := survey.DecodeImport([]byte(body)); err != nil || len(rows) != 0 {
			t.Errorf("%s: %d rows, %v; want none", body, len(rows), err)
		}
	}
	for body, msg := range map[string]string{
		``:                        survey.MsgBodyNotObject,
		`[{}]`:                    survey.MsgBodyNotObject,
		`{"participants":{}}`:     survey.MsgWrongType("participants", "an array"),
		`{"participants":"rows"}`: survey.MsgWrongType("participants", "an array"),
		`{"participants":[}`:      "",
	} {
		_, err := survey.DecodeImport([]byte(body))
		if !errors.Is(err, survey.ErrBadJSON) {
			t.Errorf("%s: %v, want ErrBadJSON", body, err)
			continue
		}
		if got := message(t, err); msg != "" && got != msg {
			t.Errorf("%s: message %q, want %q", body, got, msg)
		}
	}
}

// Both seeding spellings are one seeding only when they hold the same keys and values, the
// same number of times.
func TestDecodeSeedingSpellingsAgree(t *testing.T) {
	tests := []struct {
		body  string
		seeds int // how many seeds the agreed seeding has; -1: the spellings differ
	}{
		{`{"invitationSection":{"inviteSeeding":{"a":"1","b":"2"},"invitationSeeding":{"b":"2","a":"1"}}}`, 2},
		{`{"invitationSection":{"inviteSeeding":{},"invitationSeeding":{}}}`, 0},
		{`{"invitationSection":{"inviteSeeding":{"a":"1"},"invitationSeeding":{"a":"2"}}}`, -1},
		{`{"invitationSection":{"inviteSeeding":{"a":"1"},"invitationSeeding":{"A":"1"}}}`, -1},
		{`{"invitationSection":{"inviteSeeding":{"a":"1"},"invitationSeeding":{}}}`, -1},
	}
	for _, tt := range tests {
		in, err := survey.DecodeParticipant([]byte(tt.body))
		switch {
		case tt.seeds < 0:
			if err == nil || message(t, err) != survey.MsgSeedingSpellingsDiffer {
				t.Errorf("%s: %v, want %q", tt.body, err, survey.MsgSeedingSpellingsDiffer)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.body, err)
		case in.Invitation.Seeding == nil || len(in.Invitation.Seeding) != tt.seeds:
			t.Errorf("%s: seeding %v, want %d seeds", tt.body, in.Invitation.Seeding, tt.seeds)
		}
	}
}

// A key given twice, at any depth, and bytes that are not UTF-8 are malformed JSON for every
// body a participant call takes: a lenient reader would store the last value, or U+FFFD.
func TestDecodeRefusesRepeatedKeysAndInvalidUTF8(t *testing.T) {
	decoders := map[string]func([]byte) error{
		"participant": func(b []byte) error { _, err := survey.DecodeParticipant(b); return err },
		"subject":     func(b []byte) error { _, err := survey.DecodeSubject(b); return err },
		"import":      func(b []byte) error { _, err := survey.DecodeImport(b); return err },
	}
	tests := []struct {
		decoder, body, want string
	}{
		{"participant", `{"loginSection":{"login":"a","login":"b"}}`, `duplicate key "login" in loginSection`},
		{"participant", `{"enabled":true,"enabled":false}`, `duplicate key "enabled"`},
		{"participant", `{"invitationSection":{"inviteSeeding":{"a":"1"},"invitationSeeding":{"a":"1","a":"1"}}}`, `duplicate key "a" in invitationSection.invitationSeeding`},
		{"participant", `{"loginSection":{"subjects":[{"subjectName":"L1"},{"subjectName":"L2","questionnaireSeeding":{"v46":"1","v46":"2"}}]}}`, `duplicate key "v46" in loginSection.subjects[1].questionnaireSeeding`},
		{"participant", `{"status":"x","status":"y"}`, `duplicate key "status"`},
		{"participant", "{\"loginSection\":{\"login\":\"\xc3(\"}}", "invalid UTF-8 in the body at byte 26"},
		{"participant", "{\"loginSection\":{\"lo\xffgin\":\"a\"}}", "invalid UTF-8 in the body at byte 20"},
		{"participant", "\xef\xbb\xbf{}", "invalid character 'ï' looking for beginning of value"},
		{"participant", `{"loginSection":{"login":"\udc00"}}`, `invalid Unicode in the body: invalid surrogate pair`},
		{"subject", `{"subjectName":"L1","subjectName":"L2"}`, `duplicate key "subjectName"`},
		{"subject", "{\"subjectName\":\"L\x80\"}", "invalid UTF-8 in the body at byte 17"},
		{"import", `{"participants":[{},{"enabled":true,"enabled":true}]}`, `duplicate key "enabled" in participants[1]`},
		{"import", `{"participants":[],"participants":[{}]}`, `duplicate key "participants"`},
		{"import", "{\"participants\":[\"\xed\xa0\x80\"]}", "invalid UTF-8 in the body at byte 18"},
	}
	for _, tt := range tests {
		err := decoders[tt.decoder]([]byte(tt.body))
		if !errors.Is(err, survey.ErrBadJSON) {
			t.Errorf("%s %q: %v, want ErrBadJSON", tt.decoder, tt.body, err)
			continue
		}
		if got, want := message(t, err), survey.MsgBadJSON(tt.want); got != want && !strings.HasPrefix(got, strings.TrimSuffix(want, ".")) {
			t.Errorf("%s %q: message %q, want %q", tt.decoder, tt.body, got, want)
		}
	}
}
