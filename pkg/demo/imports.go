package demo

import (
	"context"
	"errors"
	"time"

	"github.com/participant-roster/roster/pkg/screening"
	"github.com/participant-roster/roster/pkg/store"
)

// ImportJobID is the demo's finished import job (GET /screener-participants-imports/{id}): the
// demo roster (Rows) imported again as one chunk, every row unchanged.
const ImportJobID = "job_01jd3m00000000000000000jb1"

// seedImportJob stores the demo import job unless it exists, through the same steps a worker
// takes (create, start, complete its one chunk, claim the finish, finish COMPLETED).
func seedImportJob(ctx context.Context, st *store.DDBStore, screenerID string) error {
	system := screening.Actor{Type: "SystemActor", ID: "system", Name: "demo seed"}
	job := store.ImportJob{
		ID: ImportJobID, WorkspaceID: WorkspaceID, Family: "spot", Target: screenerID, Mode: string(screening.UpdatesOnly),
		Actor: &system, Status: store.ImportQueued, Total: len(Rows), Chunks: 1, CreatedAt: epoch,
	}
	err := st.CreateImportJob(ctx, WorkspaceID, job)
	if errors.Is(err, store.ErrExists) {
		return nil
	}
	if err != nil {
		return err
	}
	start, end := epoch.Add(time.Second), epoch.Add(2*time.Second)
	if err := st.StartImportJob(ctx, WorkspaceID, ImportJobID, start); err != nil {
		return err
	}
	chunk := store.ImportChunk{N: 0, FirstRow: 0, Rows: len(Rows), Counts: store.ImportCounts{Processed: len(Rows), Unchanged: len(Rows)}}
	if _, err := st.CompleteImportChunk(ctx, WorkspaceID, ImportJobID, chunk, end); err != nil {
		return err
	}
	const token = "demo-seed"
	if _, ok, err := st.ClaimImportFinish(ctx, WorkspaceID, ImportJobID, token, end, end.Add(time.Minute)); err != nil || !ok {
		return errors.Join(err, errors.New("demo: could not claim the demo import job's finish"))
	}
	return st.FinishImportJob(ctx, WorkspaceID, ImportJobID, token, store.ImportCompleted, "", end, 0, 0)
}
