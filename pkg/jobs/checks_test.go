package jobs_test

import (
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/spot/screening"
)

// participantTotal is the tenant's participant total as the API reports it (its counter item).
func (f *fixture) participantTotal() int {
	f.t.Helper()
	l, err := f.env.App.Store.ListParticipants(f.ctx, f.ws, screening.ParticipantFilter{}, screening.Page{Limit: 1})
	if err != nil {
		f.t.Fatal(err)
	}
	return l.Total
}

// participantEmails counts the tenant's participant records by email, read straight from
// their partition (consistently), not through a counter or an index.
func (f *fixture) participantEmails() map[string]int {
	f.t.Helper()
	out := map[string]int{}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(f.env.Table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "WS#" + f.ws + "#PTP"}},
		ConsistentRead:            aws.Bool(true),
	}
	for {
		res, err := f.env.Client.Query(f.ctx, in)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, it := range res.Items {
			var p struct {
				SK    string `dynamodbav:"sk"`
				Email string `dynamodbav:"email"`
			}
			if err := attributevalue.UnmarshalMap(it, &p); err != nil {
				f.t.Fatal(err)
			}
			if p.SK != "#COUNT" {
				out[p.Email]++
			}
		}
		if res.LastEvaluatedKey == nil {
			return out
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// checkRosterIs checks that the screener's roster is exactly rs: the same emails, each once,
// with the rows' names; that its counter agrees; and that the tenant has one participant record
// per email, as many as its participant counter says.
func (f *fixture) checkRosterIs(what any, rs []screening.ImportRow) {
	f.t.Helper()
	roster, err := f.env.App.Store.Roster(f.ctx, f.ws, f.scr)
	if err != nil {
		f.t.Fatal(err)
	}
	want := map[string]string{}
	for _, r := range rs {
		want[r.Email] = r.Name
	}
	seen := map[string]int{}
	wrong := 0
	for _, sp := range roster {
		seen[sp.Email]++
		name, ok := want[sp.Email]
		switch {
		case !ok:
			wrong++
			if wrong <= 5 {
				f.t.Errorf("%v: the roster holds %s, which the rows do not name", what, sp.Email)
			}
		case seen[sp.Email] > 1:
			wrong++
			if wrong <= 5 {
				f.t.Errorf("%v: the roster holds %s %d times", what, sp.Email, seen[sp.Email])
			}
		case sp.Name != name:
			wrong++
			if wrong <= 5 {
				f.t.Errorf("%v: %s is named %q on the roster, want %q", what, sp.Email, sp.Name, name)
			}
		}
	}
	missing := 0
	for _, r := range rs {
		if seen[r.Email] == 0 {
			missing++
			if missing <= 5 {
				f.t.Errorf("%v: %s is not on the roster", what, r.Email)
			}
		}
	}
	if len(roster) != len(rs) || wrong+missing > 0 {
		f.t.Errorf("%v: the roster has %d screener participants (%d wrong, %d missing), want the %d rows", what, len(roster), wrong, missing, len(rs))
	}
	if n := f.rosterTotal(); n != len(rs) {
		f.t.Errorf("%v: the roster's counter says %d, want %d", what, n, len(rs))
	}

	emails := f.participantEmails()
	var dup []string
	records := 0
	for e, n := range emails {
		records += n
		if n > 1 {
			dup = append(dup, fmt.Sprintf("%s x%d", e, n))
		}
	}
	slices.Sort(dup)
	if len(dup) > 0 {
		f.t.Errorf("%v: %d emails have more than one participant record: %v", what, len(dup), dup[:min(len(dup), 10)])
	}
	for _, r := range rs {
		if emails[r.Email] == 0 {
			f.t.Errorf("%v: no participant record for %s", what, r.Email)
			break
		}
	}
	if total := f.participantTotal(); total != records {
		f.t.Errorf("%v: the participant counter says %d, the partition holds %d records", what, total, records)
	}
}
