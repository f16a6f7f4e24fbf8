package spotstore_test

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
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
	"github.com/participant-roster/roster/pkg/vocab"
)

// onCall runs hook in place of every call of the named operation; hook may pass the call on
// (next) and then still report a failure, as a call whose answer is lost does.
func onCall(operation string, hook func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error)) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("OnCall"+operation,
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if middleware.GetOperationName(ctx) != operation {
						return next.HandleInitialize(ctx, in)
					}
					return hook(ctx, in, next)
				}), middleware.Before)
		})
	}
}

var errInjected = errors.New("injected: no answer")

// countStatements adds up the statements of a client's BatchExecuteStatement calls (the
// conditional inserts).
func countStatements(n *atomic.Int32) func(*dynamodb.Options) {
	return onCall("BatchExecuteStatement", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		n.Add(int32(len(in.Parameters.(*dynamodb.BatchExecuteStatementInput).Statements)))
		return next.HandleInitialize(ctx, in)
	})
}

// putsLost passes on every BatchWriteItem call with only the puts keep takes, and reports it
// failed: a call whose answer is lost, and whose items the delivery then cannot know.
func putsLost(keep func(ddb.Item) bool) func(*dynamodb.Options) {
	return onCall("BatchWriteItem", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		call := in.Parameters.(*dynamodb.BatchWriteItemInput)
		kept := map[string][]types.WriteRequest{}
		for table, reqs := range call.RequestItems {
			for _, r := range reqs {
				if keep(r.PutRequest.Item) {
					kept[table] = append(kept[table], r)
				}
			}
		}
		if len(kept) > 0 {
			in.Parameters = &dynamodb.BatchWriteItemInput{RequestItems: kept}
			if _, _, err := next.HandleInitialize(ctx, in); err != nil {
				return middleware.InitializeOutput{}, middleware.Metadata{}, err
			}
		}
		return middleware.InitializeOutput{}, middleware.Metadata{}, errInjected
	})
}

func none(ddb.Item) bool { return false }

// participantsOnly takes the participants of a chunk's puts, not their screener participants.
func participantsOnly(it ddb.Item) bool {
	typ, _ := it["type"].(*types.AttributeValueMemberS)
	return typ != nil && typ.Value == "Participant"
}

// onlyFirst lets the operation's first call through and fails the others: a delivery that
// claims its markers (one BatchExecuteStatement for up to 12 rows) and then dies.
func onlyFirst(operation string) func(*dynamodb.Options) {
	var calls atomic.Int32
	return onCall(operation, func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if calls.Add(1) > 1 {
			return middleware.InitializeOutput{}, middleware.Metadata{}, errInjected
		}
		return next.HandleInitialize(ctx, in)
	})
}

type claimFixture struct {
	t     *testing.T
	env   *testkit.Env
	w     string
	scr   string
	actor vocab.Actor
	req   screening.ImportRequest
}

func newClaimFixture(t *testing.T, rows int) *claimFixture {
	t.Helper()
	env := testkit.NewEnv(t)
	f := &claimFixture{t: t, env: env, w: env.NewTenant().WorkspaceID, actor: vocab.Actor{Type: "SystemActor", ID: "test", Name: "test"}}
	scr, err := env.App.Admin.CreateScreener(context.Background(), f.w, f.actor, "S", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.scr = scr.ID
	f.req = screening.ImportRequest{ScreenerID: scr.ID, Mode: screening.UpdatesOnly, Rows: chunkRows(rows), Chunk: &screening.ChunkID{Job: "job_claims", N: 1}}
	return f
}

// store is the Spot store over the fixture's table through a client with opts, on a clock
// ahead of the real one by ahead.
func (f *claimFixture) store(ahead time.Duration, opts ...func(*dynamodb.Options)) *spotstore.Store {
	s := spotstore.New(ddb.New(dynamodb.New(f.env.Client.Options(), opts...), f.env.Table))
	s.Now = func() time.Time { return time.Now().Add(ahead) }
	return s
}

// syncImport is the fixture's rows as a synchronous import (no chunk).
func (f *claimFixture) syncImport() screening.ImportRequest {
	r := f.req
	r.Chunk = nil
	return r
}

func (f *claimFixture) totals() (participants, roster int) {
	f.t.Helper()
	ctx := context.Background()
	ps, err := f.env.App.Store.ListParticipants(ctx, f.w, screening.ParticipantFilter{}, screening.Page{Limit: 1})
	if err != nil {
		f.t.Fatal(err)
	}
	sps, err := f.env.App.Store.ListScreenerParticipants(ctx, f.w, f.scr, screening.Page{Limit: 1})
	if err != nil {
		f.t.Fatal(err)
	}
	return ps.Total, sps.Total
}

// checkRoster: every row once on the roster, and the totals exact.
func (f *claimFixture) checkRoster() {
	f.t.Helper()
	roster, err := f.env.App.Store.Roster(context.Background(), f.w, f.scr)
	if err != nil {
		f.t.Fatal(err)
	}
	emails := map[string]int{}
	for _, sp := range roster {
		emails[sp.Email]++
	}
	for _, r := range f.req.Rows {
		if emails[r.Email] != 1 {
			f.t.Errorf("%s is on the roster %d times, want once", r.Email, emails[r.Email])
		}
	}
	if p, s := f.totals(); p != len(f.req.Rows) || s != len(f.req.Rows) || len(roster) != len(f.req.Rows) {
		f.t.Errorf("totals %d participants, %d on the roster (%d read), want %d each", p, s, len(roster), len(f.req.Rows))
	}
}

// TestAChunksClaimHoldsUntilItRunsOut: a chunk delivery that claimed its new rows' markers
// and died, before writing the participants or after writing them without their screener
// participants, leaves what it claimed to itself until its claim runs out: another import of
// the same rows is refused as a conflict (it plans again) rather than take the markers over or
// write the missing links while the delivery could still be writing them. Once the claim has
// run out (a clock past its window and margin) the import takes over under the same
// participant ids, and the totals end exact.
func TestAChunksClaimHoldsUntilItRunsOut(t *testing.T) {
	for _, tc := range []struct {
		name         string
		applied      func(ddb.Item) bool // the puts of the dying delivery that went through
		participants int
		roster       int
	}{
		{"markers only", none, 0, 0},
		{"participants without their screener participants", participantsOnly, 10, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newClaimFixture(t, 10)
			dying := screening.NewService(f.store(0,
				putsLost(tc.applied), onlyFirst("BatchExecuteStatement")))
			if _, err := dying.RunImport(ctx, f.w, f.actor, f.req); err == nil {
				t.Fatal("the dying delivery went through")
			}
			left, err := f.env.App.Store.GetParticipants(ctx, f.w, f.markerIDs())
			if err != nil || len(left) != tc.participants {
				t.Fatalf("the dying delivery left %d participants (%v), want %d", len(left), err, tc.participants)
			}
			if roster, err := f.env.App.Store.Roster(ctx, f.w, f.scr); err != nil || len(roster) != tc.roster {
				t.Fatalf("the dying delivery left %d screener participants (%v), want %d", len(roster), err, tc.roster)
			}

			held := screening.NewService(f.store(0))
			plan, err := held.PlanImport(ctx, f.w, f.actor, f.syncImport())
			if err != nil {
				t.Fatal(err)
			}
			if err := held.ApplyImport(ctx, plan); !screening.IsConflict(err) {
				t.Fatalf("an import while the claim holds: %v, want a conflict", err)
			}
			if p, s := f.totals(); p != 0 || s != 0 {
				t.Fatalf("the refused import changed the totals to %d and %d", p, s)
			}

			ids := f.markerIDs()
			after := screening.NewService(f.store(spotstore.DefaultClaimWindow + ddb.ClaimMargin))
			if _, err := after.RunImport(ctx, f.w, f.actor, f.syncImport()); err != nil {
				t.Fatalf("an import after the claim ran out: %v", err)
			}
			if err := f.env.App.Store.SettleJob(ctx, f.w, f.scr, f.req.Chunk.Job); err != nil {
				t.Fatal(err)
			}
			f.checkRoster()
			if got := f.markerIDs(); !equalIDs(got, ids) {
				t.Errorf("participant ids after the takeover %v, want the claimed ones %v", got, ids)
			}
		})
	}
}

// markerIDs are the participant ids the rows' email markers name, in row order ("" for none).
func (f *claimFixture) markerIDs() []string {
	f.t.Helper()
	var emails []string
	for _, r := range f.req.Rows {
		emails = append(emails, screening.NormalizeEmail(r.Email))
	}
	_, byEmail, err := f.env.App.Store.FindParticipantIDs(context.Background(), f.w, nil, emails)
	if err != nil {
		f.t.Fatal(err)
	}
	ids := make([]string, len(emails))
	for i, e := range emails {
		ids[i] = byEmail[e]
	}
	return ids
}

func equalIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] || a[i] == "" {
			return false
		}
	}
	return true
}

// TestALostAnswerIsSettledByConditionalWrites: a chunk's unconditional writes whose answer is
// lost are neither sent again (they could overwrite a change made since) nor taken as
// failed: the delivery writes them once more conditionally, finds them its own, and counts
// each row once.
func TestALostAnswerIsSettledByConditionalWrites(t *testing.T) {
	ctx := context.Background()
	f := newClaimFixture(t, 10)
	var calls atomic.Int32
	lost := putsLost(func(ddb.Item) bool { calls.Add(1); return true })
	svc := screening.NewService(f.store(0, lost))
	report, err := svc.RunImport(ctx, f.w, f.actor, f.req)
	if err != nil {
		t.Fatal(err)
	}
	if report.Rows[0].Outcome != screening.RowCreated {
		t.Errorf("first row: %s, want created", report.Rows[0].Outcome)
	}
	if n := calls.Load(); n != 20 {
		t.Errorf("%d puts sent, want 20 (10 rows' two): a call whose answer is lost is not sent again", n)
	}
	f.checkRoster()
}

// TestNewRowsAreClaimedThenPut: a chunk of new rows inserts only its markers conditionally
// and puts each participant and its screener participant in BatchWriteItem.
func TestNewRowsAreClaimedThenPut(t *testing.T) {
	ctx := context.Background()
	f := newClaimFixture(t, 10)
	var statements, puts atomic.Int32
	svc := screening.NewService(f.store(0, countStatements(&statements), onCall("BatchWriteItem",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			for _, reqs := range in.Parameters.(*dynamodb.BatchWriteItemInput).RequestItems {
				puts.Add(int32(len(reqs)))
			}
			return next.HandleInitialize(ctx, in)
		})))
	if _, err := svc.RunImport(ctx, f.w, f.actor, f.req); err != nil {
		t.Fatal(err)
	}
	if s, p := statements.Load(), puts.Load(); s != 20 || p != 20 {
		t.Errorf("%d conditional inserts and %d puts, want 20 (the markers) and 20 (participants and screener participants)", s, p)
	}
	f.checkRoster()
}

// TestARefusedPutIsSentAgain: a BatchWriteItem DynamoDB refuses whole (throttling) applied
// nothing, so the chunk sends it again rather than fall back to conditional writes.
func TestARefusedPutIsSentAgain(t *testing.T) {
	ctx := context.Background()
	f := newClaimFixture(t, 10)
	var calls, statements atomic.Int32
	refuseFirst := onCall("BatchWriteItem", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if calls.Add(1) == 1 {
			return middleware.InitializeOutput{}, middleware.Metadata{}, &types.ProvisionedThroughputExceededException{Message: aws.String("injected")}
		}
		return next.HandleInitialize(ctx, in)
	})
	svc := screening.NewService(f.store(0, refuseFirst, countStatements(&statements)))
	if _, err := svc.RunImport(ctx, f.w, f.actor, f.req); err != nil {
		t.Fatal(err)
	}
	if c, s := calls.Load(), statements.Load(); c != 2 || s != 20 {
		t.Errorf("%d BatchWriteItem calls and %d conditional inserts, want 2 (the refused one again) and 20 (the markers only)", c, s)
	}
	f.checkRoster()
}
