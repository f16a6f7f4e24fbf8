package survey

import "fmt"

// The vendor's 400 messages, word for word from the Add Participant page, which lists them for
// every participant call. Three typesetting slips of that page are not reproduced, since no
// client can depend on them: a stray leading space on several messages, a stray "}" after
// '<questionnaire item>' and a missing opening quote. Each doc comment says when it is given.
const (
	// MsgParticipantsNotSupported: the survey neither invites participants nor tracks logins.
	// Checked before anything else.
	MsgParticipantsNotSupported = "Survey does not support participants."

	// MsgLoginSectionRequired: the survey tracks logins and the body has no loginSection.
	MsgLoginSectionRequired = "Participants require a login section."
	// MsgLoginSectionNotAllowed: the survey does not track logins and the body has a loginSection.
	MsgLoginSectionNotAllowed = "Participants should not have a login section."
	// MsgInvitationSectionRequired: the survey invites and the body has no invitationSection.
	MsgInvitationSectionRequired = "Participants require an invitation section."
	// MsgInvitationSectionNotAllowed: the survey does not invite and the body has an
	// invitationSection.
	MsgInvitationSectionNotAllowed = "Participants should not have an invitation section."

	// MsgLoginNameRequired: a logged-on survey's login is null, absent, empty or blank.
	MsgLoginNameRequired = "You must provide a login name."

	// MsgValidEmailRequired: an invite-only survey's email (the participant's id) is missing or
	// not a valid address.
	MsgValidEmailRequired = "You must provide a valid email address."
	// MsgEmailInvalid: a survey that invites and tracks logins got an email that is not valid.
	// There the email is optional: null, absent or "" is fine.
	MsgEmailInvalid = "If an email address is provided, it must be valid."

	// MsgUniqueIDMismatch: on Update, the participant id in the URL is not (ignoring case) the
	// body's login (logged-on survey) or email (invite-only survey). It is not a rename.
	MsgUniqueIDMismatch = "The unique participant id provided in the URL must be the same as in the request body."
	// MsgParticipantToUpdateNotFound: on Update, no participant has the URL's id.
	MsgParticipantToUpdateNotFound = "Participant to update does not exist."

	// MsgOptedOutAndSendInvitations: optedOut and sendInvitations are both true.
	MsgOptedOutAndSendInvitations = "Participant cannot be opted out and have send invitations enabled at the same time."

	// MsgInterviewerNotAllowed: a non-null interviewer was given where the API user may not set
	// one: the survey does not allow SOI, or the user neither owns the survey nor may
	// "Manage participants for SOI".
	MsgInterviewerNotAllowed = "Not allowed to add, update or delete an interviewer."
	// MsgInterviewerRequired: the user may set interviewers and the interviewer property is
	// absent or null ("" would mean all interviewers).
	MsgInterviewerRequired = "Must provide an interviewer property and value cannot be null."
	// MsgInterviewerNoAccess: the interviewer is not the email of a user with SOI access.
	MsgInterviewerNoAccess = "Interviewer does not have access to the survey."

	// MsgOneSubjectRequired: a non-group questionnaire's participant has no subject.
	MsgOneSubjectRequired = "Participants for this survey must have one subject."
	// MsgOnlyOneUnnamedSubject: a non-group questionnaire's participant has more than one
	// subject, or a subject whose name is not "". Also the answer to Add Participant Subject on
	// a non-group questionnaire, which cannot have a second subject.
	MsgOnlyOneUnnamedSubject = "Participants for this survey must only have one subject and the subject name must be an empty string."
	// MsgAtLeastOneSubject: a group questionnaire's participant has no subject, or Delete
	// Participant Subject would remove the last one.
	MsgAtLeastOneSubject = "Participants for this survey must have at least one subject."
	// MsgSubjectNameBlank: a group questionnaire's subject name is null, empty or blank.
	MsgSubjectNameBlank = "Subject name cannot be blank for a group questionnaire."
	// MsgSubjectsNotUnique: two subjects' names are equal ignoring case and surrounding spaces,
	// or Add Participant Subject names one the participant has.
	MsgSubjectsNotUnique = "Participants for this survey must have unique subjects."
	// MsgSubjectsDoNotMatch: on Update, the subject names are not the stored participant's
	// (subjects are added and removed only through the subject calls).
	MsgSubjectsDoNotMatch = "Participant subjects do not match."

	// MsgLoginTaken (store-side): another participant of the survey has this login.
	MsgLoginTaken = "Another participant already has this login name."
	// MsgEmailTaken (store-side): another participant of the survey has this email.
	MsgEmailTaken = "Another participant already has this email address."
	// MsgImportInProgress (store-side): a bulk import of the survey is scheduled or running;
	// every participant change is refused until it ends.
	MsgImportInProgress = "Participants cannot be added, updated or deleted whilst an import is scheduled or running."
)

// MsgInviteSeedingNoProperty: invite seeding names a key that is not one of the survey's invite
// keys. item is the key as the client spelled it.
func MsgInviteSeedingNoProperty(item string) string {
	return fmt.Sprintf("Participant invite seeding does not have a '%s' seeding property.", item)
}

// MsgQuestionnaireSeedingNoProperty: questionnaire seeding names a variable that exists but may
// not be seeded.
func MsgQuestionnaireSeedingNoProperty(item string) string {
	return fmt.Sprintf("Participant questionnaire seeding does not have a '%s' seeding property.", item)
}

// MsgNoSuchVariable: questionnaire seeding names no variable of the survey.
func MsgNoSuchVariable(item string) string {
	return fmt.Sprintf("Survey does not have a '%s' variable.", item)
}

// MsgSingleChoice: a single choice variable's seeding holds ";", i.e. more than one value.
func MsgSingleChoice(item string) string {
	return fmt.Sprintf("Survey variable '%s' is single choice. Multiple values are not allowed.", item)
}

// MsgDuplicateCodeValues: a multiple choice variable's seeding repeats a value.
func MsgDuplicateCodeValues(item string) string {
	return fmt.Sprintf("Survey variable '%s' cannot contain duplicate code values.", item)
}

// MsgNoSuchCodeValue: a choice variable's seeding holds a value that is none of its codes'.
func MsgNoSuchCodeValue(item, code string) string {
	return fmt.Sprintf("Survey variable '%s' does not contain code value '%s'.", item, code)
}

// Messages of our own, for situations the vendor's list does not cover. They are 400s too.
const (
	// MsgBodyNotObject: the body is empty, null, or JSON that is not an object.
	MsgBodyNotObject = "The request body must be a JSON object."
	// MsgSubjectNameMismatch: Update Participant Subject's body names another subject than the
	// path; subjects cannot be renamed.
	MsgSubjectNameMismatch = "The subject name provided in the URL must be the same as in the request body."
	// MsgSubjectsNeedLogins: a subject call on a survey that does not track logins, whose
	// participants have no subjects.
	MsgSubjectsNeedLogins = "Participants for this survey do not have subjects."
	// MsgSubjectDeleteNonGroup: Delete Participant Subject on a non-group questionnaire, whose
	// one subject cannot be removed.
	MsgSubjectDeleteNonGroup = "Subjects cannot be deleted for this survey: it is not a group questionnaire."
	// MsgSeedingSpellingsDiffer: the invitation section has both invitationSeeding and
	// inviteSeeding (the vendor spells it both ways) and they differ.
	MsgSeedingSpellingsDiffer = "The invitation section has both 'invitationSeeding' and 'inviteSeeding' and they differ; send one of them."
	// MsgLoginTooLong: a login longer than MaxLoginLen (a login is a key of the store).
	MsgLoginTooLong = "The login name must be at most 128 characters."
	// MsgParticipantTooLarge: the participant would outgrow MaxParticipantBytes once stored.
	MsgParticipantTooLarge = "The participant is too large to store; send less seeding."
)

// MsgBadJSON: the body is not valid JSON; detail is the parser's complaint.
func MsgBadJSON(detail string) string {
	return fmt.Sprintf("The request body is not valid JSON: %s.", detail)
}

// MsgWrongType: a field holds the wrong JSON type; field is its path ("loginSection.login"),
// want a phrase such as "a string".
func MsgWrongType(field, want string) string {
	return fmt.Sprintf("'%s' must be %s.", field, want)
}

// MsgSeedingValueNotString: a seeding value is a number, boolean, object or array. section is
// "invitationSeeding", "inviteSeeding" or "questionnaireSeeding".
func MsgSeedingValueNotString(section, key string) string {
	return fmt.Sprintf("The %s value of '%s' must be a string.", section, key)
}

// MsgSeedingKeyRepeated: seeding names the same property twice (ignoring case).
func MsgSeedingKeyRepeated(section, key string) string {
	return fmt.Sprintf("The %s names '%s' more than once.", section, key)
}
