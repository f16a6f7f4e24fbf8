package survey_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/participant-roster/roster/pkg/snap/survey"
)

// loginAdd is an Add body for groupSurvey with its own login and email.
func loginAdd(n int) []byte {
	return []byte(fmt.Sprintf(`{"invitationSection":{"emailAddress":"p%d@example.com"},"loginSection":{"login":"P%d","subjects":[{"subjectName":"L1"}]}}`, n, n))
}

// addToWrite adds through the write path the API takes: the survey from SurveyToWrite.
func addToWrite(t *testing.T, svc *survey.Service, c survey.Caller, id string, body []byte) error {
	t.Helper()
	sv, err := svc.SurveyToWrite(context.Background(), c, id)
	if err != nil {
		return err
	}
	_, _, err = svc.AddParticipant(context.Background(), c, sv, body)
	return err
}

func TestSurveyToWriteReadsTheSurveyOncePerWorkspace(t *testing.T) {
	st := newMemStore(groupSurvey)
	svc := survey.NewService(st)
	for n := range 3 {
		checkErr(t, addToWrite(t, svc, owner, groupSurvey.ID, loginAdd(n)), nil)
	}
	if st.surveyReads != 1 || st.writes != 3 {
		t.Fatalf("%d survey reads and %d writes for 3 adds, want 1 and 3", st.surveyReads, st.writes)
	}
	// Another workspace's caller never gets this workspace's entry.
	other := survey.Caller{WorkspaceID: "ws2", UserID: ownerID}
	checkErr(t, addToWrite(t, svc, other, groupSurvey.ID, loginAdd(9)), nil)
	if st.surveyReads != 2 {
		t.Fatalf("%d survey reads after another workspace's add, want 2", st.surveyReads)
	}
}

func TestACachedSurveyThatChangedIsNeverWrittenAgainst(t *testing.T) {
	st := newMemStore(groupSurvey)
	svc := survey.NewService(st)
	checkErr(t, addToWrite(t, svc, owner, groupSurvey.ID, loginAdd(1)), nil)

	// No logins any more: the cached survey would take the body; the survey as it is refuses it.
	noLogins := groupSurvey
	noLogins.Settings = inviteSurvey.Settings
	st.changeSurvey(noLogins)
	err := addToWrite(t, svc, owner, groupSurvey.ID, loginAdd(2))
	var invalid *survey.Error
	if !errors.As(err, &invalid) || st.writes != 1 {
		t.Fatalf("add after the survey dropped logins: %v, %d writes; want a rejection and 1 write", err, st.writes)
	}

	// Shared with nobody but its owner, and the owner changes: the old owner has no access.
	otherOwner := noLogins
	otherOwner.OwnerID = otherID
	st.changeSurvey(otherOwner)
	checkErr(t, addToWrite(t, svc, owner, groupSurvey.ID, []byte(`{"invitationSection":{"emailAddress":"x@example.com"}}`)), survey.ErrNoSurveyAccess)
	if st.writes != 1 {
		t.Fatalf("%d writes, want 1", st.writes)
	}
}

func TestACachedSurveyThatWasDeletedOrHeldIsNeverWrittenAgainst(t *testing.T) {
	st := newMemStore(groupSurvey, loginSurvey)
	svc := survey.NewService(st)
	checkErr(t, addToWrite(t, svc, owner, groupSurvey.ID, loginAdd(1)), nil)
	checkErr(t, addToWrite(t, svc, owner, loginSurvey.ID, []byte(`{"loginSection":{"login":"a","subjects":[{"subjectName":""}]}}`)), nil)

	st.locked[groupSurvey.ID] = true
	checkErr(t, addToWrite(t, svc, owner, groupSurvey.ID, loginAdd(2)), survey.ErrRosterLocked)
	delete(st.surveys, loginSurvey.ID)
	checkErr(t, addToWrite(t, svc, owner, loginSurvey.ID, []byte(`{"loginSection":{"login":"b","subjects":[{"subjectName":""}]}}`)), survey.ErrNoSurveyAccess)
	if st.writes != 2 {
		t.Fatalf("%d writes, want the 2 made before", st.writes)
	}

	// A held roster is not cached: once the hold ends, the next add goes through.
	st.locked[groupSurvey.ID] = false
	checkErr(t, addToWrite(t, svc, owner, groupSurvey.ID, loginAdd(3)), nil)
}
