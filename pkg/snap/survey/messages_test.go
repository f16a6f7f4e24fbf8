package survey_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/snap/survey"
)

// seedMessages is the Add Participant seed page's list of 400 messages, in the page's order
// and without its repeat, copied word for word except for the page's three typesetting slips
// (a stray leading space, a stray "}" after '<questionnaire item>', a missing opening quote).
var seedMessages = []string{
	"Participants require a login section.",
	"You must provide a login name.",
	"Participants require an invitation section.",
	"Participants should not have an invitation section.",
	"Participants should not have a login section.",
	"The unique participant id provided in the URL must be the same as in the request body.",
	"Not allowed to add, update or delete an interviewer.",
	"Must provide an interviewer property and value cannot be null.",
	"Interviewer does not have access to the survey.",
	"Participants for this survey must have one subject.",
	"Participants for this survey must only have one subject and the subject name must be an empty string.",
	"Participants for this survey must have at least one subject.",
	"Subject name cannot be blank for a group questionnaire.",
	"Participant cannot be opted out and have send invitations enabled at the same time.",
	"You must provide a valid email address.",
	"If an email address is provided, it must be valid.",
	"Another participant already has this login name.",
	"Participants for this survey must have unique subjects.",
	"Participant to update does not exist.",
	"Participant subjects do not match.",
	"Another participant already has this email address.",
	"Survey does not support participants.",
	"Participants cannot be added, updated or deleted whilst an import is scheduled or running.",
	"Participant invite seeding does not have a '<invite item>' seeding property.",
	"Participant questionnaire seeding does not have a '<questionnaire item>' seeding property.",
	"Survey does not have a '<questionnaire item>' variable.",
	"Survey variable '<questionnaire item>' is single choice. Multiple values are not allowed.",
	"Survey variable '<questionnaire item>' cannot contain duplicate code values.",
	"Survey variable '<questionnaire item>' does not contain code value '<code value>'.",
}

// exported is what messages.go exports, placeholders filled with the seed's own names.
func exported() []string {
	const inv, q, code = "<invite item>", "<questionnaire item>", "<code value>"
	return []string{
		survey.MsgLoginSectionRequired,
		survey.MsgLoginNameRequired,
		survey.MsgInvitationSectionRequired,
		survey.MsgInvitationSectionNotAllowed,
		survey.MsgLoginSectionNotAllowed,
		survey.MsgUniqueIDMismatch,
		survey.MsgInterviewerNotAllowed,
		survey.MsgInterviewerRequired,
		survey.MsgInterviewerNoAccess,
		survey.MsgOneSubjectRequired,
		survey.MsgOnlyOneUnnamedSubject,
		survey.MsgAtLeastOneSubject,
		survey.MsgSubjectNameBlank,
		survey.MsgOptedOutAndSendInvitations,
		survey.MsgValidEmailRequired,
		survey.MsgEmailInvalid,
		survey.MsgLoginTaken,
		survey.MsgSubjectsNotUnique,
		survey.MsgParticipantToUpdateNotFound,
		survey.MsgSubjectsDoNotMatch,
		survey.MsgEmailTaken,
		survey.MsgParticipantsNotSupported,
		survey.MsgImportInProgress,
		survey.MsgInviteSeedingNoProperty(inv),
		survey.MsgQuestionnaireSeedingNoProperty(q),
		survey.MsgNoSuchVariable(q),
		survey.MsgSingleChoice(q),
		survey.MsgDuplicateCodeValues(q),
		survey.MsgNoSuchCodeValue(q, code),
	}
}

// TestEverySeedMessageExported: each seed message is exported by messages.go, exactly.
func TestEverySeedMessageExported(t *testing.T) {
	have := map[string]bool{}
	for _, m := range exported() {
		have[m] = true
	}
	for _, m := range seedMessages {
		if !have[m] {
			t.Errorf("seed message not exported by messages.go: %q", m)
		}
	}
	if len(have) != len(seedMessages) {
		t.Errorf("%d distinct exported messages for %d seed messages", len(have), len(seedMessages))
	}
	for m := range have {
		if m != strings.TrimSpace(m) || strings.Contains(m, "}") || strings.Contains(m, `"`) {
			t.Errorf("message keeps a typesetting slip: %q", m)
		}
	}
}

// seedPage is a copy of the contract's seed page (shared/spec/seeds/002_4eb8d2f3891eec56.txt),
// kept here so the check runs on every checkout.
const seedPage = "testdata/add-participant-seed.txt"

// TestSeedListMatchesSeedPage guards the copy above against the seed page itself: the page's
// messages, slips fixed, are exactly seedMessages.
func TestSeedListMatchesSeedPage(t *testing.T) {
	page, err := os.ReadFile(seedPage)
	if err != nil {
		t.Fatalf("seed page: %v", err)
	}
	line := regexp.MustCompile(`(?m)^\s*"message":\s*"?(.*?)"\s*$`)
	var fromPage []string
	seen := map[string]bool{}
	for _, m := range line.FindAllStringSubmatch(string(page), -1) {
		msg := strings.ReplaceAll(strings.TrimSpace(m[1]), "'<questionnaire item>}'", "'<questionnaire item>'")
		if !seen[msg] {
			seen[msg] = true
			fromPage = append(fromPage, msg)
		}
	}
	if strings.Join(fromPage, "\n") != strings.Join(seedMessages, "\n") {
		t.Errorf("seed page messages differ from the list:\npage:\n%s\nlist:\n%s", strings.Join(fromPage, "\n"), strings.Join(seedMessages, "\n"))
	}
}
