// Package demo provisions the demo workspace that `make run` serves and that the sample events
// in events/ name: the Spot Thought screeners (demo.go) and the Snap XMP Online surveys
// (snap.go). Its ids and credentials are the same on every run; they are for local use only and
// are printed by `make run`.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotstore"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Fixed demo identities. The secret is public: never use it outside a local table.
const (
	WorkspaceID   = "ws_01jd3m0000000000000000ws01"
	WorkspaceName = "Demo Research Team"
	KeyID         = "acct_01jd3m0000000000000000key1"
	Secret        = "sk_live_local_demo_secret_do_not_deploy"
)

// epoch is the time part of every demo id (2024-11-15, the first date API version).
var epoch = time.Date(2024, 11, 15, 9, 0, 0, 0, time.UTC)

// Data names the demo records that sample events refer to.
type Data struct {
	WorkspaceID, KeyID, Secret string
	Screeners                  []screening.Screener
	ScreenerParticipants       []screening.ScreenerParticipant
	Sessions                   []screening.Session
	// Snap is the Snap XMP Online demo in the same workspace (see snap.go).
	Snap SnapData
}

// Rows are the demo CRM roster of the first screener.
var Rows = []screening.ImportRow{
	{ExternalUID: ptr("crm-001"), Email: "alex@example.com", Name: "Alex Lee"},
	{ExternalUID: ptr("crm-002"), Email: "morgan@example.com", Name: "Morgan Rivera"},
	{ExternalUID: ptr("crm-003"), Email: "sam@example.com", Name: "Sam Okafor"},
	{ExternalUID: ptr("crm-004"), Email: "jo@example.com", Name: "Jo Nakamura"},
	{Email: "riley@example.com", Name: "Riley Chen"},
}

func ptr(s string) *string { return &s }

// Seed provisions the demo workspace unless it exists, and returns its records either way.
// The Snap demo is provisioned unless its researcher exists, so a table seeded before the Snap
// family existed gains it.
func Seed(ctx context.Context, a *app.App) (Data, error) {
	st := a.Store
	exists, err := st.WorkspaceExists(ctx, WorkspaceID)
	if err != nil {
		return Data{}, err
	}
	if !exists {
		if err := create(ctx, st); err != nil {
			return Data{}, fmt.Errorf("demo: %w", err)
		}
	}
	if err := seedSnap(ctx, a.SnapStore); err != nil {
		return Data{}, fmt.Errorf("demo: snap: %w", err)
	}
	data, err := read(ctx, st)
	if err != nil {
		return Data{}, err
	}
	if err := seedImportJobs(ctx, a.Jobs, data.Screeners[0].ID); err != nil {
		return Data{}, fmt.Errorf("demo: import job: %w", err)
	}
	if data.Snap, err = readSnap(ctx, a.SnapStore); err != nil {
		return Data{}, fmt.Errorf("demo: snap: %w", err)
	}
	return data, nil
}

func create(ctx context.Context, st *spotstore.Store) error {
	newID := ids.Sequence(epoch)
	clock := func() time.Time { return epoch }
	admin := &screening.Admin{Store: st, Now: clock, NewID: newID}
	svc := &screening.Service{Store: st, Now: clock, NewID: newID}
	system := vocab.Actor{Type: "SystemActor", ID: "system", Name: "demo seed"}

	if err := st.CreateWorkspace(ctx, WorkspaceID, WorkspaceName, epoch); err != nil {
		return err
	}
	if err := st.PutKey(ctx, auth.Key{ID: KeyID, WorkspaceID: WorkspaceID, Name: "demo key", SecretHash: auth.HashSecret(Secret), CreatedAt: epoch}); err != nil {
		return err
	}
	desc := "Who works from home, and how."
	first, err := admin.CreateScreener(ctx, WorkspaceID, system, "Remote work habits", &desc)
	if err != nil {
		return err
	}
	if _, err := admin.CreateScreener(ctx, WorkspaceID, system, "Coffee drinkers", nil); err != nil {
		return err
	}
	sps, err := svc.Import(ctx, WorkspaceID, system, screening.ImportRequest{ScreenerID: first.ID, Mode: screening.UpdatesOnly, Rows: Rows})
	if err != nil {
		return err
	}
	// Alex qualified, Morgan disqualified, Sam in progress; Jo and Riley not started.
	for i, outcome := range []*bool{ptrBool(true), ptrBool(false), nil} {
		ses, err := admin.StartSession(ctx, WorkspaceID, sps[i].ID)
		if err != nil {
			return err
		}
		if outcome != nil {
			if _, err := admin.CompleteSession(ctx, WorkspaceID, ses.ID, *outcome); err != nil {
				return err
			}
		}
	}
	return nil
}

func ptrBool(b bool) *bool { return &b }

func read(ctx context.Context, st *spotstore.Store) (Data, error) {
	all := screening.Page{Offset: 0, Limit: 1000}
	scr, err := st.ListScreeners(ctx, WorkspaceID, all)
	if err != nil {
		return Data{}, err
	}
	sps, err := st.ListScreenerParticipants(ctx, WorkspaceID, "", all)
	if err != nil {
		return Data{}, err
	}
	ses, err := st.ListSessions(ctx, WorkspaceID, screening.SessionFilter{}, all)
	if err != nil {
		return Data{}, err
	}
	if len(scr.Items) == 0 {
		return Data{}, errors.New("demo: workspace exists but has no screeners")
	}
	return Data{WorkspaceID: WorkspaceID, KeyID: KeyID, Secret: Secret,
		Screeners: scr.Items, ScreenerParticipants: sps.Items, Sessions: ses.Items}, nil
}
