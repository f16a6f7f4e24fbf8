package survey_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/participant-roster/roster/pkg/snap/survey"
)

func subjectIn(name string, seeds ...survey.Seed) survey.SubjectInput {
	return survey.SubjectInput{Name: name, Seeding: seeds}
}

// checkErr compares err with want: nil, a sentinel, or a 400 message.
func checkErr(t *testing.T, err error, want any) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		if err != nil {
			t.Fatalf("rejected: %v", err)
		}
	case error:
		if !errors.Is(err, w) {
			t.Fatalf("error %v, want %v", err, w)
		}
	case string:
		if err == nil {
			t.Fatalf("accepted, want %q", w)
		}
		if got := message(t, err); got != w {
			t.Fatalf("message %q, want %q", got, w)
		}
	}
}

func TestValidateNewSubject(t *testing.T) {
	tests := []struct {
		name string
		s    survey.Survey
		in   survey.SubjectInput
		want any
	}{
		{"group, new name", inviteLoginGrp, subjectIn(" L3 ", survey.Seed{Key: "v46", Value: "2"}), nil},
		{"survey without participants", noParticipants, subjectIn("L3"), survey.MsgParticipantsNotSupported},
		{"invite-only survey", inviteOnly, subjectIn("L3"), survey.MsgSubjectsNeedLogins},
		{"non-group", loginOnly, subjectIn(""), survey.MsgOnlyOneUnnamedSubject},
		{"blank name", inviteLoginGrp, subjectIn("  "), survey.MsgSubjectNameBlank},
		{"name taken ignoring case", inviteLoginGrp, subjectIn("l2"), survey.MsgSubjectsNotUnique},
		{"seeding of no variable", inviteLoginGrp, subjectIn("L3", survey.Seed{Key: "v99", Value: "1"}), survey.MsgNoSuchVariable("v99")},
		{"seeding not for seeding", inviteLoginGrp, subjectIn("L3", survey.Seed{Key: "v60", Value: "1"}), survey.MsgQuestionnaireSeedingNoProperty("v60")},
		{"seeding code", inviteLoginGrp, subjectIn("L3", survey.Seed{Key: "v48", Value: "1;1"}), survey.MsgDuplicateCodeValues("v48")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := survey.ValidateNewSubject(tt.s, *storedGroup(), tt.in)
			checkErr(t, err, tt.want)
			if tt.want == nil {
				want := survey.Subject{Name: "L3", QuestionnaireSeeding: map[string]string{"V46": "2"}, Status: survey.NotStarted}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("subject %s", dump(got))
				}
			}
		})
	}
}

func TestValidateSubjectUpdate(t *testing.T) {
	nonGroup := *storedLogin("A")
	nonGroup.Login.Subjects[0].Status = survey.Saved
	tests := []struct {
		name     string
		s        survey.Survey
		existing survey.Participant
		path     string
		in       survey.SubjectInput
		want     any
		subject  survey.Subject
	}{
		{"group", inviteLoginGrp, *storedGroup(), "l1", subjectIn("L1", survey.Seed{Key: "v50", Value: "x"}), nil,
			survey.Subject{Name: "L1", QuestionnaireSeeding: map[string]string{"V50": "x"}, Status: survey.Completed}},
		{"non-group, null path", loginOnly, nonGroup, "null", subjectIn(""), nil,
			survey.Subject{Name: "", QuestionnaireSeeding: map[string]string{}, Status: survey.Saved}},
		{"non-group, empty path", loginOnly, nonGroup, "", subjectIn("", survey.Seed{Key: "V46", Value: ""}), nil,
			survey.Subject{Name: "", QuestionnaireSeeding: map[string]string{"V46": ""}, Status: survey.Saved}},
		{"invite-only", inviteOnly, survey.Participant{}, "null", subjectIn(""), survey.MsgSubjectsNeedLogins, survey.Subject{}},
		{"group, unknown subject", inviteLoginGrp, *storedGroup(), "L9", subjectIn("L9"), survey.ErrSubjectNotFound, survey.Subject{}},
		{"group, blank path", inviteLoginGrp, *storedGroup(), " ", subjectIn(""), survey.ErrSubjectNotFound, survey.Subject{}},
		{"non-group, named path", loginOnly, nonGroup, "L1", subjectIn(""), survey.ErrSubjectNotFound, survey.Subject{}},
		{"group, rename", inviteLoginGrp, *storedGroup(), "L1", subjectIn("L2"), survey.MsgSubjectNameMismatch, survey.Subject{}},
		{"non-group, body names a subject", loginOnly, nonGroup, "null", subjectIn("L1"), survey.MsgSubjectNameMismatch, survey.Subject{}},
		{"bad seeding", inviteLoginGrp, *storedGroup(), "L1", subjectIn("L1", survey.Seed{Key: "v46", Value: "1;2"}), survey.MsgSingleChoice("v46"), survey.Subject{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := survey.ValidateSubjectUpdate(tt.s, tt.existing, tt.path, tt.in)
			checkErr(t, err, tt.want)
			if tt.want == nil && !reflect.DeepEqual(got, tt.subject) {
				t.Errorf("subject %s, want %s", dump(got), dump(tt.subject))
			}
		})
	}
}

func TestValidateSubjectDelete(t *testing.T) {
	single := *storedGroup()
	single.Login.Subjects = single.Login.Subjects[:1]
	tests := []struct {
		name     string
		s        survey.Survey
		existing survey.Participant
		subject  string
		want     any
	}{
		{"group", inviteLoginGrp, *storedGroup(), "l2", nil},
		{"invite-only", inviteOnly, survey.Participant{}, "L1", survey.MsgSubjectsNeedLogins},
		{"non-group", loginOnly, *storedLogin("A"), "null", survey.MsgSubjectDeleteNonGroup},
		{"unknown", inviteLoginGrp, *storedGroup(), "L9", survey.ErrSubjectNotFound},
		{"last subject", inviteLoginGrp, single, "L1", survey.MsgAtLeastOneSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dump(tt.existing)
			got, err := survey.ValidateSubjectDelete(tt.s, tt.existing, tt.subject)
			checkErr(t, err, tt.want)
			if dump(tt.existing) != before {
				t.Error("existing participant changed")
			}
			if tt.want == nil {
				// L1 (Completed) remains: the group is now Completed.
				if len(got.Login.Subjects) != 1 || got.Login.Subjects[0].Name != "L1" || got.Login.Status != survey.Completed {
					t.Errorf("participant %s", dump(got))
				}
			}
		})
	}
}

// A participant stored without a login section (the survey logged nobody on then) can gain a
// first subject.
func TestValidateNewSubjectWithoutStoredLogin(t *testing.T) {
	got, err := survey.ValidateNewSubject(inviteLoginGrp, survey.Participant{Enabled: true}, subjectIn("L1"))
	want := survey.Subject{Name: "L1", QuestionnaireSeeding: map[string]string{}, Status: survey.NotStarted}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("subject %s, %v", dump(got), err)
	}
}

func TestSubjectCallsNeedParticipants(t *testing.T) {
	if _, err := survey.ValidateSubjectUpdate(noParticipants, *storedGroup(), "L1", subjectIn("L1")); err == nil || message(t, err) != survey.MsgParticipantsNotSupported {
		t.Errorf("update: %v", err)
	}
	if _, err := survey.ValidateSubjectDelete(noParticipants, *storedGroup(), "L1"); err == nil || message(t, err) != survey.MsgParticipantsNotSupported {
		t.Errorf("delete: %v", err)
	}
}

// The subject in the path is found ignoring case and surrounding spaces, and keeps its stored
// name.
func TestValidateSubjectUpdatePathSpelling(t *testing.T) {
	got, err := survey.ValidateSubjectUpdate(inviteLoginGrp, *storedGroup(), " l2 ", subjectIn("L2 "))
	want := survey.Subject{Name: "L2", QuestionnaireSeeding: map[string]string{}, Status: survey.NotStarted}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("subject %s, %v", dump(got), err)
	}
}

// Deleting a subject keeps the others in order and derives the overall status from them.
func TestValidateSubjectDeleteDerivesStatus(t *testing.T) {
	three := *storedGroup()
	three.Login.Subjects = append(three.Login.Subjects, survey.Subject{Name: "L3", Status: survey.Completed})
	tests := []struct {
		remove string
		names  []string
		status string
	}{
		{"L2", []string{"L1", "L3"}, survey.Completed},
		{"l3", []string{"L1", "L2"}, survey.Started},
		{"L1", []string{"L2", "L3"}, survey.Started},
		{" ", nil, ""},
	}
	for _, tt := range tests {
		got, err := survey.ValidateSubjectDelete(inviteLoginGrp, three, tt.remove)
		if tt.names == nil {
			if !errors.Is(err, survey.ErrSubjectNotFound) {
				t.Errorf("remove %q: %v, want ErrSubjectNotFound", tt.remove, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("remove %q: %v", tt.remove, err)
		}
		var names []string
		for _, s := range got.Login.Subjects {
			names = append(names, s.Name)
		}
		if !reflect.DeepEqual(names, tt.names) || got.Login.Status != tt.status {
			t.Errorf("remove %q: subjects %v, status %s; want %v, %s", tt.remove, names, got.Login.Status, tt.names, tt.status)
		}
	}
}

// A participant from before its survey became a group questionnaire has an unnamed subject; on
// a group questionnaire a blank path never names it.
func TestBlankSubjectPathOnGroupSurvey(t *testing.T) {
	p := *storedGroup()
	p.Login.Subjects = append([]survey.Subject{{Name: "", Status: survey.NotStarted}}, p.Login.Subjects...)
	for _, path := range []string{"", " "} {
		if _, err := survey.ValidateSubjectUpdate(inviteLoginGrp, p, path, subjectIn("")); !errors.Is(err, survey.ErrSubjectNotFound) {
			t.Errorf("update %q: %v, want ErrSubjectNotFound", path, err)
		}
		if _, err := survey.ValidateSubjectDelete(inviteLoginGrp, p, path); !errors.Is(err, survey.ErrSubjectNotFound) {
			t.Errorf("delete %q: %v, want ErrSubjectNotFound", path, err)
		}
	}
}
