package snapapi_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

// The participant write routes decide under a survey cached by the function instance (no read
// per request); these tests change, delete or hold the survey behind the cache's back, between
// two requests to the same handler, and insist the second is decided under the survey as it is.

func loginOnlyBody(login string) string {
	return fmt.Sprintf(`{"loginSection":{"login":%q,"interviewer":null,"subjects":[{"subjectName":""}]}}`, login)
}

// storedSurvey is the survey as the store has it now.
func (f *fixture) storedSurvey(id string) survey.Survey {
	f.t.Helper()
	sv, _, err := f.env.App.SnapStore.GetSurveyConsistent(context.Background(), f.ws, id)
	must(f.t, err)
	return sv
}

// storedParticipants counts a survey's participants in the store.
func (f *fixture) storedParticipants(id string) int {
	f.t.Helper()
	ps, _, err := f.env.App.SnapStore.ListSnapParticipants(context.Background(), f.ws, id, "", 1000)
	must(f.t, err)
	return len(ps)
}

func (f *fixture) putSurvey(sv survey.Survey) {
	f.t.Helper()
	must(f.t, f.env.App.SnapStore.PutSurvey(context.Background(), f.ws, sv))
}

// A warm function's add reads no survey: the test functions cache no credential (one read of
// the key), and the survey comes from the cache, so the call's count (the rate limiter's
// UpdateItem) and the transaction are the only other calls.
func TestAWarmAddMakesOneDynamoDBCall(t *testing.T) {
	f := newFixture(t)
	wantStatus(t, f.add(f.owner, f.loginOnly, loginOnlyBody("first")), 201)
	ctx, m := capacity.WithMeter(context.Background())
	h := f.owner.headers("2.0")
	h["content-type"] = "application/json"
	r := f.env.InvokeContext(ctx, "SnapAddParticipantFunction", testkit.Event("POST", base+f.loginOnly+"/participants", "", h, loginOnlyBody("second")))
	wantStatus(t, r, 201)
	if m.Calls() != 3 {
		t.Fatalf("%d DynamoDB calls for a warm add, want 3 (the key, the call's count, the transaction)", m.Calls())
	}
}

func TestAChangedSurveyIsNeverWrittenAgainst(t *testing.T) {
	f := newFixture(t)
	wantStatus(t, f.add(f.owner, f.loginOnly, loginOnlyBody("first")), 201)

	// No logins any more: the cached survey would take a login body, the survey as it is does not.
	sv := f.storedSurvey(f.loginOnly)
	sv.Settings = survey.Settings{Invites: true}
	f.putSurvey(sv)
	wantMessage(t, f.add(f.owner, f.loginOnly, loginOnlyBody("second")), 400, survey.MsgLoginSectionNotAllowed)
	wantStatus(t, f.add(f.owner, f.loginOnly, `{"invitationSection":{"emailAddress":"third@example.com"}}`), 201)

	// Access taken away: the colleague, who wrote a moment before, is refused as the vendor does.
	wantStatus(t, f.add(f.colleague, f.loginOnly, `{"invitationSection":{"emailAddress":"fourth@example.com"}}`), 201)
	sv = f.storedSurvey(f.loginOnly)
	sv.SharedWith = nil
	f.putSurvey(sv)
	wantMessage(t, f.add(f.colleague, f.loginOnly, `{"invitationSection":{"emailAddress":"fifth@example.com"}}`), 401, snapapi.MsgNoSurveyAccess)
	wantMessage(t, f.do(f.colleague, "2.0", "SnapDeleteParticipantFunction", "DELETE", base+f.loginOnly+"/participants/third@example.com", "", ""),
		401, snapapi.MsgNoSurveyAccess)

	if n := f.storedParticipants(f.loginOnly); n != 3 {
		t.Fatalf("%d participants, want the 3 added before and after the changes", n)
	}
}

func TestADeletedSurveyIsNeverWrittenAgainst(t *testing.T) {
	f := newFixture(t)
	wantStatus(t, f.add(f.owner, f.loginOnly, loginOnlyBody("first")), 201)
	must(t, f.env.App.SnapStore.DeleteSurvey(context.Background(), f.ws, f.loginOnly))
	wantMessage(t, f.add(f.owner, f.loginOnly, loginOnlyBody("second")), 401, snapapi.MsgNoSurveyAccess)
	wantMessage(t, f.do(f.owner, "2.0", "SnapUpdateParticipantFunction", "PUT", base+f.loginOnly+"/participants/first", "", loginOnlyBody("first")),
		401, snapapi.MsgNoSurveyAccess)
	if n := f.storedParticipants(f.loginOnly); n != 0 {
		t.Fatalf("%d participants in the deleted survey, want none", n)
	}
}

func TestAHoldTakenAfterTheSurveyWasCachedBlocksWrites(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st := f.env.App.SnapStore
	wantStatus(t, f.add(f.owner, f.group, groupBody("first", "first@example.com")), 201)
	must(t, st.TransactWrite(ctx, []types.TransactWriteItem{st.TakeHold(f.ws, f.group, "job_cachetest")}))
	wantMessage(t, f.add(f.owner, f.group, groupBody("second", "second@example.com")), 400, lockMessage)
	wantMessage(t, f.do(f.owner, "2.0", "SnapDeleteParticipantFunction", "DELETE", base+f.group+"/participants/first", "", ""), 400, lockMessage)
	wantMessage(t, f.do(f.owner, "2.0", "SnapDeleteParticipantSubjectFunction", "DELETE", base+f.group+"/participants/first/subjects/L1", "", ""), 400, lockMessage)
	must(t, st.TransactWrite(ctx, []types.TransactWriteItem{st.ReleaseHold(f.ws, f.group, "job_cachetest")}))
	wantStatus(t, f.add(f.owner, f.group, groupBody("third", "third@example.com")), 201)
	if got := f.logins(f.group); !slices.Equal(got, []string{"first", "third"}) {
		t.Fatalf("logins %v, want first and third", got)
	}
}
