package screening_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// The workspace and its two screeners that every fixture starts with.
const (
	ws   = "ws_lab"
	scrA = "scr_a"
	scrB = "scr_b"
)

var (
	crm      = vocab.Actor{Type: "ApplicationActor", ID: "acct_crm", Name: "crm-sync"}
	operator = vocab.Actor{Type: "TenantUserActor", ID: "usr_op", Name: "Operator"}
)

// fixture is a service over a memStore with a clock the test moves and ids that sort in the
// order they were made, as ULIDs do.
type fixture struct {
	t     *testing.T
	store *memStore
	svc   *screening.Service
	now   time.Time
	made  int
	// actor runs the imports.
	actor vocab.Actor
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, store: newMemStore(), now: time.Date(2025, 3, 4, 11, 0, 0, 0, time.FixedZone("CET", 3600)), actor: crm}
	for _, id := range []string{scrA, scrB} {
		f.store.screeners[key{ws, id}] = screening.Screener{ID: id, Title: "Screener " + id}
	}
	f.svc = &screening.Service{Store: f.store, Now: func() time.Time { return f.now }, NewID: f.newID}
	return f
}

func (f *fixture) newID(p ids.Prefix) string {
	f.made++
	return fmt.Sprintf("%s%04d", p, f.made)
}

// row is an import row; an empty externalUID is one the CRM did not send.
func row(externalUID, email, name string) screening.ImportRow {
	r := screening.ImportRow{Email: email, Name: name}
	if externalUID != "" {
		r.ExternalUID = &externalUID
	}
	return r
}

func (f *fixture) importRows(mode screening.ImportMode, scr string, rows ...screening.ImportRow) ([]screening.ScreenerParticipant, error) {
	return f.svc.Import(context.Background(), ws, f.actor, screening.ImportRequest{ScreenerID: scr, Mode: mode, Rows: rows})
}

func (f *fixture) mustImport(mode screening.ImportMode, scr string, rows ...screening.ImportRow) []screening.ScreenerParticipant {
	f.t.Helper()
	got, err := f.importRows(mode, scr, rows...)
	if err != nil {
		f.t.Fatalf("import into %s: %v", scr, err)
	}
	return got
}

// snapshot is every record of the store and how many Apply calls it had, to show that
// something wrote nothing. The store replaces records rather than changing them in place, so
// shallow copies are enough.
type snapshot struct {
	participants map[key]screening.Participant
	links        map[key]screening.ScreenerParticipant
	emails, uids map[key]string
	applied      int
}

func (f *fixture) snapshot() snapshot {
	s := f.store
	return snapshot{maps.Clone(s.participants), maps.Clone(s.links), maps.Clone(s.emails), maps.Clone(s.uids), len(s.applied)}
}

// wroteNothingSince fails unless no change reached Apply since snap and every record is as it
// was then.
func (f *fixture) wroteNothingSince(snap snapshot) {
	f.t.Helper()
	if changes := slices.Concat(f.store.applied[snap.applied:]...); len(changes) != 0 {
		f.t.Errorf("%d changes applied, want none: %+v", len(changes), changes)
	}
	now := f.snapshot()
	now.applied = snap.applied
	if !reflect.DeepEqual(now, snap) {
		f.t.Errorf("records changed: participants equal %v, links equal %v, emails equal %v, uids equal %v",
			reflect.DeepEqual(now.participants, snap.participants), reflect.DeepEqual(now.links, snap.links),
			reflect.DeepEqual(now.emails, snap.emails), reflect.DeepEqual(now.uids, snap.uids))
	}
}

// lastChanges are the changes of the latest Apply call.
func (f *fixture) lastChanges() []screening.Change {
	f.t.Helper()
	if len(f.store.applied) == 0 {
		f.t.Fatal("nothing was applied")
	}
	return f.store.applied[len(f.store.applied)-1]
}

func (f *fixture) participant(id string) screening.Participant {
	f.t.Helper()
	p, err := f.store.GetParticipant(context.Background(), ws, id)
	if err != nil {
		f.t.Fatalf("participant %s: %v", id, err)
	}
	return p
}

func (f *fixture) link(id string) screening.ScreenerParticipant {
	f.t.Helper()
	sp, err := f.store.GetScreenerParticipant(context.Background(), ws, id)
	if err != nil {
		f.t.Fatalf("screener participant %s: %v", id, err)
	}
	return sp
}

// rosterEmails are the emails of a screener's participants, in creation order.
func (f *fixture) rosterEmails(scr string) []string {
	roster, _ := f.store.Roster(context.Background(), ws, scr)
	var out []string
	for _, sp := range roster {
		out = append(out, sp.Email)
	}
	return out
}

// markerOwner is the participant an email or external uid marker names, "" for none.
func (f *fixture) markerOwner(externalUID, email string) (byUID, byEmail string) {
	u, e, _ := f.store.FindParticipantIDs(context.Background(), ws, []string{externalUID}, []string{screening.NormalizeEmail(email)})
	return u[externalUID], e[screening.NormalizeEmail(email)]
}

// fieldIssue is a FieldError in one comparable line.
type fieldIssue struct {
	Row     int
	Field   string
	Code    string
	Message string
}

// issues returns err's field errors in the order given, failing unless err is a
// *screening.ValidationError whose every field error names its row.
func issues(t *testing.T, err error) []fieldIssue {
	t.Helper()
	var ve *screening.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T), want a *screening.ValidationError", err, err)
	}
	out := make([]fieldIssue, len(ve.Fields))
	for i, fe := range ve.Fields {
		if fe.Row == nil {
			t.Fatalf("field error %+v has no row", fe)
		}
		out[i] = fieldIssue{Row: *fe.Row, Field: fe.Field, Code: fe.Code, Message: fe.Message}
	}
	return out
}

// sameIssues compares field errors as sets: the order inside a row is not a rule.
func sameIssues(got, want []fieldIssue) bool {
	order := func(a, b fieldIssue) int {
		if a.Row != b.Row {
			return a.Row - b.Row
		}
		if a.Field != b.Field {
			return strings.Compare(a.Field, b.Field)
		}
		return strings.Compare(a.Code, b.Code)
	}
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortFunc(got, order)
	slices.SortFunc(want, order)
	return slices.Equal(got, want)
}
