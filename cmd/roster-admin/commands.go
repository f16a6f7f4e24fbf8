package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/spot/spotapi"
	"github.com/participant-roster/roster/pkg/vocab"
)

// actor is who the records this tool writes are created or changed by.
var actor = vocab.Actor{Type: "SystemActor", ID: "roster-admin", Name: "roster-admin"}

// runner runs a command whose flags have been parsed.
type runner func(ctx context.Context, a *app.App) (output, error)

type command struct {
	order    int
	args     string
	summary  string
	required []string
	setup    func(fs *flag.FlagSet) runner // registers the flags, returns what runs the command
}

// output is a command's result: plain lines (tab-separated columns are aligned), or a JSON value.
// note goes to stderr in both modes.
type output struct {
	lines []string
	json  any
	note  string
}

func (o output) write(stdout, stderr io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(o.json); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for _, l := range o.lines {
			fmt.Fprintln(tw, l)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if o.note != "" {
		fmt.Fprintln(stderr, o.note)
	}
	return nil
}

var commands = map[string]command{
	"workspace create": {
		order: 1, args: "-name N", summary: "Creates a workspace and prints its id.", required: []string{"name"},
		setup: func(fs *flag.FlagSet) runner {
			name := fs.String("name", "", "workspace name (required)")
			return func(ctx context.Context, a *app.App) (output, error) {
				id, now := ids.New(ids.Workspace), time.Now().UTC()
				if err := a.Store.CreateWorkspace(ctx, id, *name, now); err != nil {
					return output{}, err
				}
				return output{
					lines: []string{id},
					json:  map[string]any{"id": id, "name": *name, "createdAt": stamp(now)},
				}, nil
			}
		},
	},
	"key issue": {
		order: 2, args: "-workspace W -name N", required: []string{"workspace", "name"},
		summary: "Issues a Spot API key for a workspace. The secret is printed once and only its hash is stored.",
		setup: func(fs *flag.FlagSet) runner {
			ws := fs.String("workspace", "", "workspace id (required)")
			name := fs.String("name", "", "key name, e.g. the integration that uses it (required)")
			return func(ctx context.Context, a *app.App) (output, error) {
				if err := requireWorkspace(ctx, a, *ws); err != nil {
					return output{}, err
				}
				keyID, secret, hash := auth.NewSecret()
				now := time.Now().UTC()
				k := auth.Key{ID: keyID, WorkspaceID: *ws, Name: *name, SecretHash: hash, CreatedAt: now}
				if err := a.Store.PutKey(ctx, k); err != nil {
					return output{}, err
				}
				return output{
					lines: []string{"key id\t" + keyID, "secret\t" + secret},
					json: map[string]any{"keyId": keyID, "secret": secret, "workspaceId": *ws, "name": *name,
						"createdAt": stamp(now), "headers": map[string]string{spotapi.HeaderKey: keyID, spotapi.HeaderSecret: secret}},
					note: "Store the secret now: it is not shown again, and only its hash is kept. Send both as the " +
						spotapi.HeaderKey + " and " + spotapi.HeaderSecret + " headers.",
				}, nil
			}
		},
	},
	"key revoke": {
		order: 3, args: "-workspace W -key K", required: []string{"workspace", "key"},
		summary: "Revokes a key of a workspace. Warm functions may accept it for up to AUTH_CACHE_TTL (60s by default).",
		setup: func(fs *flag.FlagSet) runner {
			ws := fs.String("workspace", "", "workspace id (required)")
			key := fs.String("key", "", "key id, acct_... (required)")
			return func(ctx context.Context, a *app.App) (output, error) {
				if err := requireWorkspace(ctx, a, *ws); err != nil {
					return output{}, err
				}
				if err := a.Store.RevokeKey(ctx, *ws, *key); err != nil {
					return output{}, notFound(err, "key %s in workspace %s", *key, *ws)
				}
				return output{
					lines: []string{"revoked " + *key},
					json:  map[string]any{"keyId": *key, "workspaceId": *ws, "revoked": true},
					note:  fmt.Sprintf("Functions already running may accept the key for up to %v more (AUTH_CACHE_TTL).", app.DefaultAuthCacheTTL),
				}, nil
			}
		},
	},
	"key list": {
		order: 4, args: "-workspace W", required: []string{"workspace"},
		summary: "Lists a workspace's keys, revoked ones included. Secrets are never shown (only their hashes are stored).",
		setup: func(fs *flag.FlagSet) runner {
			ws := fs.String("workspace", "", "workspace id (required)")
			return func(ctx context.Context, a *app.App) (output, error) {
				if err := requireWorkspace(ctx, a, *ws); err != nil {
					return output{}, err
				}
				keys, err := a.Store.ListKeys(ctx, *ws)
				if err != nil {
					return output{}, err
				}
				lines := []string{"KEY ID\tSTATUS\tCREATED\tNAME"}
				list := make([]map[string]any, 0, len(keys))
				for _, k := range keys {
					status := "active"
					if k.Revoked {
						status = "revoked"
					}
					lines = append(lines, strings.Join([]string{k.ID, status, stamp(k.CreatedAt), k.Name}, "\t"))
					list = append(list, map[string]any{"keyId": k.ID, "name": k.Name, "createdAt": stamp(k.CreatedAt), "revoked": k.Revoked})
				}
				return output{lines: lines, json: list}, nil
			}
		},
	},
	"screener create": {
		order: 5, args: "-workspace W -title T [-description D]", required: []string{"workspace", "title"},
		summary: "Creates a screener with an active publication and prints its id.",
		setup: func(fs *flag.FlagSet) runner {
			ws := fs.String("workspace", "", "workspace id (required)")
			title := fs.String("title", "", "screener title (required)")
			desc := optionalString(fs, "description", "screener description")
			return func(ctx context.Context, a *app.App) (output, error) {
				if err := requireWorkspace(ctx, a, *ws); err != nil {
					return output{}, err
				}
				s, err := a.Admin.CreateScreener(ctx, *ws, actor, *title, desc.ptr())
				if err != nil {
					return output{}, err
				}
				return output{
					lines: []string{s.ID},
					json: map[string]any{"id": s.ID, "workspaceId": *ws, "title": s.Title, "description": s.Description,
						"activePublicationId": s.ActivePublicationID, "createdAt": stamp(s.CreatedAt)},
				}, nil
			}
		},
	},
	"participant add": {
		order: 6, args: "-workspace W -screener S -email E -name N [-external-uid U]",
		required: []string{"workspace", "screener", "email", "name"},
		summary: "Adds a participant to a screener, as a one-row UPDATES_ONLY import: an existing participant " +
			"(matched by external uid, then email) is updated and linked, a new one is created.",
		setup: func(fs *flag.FlagSet) runner {
			ws := fs.String("workspace", "", "workspace id (required)")
			scr := fs.String("screener", "", "screener id, scr_... (required)")
			email := fs.String("email", "", "email (required)")
			name := fs.String("name", "", "full name (required)")
			uid := optionalString(fs, "external-uid", "the participant's id in your CRM")
			return func(ctx context.Context, a *app.App) (output, error) {
				if err := requireWorkspace(ctx, a, *ws); err != nil {
					return output{}, err
				}
				req := screening.ImportRequest{ScreenerID: *scr, Mode: screening.UpdatesOnly,
					Rows: []screening.ImportRow{{ExternalUID: uid.ptr(), Email: *email, Name: *name}}}
				res, err := a.Service.Import(ctx, *ws, actor, req)
				if err != nil {
					return output{}, notFound(err, "screener %s in workspace %s", *scr, *ws)
				}
				sp := res[0]
				return output{
					lines: []string{
						"screener participant\t" + sp.ID,
						"participant\t" + sp.ParticipantID,
						"status\t" + string(sp.Status()),
					},
					json: map[string]any{"screenerParticipantId": sp.ID, "participantId": sp.ParticipantID,
						"screenerId": sp.ScreenerID, "email": sp.Email, "name": sp.Name,
						"externalUid": nullable(sp.ExternalUID), "status": sp.Status()},
				}, nil
			}
		},
	},
	"session start": {
		order: 7, args: "-workspace W -screener-participant SP", required: []string{"workspace", "screener-participant"},
		summary: "Starts a screener session for a screener participant; it becomes the participant's current session.",
		setup: func(fs *flag.FlagSet) runner {
			ws := fs.String("workspace", "", "workspace id (required)")
			sp := fs.String("screener-participant", "", "screener participant id, scpar_... (required)")
			return func(ctx context.Context, a *app.App) (output, error) {
				if err := requireWorkspace(ctx, a, *ws); err != nil {
					return output{}, err
				}
				s, err := a.Admin.StartSession(ctx, *ws, *sp)
				if err != nil {
					return output{}, notFound(err, "screener participant %s in workspace %s", *sp, *ws)
				}
				link := spotapi.SessionLinkBase + s.LinkSlug
				return output{
					lines: []string{"session\t" + s.ID, "state\t" + string(s.State), "link\t" + link},
					json: map[string]any{"sessionId": s.ID, "screenerParticipantId": s.ScreenerParticipantID,
						"screenerId": s.ScreenerID, "state": s.State, "link": link, "startedAt": stamp(s.StartedAt)},
				}, nil
			}
		},
	},
	"session complete": {
		order: 8, args: "-workspace W -session S -outcome qualified|disqualified", required: []string{"workspace", "session", "outcome"},
		summary: "Completes a session in progress as qualified or disqualified.",
		setup: func(fs *flag.FlagSet) runner {
			ws := fs.String("workspace", "", "workspace id (required)")
			ses := fs.String("session", "", "session id, scses_... (required)")
			outcome := fs.String("outcome", "", "qualified or disqualified (required)")
			return func(ctx context.Context, a *app.App) (output, error) {
				var qualified bool
				switch strings.ToLower(*outcome) {
				case "qualified":
					qualified = true
				case "disqualified":
				default:
					return output{}, usagef("-outcome must be qualified or disqualified, not %q", *outcome)
				}
				if err := requireWorkspace(ctx, a, *ws); err != nil {
					return output{}, err
				}
				s, err := a.Admin.CompleteSession(ctx, *ws, *ses, qualified)
				if errors.Is(err, screening.ErrSessionNotInProgress) {
					return output{}, fmt.Errorf("session %s is not in progress; only a session in progress can be completed", *ses)
				}
				if err != nil {
					return output{}, notFound(err, "session %s in workspace %s", *ses, *ws)
				}
				return output{
					lines: []string{"session\t" + s.ID, "state\t" + string(s.State), "outcome\t" + string(s.Outcome)},
					json: map[string]any{"sessionId": s.ID, "screenerParticipantId": s.ScreenerParticipantID,
						"state": s.State, "outcome": s.Outcome, "completedAt": stamp(*s.CompletedAt)},
				}, nil
			}
		},
	},
}

// requireWorkspace fails with a clear message when the workspace does not exist.
func requireWorkspace(ctx context.Context, a *app.App, ws string) error {
	ok, err := a.Store.WorkspaceExists(ctx, ws)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("workspace %s not found", ws)
	}
	return nil
}

// notFound names what was not found; a validation error lists its fields; other errors pass.
func notFound(err error, format string, args ...any) error {
	var invalid *screening.ValidationError
	switch {
	case errors.Is(err, vocab.ErrNotFound):
		return fmt.Errorf("%s not found", fmt.Sprintf(format, args...))
	case errors.As(err, &invalid):
		msg := invalid.Message
		for _, f := range invalid.Fields {
			msg += fmt.Sprintf("\n  %s: %s (%s)", f.Field, f.Message, f.Code)
		}
		return errors.New(msg)
	}
	return err
}

// optional is a string flag that distinguishes "not given" from "given empty".
type optional struct {
	set   bool
	value string
}

func optionalString(fs *flag.FlagSet, name, usage string) *optional {
	o := &optional{}
	fs.Func(name, usage+" (optional)", func(s string) error { o.set, o.value = true, s; return nil })
	return o
}

func (o *optional) ptr() *string {
	if !o.set {
		return nil
	}
	v := o.value
	return &v
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
