package survey

import "strings"

// NullSubjectPath is the path segment naming a non-group questionnaire's one subject, whose
// name is "" and so cannot be a path segment.
const NullSubjectPath = "null"

// ValidateNewSubject checks an Add Participant Subject body and returns the subject to add
// (status NotStarted; add it with Participant.PutSubject). Only a group questionnaire's
// participant can gain a subject; on a non-group one the answer is MsgOnlyOneUnnamedSubject,
// the rule the second subject would break. Then, in order: the name is not blank, no subject of
// the participant has it (ignoring case), and the seeding passes ValidateParticipant's checks.
func ValidateNewSubject(s Survey, existing Participant, in SubjectInput) (Subject, error) {
	if err := checkSubjectCall(s); err != nil {
		return Subject{}, err
	}
	if !s.Group {
		return Subject{}, reject(MsgOnlyOneUnnamedSubject)
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return Subject{}, reject(MsgSubjectNameBlank)
	}
	if _, dup := findSubject(storedSubjects(existing), name); dup {
		return Subject{}, reject(MsgSubjectsNotUnique)
	}
	seeding, err := questionnaireSeeding(s, in.Seeding)
	if err != nil {
		return Subject{}, err
	}
	return Subject{Name: name, QuestionnaireSeeding: seeding, Status: NotStarted}, nil
}

// ValidateSubjectUpdate checks an Update Participant Subject body for the subject pathName
// names and returns the subject to store: its stored name and status, the new seeding (store
// it with Participant.PutSubject). On a non-group questionnaire the path is NullSubjectPath (or
// empty). Order: the subject exists (else ErrSubjectNotFound), the body names the same subject
// (else MsgSubjectNameMismatch: subjects cannot be renamed), then the seeding.
func ValidateSubjectUpdate(s Survey, existing Participant, pathName string, in SubjectInput) (Subject, error) {
	if err := checkSubjectCall(s); err != nil {
		return Subject{}, err
	}
	name := pathName
	if !s.Group {
		if pathName != NullSubjectPath && pathName != "" {
			return Subject{}, ErrSubjectNotFound
		}
		name = ""
	}
	stored := storedSubjects(existing)
	i, ok := findSubject(stored, name)
	if !ok || (s.Group && strings.TrimSpace(name) == "") {
		return Subject{}, ErrSubjectNotFound
	}
	if !strings.EqualFold(strings.TrimSpace(in.Name), strings.TrimSpace(name)) {
		return Subject{}, reject(MsgSubjectNameMismatch)
	}
	seeding, err := questionnaireSeeding(s, in.Seeding)
	if err != nil {
		return Subject{}, err
	}
	return Subject{Name: stored[i].Name, QuestionnaireSeeding: seeding, Status: subjectStatus(stored[i])}, nil
}

// ValidateSubjectDelete checks Delete Participant Subject and returns the participant without
// the subject, its overall status derived again. A non-group questionnaire's one subject cannot
// go (MsgSubjectDeleteNonGroup); then the subject must exist (ErrSubjectNotFound) and not be the
// last (MsgAtLeastOneSubject). existing is not changed.
func ValidateSubjectDelete(s Survey, existing Participant, name string) (Participant, error) {
	if err := checkSubjectCall(s); err != nil {
		return Participant{}, err
	}
	if !s.Group {
		return Participant{}, reject(MsgSubjectDeleteNonGroup)
	}
	stored := storedSubjects(existing)
	i, ok := findSubject(stored, name)
	if !ok || strings.TrimSpace(name) == "" {
		return Participant{}, ErrSubjectNotFound
	}
	if len(stored) == 1 {
		return Participant{}, reject(MsgAtLeastOneSubject)
	}
	login := *existing.Login
	login.Subjects = make([]Subject, 0, len(stored)-1)
	login.Subjects = append(login.Subjects, stored[:i]...)
	login.Subjects = append(login.Subjects, stored[i+1:]...)
	login.Status = OverallStatus(s.Group, login.Subjects)
	existing.Login = &login
	return existing, nil
}

// checkSubjectCall: subjects exist only on a survey that logs participants on.
func checkSubjectCall(s Survey) error {
	switch {
	case !s.SupportsParticipants():
		return reject(MsgParticipantsNotSupported)
	case !s.Logins:
		return reject(MsgSubjectsNeedLogins)
	}
	return nil
}

func storedSubjects(p Participant) []Subject {
	if p.Login == nil {
		return nil
	}
	return p.Login.Subjects
}
