package ddb_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/snapstore"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
	"github.com/participant-roster/roster/pkg/vocab"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// conflicts makes the first n TransactWriteItems calls fail as DynamoDB does when another
// transaction holds an item (DynamoDB Local never does), and counts the calls.
type conflicts struct {
	left  atomic.Int32
	calls atomic.Int32
}

func (c *conflicts) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("InjectTransactionConflicts",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if middleware.GetOperationName(ctx) == "TransactWriteItems" {
					c.calls.Add(1)
					if c.left.Add(-1) >= 0 {
						return middleware.InitializeOutput{}, middleware.Metadata{}, &types.TransactionCanceledException{
							Message:             aws.String("injected"),
							CancellationReasons: []types.CancellationReason{{Code: aws.String("None")}, {Code: aws.String("TransactionConflict")}},
						}
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	})
}

// faultyTable is the test's table through a client whose next n transactions are cancelled
// for a transaction conflict.
func faultyTable(t *testing.T, env *testkit.Env, n int32) (*ddb.Table, *conflicts) {
	c := &conflicts{}
	c.left.Store(n)
	return ddb.New(dynamodb.New(env.Client.Options(), c.option), env.Table), c
}

func TestSnapWritesRetryTransactionConflicts(t *testing.T) {
	env := testkit.NewEnv(t)
	ctx := context.Background()
	ws, sv := ids.New(ids.Workspace), survey.Survey{ID: "0f0f0f0f-0000-4000-8000-000000000001", Settings: survey.Settings{Logins: true}}
	if err := env.App.SnapStore.PutSurvey(ctx, ws, sv); err != nil {
		t.Fatal(err)
	}
	sv.Version = 1 // a new survey's
	tbl, c := faultyTable(t, env, 3)
	st := snapstore.New(tbl)
	login := "racer"
	p := survey.Participant{Enabled: true, Login: &survey.Login{Login: &login, Subjects: []survey.Subject{{Name: ""}}}}
	if _, err := st.AddSnapParticipant(ctx, ws, sv, p); err != nil {
		t.Fatalf("add after 3 conflicts: %v", err)
	}
	if got := c.calls.Load(); got != 4 {
		t.Fatalf("%d transaction calls, want 4 (3 conflicts, then success)", got)
	}
	stored, err := env.App.SnapStore.GetSnapParticipant(ctx, ws, sv, login)
	if err != nil || *stored.Login.Login != login {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	// The retried write is not a duplicate: a second add of the login is refused.
	if _, err := env.App.SnapStore.AddSnapParticipant(ctx, ws, sv, p); !errors.Is(err, survey.ErrLoginTaken) {
		t.Fatalf("second add: %v", err)
	}
}

func TestImportWritesRetryTransactionConflicts(t *testing.T) {
	env := testkit.NewEnv(t)
	tn := env.NewTenant()
	ctx := context.Background()
	tbl, c := faultyTable(t, env, 5)
	st := spotstore.New(tbl)
	admin := &screening.Admin{Store: env.App.Store, Now: time.Now, NewID: ids.New}
	scr, err := admin.CreateScreener(ctx, tn.WorkspaceID, vocab.Actor{Type: "SystemActor"}, "S", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := screening.NewService(st)
	rows := []screening.ImportRow{{Email: "a@example.com", Name: "A"}, {Email: "b@example.com", Name: "B"}}
	if _, err := svc.Import(ctx, tn.WorkspaceID, vocab.Actor{}, screening.ImportRequest{ScreenerID: scr.ID, Mode: screening.UpdatesOnly, Rows: rows}); err != nil {
		t.Fatalf("import after 5 conflicts: %v", err)
	}
	if got := c.calls.Load(); got != 6 {
		t.Fatalf("%d transaction calls, want 6", got)
	}
	list, err := env.App.Store.ListScreenerParticipants(ctx, tn.WorkspaceID, scr.ID, screening.Page{Limit: 10})
	if err != nil || list.Total != 2 || len(list.Items) != 2 {
		t.Fatalf("roster after retries: %+v, %v", list, err)
	}
}
