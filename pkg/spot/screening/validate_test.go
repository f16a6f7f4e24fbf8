package screening_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/spot/screening"
)

const (
	msgNameEmpty     = "name must not be empty"
	msgNameLong      = "name must be at most 256 characters"
	msgNameControl   = "name must not contain control characters"
	msgEmailRequired = "email is required"
	msgEmailInvalid  = "email is not a valid email address"
	msgUIDShape      = "externalUid must be non-empty and have no leading or trailing spaces; omit it when there is none"
	msgUIDLong       = "externalUid must be at most 256 characters"
	msgUIDControl    = "externalUid must not contain control characters"
)

// TestValidateImportRowFields checks each field rule of one row, alone in the payload.
func TestValidateImportRowFields(t *testing.T) {
	tests := []struct {
		name string
		row  screening.ImportRow
		want []fieldIssue // nil: accepted
	}{
		{"all fields valid", row("crm-1", "a@example.com", "Alex Lee"), nil},
		{"external uid omitted", row("", "a@example.com", "Alex Lee"), nil},
		{"name of 256 characters (runes, not bytes)", row("", "a@example.com", strings.Repeat("é", 256)), nil},
		{"name with inner spaces and accents", row("", "a@example.com", " Zoë  O'Brien "), nil},

		{"name empty", row("", "a@example.com", ""), []fieldIssue{{0, "participants[0].name", screening.CodeRequired, msgNameEmpty}}},
		{"name blank", row("", "a@example.com", " \t "), []fieldIssue{{0, "participants[0].name", screening.CodeRequired, msgNameEmpty}}},
		{"name of 257 characters", row("", "a@example.com", strings.Repeat("é", 257)), []fieldIssue{{0, "participants[0].name", screening.CodeTooLong, msgNameLong}}},
		{"name too long and with a control character: one error", row("", "a@example.com", strings.Repeat("a", 257)+"\x07"),
			[]fieldIssue{{0, "participants[0].name", screening.CodeTooLong, msgNameLong}}},
		{"name with a tab inside", row("", "a@example.com", "Alex\tLee"), []fieldIssue{{0, "participants[0].name", screening.CodeInvalid, msgNameControl}}},
		{"name with NUL", row("", "a@example.com", "Alex\x00"), []fieldIssue{{0, "participants[0].name", screening.CodeInvalid, msgNameControl}}},
		{"name not UTF-8", row("", "a@example.com", "Alex \xff"), []fieldIssue{{0, "participants[0].name", screening.CodeInvalid, msgNameControl}}},

		{"email empty", row("", "", "Alex"), []fieldIssue{{0, "participants[0].email", screening.CodeRequired, msgEmailRequired}}},
		{"email malformed", row("", "not-an-email", "Alex"), []fieldIssue{{0, "participants[0].email", screening.CodeInvalidEmail, msgEmailInvalid}}},

		{"external uid of 256 characters", row(strings.Repeat("ü", 256), "a@example.com", "Alex"), nil},
		{"external uid of 257 characters", row(strings.Repeat("ü", 257), "a@example.com", "Alex"),
			[]fieldIssue{{0, "participants[0].externalUid", screening.CodeTooLong, msgUIDLong}}},
		{"external uid with a leading space", row(" crm-1", "a@example.com", "Alex"), []fieldIssue{{0, "participants[0].externalUid", screening.CodeInvalid, msgUIDShape}}},
		{"external uid with a trailing newline", row("crm-1\n", "a@example.com", "Alex"), []fieldIssue{{0, "participants[0].externalUid", screening.CodeInvalid, msgUIDShape}}},
		{"external uid with a control character inside", row("crm\x01-1", "a@example.com", "Alex"),
			[]fieldIssue{{0, "participants[0].externalUid", screening.CodeInvalid, msgUIDControl}}},
		{"external uid not UTF-8", row("crm-\xfe", "a@example.com", "Alex"), []fieldIssue{{0, "participants[0].externalUid", screening.CodeInvalid, msgUIDControl}}},

		{"every field wrong", row(" x", "a@b", ""), []fieldIssue{
			{0, "participants[0].name", screening.CodeRequired, msgNameEmpty},
			{0, "participants[0].email", screening.CodeInvalidEmail, msgEmailInvalid},
			{0, "participants[0].externalUid", screening.CodeInvalid, msgUIDShape},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := screening.ValidateImportRows([]screening.ImportRow{tt.row})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if got := issues(t, err); !sameIssues(got, tt.want) {
				t.Errorf("field errors\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// An empty external uid is sent, not omitted: it is a shape error, not "none".
func TestValidateImportRowEmptyExternalUID(t *testing.T) {
	empty := ""
	err := screening.ValidateImportRows([]screening.ImportRow{{ExternalUID: &empty, Email: "a@example.com", Name: "A"}})
	want := []fieldIssue{{0, "participants[0].externalUid", screening.CodeInvalid, msgUIDShape}}
	if got := issues(t, err); !sameIssues(got, want) {
		t.Errorf("field errors\n got %+v\nwant %+v", got, want)
	}
}

func TestValidateImportRowEmails(t *testing.T) {
	local64 := strings.Repeat("a", 64)
	longest := local64 + "@" + strings.Repeat("b", 185) + ".com" // 254 characters
	valid := []string{
		"a@example.com",
		"Alex.Lee@Example.COM",
		"o'brien+tag@mail.example.co.uk",
		"a_b-c@x1-y.io",
		longest,
	}
	invalid := []string{
		"plain",
		"a@b",
		"a@example.c",
		".a@example.com",
		"a..b@example.com",
		"a.@example.com",
		"a@-example.com",
		"a@example..com",
		"a b@example.com",
		" a@example.com",
		"a@example.com ",
		"a@@example.com",
		"a@example.com\n",
		"ä@example.com",
		longest[:64] + "x" + longest[64:], // 255 characters
	}
	if len(longest) != screening.MaxEmailLen {
		t.Fatalf("test email is %d characters, want %d", len(longest), screening.MaxEmailLen)
	}
	for _, e := range valid {
		if err := screening.ValidateImportRows([]screening.ImportRow{row("", e, "A")}); err != nil {
			t.Errorf("%q rejected: %v", e, err)
		}
	}
	for _, e := range invalid {
		err := screening.ValidateImportRows([]screening.ImportRow{row("", e, "A")})
		want := []fieldIssue{{0, "participants[0].email", screening.CodeInvalidEmail, msgEmailInvalid}}
		if err == nil {
			t.Errorf("%q accepted", e)
		} else if got := issues(t, err); !sameIssues(got, want) {
			t.Errorf("%q: field errors %+v", e, got)
		}
	}
}

func TestValidateImportDuplicatesInPayload(t *testing.T) {
	tests := []struct {
		name string
		rows []screening.ImportRow
		want []fieldIssue
	}{
		{"external uid repeated, each repeat names the first row", []screening.ImportRow{
			row("crm-2", "a@example.com", "A"), row("crm-1", "b@example.com", "B"),
			row("crm-1", "c@example.com", "C"), row("crm-1", "d@example.com", "D"),
		}, []fieldIssue{
			{2, "participants[2].externalUid", screening.CodeDuplicateInPayload, "externalUid repeats row 1"},
			{3, "participants[3].externalUid", screening.CodeDuplicateInPayload, "externalUid repeats row 1"},
		}},
		{"email repeated ignoring case", []screening.ImportRow{
			row("", "x@example.com", "X"), row("", "Alex@Example.com", "A"), row("", "alex@example.COM", "A2"),
		}, []fieldIssue{{2, "participants[2].email", screening.CodeDuplicateInPayload, "email repeats row 1"}}},
		{"both repeated on one row", []screening.ImportRow{
			row("crm-1", "a@example.com", "A"), row("crm-1", "A@example.com", "A"),
		}, []fieldIssue{
			{1, "participants[1].externalUid", screening.CodeDuplicateInPayload, "externalUid repeats row 0"},
			{1, "participants[1].email", screening.CodeDuplicateInPayload, "email repeats row 0"},
		}},
		{"a repeat on an otherwise invalid row is listed with its shape error", []screening.ImportRow{
			row("", "a@example.com", "A"), row("", "a@example.com", ""),
		}, []fieldIssue{
			{1, "participants[1].email", screening.CodeDuplicateInPayload, "email repeats row 0"},
			{1, "participants[1].name", screening.CodeRequired, msgNameEmpty},
		}},
		{"missing emails are not duplicates of each other", []screening.ImportRow{
			row("", "", "A"), row("", "", "B"),
		}, []fieldIssue{
			{0, "participants[0].email", screening.CodeRequired, msgEmailRequired},
			{1, "participants[1].email", screening.CodeRequired, msgEmailRequired},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := issues(t, screening.ValidateImportRows(tt.rows))
			if !sameIssues(got, tt.want) {
				t.Errorf("field errors\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// External uids are compared exactly: case makes them different.
func TestValidateImportExternalUIDCaseMatters(t *testing.T) {
	rows := []screening.ImportRow{row("CRM-1", "a@example.com", "A"), row("crm-1", "b@example.com", "B")}
	if err := screening.ValidateImportRows(rows); err != nil {
		t.Fatalf("rejected: %v", err)
	}
}

// The error lists every problem in row order, and its message counts the rows, not the errors.
func TestValidateImportReportsEveryRowInOrder(t *testing.T) {
	rows := []screening.ImportRow{
		row("", "a@example.com", "A"),
		row("u1", "", ""),
		row("", "c@example.com", "C"),
		row("", "bad", "D"),
		row("", "A@example.com", "E"),
	}
	err := screening.ValidateImportRows(rows)
	got := issues(t, err)
	wantRows := []int{1, 1, 3, 4}
	if len(got) != len(wantRows) {
		t.Fatalf("field errors %+v, want rows %v", got, wantRows)
	}
	for i, fe := range got {
		if fe.Row != wantRows[i] || !strings.HasPrefix(fe.Field, fmt.Sprintf("participants[%d].", fe.Row)) {
			t.Errorf("error %d: %+v, want row %d and a field of it", i, fe, wantRows[i])
		}
	}
	if want := "The import has 3 invalid row(s); nothing was written."; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
}

func TestValidateImportAcceptsEmptyAndValidPayloads(t *testing.T) {
	for _, rows := range [][]screening.ImportRow{
		nil,
		{},
		{row("crm-1", "a@example.com", "A"), row("crm-2", "b@example.com", "B"), row("", "c@example.com", "C")},
	} {
		if err := screening.ValidateImportRows(rows); err != nil {
			t.Errorf("%d rows rejected: %+v", len(rows), issues(t, err))
		}
	}
}
