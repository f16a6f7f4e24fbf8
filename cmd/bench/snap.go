package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/capacity"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

const (
	snapBase      = "/snaponline/api/surveys/"
	snapPage      = snapapi.MaxPage // measure 6: maxParticipants, and the raw Query's Limit
	seedWorkers   = 4               // measure 6: concurrent BatchWriteItem callers while seeding
	meteredAdds   = 5               // measure 5: requests of each kind run again on a capacity meter
	snapAddTarget = 1.15            // measure 5: handler p50 / raw count + transaction p50 at most (issue 10)
	awsWriteUnit  = 1024            // bytes a write unit covers on AWS
	awsReadUnit   = 4096            // bytes a read unit covers on AWS (strongly consistent)
	loginOnlyBody = `{"loginSection":{"login":%q,"interviewer":null,"subjects":[{"subjectName":""}]}}`
)

// benchSnapLimits are the bench's per-user Snap limits: far above the calls a second it makes,
// so that every call is counted (as deployed) and none is refused.
var benchSnapLimits = ratelimit.Limits{PerSecond: 1_000_000, PerMinute: 1_000_000}

// snapTenant is a Snap user with an API key, and a login-only (non-group) survey of theirs.
type snapTenant struct {
	user     survey.User
	key      string
	surveyID string
	survey   survey.Survey
	version  int64 // the survey's, as its hold item has it
}

// newSnapTenant makes a user in the bench workspace and a login-only survey it owns, with the
// variables of the snapapi test fixture.
func (b *bench) newSnapTenant(name string) (snapTenant, error) {
	_, secret, hash := auth.NewSecret()
	u := survey.User{ID: ids.New(ids.SnapUser), WorkspaceID: b.ws, Fullname: "Bench " + name, CreatedAt: time.Now()}
	u.Username = "bench-" + strings.TrimPrefix(u.ID, string(ids.SnapUser)) + "@example.com"
	if err := b.app.SnapStore.PutSnapUser(b.ctx, u, hash); err != nil {
		return snapTenant{}, err
	}
	codes := func(n int) []survey.Code {
		out := make([]survey.Code, n)
		for i := range out {
			out[i] = survey.Code{Index: i + 1, Value: strconv.Itoa(i + 1), Label: fmt.Sprintf("Label %d", i+1)}
		}
		return out
	}
	sv := survey.Survey{
		ID: newGUID(), OwnerID: u.ID, OwnerName: u.Fullname, Name: name, Title: name + " title",
		Path: []string{"Bench"}, InterviewingState: "Started", Settings: survey.Settings{Logins: true},
		Variables: []survey.Variable{
			{ID: "V46", Order: 1, Name: "Q1", Label: "Age band", ResponseType: survey.ResponseSingle, VariableType: "Question", Seeding: true, Codes: codes(5)},
			{ID: "V48", Order: 2, Name: "Q2", Label: "Devices", ResponseType: survey.ResponseMultiple, VariableType: "Question", Seeding: true, Codes: codes(4)},
			{ID: "V50", Order: 3, Name: "Q3", Label: "Town", ResponseType: survey.ResponseText, VariableType: "Question", Seeding: true},
			{ID: "V60", Order: 4, Name: "Q6", Label: "Rating", ResponseType: survey.ResponseSingle, VariableType: "Question", Codes: codes(3)},
		},
		CreatedAt: time.Now(),
	}
	if err := b.app.SnapStore.PutSurvey(b.ctx, b.ws, sv); err != nil {
		return snapTenant{}, err
	}
	version, err := b.rawSurveyVersion(sv.ID)
	if err != nil {
		return snapTenant{}, err
	}
	return snapTenant{user: u, key: secret, surveyID: sv.ID, survey: sv, version: version}, nil
}

// rawSurveyVersion reads a survey's version from its hold item, as a raw client would before
// writing under it.
func (b *bench) rawSurveyVersion(surveyID string) (int64, error) {
	hold, err := b.rawGet(b.table, rawSurveyHoldKey(b.ws, surveyID))
	if err != nil {
		return 0, err
	}
	n, ok := hold["version"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("survey %s: its hold item has no version", surveyID)
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

// newGUID is a random (version 4) GUID in the canonical lower-case form surveys are keyed by.
func newGUID() string {
	var g [16]byte
	_, _ = rand.Read(g[:])
	g[6], g[8] = g[6]&0x0f|0x40, g[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", g[0:4], g[4:6], g[6:8], g[8:10], g[10:16])
}

// event is an API Gateway v2 event carrying the user's credentials, in API version 2.0.
func (t snapTenant) event(method, path, rawQuery, body string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"x-username": t.user.Username, "x-api-key": t.key, "x-version": "2.0"}
	if body != "" {
		h["content-type"] = "application/json"
	}
	return testkit.Event(method, path, rawQuery, h, body)
}

// participant is what the Add handler stores for a login-only body: decoded and validated by
// pkg/snap/survey, as the handler does.
func (t snapTenant) participant(login string) (survey.Participant, error) {
	in, err := survey.DecodeParticipant([]byte(fmt.Sprintf(loginOnlyBody, login)))
	if err != nil {
		return survey.Participant{}, err
	}
	return survey.ValidateParticipant(survey.Context{Survey: t.survey, UserID: t.user.ID, Op: survey.Add}, in)
}

// invokeStatus calls a function's handler and insists on a status.
func (b *bench) invokeStatus(ctx context.Context, fn string, ev events.APIGatewayV2HTTPRequest, want int) (events.APIGatewayV2HTTPResponse, error) {
	resp, err := b.handlers[fn](ctx, ev)
	if err != nil {
		return resp, fmt.Errorf("%s: %w", fn, err)
	}
	if resp.StatusCode != want {
		return resp, fmt.Errorf("%s %s %s?%s: status %d, want %d: %.500s", fn, ev.RequestContext.HTTP.Method, ev.RawPath, ev.RawQueryString, resp.StatusCode, want, resp.Body)
	}
	return resp, nil
}

// measureSnapAdd is measure 5: a new participant through the Add handler against the raw
// TransactWriteItems of the same writes, alone and after the raw UpdateItem that counts the call
// as the rate limiter does (the like-for-like baseline: the raw work of an Add).
func (b *bench) measureSnapAdd(n int) (section, error) {
	progress("measure 5: POST %s{surveyId}/participants, %d requests of each kind", snapBase, n)
	const fn = "SnapAddParticipantFunction"
	t, err := b.newSnapTenant("Add participants")
	if err != nil {
		return section{}, err
	}
	path := snapBase + t.surveyID + "/participants"
	// Same-length logins: both sides write items of the same sizes.
	var nh, nr int
	addEvent := func() events.APIGatewayV2HTTPRequest {
		nh++
		return t.event("POST", path, "", fmt.Sprintf(loginOnlyBody, fmt.Sprintf("h-%07d", nh)))
	}
	viaHandler := func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) error {
		_, err := b.invokeStatus(ctx, fn, ev, 201)
		return err
	}
	// The raw side's writes are built before the clock starts (rawSnapAddOps: the same check
	// and puts AddSnapParticipant makes).
	rawOps := func() ([]types.TransactWriteItem, error) {
		nr++
		p, err := t.participant(fmt.Sprintf("r-%07d", nr))
		if err != nil {
			return nil, err
		}
		return b.rawSnapAddOps(t.surveyID, t.version, ids.New(ids.SnapParticipant), p)
	}
	raw := func(ctx context.Context, ops []types.TransactWriteItem) error {
		_, err := b.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
		return err
	}
	// The count (rawSnapCount: the limiter's UpdateItem of the same user's counter), then the
	// transaction, which a call over the limits must not make.
	rawCounted := func(ctx context.Context, count *dynamodb.UpdateItemInput, ops []types.TransactWriteItem) error {
		out, err := b.client.UpdateItem(ctx, count)
		if err != nil {
			return err
		}
		second, minute, err := rawSnapCounts(count, out)
		if err != nil {
			return err
		}
		if second > int64(benchSnapLimits.PerSecond) || minute > int64(benchSnapLimits.PerMinute) {
			return fmt.Errorf("the raw count is over the bench's limits: %d calls this second, %d this minute", second, minute)
		}
		return raw(ctx, ops)
	}
	handler := func() (time.Duration, error) {
		ev := addEvent()
		start := time.Now()
		err := viaHandler(b.ctx, ev)
		return time.Since(start), err
	}
	rawTimed := func() (time.Duration, error) {
		ops, err := rawOps()
		if err != nil {
			return 0, err
		}
		start := time.Now()
		err = raw(b.ctx, ops)
		return time.Since(start), err
	}
	countedTimed := func() (time.Duration, error) {
		ops, err := rawOps()
		if err != nil {
			return 0, err
		}
		count := b.rawSnapCount(t.user.ID, time.Now())
		start := time.Now()
		err = rawCounted(b.ctx, count, ops)
		return time.Since(start), err
	}
	times, err := interleaved(n, handler, rawTimed, countedTimed)
	if err != nil {
		return section{}, err
	}
	hs, rs, cs := times[0], times[1], times[2]

	// What one request costs, as DynamoDB Local reports it.
	var adds, raws, counteds []metered
	for range meteredAdds {
		ops, err := rawOps()
		if err != nil {
			return section{}, err
		}
		countedOps, err := rawOps()
		if err != nil {
			return section{}, err
		}
		count := b.rawSnapCount(t.user.ID, time.Now())
		ev := addEvent()
		a, err := measure(b.ctx, func(ctx context.Context) error { return viaHandler(ctx, ev) })
		if err != nil {
			return section{}, err
		}
		r, err := measure(b.ctx, func(ctx context.Context) error { return raw(ctx, ops) })
		if err != nil {
			return section{}, err
		}
		c, err := measure(b.ctx, func(ctx context.Context) error { return rawCounted(ctx, count, countedOps) })
		if err != nil {
			return section{}, err
		}
		adds, raws, counteds = append(adds, a), append(raws, r), append(counteds, c)
	}
	if added := 3 * (warmUp + n + meteredAdds); nh+nr != added {
		return section{}, fmt.Errorf("wrote %d participants, want %d", nh+nr, added)
	}

	// The items one participant writes, and what DynamoDB on AWS would charge for them.
	ops, err := rawOps()
	if err != nil {
		return section{}, err
	}
	if err := raw(b.ctx, ops); err != nil {
		return section{}, err
	}
	sv, err := b.rawGet(b.table, rawSurveyKey(b.ws, t.surveyID))
	if err != nil {
		return section{}, err
	}
	hold, err := b.rawGet(b.table, rawSurveyHoldKey(b.ws, t.surveyID))
	if err != nil {
		return section{}, err
	}
	var puts []int
	for _, op := range ops {
		if op.Put != nil {
			puts = append(puts, itemSize(op.Put.Item))
		}
	}
	counter, err := b.rawGet(b.table, rawRateCounterKey(b.ws, t.user.ID, time.Now()))
	if err != nil {
		return section{}, err
	}
	surveySize, holdSize, counterSize := itemSize(sv), itemSize(hold), itemSize(counter)
	awsPuts := 0
	var sizes []string
	for _, s := range puts {
		awsPuts += transactWriteUnits(s)
		sizes = append(sizes, fmt.Sprintf("%d B", s))
	}
	awsCheck := transactWriteUnits(holdSize)

	// How DynamoDB Local prices a transaction: one participant's writes, then 30 participants'.
	var checked []float64
	for _, participants := range []int{1, 30} {
		var tx []types.TransactWriteItem
		for i := range participants {
			ops, err := rawOps()
			if err != nil {
				return section{}, err
			}
			if i > 0 {
				ops = ops[1:] // one hold check per transaction
			}
			tx = append(tx, ops...)
		}
		m, err := measure(b.ctx, func(ctx context.Context) error { return raw(ctx, tx) })
		if err != nil {
			return section{}, err
		}
		checked = append(checked, m.write)
	}
	check := newTable("DynamoDB Local check: one TransactWriteItems of Snap participant writes", "Write units reported")
	check.add("1 participant: hold check + 2 puts", units(checked[0]))
	check.add("30 participants: hold check + 60 puts", units(checked[1]))

	h50, h95, r50, r95 := percentile(hs, 50), percentile(hs, 95), percentile(rs, 50), percentile(rs, 95)
	c50, c95 := percentile(cs, 50), percentile(cs, 95)
	lat := newTable("Figure", "Value", "Target", "Met")
	lat.add("Handler p50 (SnapAddParticipantFunction, event in, 201 out)", ms(h50), "", "")
	lat.add("Handler p95", ms(h95), "", "")
	lat.add("Raw TransactWriteItems p50 (same check and puts)", ms(r50), "", "")
	lat.add("Raw TransactWriteItems p95", ms(r95), "", "")
	lat.add("Raw count + transaction p50 (the limiter's UpdateItem, then the same TransactWriteItems)", ms(c50), "", "")
	lat.add("Raw count + transaction p95", ms(c95), "", "")
	lat.add("Ratio p50 (handler / raw count + transaction)", fmtTarget(ratio(h50, c50), snapAddTarget), fmt.Sprintf("≤ %.2fx", snapAddTarget), met(ratio(h50, c50) <= snapAddTarget))
	lat.add("Ratio p95 (handler / raw count + transaction)", fmtRatio(ratio(h95, c95)), "", "")
	// The rows to the transaction alone keep their first cells, so that their previous figures show.
	lat.add("Ratio p50 (handler / raw)", fmtRatio(ratio(h50, r50)), "none: to the transaction alone", "")
	lat.add("Ratio p95 (handler / raw)", fmtRatio(ratio(h95, r95)), "", "")
	lat.add("Overhead p50 (handler − raw count + transaction)", ms(h50-c50), "", "")
	lat.add("Overhead p50 (handler − raw)", ms(h50-r50), "", "")

	inEvery := func(s string) []string { return []string{s, s, s} } // a figure the same for all three
	cost := newTable("Per participant added", "Handler", "Raw TransactWriteItems", "Raw count + transaction")
	cost.add("DynamoDB calls", units(medianOf(adds, callsOf)), units(medianOf(raws, callsOf)), units(medianOf(counteds, callsOf)))
	cost.add("Read units (DynamoDB Local)", spread(collect(adds, readOf)), spread(collect(raws, readOf)), spread(collect(counteds, readOf)))
	cost.add("Write units (as DynamoDB Local reports them: per call, not per item; see the check below)",
		spread(collect(adds, writeOf)), spread(collect(raws, writeOf)), spread(collect(counteds, writeOf)))
	cost.add(append([]string{"Items written (Put)"}, inEvery(strconv.Itoa(len(puts)))...)...)
	cost.add(append([]string{"Items checked (ConditionCheck on the survey's hold item)"}, inEvery("1")...)...)
	cost.add(append([]string{fmt.Sprintf("Write units on AWS for the puts (2 per KB per item; items of %s)", strings.Join(sizes, ", "))},
		inEvery(strconv.Itoa(awsPuts))...)...)
	cost.add(append([]string{fmt.Sprintf("… with the ConditionCheck priced as a transactional item too (hold item of %d B)", holdSize)},
		inEvery(strconv.Itoa(awsPuts+awsCheck))...)...)
	// The handler's calls above include the rate limiter's; the raw transaction alone counts nothing.
	cost.add("… of the handler's DynamoDB calls, the rate limiter's (one UpdateItem of the user's minute counter)", "1", "0", "1")
	counterUnits := strconv.Itoa(writeUnits(counterSize))
	cost.add(fmt.Sprintf("Write units on AWS for the rate counter (not transactional: 1 per KB; counter item of %d B)", counterSize),
		counterUnits, "0", counterUnits)
	return section{
		title: "5. Snap Add Participant: handler vs raw count + TransactWriteItems",
		intro: fmt.Sprintf("`POST %s{surveyId}/participants` with a login-only body (non-group survey with logins, "+
			"no invitations; a new login each request) through the function's Lambda handler (X-USERNAME / X-API-KEY "+
			"checked, auth cache TTL %s as deployed), against a raw TransactWriteItems of the same writes "+
			"AddSnapParticipant makes (ConditionCheck on the survey's small hold item that the survey is still at the "+
			"version the write was decided under and no import holds its roster, Put of "+
			"the participant item, Put of its login marker; the bench's own raw writes, checked against what an Add "+
			"wrote, other logins of the same "+
			"length, outside the timed call), and against the raw UpdateItem of the user's rate counter that the rate "+
			"limiter makes (the bench's own, checked against the counter an Add wrote) followed by that "+
			"TransactWriteItems, timed as one operation. %s requests of each kind, interleaved, after %d untimed of each, on "+
			"one survey; units from a capacity meter on the request context (%d more requests of each).",
			snapBase, app.DefaultAuthCacheTTL, thousands(n), warmUp, meteredAdds),
		tables: []*table{lat, cost, check},
		notes: []string{
			"The handler makes no read: the survey (access, settings to validate the body) comes from the " +
				"instance's survey cache (survey.SurveyCacheTTL), and the transaction's ConditionCheck on the hold item " +
				"(the survey's version and its roster hold) is what keeps a write exact: a survey changed, deleted or " +
				"held since it was cached fails the check, and the handler reads it again and decides once more. " +
				"Before, withSurvey read the survey item on every request (GetSurvey) and the check read the whole " +
				"survey item.",
			fmt.Sprintf("DynamoDB Local reports a flat figure per TransactWriteItems call, whatever it holds: %s write "+
				"units for one participant's check and 2 puts, %s for a check and 60 puts (measure 3's check found 6 "+
				"for its import items, which also feed the table's two GSIs: 2 for the table and 2 per index "+
				"written). So the write units above price the call, not the items. Items per participant: %d "+
				"written (participant, login marker) and 1 checked (the survey's hold item). DynamoDB on AWS charges 2 write "+
				"units per item of up to 1 KB in a transaction: %d for the %d puts here, %d with the hold item the "+
				"ConditionCheck reads priced at its %d bytes as well.",
				units(checked[0]), units(checked[1]), len(puts), awsPuts, len(puts), awsPuts+awsCheck, holdSize),
			"Every Snap call is counted against its user's per-user limits (pkg/platform/ratelimit): one UpdateItem " +
				"of the user's minute counter, started as soon as the credential is verified. A participant write " +
				"reads nothing before its transaction (the survey and the key come from the instance's caches), so " +
				"here that UpdateItem has no read to overlap and is a round trip before the transaction; a route " +
				"that reads the survey runs it beside that read. The bench's limits are far above its calls a " +
				"second (benchSnapLimits), so every call is counted and none refused.",
			"The target compares like for like: the raw work of an Add is the count, then the transaction. " +
				"No single raw call can both count the call (returning the new counts, which the " +
				"X-RateLimit-Remaining headers need) and write the participant, and a call over the limits must " +
				"write nothing, so the count's UpdateItem comes first and the transaction only after its answer. " +
				"\"Ratio p50 (handler / raw)\" is to the transaction alone, without the count.",
			fmt.Sprintf("Item sizes follow DynamoDB's rule (attribute names plus values, maps and lists 3 bytes plus 1 per "+
				"element). The check reads the hold item (%d B: key, type, version, and the holding job's id while an "+
				"import runs), whatever the survey's size; the survey item, which carries the whole definition, "+
				"variables included (%d B here), is no longer part of a participant write.", holdSize, surveySize),
		},
	}, nil
}

// walk is one walk of a survey's whole participant list.
type walk struct {
	d            time.Duration // sum of the timed calls
	pages        int           // handler responses or raw Query responses
	participants int
	read         float64
	dynamoDBCall int
	bytes        int // raw: the items' sizes, as DynamoDB counts them; handler: the largest body
	awsRead      float64
}

type snapListPage struct {
	SurveyID     string `json:"surveyId"`
	StartingFrom string `json:"startingFrom"`
	Progress     string `json:"progress"`
	UpToDate     bool   `json:"upToDate"`
	Participants []struct {
		Login struct {
			Login *string `json:"login"`
		} `json:"loginSection"`
	} `json:"participants"`
}

// measureSnapWalk is measure 6: a survey's whole participant list, in pages of 5,000, through
// the list handler and by raw Query.
func (b *bench) measureSnapWalk(participants, walks int) (section, error) {
	const fn = "SnapListParticipantsFunction"
	t, err := b.newSnapTenant("Participant list")
	if err != nil {
		return section{}, err
	}
	seedTime, err := b.seedSnap(t, participants)
	if err != nil {
		return section{}, fmt.Errorf("seed: %w", err)
	}
	path := snapBase + t.surveyID + "/participants"

	viaHandler := func() (walk, error) {
		ctx, m := capacity.WithMeter(b.ctx)
		var w walk
		seen := make(map[string]bool, participants)
		token := "0"
		for {
			q := url.Values{"maxParticipants": {strconv.Itoa(snapPage)}, "startingFrom": {token}}.Encode()
			ev := t.event("GET", path, q, "")
			start := time.Now()
			resp, err := b.invokeStatus(ctx, fn, ev, 200)
			w.d += time.Since(start)
			if err != nil {
				return w, err
			}
			w.pages++
			w.bytes = max(w.bytes, len(resp.Body))
			var p snapListPage
			if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
				return w, err
			}
			for _, sp := range p.Participants {
				if sp.Login.Login == nil || seen[*sp.Login.Login] {
					return w, fmt.Errorf("page %d: participant without a login, or seen twice", w.pages)
				}
				seen[*sp.Login.Login] = true
			}
			w.participants += len(p.Participants)
			if p.UpToDate {
				break
			}
			if p.Progress == token || w.pages > participants/snapPage+2 {
				return w, fmt.Errorf("page %d: the progress token does not move on", w.pages)
			}
			token = p.Progress
		}
		w.read, _ = m.Units()
		w.dynamoDBCall = m.Calls()
		if w.participants != participants {
			return w, fmt.Errorf("handler walk saw %d participants, want %d", w.participants, participants)
		}
		return w, nil
	}
	raw := func() (walk, error) {
		ctx, m := capacity.WithMeter(b.ctx)
		var w walk
		in := rawSnapParticipantsQuery(b.table, b.ws, t.surveyID)
		in.Limit = aws.Int32(snapPage)
		for {
			start := time.Now()
			out, err := b.client.Query(ctx, in)
			w.d += time.Since(start)
			if err != nil {
				return w, err
			}
			w.pages++
			w.participants += len(out.Items)
			size := 0
			for _, it := range out.Items {
				size += itemSize(it)
			}
			w.bytes += size
			w.awsRead += math.Ceil(float64(size)/awsReadUnit) / 2 // eventually consistent
			if out.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
		w.read, _ = m.Units()
		w.dynamoDBCall = m.Calls()
		if w.participants != participants {
			return w, fmt.Errorf("raw walk read %d participants, want %d", w.participants, participants)
		}
		return w, nil
	}

	progress("measure 6: walk %s participants in pages of %s: 1 untimed walk of each, then %d of each", thousands(participants), thousands(snapPage), walks)
	if _, err := viaHandler(); err != nil {
		return section{}, err
	}
	if _, err := raw(); err != nil {
		return section{}, err
	}
	gc()
	var hs, rs []walk
	for i := range walks {
		for j := range 2 {
			if (i+j)%2 == 0 {
				w, err := viaHandler()
				if err != nil {
					return section{}, err
				}
				hs = append(hs, w)
			} else {
				w, err := raw()
				if err != nil {
					return section{}, err
				}
				rs = append(rs, w)
			}
		}
		gc()
	}
	hd, rd := walkTimes(hs), walkTimes(rs)
	h50, r50 := percentile(hd, 50), percentile(rd, 50)
	h, r := hs[0], rs[0]
	perPtp := func(ws []walk, f func(walk) float64) string {
		xs := make([]float64, len(ws))
		for i, w := range ws {
			xs[i] = f(w) / float64(participants)
		}
		lo, hi := slices.Min(xs), slices.Max(xs)
		if lo == hi {
			return fmt.Sprintf("%.4f", lo)
		}
		return fmt.Sprintf("%.4f (%.4f–%.4f)", medianFloat(xs), lo, hi)
	}
	readOfWalk := func(w walk) float64 { return w.read }

	lat := newTable("Figure", "Handler walk", "Raw Query walk")
	lat.add(fmt.Sprintf("Total walk time, median of %d", walks), secs(h50), secs(r50))
	lat.add("Total walk time, min – max", secs(slices.Min(hd))+" – "+secs(slices.Max(hd)), secs(slices.Min(rd))+" – "+secs(slices.Max(rd)))
	lat.add("Ratio (handler / raw), medians", fmtRatio(ratio(h50, r50)), "")
	lat.add("Calls (handler requests / raw Query pages)", strconv.Itoa(h.pages), strconv.Itoa(r.pages))
	lat.add("Per call (median walk time ÷ calls)", ms(h50/time.Duration(h.pages)), ms(r50/time.Duration(r.pages)))
	lat.add("DynamoDB calls", strconv.Itoa(h.dynamoDBCall), strconv.Itoa(r.dynamoDBCall))
	lat.add("Largest response body (handler: JSON page of 5,000)", mib(int64(h.bytes)), "")
	lat.add("Read units, whole walk (DynamoDB Local)", spread(collectWalk(hs, readOfWalk)), spread(collectWalk(rs, readOfWalk)))
	lat.add("Read units per participant (DynamoDB Local)", perPtp(hs, readOfWalk), perPtp(rs, readOfWalk))
	lat.add("Read units per participant on AWS (eventually consistent, 4 KB units per Query response)", "", fmt.Sprintf("%.4f", r.awsRead/float64(participants)))
	seed := newTable("Seed", "Value")
	seed.add("Participants in the survey", thousands(participants))
	seed.add(fmt.Sprintf("Seed: BatchWriteItem of the participant and login-marker items (%d per call, %d concurrent callers), total", batchSize, seedWorkers), secs(seedTime))
	seed.add("Seed, per participant", ms(seedTime/time.Duration(participants)))
	seed.add("Participant item size (DynamoDB's rule), mean", fmt.Sprintf("%d B", r.bytes/participants))
	gc()
	return section{
		title: fmt.Sprintf("6. Snap participant list: walking %s participants in pages of %s, handler vs raw Query", thousands(participants), thousands(snapPage)),
		intro: fmt.Sprintf("A login-only survey seeded with %s participants (the items AddSnapParticipant writes, "+
			"the bench's raw items, written by BatchWriteItem rather than one transaction per participant as in "+
			"measure 5); then the whole list, "+
			"through `GET %s{surveyId}/participants?maxParticipants=%d&startingFrom=<token>` (startingFrom 0, then "+
			"each response's progress token until upToDate) called on the function's Lambda handler, against raw "+
			"Query pages of the same partition (Limit %d, ExclusiveStartKey chaining until no LastEvaluatedKey). "+
			"One untimed walk of each, then %d of each, alternating which goes first. A walk's time is the sum of "+
			"its calls (decoding the handler's JSON for the next token is not timed). Units come from a capacity "+
			"meter on the walk's context.",
			thousands(participants), snapBase, snapPage, snapPage, walks),
		tables: []*table{lat, seed},
		notes: []string{
			walkNote(h, r, participants),
		},
	}, nil
}

func walkNote(h, r walk, participants int) string {
	perPage := float64(h.dynamoDBCall-h.pages) / float64(h.pages) // less the survey read per request
	return fmt.Sprintf("The handler made %d DynamoDB calls for %d pages: a survey read per request (access and the roster "+
		"lock: one BatchGetItem of the survey item and its hold item), and %.1f Query calls per page: the store asks for the page size plus one item (to learn whether more "+
		"follow) and DynamoDB stops each response at 1 MB, about 3,400 of these items. The raw walk's %d Query "+
		"responses (Limit %s) hold %s participants between them.",
		h.dynamoDBCall, h.pages, perPage, r.pages, thousands(snapPage), thousands(participants))
}

func walkTimes(ws []walk) []time.Duration {
	out := make([]time.Duration, len(ws))
	for i, w := range ws {
		out[i] = w.d
	}
	return out
}

func collectWalk(ws []walk, f func(walk) float64) []float64 {
	xs := make([]float64, len(ws))
	for i, w := range ws {
		xs[i] = f(w)
	}
	return xs
}

// seedSnap writes n participants with distinct logins into the tenant's survey: the items
// AddSnapParticipant would write (participant and login marker, from rawSnapAddOps), by
// BatchWriteItem from seedWorkers goroutines, which DynamoDB Local takes several times faster than
// one transaction per participant. It returns the time of the writes.
func (b *bench) seedSnap(t snapTenant, n int) (time.Duration, error) {
	progress("measure 6: seed %s participants (BatchWriteItem of the raw items, %d workers)", thousands(n), seedWorkers)
	var items []map[string]types.AttributeValue
	for i := range n {
		p, err := t.participant(fmt.Sprintf("w-%07d", i))
		if err != nil {
			return 0, err
		}
		ops, err := b.rawSnapAddOps(t.surveyID, t.version, ids.New(ids.SnapParticipant), p)
		if err != nil {
			return 0, err
		}
		for _, op := range ops {
			if op.Put != nil {
				items = append(items, op.Put.Item)
			}
		}
	}
	start := time.Now()
	if err := b.batchWriteParallel(b.ctx, b.table, items, seedWorkers); err != nil {
		return 0, err
	}
	d := time.Since(start)
	gc()
	return d, nil
}

// itemSize is an item's size as DynamoDB prices it (ddb.ItemSize).
func itemSize(it map[string]types.AttributeValue) int { return ddb.ItemSize(it) }

// transactWriteUnits is what DynamoDB on AWS charges to write an item of size bytes in a
// transaction: 2 write units per KB, rounded up.
func transactWriteUnits(size int) int { return 2 * writeUnits(size) }

// writeUnits is what DynamoDB on AWS charges for one item written outside a transaction.
func writeUnits(size int) int { return (size + awsWriteUnit - 1) / awsWriteUnit }
