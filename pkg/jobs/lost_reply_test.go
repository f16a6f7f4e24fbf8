package jobs_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/jobs/jobstore"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
	"github.com/participant-roster/roster/pkg/vocab"
)

type chosenCall struct{}

// loseFirstReply makes the first call that chosen picks go through and then answer 500, as a
// reply lost on the way back would; the SDK then sends the same request again.
func loseFirstReply(lost *atomic.Int32, chosen func(params any) bool) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			if err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("ChooseCall",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if chosen(in.Parameters) {
						ctx = context.WithValue(ctx, chosenCall{}, true)
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.After); err != nil {
				return err
			}
			return s.Finalize.Insert(middleware.FinalizeMiddlewareFunc("LoseReply",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleFinalize(ctx, in)
					if err == nil && ctx.Value(chosenCall{}) != nil && lost.Add(1) == 1 {
						return middleware.FinalizeOutput{}, md, responseError(500, &types.InternalServerError{Message: aws.String("injected: reply lost")})
					}
					return out, md, err
				}), "Retry", middleware.After)
		})
	}
}

func isFinishClaim(params any) bool {
	u, ok := params.(*dynamodb.UpdateItemInput)
	return ok && strings.HasPrefix(aws.ToString(u.UpdateExpression), "SET finisher = :token")
}

func isJobCreation(params any) bool {
	p, ok := params.(*dynamodb.PutItemInput)
	if !ok {
		return false
	}
	typ, _ := p.Item["type"].(*types.AttributeValueMemberS)
	return typ != nil && typ.Value == "ImportJob"
}

// TestLostClaimReplyStillFinishes: the last chunk's claim of the job's finish goes through but
// its reply is lost; the SDK's retry of the same claim must be granted (it is the same
// finisher), or no one would ever finish the job.
func TestLostClaimReplyStillFinishes(t *testing.T) {
	t.Parallel()
	var lost atomic.Int32
	f := newFixture(t, fixtureOptions{storeOption: loseFirstReply(&lost, isFinishClaim)})
	job := f.submit(screening.UpdatesOnly, rows(0, 20), jobs.Planner{MaxRows: 10})
	f.drain(10 * time.Second)
	if lost.Load() == 0 {
		t.Fatal("no claim reply was lost: the fault was not injected")
	}
	got, _ := f.job(job.ID)
	checkCounts(t, got, jobs.Completed, jobs.Counts{Processed: 20, Created: 20})
}

// TestLostJobCreationReplyStillSubmits: the job's creation goes through but its reply is lost;
// the SDK's retry finds the job there, which Submit takes as its own (the id is new), so the
// chunks are sent and the job completes instead of waiting forever for them.
func TestLostJobCreationReplyStillSubmits(t *testing.T) {
	t.Parallel()
	var lost atomic.Int32
	f := newFixture(t, fixtureOptions{})
	st := ddb.New(dynamodb.New(f.env.Client.Options(), loseFirstReply(&lost, isJobCreation)), f.env.Table)
	req := screening.ImportRequest{ScreenerID: f.scr, Mode: screening.UpdatesOnly, Rows: rows(0, 30)}
	job, err := spotjobs.Submit(f.ctx, f.submitter(jobstore.New(st), jobs.Planner{}), f.ws, vocab.Actor{Type: "SystemActor", ID: "test"}, req)
	if err != nil {
		t.Fatalf("submit after a lost reply: %v", err)
	}
	if lost.Load() == 0 {
		t.Fatal("no job creation reply was lost: the fault was not injected")
	}
	f.drain(10 * time.Second)
	got, _ := f.job(job.ID)
	checkCounts(t, got, jobs.Completed, jobs.Counts{Processed: 30, Created: 30})
}
