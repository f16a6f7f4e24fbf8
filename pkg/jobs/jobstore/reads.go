package jobstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/vocab"
)

// List returns a page of a workspace's jobs, newest first, and how many match: one Query of
// the jobs partition (pattern 19) read backwards, the filters and the expiry as a
// FilterExpression. DynamoDB has no offset and a filtered Query no count, so every page reads
// the whole partition (its total counts as it goes): its cost is the workspace's jobs of the
// last Retention (about 1 KB each; eventually consistent, 1 read unit per 8 KB), which the
// retention keeps small.
func (s *Store) List(ctx context.Context, w string, q jobs.ListQuery) ([]jobs.Job, int, error) {
	filters := []string{"(attribute_not_exists(#ttl) OR #ttl > :now)"}
	names := map[string]string{"#ttl": ddb.TTLAttribute}
	values := map[string]types.AttributeValue{
		":pk": ddb.S(importJobsPartition(w)), ":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(s.now().Unix(), 10)},
	}
	for attr, v := range map[string]string{"family": q.Family, "target": q.Target, "status": q.Status} {
		if v != "" {
			filters = append(filters, "#"+attr+" = :"+attr)
			names["#"+attr] = attr
			values[":"+attr] = ddb.S(v)
		}
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.TableName,
		KeyConditionExpression:    aws.String("pk = :pk"),
		FilterExpression:          aws.String(strings.Join(filters, " AND ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ScanIndexForward:          aws.Bool(false),
	}
	var page []jobs.Job
	total := 0
	for {
		res, err := s.Client.Query(ctx, in)
		if err != nil {
			return nil, 0, fmt.Errorf("store: query import jobs: %w", err)
		}
		items, err := ddb.DecodeAll[importJobItem](res.Items)
		if err != nil {
			return nil, 0, err
		}
		for _, it := range items {
			if total >= q.Offset && len(page) < q.Limit {
				page = append(page, s.job(it))
			}
			total++
		}
		if res.LastEvaluatedKey == nil {
			return orEmpty(page), total, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Results returns a page of a job's row results (jobs.PageResults): the job item, every done
// chunk's small completion record (pattern 20), which carry the counts that find where the
// page starts, then only the results items (pattern 25) and removal items (26) the page
// needs, so a page costs the same at any offset.
func (s *Store) Results(ctx context.Context, w, id string, q jobs.ResultQuery) ([]jobs.RowResult, int, error) {
	var it importJobItem
	found, err := s.GetItem(ctx, importJobKey(w, id), &it)
	if err != nil {
		return nil, 0, err
	}
	job := s.job(it)
	if !found || job.Expired(s.now()) {
		return nil, 0, vocab.ErrNotFound
	}
	chunks, err := s.chunkRecords(ctx, w, id)
	if err != nil {
		return nil, 0, err
	}
	return jobs.PageResults(job, chunks, q, resultReader{ctx: ctx, s: s, job: job})
}

// resultReader reads a job's results items for jobs.PageResults.
type resultReader struct {
	ctx context.Context
	s   *Store
	job jobs.Job
}

func (r resultReader) ChunkResults(chunks []jobs.ChunkResult) (map[int][]jobs.RowResult, error) {
	var keys []ddb.Key
	byFirstRow := map[int]int{}
	for _, c := range chunks {
		if c.Attempt != "" {
			keys = append(keys, recordKey(r.job, resultSK(c.FirstRow, c.Attempt)))
			byFirstRow[c.FirstRow] = c.N
		}
	}
	items, err := r.rowsItems(keys)
	if err != nil {
		return nil, err
	}
	out := map[int][]jobs.RowResult{}
	for sk, rows := range items {
		var first int
		if _, err := fmt.Sscanf(sk, "RES#%07d#", &first); err == nil {
			out[byFirstRow[first]] = rows
		}
	}
	return out, nil
}

func (r resultReader) Removals(from, to int) ([]jobs.RowResult, error) {
	per := jobs.MaxRemovalsPerItem
	var keys []ddb.Key
	for n := from / per; n*per < to; n++ {
		keys = append(keys, recordKey(r.job, removalSK(n)))
	}
	items, err := r.rowsItems(keys)
	if err != nil {
		return nil, err
	}
	var out []jobs.RowResult
	for n := from / per; n*per < to; n++ {
		rows := items[removalSK(n)]
		lo, hi := max(0, from-n*per), min(len(rows), to-n*per)
		if lo < hi {
			out = append(out, rows[lo:hi]...)
		}
	}
	return out, nil
}

// rowsItems reads row-results items, by sort key.
func (r resultReader) rowsItems(keys []ddb.Key) (map[string][]jobs.RowResult, error) {
	items, err := ddb.BatchGetAs[importRowsItem](r.ctx, r.s.Table, keys)
	if err != nil {
		return nil, err
	}
	out := map[string][]jobs.RowResult{}
	for _, it := range items {
		rows, err := unpackRows(it.Rows)
		if err != nil {
			return nil, err
		}
		out[it.SK] = rows
	}
	return out, nil
}
