package demo

import (
	"context"
	"errors"
	"time"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/snap/snapjobs"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotjobs"
	"github.com/participant-roster/roster/pkg/vocab"
)

// The demo's finished import jobs: the demo roster (Rows) imported again into the first
// screener (GET /screener-participants-imports/{id}), and the group survey's three participants
// imported again (GET /snaponline/api/surveys/{surveyId}/participant-imports/{importId}); every
// row unchanged.
const (
	ImportJobID     = "job_01jd3m00000000000000000jb1"
	SnapImportJobID = "job_01jd3m00000000000000000sn1"
)

// seedImportJobs stores the demo import jobs unless they are finished.
func seedImportJobs(ctx context.Context, st jobs.Store, screenerID string) error {
	system := vocab.Actor{Type: "SystemActor", ID: "system", Name: "demo seed"}
	spot := jobs.Job{
		ID: ImportJobID, WorkspaceID: WorkspaceID, Family: spotjobs.Name, Target: screenerID, Mode: string(screening.UpdatesOnly),
		Actor: &system, Status: jobs.Queued, Total: len(Rows), Chunks: 1, CreatedAt: epoch,
	}
	group := 0
	for _, sp := range snapParticipants {
		if sp.surveyID == GroupSurveyID {
			group++
		}
	}
	snap := jobs.Job{
		ID: SnapImportJobID, WorkspaceID: WorkspaceID, Family: snapjobs.Name, Target: GroupSurveyID, Mode: snapjobs.ModeAdd, HoldsTarget: true,
		Actor: &system, Status: jobs.Queued, Total: group, Chunks: 1, CreatedAt: epoch,
	}
	for _, job := range []jobs.Job{spot, snap} {
		if err := seedImportJob(ctx, st, job); err != nil {
			return err
		}
	}
	return nil
}

// seedImportJob runs a one-chunk job of unchanged rows through the steps a worker takes
// (create, start, complete its chunk, claim the finish, finish COMPLETED). Each step is
// repeatable, so a seed cut short is finished by the next run.
func seedImportJob(ctx context.Context, st jobs.Store, job jobs.Job) error {
	err := st.Create(ctx, job)
	if err != nil && !errors.Is(err, vocab.ErrExists) {
		return err
	}
	if existing, _, err := st.Get(ctx, WorkspaceID, job.ID, 0); err != nil || existing.Terminal() {
		return err
	}
	start, end := epoch.Add(time.Second), epoch.Add(2*time.Second)
	if _, err := st.Start(ctx, WorkspaceID, job.ID, start); err != nil {
		return err
	}
	chunk := jobs.ChunkResult{N: 0, FirstRow: 0, Rows: job.Total, Counts: jobs.Counts{Processed: job.Total, Unchanged: job.Total}}
	if _, err := st.CompleteChunk(ctx, job, chunk, end); err != nil {
		return err
	}
	const token = "demo-seed"
	claimed, ok, err := st.ClaimFinish(ctx, WorkspaceID, job.ID, token, end, end.Add(time.Minute))
	if err != nil || !ok {
		return errors.Join(err, errors.New("demo: could not claim the demo import job's finish"))
	}
	return st.Finish(ctx, claimed, token, jobs.Completed, "", end, 0, 0)
}
