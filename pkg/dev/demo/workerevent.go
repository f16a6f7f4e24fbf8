package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/participant-roster/roster/pkg/jobs/imports"
	"github.com/participant-roster/roster/pkg/store"
	"github.com/participant-roster/roster/pkg/vocab"
)

// StoreJobsOf stores, as QUEUED, the import job of each chunk message in an import worker's
// SQS event, unless the job exists, and returns the ids of the jobs it stored. The API
// function that queues a job's chunks stores the job first; a sample worker event
// (events/import-worker.json) comes without one, so it needs its job stored to be run. The
// event must carry every chunk of its jobs: their totals are counted from it.
func StoreJobsOf(ctx context.Context, st *store.DDBStore, ev events.SQSEvent) ([]string, error) {
	jobs := map[string]*store.ImportJob{}
	var order []string
	for _, rec := range ev.Records {
		c, err := chunkOf(rec.Body)
		if err != nil {
			return nil, fmt.Errorf("demo: record %s: %w", rec.MessageId, err)
		}
		job, seen := jobs[c.ID]
		if !seen {
			system := vocab.Actor{Type: "SystemActor", ID: "system", Name: "sample event"}
			c.Actor, c.CreatedAt = &system, time.Now()
			job = &c
			jobs[c.ID] = job
			order = append(order, c.ID)
		} else {
			job.Total += c.Total
		}
		job.Chunks++
	}
	var stored []string
	for _, id := range order {
		job := jobs[id]
		err := st.CreateImportJob(ctx, job.WorkspaceID, *job)
		switch {
		case errors.Is(err, store.ErrExists):
		case err != nil:
			return stored, fmt.Errorf("demo: store job %s: %w", id, err)
		default:
			stored = append(stored, id)
		}
	}
	return stored, nil
}

// chunkOf is the job a chunk message belongs to, with the chunk's rows as its total.
func chunkOf(body string) (store.ImportJob, error) {
	var head struct {
		Family string `json:"family"`
	}
	if err := json.Unmarshal([]byte(body), &head); err != nil {
		return store.ImportJob{}, fmt.Errorf("not a chunk message: %w", err)
	}
	if head.Family == imports.FamilySnap {
		m, err := imports.DecodeSnapMessage(body)
		return store.ImportJob{
			ID: m.JobID, WorkspaceID: m.WorkspaceID, Family: imports.FamilySnap, Target: m.SurveyID, Mode: "ADD",
			Total: len(m.Participants),
		}, err
	}
	m, err := imports.DecodeMessage(body) // a message without a family is Spot's
	return store.ImportJob{
		ID: m.JobID, WorkspaceID: m.WorkspaceID, Family: imports.FamilySpot, Target: m.ScreenerID, Mode: m.Mode,
		Total: len(m.Rows),
	}, err
}
