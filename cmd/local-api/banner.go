package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/participant-roster/roster/pkg/dev/demo"
	"github.com/participant-roster/roster/pkg/dev/localenv"
	"github.com/participant-roster/roster/pkg/dev/localrun"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/platform/ratelimit"
	"github.com/participant-roster/roster/pkg/snap/survey"
)

// printBanner tells the developer where everything is and how to call it.
func printBanner(w io.Writer, b localrun.Running) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }

	p("")
	p("Participant roster API: %s   (Ctrl-C stops it and DynamoDB Local)", b.URL)
	p("Functions: %s   (started in %v)", lambdaMode(b.Lambda), b.StartTook.Round(100*time.Millisecond))
	kept := "kept between runs; `make run FRESH=1` starts over"
	if b.Fresh {
		kept = "fresh"
	}
	p("DynamoDB Local: %s   table %s   data %s (%s)", b.DynamoDBEndpoint, b.Table, relative(b.DataDir), kept)
	p("")
	p("Routes (template.yaml):")
	routes := slices.Clone(b.Routes)
	slices.SortFunc(routes, func(x, y samtemplate.HTTPRoute) int {
		return cmp.Or(cmp.Compare(x.Path, y.Path), cmp.Compare(x.Method, y.Method))
	})
	for _, r := range routes {
		p("  %s\t%s\t%s", r.Method, r.Path, r.LogicalID)
	}
	p("")
	p("Demo workspace %s (%s), for local use only:", b.Demo.WorkspaceID, demo.WorkspaceName)
	p("  x-spot-api-key\t%s", b.Demo.KeyID)
	p("  x-spot-api-secret\t%s", b.Demo.Secret)
	p("")
	p("Screeners:")
	for _, s := range b.Demo.Screeners {
		p("  %s\t%s", s.ID, s.Title)
	}
	p("Screener participants:")
	for _, sp := range b.Demo.ScreenerParticipants {
		p("  %s\t%s\t%s\t%s\tparticipant %s\tscreener %s", sp.ID, sp.Name, sp.Email, sp.Status(), sp.ParticipantID, sp.ScreenerID)
	}
	p("Sessions:")
	for _, s := range b.Demo.Sessions {
		state := string(s.State)
		if s.Outcome != "" {
			state += " " + string(s.Outcome)
		}
		p("  %s\t%s\tscreener participant %s", s.ID, state, s.ScreenerParticipantID)
	}
	printSnap(p, b.Demo.Snap, b.SnapLimits)
	_ = tw.Flush()

	query := "/screener-participants"
	if len(b.Demo.Screeners) > 0 {
		query += "?filter[screenerId][eq]=" + b.Demo.Screeners[0].ID + "&pagination[limit]=2"
	}
	fmt.Fprintf(w, "\nTry (-g stops curl from reading the brackets as a glob):\n")
	fmt.Fprintf(w, "  curl -sg -H 'x-spot-api-key: %s' -H 'x-spot-api-secret: %s' \\\n    '%s%s'\n", b.Demo.KeyID, b.Demo.Secret, b.URL, query)
	if snap := b.Demo.Snap; snap.User.Username != "" {
		fmt.Fprintf(w, "  curl -s -H 'X-USERNAME: %s' -H 'X-API-KEY: %s' -H 'X-VERSION: 2.0' \\\n    '%s/snaponline/api/surveys'\n", snap.User.Username, snap.APIKey, b.URL)
	}

	var env []string
	if b.Table != localenv.Table {
		env = append(env, "TABLE_NAME="+b.Table)
	}
	if b.DynamoDBEndpoint != localenv.DynamoDBEndpoint {
		env = append(env, "DYNAMODB_ENDPOINT="+b.DynamoDBEndpoint)
	}
	prefix := strings.Join(env, " ")
	if prefix != "" {
		prefix += " "
	}
	fmt.Fprintf(w, "\nInvoke one function with a sample event, against this table, from another terminal:\n")
	fmt.Fprintf(w, "  %smake invoke FN=GetScreenerParticipantFunction EVENT=events/get-screener-participant.json\n", prefix)
	fmt.Fprintf(w, "  %smake invoke FN=SnapGetParticipantFunction EVENT=events/snap-get-participant.json\n", prefix)
	fmt.Fprintf(w, "Manage this table's workspaces, keys, screeners, participants, sessions, Snap users, surveys and responses:\n")
	fmt.Fprintf(w, "  %sgo run ./cmd/roster-admin key list -workspace %s\n\n", prefix, b.Demo.WorkspaceID)
}

// lambdaMode says how the functions run, and how to run them the other way.
func lambdaMode(m localrun.Mode) string {
	if m == localrun.Emulator {
		return "each one's bootstrap under the Lambda Runtime Interface Emulator (in process: `make run`)"
	}
	return "their handlers in this process (their bootstraps under the emulator: `make run LAMBDA=emulator`)"
}

// printSnap prints the Snap XMP Online demo: its credentials, surveys and participants.
func printSnap(p func(format string, args ...any), snap demo.SnapData, limits ratelimit.Limits) {
	if snap.User.Username == "" {
		return
	}
	p("")
	p("Snap XMP Online demo (same workspace), for local use only:")
	p("  X-USERNAME\t%s\t(%s, %s)", snap.User.Username, snap.User.Fullname, snap.User.ID)
	p("  X-API-KEY\t%s", snap.APIKey)
	p("  colleague X-USERNAME\t%s\t(%s, %s; the group survey is shared with them)", snap.Colleague.Username, snap.Colleague.Fullname, snap.Colleague.ID)
	p("  colleague X-API-KEY\t%s", snap.ColleagueAPIKey)
	p("  per-user limits\t%d calls a second, %d a minute\t(the vendor's: -snap-rate-per-sec %d -snap-rate-per-min %d)",
		limits.PerSecond, limits.PerMinute, ratelimit.VendorLimits.PerSecond, ratelimit.VendorLimits.PerMinute)
	p("Surveys:")
	for _, sv := range snap.Surveys {
		var unique []string
		for _, sp := range snap.Participants[sv.ID] {
			id := sp.UniqueID(sv.Settings)
			if sv.Group && sp.Login != nil {
				names := make([]string, len(sp.Login.Subjects))
				for i, sub := range sp.Login.Subjects {
					names[i] = sub.Name
				}
				id += " (subjects " + strings.Join(names, ", ") + ")"
			}
			unique = append(unique, id)
		}
		p("  %s\t%s\t%s\t%d responses\tparticipants %s", sv.ID, sv.Name, surveyKind(sv), len(snap.Responses[sv.ID]), strings.Join(unique, ", "))
	}
}

// surveyKind describes a survey's participant features.
func surveyKind(sv survey.Survey) string {
	var parts []string
	if sv.Invites {
		parts = append(parts, "invites")
	}
	if sv.Logins {
		parts = append(parts, "logins")
	}
	kind := strings.Join(parts, "+")
	if len(parts) == 1 {
		kind += " only"
	}
	if sv.Group {
		kind += ", group"
	}
	if sv.SOIAllowed {
		kind += ", SOI"
	}
	return kind
}

// relative shortens path to be relative to the working directory when it is inside it.
func relative(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
