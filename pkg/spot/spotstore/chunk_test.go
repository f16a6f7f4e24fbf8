package spotstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
	"github.com/participant-roster/roster/pkg/vocab"
)

// noTransactions fails every TransactWriteItems call of a client: a chunk delivery then writes
// its rows (single puts) and is cut short where it counts them.
var noTransactions = onCall("TransactWriteItems", func(context.Context, middleware.InitializeInput, middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("injected: the delivery died here")
})

func chunkRows(n int) []screening.ImportRow {
	out := make([]screening.ImportRow, n)
	for i := range out {
		uid := fmt.Sprintf("crm-%03d", i)
		out[i] = screening.ImportRow{ExternalUID: &uid, Email: fmt.Sprintf("c%03d@example.com", i), Name: fmt.Sprintf("C %d", i)}
	}
	return out
}

// TestChunkCutShortIsCountedLater: a chunk delivery that wrote its rows and died before
// counting them leaves the records uncounted; the next delivery of the same chunk finds every
// row unchanged and writes nothing, and the job's settling counts them, once: the totals end
// exact however often it runs.
func TestChunkCutShortIsCountedLater(t *testing.T) {
	for _, how := range []string{"next delivery", "job settled"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			env := testkit.NewEnv(t)
			w := env.NewTenant().WorkspaceID
			actor := vocab.Actor{Type: "SystemActor", ID: "test", Name: "test"}
			scr, err := env.App.Admin.CreateScreener(ctx, w, actor, "S", nil)
			if err != nil {
				t.Fatal(err)
			}
			chunk := &screening.ChunkID{Job: "job_test", N: 3}
			req := screening.ImportRequest{ScreenerID: scr.ID, Mode: screening.UpdatesOnly, Rows: chunkRows(120), Chunk: chunk}
			dying := screening.NewService(spotstore.New(ddb.New(dynamodb.New(env.Client.Options(), noTransactions), env.Table)))
			if _, err := dying.RunImport(ctx, w, actor, req); err == nil {
				t.Fatal("the delivery that cannot count went through")
			}
			store := env.App.Store
			totals := func() (int, int) {
				t.Helper()
				ps, err := store.ListParticipants(ctx, w, screening.ParticipantFilter{}, screening.Page{Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				sps, err := store.ListScreenerParticipants(ctx, w, scr.ID, screening.Page{Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				return ps.Total, sps.Total
			}
			roster, err := store.Roster(ctx, w, scr.ID)
			if err != nil || len(roster) != 120 {
				t.Fatalf("the cut-short delivery left %d screener participants (%v), want its 120", len(roster), err)
			}
			if p, s := totals(); p != 0 || s != 0 {
				t.Fatalf("before settling: totals %d and %d, want 0 (nothing counted yet)", p, s)
			}
			svc := screening.NewService(store)
			if how == "next delivery" {
				report, err := svc.RunImport(ctx, w, actor, req)
				if err != nil {
					t.Fatal(err)
				}
				if report.Rows[0].Outcome != screening.RowUnchanged {
					t.Fatalf("the next delivery's first row: %s, want unchanged", report.Rows[0].Outcome)
				}
			}
			if err := store.SettleJob(ctx, w, scr.ID, chunk.Job); err != nil {
				t.Fatal(err)
			}
			for range 2 { // settling again counts nothing twice
				if p, s := totals(); p != 120 || s != 120 {
					t.Fatalf("after settling: totals %d and %d, want 120 and 120", p, s)
				}
				if err := store.SettleJob(ctx, w, scr.ID, chunk.Job); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
