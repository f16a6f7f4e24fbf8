package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/snap/snapjobs"
	"github.com/participant-roster/roster/pkg/vocab"
)

// StoreJobsOf stores, as QUEUED, the import job of each chunk message in an import worker's
// SQS event, unless the job exists, and returns the ids of the jobs it stored. The API
// function that queues a job's chunks stores the job first; a sample worker event
// (events/import-worker.json) comes without one, so it needs its job stored to be run. The
// event must carry every chunk of its jobs: their totals are counted from it.
func StoreJobsOf(ctx context.Context, st jobs.Store, ev events.SQSEvent) ([]string, error) {
	byID := map[string]*jobs.Job{}
	var order []string
	for _, rec := range ev.Records {
		c, err := chunkOf(rec.Body)
		if err != nil {
			return nil, fmt.Errorf("demo: record %s: %w", rec.MessageId, err)
		}
		job, seen := byID[c.ID]
		if !seen {
			system := vocab.Actor{Type: "SystemActor", ID: "system", Name: "sample event"}
			c.Actor, c.CreatedAt, c.Status = &system, time.Now(), jobs.Queued
			job = &c
			byID[c.ID] = job
			order = append(order, c.ID)
		} else {
			job.Total += c.Total
		}
		job.Chunks++
	}
	var stored []string
	for _, id := range order {
		err := st.Create(ctx, *byID[id])
		switch {
		case errors.Is(err, vocab.ErrExists):
		case err != nil:
			return stored, fmt.Errorf("demo: store job %s: %w", id, err)
		default:
			stored = append(stored, id)
		}
	}
	return stored, nil
}

// chunkOf is the job a chunk message belongs to, with the chunk's rows as its total. A Snap
// job holds its survey's roster, as snapjobs.Submit makes it.
func chunkOf(body string) (jobs.Job, error) {
	m, err := jobs.DecodeMessage(body)
	if err != nil {
		return jobs.Job{}, err
	}
	return jobs.Job{
		ID: m.JobID, WorkspaceID: m.WorkspaceID, Family: m.Family, Target: m.Target, Mode: m.Mode,
		HoldsTarget: m.Family == snapjobs.Name, Total: len(m.Rows),
	}, nil
}
