package snapstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/snapstore"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/vocab"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// newWorkspace is a table and a workspace id of its own.
func newWorkspace(t *testing.T) (*testkit.Env, *snapstore.Store, string) {
	env := testkit.NewEnv(t)
	return env, env.App.SnapStore, ids.New(ids.Workspace)
}

type holdRecord struct {
	Type        string `dynamodbav:"type"`
	ImportJobID string `dynamodbav:"importJobId"`
	Version     int64  `dynamodbav:"version"`
}

// hold reads a survey's hold item; found is false when there is none.
func hold(t *testing.T, st *snapstore.Store, ws, id string) (holdRecord, bool) {
	t.Helper()
	var h holdRecord
	found, err := st.GetConsistent(context.Background(), snapstore.HoldKey(ws, id), &h)
	if err != nil {
		t.Fatal(err)
	}
	return h, found
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

func loginParticipant(login string) survey.Participant {
	return survey.Participant{Enabled: true, Login: &survey.Login{Login: &login, Subjects: []survey.Subject{{Name: ""}}}}
}

// TestTheHoldItemLivesAndDiesWithItsSurvey: every survey has its hold item from its creation,
// each change of the survey moves the version on both, a write under another version or while
// an import holds the roster changes nothing, and the hold item (with the participants) goes
// with the survey.
func TestTheHoldItemLivesAndDiesWithItsSurvey(t *testing.T) {
	_, st, ws := newWorkspace(t)
	ctx := context.Background()
	sv := survey.Survey{ID: "0f0f0f0f-0000-4000-8000-0000000000a1", Settings: survey.Settings{Logins: true}}
	must(t, st.PutSurvey(ctx, ws, sv))
	if h, found := hold(t, st, ws, sv.ID); !found || h.Type != "SurveyHold" || h.Version != 1 || h.ImportJobID != "" {
		t.Fatalf("hold item of a new survey: %+v (found %v), want a free SurveyHold at version 1", h, found)
	}
	must(t, st.PutSurvey(ctx, ws, sv))
	v2, held, err := st.GetSurvey(ctx, ws, sv.ID)
	must(t, err)
	if h, _ := hold(t, st, ws, sv.ID); v2.Version != 2 || h.Version != 2 || held {
		t.Fatalf("after a change: survey at %d, hold at %d, held %v; want both at 2, free", v2.Version, h.Version, held)
	}

	_, err = st.AddSnapParticipant(ctx, ws, sv, loginParticipant("stale")) // sv was read at version 0
	wantErr(t, "add under another version", err, survey.ErrSurveyChanged)
	_, err = st.AddSnapParticipant(ctx, ws, v2, loginParticipant("kept"))
	must(t, err)

	must(t, st.TransactWrite(ctx, []types.TransactWriteItem{st.TakeHold(ws, sv.ID, "job_1")}))
	if _, held, err := st.GetSurvey(ctx, ws, sv.ID); err != nil || !held {
		t.Fatalf("after TakeHold: held %v (%v)", held, err)
	}
	_, err = st.AddSnapParticipant(ctx, ws, v2, loginParticipant("while-held"))
	wantErr(t, "add while held", err, survey.ErrSurveyChanged)
	wantErr(t, "delete while held", st.DeleteSurvey(ctx, ws, sv.ID), survey.ErrRosterLocked)
	must(t, st.TransactWrite(ctx, []types.TransactWriteItem{st.ReleaseHold(ws, sv.ID, "job_1")}))

	must(t, st.DeleteSurvey(ctx, ws, sv.ID))
	_, _, err = st.GetSurvey(ctx, ws, sv.ID)
	wantErr(t, "read after delete", err, vocab.ErrNotFound)
	if h, found := hold(t, st, ws, sv.ID); found {
		t.Fatalf("hold item outlived its survey: %+v", h)
	}
	_, err = st.AddSnapParticipant(ctx, ws, v2, loginParticipant("after-delete"))
	wantErr(t, "add after delete", err, survey.ErrSurveyChanged)
	wantErr(t, "delete again", st.DeleteSurvey(ctx, ws, sv.ID), vocab.ErrNotFound)

	// Made again under the same id, the survey starts over: version 1, no participants.
	must(t, st.PutSurvey(ctx, ws, sv))
	again, _, err := st.GetSurvey(ctx, ws, sv.ID)
	must(t, err)
	ps, _, err := st.ListSnapParticipants(ctx, ws, sv.ID, "", 10)
	must(t, err)
	if again.Version != 1 || len(ps) != 0 {
		t.Fatalf("survey made again: version %d, %d participants; want 1 and none", again.Version, len(ps))
	}
	_, err = st.AddSnapParticipant(ctx, ws, again, loginParticipant("kept")) // its login is free again
	must(t, err)
}

// A survey stored before surveys had hold items (no version, no hold item) gets its hold item
// when it is first read, and takes participant writes as any survey does.
func TestASurveyFromBeforeHoldItemsGetsOne(t *testing.T) {
	env, st, ws := newWorkspace(t)
	ctx := context.Background()
	sv := survey.Survey{ID: "0f0f0f0f-0000-4000-8000-0000000000b1", Settings: survey.Settings{Logins: true}}
	legacy := struct {
		PK      string        `dynamodbav:"pk"`
		SK      string        `dynamodbav:"sk"`
		Type    string        `dynamodbav:"type"`
		Survey  survey.Survey `dynamodbav:"survey"`
		CaseSeq int           `dynamodbav:"caseSeq"`
	}{PK: "WS#" + ws + "#SURVEY", SK: sv.ID, Type: "Survey", Survey: sv}
	_, err := env.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &env.Table, Item: ddb.MustMarshal(legacy)})
	must(t, err)
	if _, found := hold(t, st, ws, sv.ID); found {
		t.Fatal("the legacy survey has a hold item before it was read")
	}
	read, held, err := st.GetSurvey(ctx, ws, sv.ID)
	must(t, err)
	if h, found := hold(t, st, ws, sv.ID); !found || h.Version != 0 || read.Version != 0 || held {
		t.Fatalf("after the first read: hold %+v (found %v), survey at %d, held %v; want a free hold item at version 0", h, found, read.Version, held)
	}
	_, err = st.AddSnapParticipant(ctx, ws, read, loginParticipant("first"))
	must(t, err)
	must(t, st.PutSurvey(ctx, ws, sv))
	if h, _ := hold(t, st, ws, sv.ID); h.Version != 1 {
		t.Fatalf("after a change the hold item is at %d, want 1", h.Version)
	}
	_, err = st.AddSnapParticipant(ctx, ws, read, loginParticipant("second"))
	wantErr(t, "add under the legacy version after a change", err, survey.ErrSurveyChanged)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
