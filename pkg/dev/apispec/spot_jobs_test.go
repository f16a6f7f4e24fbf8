package apispec

import (
	"net/http"
	"testing"
)

const jobID = "job_01jd3m00000000000000000jb2"

func goodJob() map[string]any {
	return map[string]any{
		"_type": "ScreenerParticipantImport", "id": jobID, "screenerId": scrID, "importMode": "FULL_SYNC",
		"dryRun": false, "maxRemovals": 10, "status": "CANCELING",
		"counts": map[string]any{"total": 3, "processed": 1, "created": 1, "updated": 0, "unchanged": 0, "removed": 0, "failed": 0, "skipped": 0},
		"errors": []any{}, "reason": nil, "createdAt": "2024-11-15T09:00:00.000Z", "startedAt": "2024-11-15T09:00:01.000Z",
		"finishedAt": nil, "cancelRequestedAt": "2024-11-15T09:00:02.000Z", "expiresAt": "2024-11-22T09:00:00.000Z",
	}
}

func goodResult() map[string]any {
	return map[string]any{
		"_type": "ScreenerParticipantImportResult", "row": 0, "outcome": "created", "externalUid": nil,
		"email": "a@example.com", "name": "A", "participantId": ptpID, "screenerParticipantId": spID, "errors": []any{},
	}
}

// TestValidateSpotImportExtensions: the reference documents our import extensions (dry run
// plans, the removal guard, CSV, cancel, results and the job list) tightly enough that a wrong
// answer fails.
func TestValidateSpotImportExtensions(t *testing.T) {
	s := mustLoad(t)
	results := "/screener-participants-imports/" + jobID + "/results"
	csvHeaders := func() http.Header {
		h := okHeaders()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		return h
	}
	linked := okHeaders()
	linked.Set("Link", `</screener-participants-imports/`+jobID+`/results?pagination%5Boffset%5D=1>; rel="next"`)
	badLink := okHeaders()
	badLink.Set("Link", "next page")
	removal := with(goodResult(), func(m map[string]any) { m["row"], m["outcome"] = nil, "removed" })
	plan := map[string]any{
		"_type": "ScreenerParticipantImportPlan", "dryRun": true, "screenerId": scrID, "importMode": "FULL_SYNC",
		"counts":  map[string]any{"total": 1, "processed": 1, "created": 1, "updated": 0, "unchanged": 0, "removed": 1, "failed": 0, "skipped": 0},
		"results": []any{goodResult(), removal},
	}
	page := func(typ string, items ...any) map[string]any {
		return map[string]any{"_type": typ, "total": len(items), "limit": 100, "offset": 0, "items": items}
	}
	cases := []struct {
		name, method, url string
		status            int
		headers           http.Header
		body              []byte
		ok                bool
	}{
		{"dry run plan", "POST", "/screener-participants-import?dryRun=true", 200, okHeaders(), mustJSON(t, plan), true},
		{"plan that is no dry run", "POST", "/screener-participants-import", 200, okHeaders(),
			mustJSON(t, with(plan, func(m map[string]any) { m["dryRun"] = false })), false},
		{"plan without counts.skipped", "POST", "/screener-participants-import", 200, okHeaders(),
			mustJSON(t, with(plan, func(m map[string]any) {
				m["counts"] = map[string]any{"total": 1, "processed": 1, "created": 1, "updated": 0, "unchanged": 0, "removed": 0, "failed": 0}
			})), false},
		{"removal guard", "POST", "/screener-participants-import", 409, errHeaders(), mustJSON(t, errBody(409, "TOO_MANY_REMOVALS")), true},
		{"bad CSV", "POST", "/screener-participants-import", 400, errHeaders(),
			mustJSON(t, errBody(400, "INVALID_CSV", map[string]any{"field": "body", "code": "INVALID", "message": "line 3"})), true},
		{"cancel: canceling", "DELETE", "/screener-participants-imports/" + jobID, 202, okHeaders(), mustJSON(t, goodJob()), true},
		{"cancel: canceled", "DELETE", "/screener-participants-imports/" + jobID, 200, okHeaders(),
			mustJSON(t, with(goodJob(), func(m map[string]any) { m["status"] = "CANCELED" })), true},
		{"cancel: finished", "DELETE", "/screener-participants-imports/" + jobID, 409, errHeaders(), mustJSON(t, errBody(409, "IMPORT_FINISHED")), true},
		{"cancel: another 409", "DELETE", "/screener-participants-imports/" + jobID, 409, errHeaders(), mustJSON(t, errBody(409, "CONFLICT")), false},
		{"job without expiresAt", "GET", "/screener-participants-imports/" + jobID, 200, okHeaders(),
			mustJSON(t, with(goodJob(), func(m map[string]any) { delete(m, "expiresAt") })), false},
		{"job of an unknown status", "GET", "/screener-participants-imports/" + jobID, 200, okHeaders(),
			mustJSON(t, with(goodJob(), func(m map[string]any) { m["status"] = "PAUSED" })), false},
		{"job list", "GET", "/screener-participants-imports?filter%5Bstatus%5D%5Beq%5D=CANCELING", 200, okHeaders(),
			mustJSON(t, page("PaginatedScreenerParticipantImport", goodJob())), true},
		{"results", "GET", results, 200, linked, mustJSON(t, page("PaginatedScreenerParticipantImportResult", goodResult(), removal)), true},
		{"results with a malformed Link", "GET", results, 200, badLink, mustJSON(t, page("PaginatedScreenerParticipantImportResult", goodResult())), false},
		{"result of an unknown outcome", "GET", results, 200, okHeaders(),
			mustJSON(t, page("PaginatedScreenerParticipantImportResult", with(goodResult(), func(m map[string]any) { m["outcome"] = "lost" }))), false},
		{"result without its fields", "GET", results, 200, okHeaders(),
			mustJSON(t, page("PaginatedScreenerParticipantImportResult", with(goodResult(), func(m map[string]any) { delete(m, "email") }))), false},
		{"results as CSV", "GET", results, 200, csvHeaders(), []byte("externalUid,email,name,outcome,error\r\n,a@example.com,A,created,\r\n"), true},
		{"results as text", "GET", results, 200, withHeader(csvHeaders(), "Content-Type", "text/plain"), []byte("a"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.ValidateResponse(c.method, c.url, nil, c.status, c.headers, c.body)
			if c.ok != (err == nil) {
				t.Errorf("valid %v, want %v: %v", err == nil, c.ok, err)
			}
		})
	}
}

func withHeader(h http.Header, k, v string) http.Header {
	h.Set(k, v)
	return h
}
