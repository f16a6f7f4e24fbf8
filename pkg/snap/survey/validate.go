package survey

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Op is the participant call being validated.
type Op int

const (
	// Add Participant (POST); the zero Op.
	Add Op = iota
	// Update Participant (PUT): the whole participant is replaced, except what the caller
	// cannot change (statuses, subjects, an interviewer it may not manage).
	Update
)

// Context is what a participant is validated against.
type Context struct {
	Survey Survey
	// UserID is the API user making the call.
	UserID string
	Op     Op
	// URLUniqueID is the participant id in the Update URL, already path-unescaped.
	URLUniqueID string
	// Existing is the stored participant the Update URL names, nil when there is none.
	Existing *Participant
}

// MaxEmailLen is the longest email address accepted (RFC 5321's path limit).
const MaxEmailLen = 254

// MaxLoginLen is the longest login accepted: logins are store keys, which DynamoDB caps at
// 1,024 bytes, and 128 characters stay under it in any case form.
const MaxLoginLen = 128

// ValidateParticipant checks an Add or Update Participant body against the survey and returns
// the participant to store: statuses derived (NotStarted for a new participant's subjects, the
// stored ones on Update), the interviewer and seeding keys in the survey's spelling, login and
// email without surrounding spaces. A rejection is an *Error whose Message is the vendor's.
//
// Checks run in this order, so the message names the most basic problem first:
//
//  1. the survey supports participants (invites or logs on);
//  2. the sections: a login section iff the survey logs on, then an invitation section iff it
//     invites;
//  3. the participant's identity: the login name (logged-on survey), then the email (required
//     and valid on an invite-only survey, valid if given when the survey also logs on);
//  4. Update only: the URL's id is the body's (ignoring case), then the stored participant
//     exists;
//  5. the invitation: not opted out while invitations are to be sent;
//  6. the interviewer;
//  7. the subjects: their number and names, then, on Update, that they are the stored ones;
//  8. the invite seeding, key by key in the client's order;
//  9. the questionnaire seeding, subject by subject and key by key: the variable exists, may be
//     seeded, and, for a choice variable, the value is one code (single), has no repeats
//     (multiple) and names only its codes.
//
// Checks that need the store are the caller's: another participant with the login
// (MsgLoginTaken) or email (MsgEmailTaken), an import in progress (MsgImportInProgress), and
// looking up Existing by URLUniqueID.
func ValidateParticipant(ctx Context, in ParticipantInput) (Participant, error) {
	s := ctx.Survey
	if !s.SupportsParticipants() {
		return Participant{}, reject(MsgParticipantsNotSupported)
	}
	if err := checkSections(s.Settings, in); err != nil {
		return Participant{}, err
	}

	var login, email string
	if s.Logins {
		login = strings.TrimSpace(deref(in.Login.Login))
		if login == "" {
			return Participant{}, reject(MsgLoginNameRequired)
		}
		if utf8.RuneCountInString(login) > MaxLoginLen {
			return Participant{}, reject(MsgLoginTooLong)
		}
	}
	if s.Invites {
		var err error
		if email, err = checkEmail(s.Settings, in.Invitation.EmailAddress); err != nil {
			return Participant{}, err
		}
	}

	if ctx.Op == Update {
		id := email
		if s.Logins {
			id = login
		}
		if !strings.EqualFold(strings.TrimSpace(ctx.URLUniqueID), id) {
			return Participant{}, reject(MsgUniqueIDMismatch)
		}
		if ctx.Existing == nil {
			return Participant{}, reject(MsgParticipantToUpdateNotFound)
		}
	}

	if s.Invites && in.Invitation.OptedOut && in.Invitation.SendInvitations {
		return Participant{}, reject(MsgOptedOutAndSendInvitations)
	}

	var (
		interviewer *string
		subjects    []Subject
	)
	if s.Logins {
		var err error
		if interviewer, err = checkInterviewer(ctx, in.Login); err != nil {
			return Participant{}, err
		}
		if subjects, err = checkSubjects(s.Settings, in.Login.Subjects); err != nil {
			return Participant{}, err
		}
		if ctx.Op == Update {
			if subjects, err = matchStoredSubjects(subjects, ctx.Existing); err != nil {
				return Participant{}, err
			}
		}
	}

	p := Participant{Enabled: in.Enabled == nil || *in.Enabled}
	if s.Invites {
		seeding, err := inviteSeeding(s.Settings, in.Invitation.Seeding)
		if err != nil {
			return Participant{}, err
		}
		p.Invitation = &Invitation{
			OptedOut:        in.Invitation.OptedOut,
			SendInvitations: in.Invitation.SendInvitations,
			EmailAddress:    email,
			InviteSeeding:   seeding,
		}
	}
	if s.Logins {
		for i, sub := range in.Login.Subjects {
			seeding, err := questionnaireSeeding(s, sub.Seeding)
			if err != nil {
				return Participant{}, err
			}
			subjects[i].QuestionnaireSeeding = seeding
		}
		p.Login = &Login{
			Login:       &login,
			Password:    clonePtr(in.Login.Password),
			Interviewer: interviewer,
			Status:      OverallStatus(s.Group, subjects),
			Subjects:    subjects,
		}
	}
	return p, nil
}

// checkSections: the sections the body has must be the ones the survey's features need.
func checkSections(s Settings, in ParticipantInput) error {
	switch {
	case s.Logins && in.Login == nil:
		return reject(MsgLoginSectionRequired)
	case !s.Logins && in.Login != nil:
		return reject(MsgLoginSectionNotAllowed)
	case s.Invites && in.Invitation == nil:
		return reject(MsgInvitationSectionRequired)
	case !s.Invites && in.Invitation != nil:
		return reject(MsgInvitationSectionNotAllowed)
	}
	return nil
}

// checkEmail returns the email to store. On an invite-only survey the email is the participant's
// id, so it is required; when the survey also logs on, the login is the id and the email only
// optional.
func checkEmail(s Settings, given *string) (string, error) {
	email := strings.TrimSpace(deref(given))
	switch {
	case !s.Logins && !validEmail(email):
		return "", reject(MsgValidEmailRequired)
	case s.Logins && email != "" && !validEmail(email):
		return "", reject(MsgEmailInvalid)
	}
	return email, nil
}

// emailShape is the usual address shape without lookaheads, which Go's regexp lacks; validEmail
// checks those separately (no leading dot, no "..").
var emailShape = regexp.MustCompile(`^([A-Za-z0-9_'+\-.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)

func validEmail(s string) bool {
	return len(s) <= MaxEmailLen && !strings.HasPrefix(s, ".") && !strings.Contains(s, "..") && emailShape.MatchString(s)
}

// checkInterviewer returns the interviewer to store. Only a user who may manage SOI
// participants sets it, and must then say who (null is not "nobody": "" means everyone). For
// anyone else it must be left null; on Update the stored interviewer is kept, since that user
// neither sees nor may change it.
func checkInterviewer(ctx Context, in *LoginInput) (*string, error) {
	s := ctx.Survey
	if !s.CanManageSOI(ctx.UserID) {
		if in.Interviewer != nil {
			return nil, reject(MsgInterviewerNotAllowed)
		}
		if s.SOIAllowed && ctx.Op == Update && ctx.Existing != nil && ctx.Existing.Login != nil {
			return clonePtr(ctx.Existing.Login.Interviewer), nil
		}
		return nil, nil
	}
	if in.Interviewer == nil {
		return nil, reject(MsgInterviewerRequired)
	}
	who := strings.TrimSpace(*in.Interviewer)
	if who == "" {
		return &who, nil
	}
	canon, ok := findFold(s.SOIUsers, who)
	if !ok {
		return nil, reject(MsgInterviewerNoAccess)
	}
	return &canon, nil
}

// checkSubjects returns the subjects with their names normalized and status NotStarted. A
// non-group questionnaire has exactly one subject, named ""; a group one has one or more, each
// named, no two alike ignoring case and surrounding spaces.
func checkSubjects(s Settings, in []SubjectInput) ([]Subject, error) {
	if !s.Group {
		switch {
		case len(in) == 0:
			return nil, reject(MsgOneSubjectRequired)
		case len(in) > 1 || in[0].Name != "":
			return nil, reject(MsgOnlyOneUnnamedSubject)
		}
		return []Subject{{Name: "", Status: NotStarted}}, nil
	}
	if len(in) == 0 {
		return nil, reject(MsgAtLeastOneSubject)
	}
	subjects := make([]Subject, 0, len(in))
	for _, sub := range in {
		name := strings.TrimSpace(sub.Name)
		if name == "" {
			return nil, reject(MsgSubjectNameBlank)
		}
		if _, dup := findSubject(subjects, name); dup {
			return nil, reject(MsgSubjectsNotUnique)
		}
		subjects = append(subjects, Subject{Name: name, Status: NotStarted})
	}
	return subjects, nil
}

// matchStoredSubjects checks that an Update names the stored subjects, no more and no fewer
// (the subject calls add and remove them), and returns them in the body's order with their
// stored names and statuses.
func matchStoredSubjects(subjects []Subject, existing *Participant) ([]Subject, error) {
	var stored []Subject
	if existing.Login != nil {
		stored = existing.Login.Subjects
	}
	if len(subjects) != len(stored) {
		return nil, reject(MsgSubjectsDoNotMatch)
	}
	out := make([]Subject, len(subjects))
	for i, sub := range subjects {
		j, ok := findSubject(stored, sub.Name)
		if !ok {
			return nil, reject(MsgSubjectsDoNotMatch)
		}
		out[i] = Subject{Name: stored[j].Name, Status: subjectStatus(stored[j])}
	}
	return out, nil
}

// findSubject finds a subject by name, ignoring case and surrounding spaces.
func findSubject(subjects []Subject, name string) (int, bool) {
	name = strings.TrimSpace(name)
	for i, sub := range subjects {
		if strings.EqualFold(strings.TrimSpace(sub.Name), name) {
			return i, true
		}
	}
	return -1, false
}

// inviteSeeding maps the seeding to the survey's invite keys, in the survey's spelling.
func inviteSeeding(s Settings, seeds []Seed) (map[string]string, error) {
	out := make(map[string]string, len(seeds))
	for _, seed := range seeds {
		key, ok := findFold(s.InviteKeys, seed.Key)
		if !ok {
			return nil, reject(MsgInviteSeedingNoProperty(seed.Key))
		}
		if _, dup := out[key]; dup {
			return nil, reject(MsgSeedingKeyRepeated("invite seeding", seed.Key))
		}
		out[key] = seed.Value
	}
	return out, nil
}

// questionnaireSeeding maps the seeding to the survey's variable ids ("v46" becomes "V46") and
// checks each value against its variable. An empty value clears the seeding and is always
// allowed.
func questionnaireSeeding(s Survey, seeds []Seed) (map[string]string, error) {
	out := make(map[string]string, len(seeds))
	for _, seed := range seeds {
		v, ok := s.Variable(seed.Key)
		if !ok {
			return nil, reject(MsgNoSuchVariable(seed.Key))
		}
		if !v.Seeding {
			return nil, reject(MsgQuestionnaireSeedingNoProperty(seed.Key))
		}
		if _, dup := out[v.ID]; dup {
			return nil, reject(MsgSeedingKeyRepeated("questionnaire seeding", seed.Key))
		}
		if err := checkSeedValue(v, seed); err != nil {
			return nil, err
		}
		out[v.ID] = seed.Value
	}
	return out, nil
}

// checkSeedValue checks a choice variable's value: single choice takes one code value, multiple
// choice ";"-separated code values without repeats. Values are compared with their surrounding
// spaces trimmed ("2; 3" is "2;3"); other response types take any string.
func checkSeedValue(v Variable, seed Seed) error {
	if seed.Value == "" {
		return nil
	}
	var parts []string
	switch {
	case strings.EqualFold(v.ResponseType, ResponseSingle):
		if strings.Contains(seed.Value, ";") {
			return reject(MsgSingleChoice(seed.Key))
		}
		parts = []string{seed.Value}
	case strings.EqualFold(v.ResponseType, ResponseMultiple):
		parts = strings.Split(seed.Value, ";")
		seen := make(map[string]bool, len(parts))
		for _, part := range parts {
			code := strings.TrimSpace(part)
			if seen[code] {
				return reject(MsgDuplicateCodeValues(seed.Key))
			}
			seen[code] = true
		}
	default:
		return nil
	}
	for _, part := range parts {
		if !v.hasCode(strings.TrimSpace(part)) {
			return reject(MsgNoSuchCodeValue(seed.Key, part))
		}
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func clonePtr(p *string) *string {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
