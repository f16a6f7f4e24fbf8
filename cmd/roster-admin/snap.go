package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/snapapi"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/vocab"
)

// The Snap XMP Online commands: API users and their keys, surveys, sharing, responses.
func init() {
	for name, c := range snapCommands {
		commands[name] = c
	}
}

// maxUsername is the longest username the credential check accepts (auth.Verifier).
const maxUsername = 64

var snapCommands = map[string]command{
	"snap-user create": {
		order: 9, args: "-workspace W -username EMAIL -fullname NAME", required: []string{"workspace", "username", "fullname"},
		summary: "Creates a Snap API user and issues its API key. The key is printed once and only its hash is stored; " +
			"the username (an email address) is unique across workspaces.",
		setup: func(fs *flag.FlagSet) runner {
			ws := fs.String("workspace", "", "workspace id (required)")
			username := fs.String("username", "", "the user's email address, sent as X-USERNAME (required)")
			fullname := fs.String("fullname", "", "the user's full name (required)")
			return func(ctx context.Context, a *app.App) (output, error) {
				name := strings.TrimSpace(*username)
				if err := checkUsername(name); err != nil {
					return output{}, usageError{err.Error()}
				}
				if err := requireWorkspace(ctx, a, *ws); err != nil {
					return output{}, err
				}
				key := newSnapKey()
				u := survey.User{ID: ids.New(ids.SnapUser), WorkspaceID: *ws, Username: name, Fullname: strings.TrimSpace(*fullname), CreatedAt: time.Now().UTC()}
				err := a.SnapStore.PutSnapUser(ctx, u, auth.HashSecret(key))
				if errors.Is(err, vocab.ErrExists) {
					return output{}, fmt.Errorf("username %s is taken (usernames are unique across workspaces); `snap-user key` issues its user a new key", name)
				}
				if err != nil {
					return output{}, err
				}
				return keyOutput(u, key, map[string]any{"userId": u.ID, "workspaceId": u.WorkspaceID, "username": u.Username,
					"fullname": u.Fullname, "createdAt": stamp(u.CreatedAt)}), nil
			}
		},
	},
	"snap-user key": {
		order: 10, args: "-username EMAIL", required: []string{"username"},
		summary: "Issues a Snap API user a new API key, printed once; the previous key stops working (and a revoked user " +
			"works again). Warm functions may accept the old key for up to AUTH_CACHE_TTL (60s by default).",
		setup: func(fs *flag.FlagSet) runner {
			username := fs.String("username", "", "the user's username (required)")
			return func(ctx context.Context, a *app.App) (output, error) {
				u, err := a.SnapStore.GetSnapUser(ctx, strings.TrimSpace(*username))
				if err != nil {
					return output{}, notFound(err, "snap user %s", *username)
				}
				key := newSnapKey()
				if err := a.SnapStore.SetSnapUserKey(ctx, u.WorkspaceID, u.Username, auth.HashSecret(key), false); err != nil {
					return output{}, notFound(err, "snap user %s", u.Username)
				}
				return keyOutput(u, key, map[string]any{"userId": u.ID, "workspaceId": u.WorkspaceID, "username": u.Username}), nil
			}
		},
	},
	"snap-user revoke": {
		order: 11, args: "-username EMAIL", required: []string{"username"},
		summary: "Revokes a Snap API user's key (its hash is erased). `snap-user key` issues a new one. Warm functions may " +
			"accept the old key for up to AUTH_CACHE_TTL (60s by default).",
		setup: func(fs *flag.FlagSet) runner {
			username := fs.String("username", "", "the user's username (required)")
			return func(ctx context.Context, a *app.App) (output, error) {
				u, err := a.SnapStore.GetSnapUser(ctx, strings.TrimSpace(*username))
				if err != nil {
					return output{}, notFound(err, "snap user %s", *username)
				}
				if err := a.SnapStore.SetSnapUserKey(ctx, u.WorkspaceID, u.Username, "", true); err != nil {
					return output{}, notFound(err, "snap user %s", u.Username)
				}
				return output{
					lines: []string{"revoked " + u.Username},
					json:  map[string]any{"userId": u.ID, "workspaceId": u.WorkspaceID, "username": u.Username, "revoked": true},
					note:  fmt.Sprintf("Functions already running may accept the key for up to %v more (AUTH_CACHE_TTL).", app.DefaultAuthCacheTTL),
				}, nil
			}
		},
	},
	"survey create": {
		order: 12, args: "-workspace W -owner USERNAME -file definition.json", required: []string{"workspace", "owner", "file"},
		summary: "Creates a Snap survey from a definition file (see examples/survey-definition.json and the README) and " +
			"prints its GUID. soiManagers are usernames of the workspace; they are stored as user ids.",
		setup: func(fs *flag.FlagSet) runner {
			ws := fs.String("workspace", "", "workspace id (required)")
			owner := fs.String("owner", "", "username of the survey's owner (required)")
			file := fs.String("file", "", "survey definition, JSON (required)")
			return func(ctx context.Context, a *app.App) (output, error) {
				def, err := readDefinition(*file)
				if err != nil {
					return output{}, err
				}
				if err := requireWorkspace(ctx, a, *ws); err != nil {
					return output{}, err
				}
				o, err := workspaceUser(ctx, a, *ws, *owner, "-owner")
				if err != nil {
					return output{}, err
				}
				sv, err := def.survey(o, func(username, field string) (string, error) {
					u, err := workspaceUser(ctx, a, *ws, username, field)
					return u.ID, err
				})
				if err != nil {
					return output{}, fmt.Errorf("%s: %w", *file, err)
				}
				if sv.ID == "" {
					sv.ID = newGUID()
				} else if _, _, err := a.SnapStore.GetSurvey(ctx, *ws, sv.ID); err == nil {
					return output{}, fmt.Errorf("%s: survey %s already exists in workspace %s", *file, sv.ID, *ws)
				} else if !errors.Is(err, vocab.ErrNotFound) {
					return output{}, err
				}
				if err := a.SnapStore.PutSurvey(ctx, *ws, sv); err != nil {
					return output{}, err
				}
				return output{lines: []string{sv.ID}, json: surveyJSON(sv)}, nil
			}
		},
	},
	"survey share": {
		order: 13, args: "-workspace W -survey GUID -username EMAIL", required: []string{"workspace", "survey", "username"},
		summary: "Shares a survey with another user of its workspace, who can then see it and its participants through the API.",
		setup: func(fs *flag.FlagSet) runner {
			ws := fs.String("workspace", "", "workspace id (required)")
			id := fs.String("survey", "", "survey GUID (required)")
			username := fs.String("username", "", "username to share with (required)")
			return func(ctx context.Context, a *app.App) (output, error) {
				if err := requireWorkspace(ctx, a, *ws); err != nil {
					return output{}, err
				}
				sv, err := getSurvey(ctx, a, *ws, *id)
				if err != nil {
					return output{}, err
				}
				u, err := workspaceUser(ctx, a, *ws, *username, "-username")
				if err != nil {
					return output{}, err
				}
				line := fmt.Sprintf("shared %s with %s", sv.ID, u.Username)
				switch {
				case strings.EqualFold(u.ID, sv.OwnerID):
					return output{}, fmt.Errorf("%s owns survey %s: there is nothing to share", u.Username, sv.ID)
				case slices.ContainsFunc(sv.SharedWith, func(s string) bool { return strings.EqualFold(s, u.ID) }):
					line = fmt.Sprintf("survey %s was already shared with %s", sv.ID, u.Username)
				default:
					sv.SharedWith = append(sv.SharedWith, u.ID)
					if err := a.SnapStore.PutSurvey(ctx, *ws, sv); err != nil {
						return output{}, err
					}
				}
				return output{lines: []string{line}, json: surveyJSON(sv)}, nil
			}
		},
	},
	"response add": {
		order: 14, args: "-workspace W -survey GUID [-status S] -values 'V46=2,V48=1;3,V50=text' | -file values.json",
		required: []string{"workspace", "survey"},
		summary: "Adds a response (a case) to a survey and prints its case id. -values is variable=value pairs separated by " +
			"commas (a comma inside a text value is kept unless a <variable>= follows it); multiple choice codes are " +
			"separated by ';'. -file is a JSON object {\"V46\": \"2\", ...}. Choice values must be the variable's codes.",
		setup: func(fs *flag.FlagSet) runner {
			ws := fs.String("workspace", "", "workspace id (required)")
			id := fs.String("survey", "", "survey GUID (required)")
			status := fs.String("status", survey.Completed, "Completed, Partial, Saved or Submitted")
			values := optionalString(fs, "values", "variable=value pairs, e.g. 'V46=2,V48=1;3,V50=Some text'")
			file := optionalString(fs, "file", "JSON object of variable ids to values")
			return func(ctx context.Context, a *app.App) (output, error) {
				st, ok := responseStatus(*status)
				if !ok {
					return output{}, usagef("-status must be Completed, Partial, Saved or Submitted, not %q", *status)
				}
				if values.set == file.set {
					return output{}, usagef("give the values with exactly one of -values and -file")
				}
				var pairs []pair
				if values.set {
					var err error
					if pairs, err = parseValues(values.value); err != nil {
						return output{}, usageError{err.Error()}
					}
				} else {
					var err error
					if pairs, err = readValues(file.value); err != nil {
						return output{}, err
					}
				}
				if err := requireWorkspace(ctx, a, *ws); err != nil {
					return output{}, err
				}
				sv, err := getSurvey(ctx, a, *ws, *id)
				if err != nil {
					return output{}, err
				}
				vals, err := responseValues(sv, pairs)
				if err != nil {
					return output{}, err
				}
				r, err := a.SnapStore.AddResponse(ctx, *ws, sv.ID, survey.Response{Status: st, Values: vals})
				if err != nil {
					return output{}, notFound(err, "survey %s in workspace %s", sv.ID, *ws)
				}
				return output{
					lines: []string{fmt.Sprintf("case id\t%d", r.CaseID), "response\t" + r.ID, "status\t" + r.Status},
					json:  map[string]any{"surveyId": sv.ID, "caseId": r.CaseID, "responseId": r.ID, "status": r.Status, "values": r.Values},
				}, nil
			}
		},
	},
}

// keyOutput prints a user's new key, once.
func keyOutput(u survey.User, key string, js map[string]any) output {
	js["apiKey"] = key
	js["headers"] = map[string]string{snapapi.HeaderUsername: u.Username, snapapi.HeaderAPIKey: key}
	return output{
		lines: []string{"user id\t" + u.ID, "username\t" + u.Username, "api key\t" + key},
		json:  js,
		note: "Store the API key now: it is not shown again, and only its hash is kept. Send the username and the key as the " +
			snapapi.HeaderUsername + " and " + snapapi.HeaderAPIKey + " headers.",
	}
}

// newSnapKey is a new API key: 256 random bits.
func newSnapKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("roster-admin: no randomness: " + err.Error()) // crypto/rand never fails on Linux
	}
	return "snap_" + base64.RawURLEncoding.EncodeToString(b)
}

// newGUID is a random (version 4) GUID in the canonical lower-case form.
func newGUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("roster-admin: no randomness: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// checkUsername: a username is an email address short enough for the credential check.
func checkUsername(s string) error {
	if !validEmail(s) {
		return fmt.Errorf("-username must be an email address, not %q", s)
	}
	if len(s) > maxUsername {
		return fmt.Errorf("-username is %d characters; at most %d are accepted", len(s), maxUsername)
	}
	return nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndex(s, "@"):], ".")
}

// workspaceUser finds a Snap user of the workspace; field names the flag or definition field.
func workspaceUser(ctx context.Context, a *app.App, ws, username, field string) (survey.User, error) {
	u, err := a.SnapStore.GetSnapUser(ctx, strings.TrimSpace(username))
	switch {
	case errors.Is(err, vocab.ErrNotFound) || (err == nil && u.WorkspaceID != ws):
		return survey.User{}, fmt.Errorf("%s: no snap user %q in workspace %s (create it with `snap-user create`)", field, username, ws)
	case err != nil:
		return survey.User{}, err
	}
	return u, nil
}

func getSurvey(ctx context.Context, a *app.App, ws, id string) (survey.Survey, error) {
	canon, ok := survey.ParseSurveyID(strings.TrimSpace(id))
	if !ok {
		return survey.Survey{}, usagef("-survey must be a survey GUID, not %q", id)
	}
	sv, _, err := a.SnapStore.GetSurvey(ctx, ws, canon)
	if err != nil {
		return survey.Survey{}, notFound(err, "survey %s in workspace %s", canon, ws)
	}
	return sv, nil
}

func surveyJSON(sv survey.Survey) map[string]any {
	shared := sv.SharedWith
	if shared == nil {
		shared = []string{}
	}
	return map[string]any{"id": sv.ID, "name": sv.Name, "title": sv.Title, "ownerId": sv.OwnerID, "ownerName": sv.OwnerName,
		"interviewingState": sv.InterviewingState, "variables": len(sv.Variables), "sharedWith": shared, "createdAt": stamp(sv.CreatedAt)}
}

// definition is a survey definition file; README.md documents it.
type definition struct {
	ID                string             `json:"id"`
	Name              string             `json:"name"`
	Title             string             `json:"title"`
	Path              []string           `json:"path"`
	InterviewingState string             `json:"interviewingState"`
	Settings          definitionSettings `json:"settings"`
	Variables         []definitionVar    `json:"variables"`
}

type definitionSettings struct {
	Invites     bool     `json:"invites"`
	Logins      bool     `json:"logins"`
	Group       bool     `json:"group"`
	SOIAllowed  bool     `json:"soiAllowed"`
	SOIUsers    []string `json:"soiUsers"`
	SOIManagers []string `json:"soiManagers"`
	InviteKeys  []string `json:"inviteKeys"`
}

type definitionVar struct {
	ID           string           `json:"id"`
	Name         string           `json:"name"`
	Label        string           `json:"label"`
	QuestionText string           `json:"questionText"`
	ResponseType string           `json:"responseType"`
	Seeding      bool             `json:"seeding"`
	Codes        []definitionCode `json:"codes"`
}

type definitionCode struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// readDefinition decodes a definition file strictly: an unknown (misspelt) field is an error.
func readDefinition(path string) (definition, error) {
	var d definition
	data, err := os.ReadFile(path)
	if err != nil {
		return d, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("%s is not a survey definition: %w", path, err)
	}
	if dec.More() {
		return d, fmt.Errorf("%s is not a survey definition: more than one JSON value", path)
	}
	return d, nil
}

// Response types and their responseTypeId (the demo surveys use the same numbers).
var responseTypes = []struct {
	name string
	id   int
}{
	{survey.ResponseSingle, 1}, {survey.ResponseMultiple, 2}, {survey.ResponseNumeric, 3},
	{survey.ResponseText, 4}, {survey.ResponseDate, 5},
}

var (
	variableID = regexp.MustCompile(`^[Vv][0-9]+$`)
	stateWord  = regexp.MustCompile(`^[A-Za-z]+$`)
)

// survey checks the definition and makes the survey it defines, owned by owner. userID turns a
// soiManagers username into a user id.
func (d definition) survey(owner survey.User, userID func(username, field string) (string, error)) (survey.Survey, error) {
	sv := survey.Survey{
		OwnerID: owner.ID, OwnerName: owner.Fullname, Name: strings.TrimSpace(d.Name), Title: strings.TrimSpace(d.Title),
		Path: []string{}, InterviewingState: strings.TrimSpace(d.InterviewingState), CreatedAt: time.Now().UTC(),
	}
	if d.ID != "" {
		id, ok := survey.ParseSurveyID(d.ID)
		if !ok {
			return sv, fmt.Errorf("id: %q is not a GUID (leave it out to have one made)", d.ID)
		}
		sv.ID = id
	}
	if sv.Name == "" {
		return sv, errors.New("name: required")
	}
	if sv.Title == "" {
		sv.Title = sv.Name
	}
	for i, folder := range d.Path {
		if strings.TrimSpace(folder) == "" {
			return sv, fmt.Errorf("path[%d]: a folder name cannot be blank", i)
		}
		sv.Path = append(sv.Path, strings.TrimSpace(folder))
	}
	switch {
	case sv.InterviewingState == "":
		sv.InterviewingState = "Started"
	case !stateWord.MatchString(sv.InterviewingState):
		return sv, fmt.Errorf("interviewingState: %q is not one word, e.g. Started", d.InterviewingState)
	}

	s, err := d.Settings.check(userID)
	if err != nil {
		return sv, err
	}
	sv.Settings = s

	if len(d.Variables) == 0 {
		return sv, errors.New("variables: at least one variable is required")
	}
	for i, dv := range d.Variables {
		v, err := dv.variable(i)
		if err != nil {
			return sv, fmt.Errorf("variables[%d]: %w", i, err)
		}
		if _, dup := sv.Variable(v.ID); dup {
			return sv, fmt.Errorf("variables[%d]: id %s is used twice", i, v.ID)
		}
		sv.Variables = append(sv.Variables, v)
	}
	return sv, nil
}

func (d definitionSettings) check(userID func(username, field string) (string, error)) (survey.Settings, error) {
	s := survey.Settings{Invites: d.Invites, Logins: d.Logins, Group: d.Group, SOIAllowed: d.SOIAllowed}
	switch {
	case d.Group && !d.Logins:
		return s, errors.New("settings.group: a group questionnaire needs settings.logins (only logged-on participants have subjects)")
	case d.SOIAllowed && !d.Logins:
		return s, errors.New("settings.soiAllowed: needs settings.logins (the interviewer is part of a participant's login)")
	case !d.SOIAllowed && len(d.SOIUsers) > 0:
		return s, errors.New("settings.soiUsers: given, but settings.soiAllowed is false")
	case !d.SOIAllowed && len(d.SOIManagers) > 0:
		return s, errors.New("settings.soiManagers: given, but settings.soiAllowed is false")
	case !d.Invites && len(d.InviteKeys) > 0:
		return s, errors.New("settings.inviteKeys: given, but settings.invites is false")
	}
	for i, email := range d.SOIUsers {
		email = strings.TrimSpace(email)
		field := fmt.Sprintf("settings.soiUsers[%d]", i)
		if !validEmail(email) {
			return s, fmt.Errorf("%s: %q is not an email address", field, email)
		}
		if containsFold(s.SOIUsers, email) {
			return s, fmt.Errorf("%s: %s is listed twice", field, email)
		}
		s.SOIUsers = append(s.SOIUsers, email)
	}
	for i, username := range d.SOIManagers {
		id, err := userID(username, fmt.Sprintf("settings.soiManagers[%d]", i))
		if err != nil {
			return s, err
		}
		if !containsFold(s.SOIManagers, id) {
			s.SOIManagers = append(s.SOIManagers, id)
		}
	}
	for i, k := range d.InviteKeys {
		k = strings.TrimSpace(k)
		field := fmt.Sprintf("settings.inviteKeys[%d]", i)
		if k == "" {
			return s, fmt.Errorf("%s: an invite key cannot be blank", field)
		}
		if containsFold(s.InviteKeys, k) {
			return s, fmt.Errorf("%s: %s is listed twice (keys are compared ignoring case)", field, k)
		}
		s.InviteKeys = append(s.InviteKeys, k)
	}
	return s, nil
}

func (dv definitionVar) variable(i int) (survey.Variable, error) {
	id := strings.TrimSpace(dv.ID)
	if !variableID.MatchString(id) {
		return survey.Variable{}, fmt.Errorf("id: %q is not a variable id such as V46", dv.ID)
	}
	v := survey.Variable{
		ID: strings.ToUpper(id), Order: i + 1, Name: strings.TrimSpace(dv.Name), Label: strings.TrimSpace(dv.Label),
		QuestionText: strings.TrimSpace(dv.QuestionText), VariableType: "Question", VariableTypeID: 1, Seeding: dv.Seeding,
	}
	if v.Name == "" {
		return v, fmt.Errorf("name: required (e.g. Q1)")
	}
	if v.Label == "" {
		v.Label = v.Name
	}
	names := make([]string, len(responseTypes))
	for j, rt := range responseTypes {
		names[j] = rt.name
		if strings.EqualFold(strings.TrimSpace(dv.ResponseType), rt.name) {
			v.ResponseType, v.ResponseTypeID = rt.name, rt.id
		}
	}
	if v.ResponseType == "" {
		return v, fmt.Errorf("responseType: %q is not one of %s", dv.ResponseType, strings.Join(names, ", "))
	}
	choice := v.ResponseType == survey.ResponseSingle || v.ResponseType == survey.ResponseMultiple
	switch {
	case choice && len(dv.Codes) == 0:
		return v, fmt.Errorf("codes: a %s choice variable needs at least one code", v.ResponseType)
	case !choice && len(dv.Codes) > 0:
		return v, fmt.Errorf("codes: only Single and Multiple variables have codes, not %s", v.ResponseType)
	}
	for j, dc := range dv.Codes {
		value := strings.TrimSpace(dc.Value)
		switch {
		case value == "":
			return v, fmt.Errorf("codes[%d].value: required", j)
		case strings.Contains(value, ";"):
			return v, fmt.Errorf("codes[%d].value: %q holds ';', which separates multiple choice values", j, value)
		case slices.ContainsFunc(v.Codes, func(c survey.Code) bool { return c.Value == value }):
			return v, fmt.Errorf("codes[%d].value: %s is used twice", j, value)
		}
		label := strings.TrimSpace(dc.Label)
		if label == "" {
			label = value
		}
		v.Codes = append(v.Codes, survey.Code{Index: j + 1, Value: value, Label: label})
	}
	return v, nil
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// pair is one variable=value of a response, as given.
type pair struct{ key, value string }

// nextPair is where -values' next pair starts: a comma followed by a variable id and '='.
var nextPair = regexp.MustCompile(`,\s*[Vv][0-9]+\s*=`)

func parseValues(s string) ([]pair, error) {
	var parts []string
	for {
		loc := nextPair.FindStringIndex(s)
		if loc == nil {
			parts = append(parts, s)
			break
		}
		parts = append(parts, s[:loc[0]])
		s = s[loc[0]+1:]
	}
	var out []pair
	for _, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("-values: %q is not <variable>=<value>", strings.TrimSpace(p))
		}
		out = append(out, pair{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	return out, nil
}

func readValues(path string) ([]pair, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%s: want a JSON object of variable ids to values, e.g. {\"V46\": \"2\"}", path)
	}
	var out []pair
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		key, _ := tok.(string)
		var value string
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("%s: the value of %q must be a string", path, key)
		}
		out = append(out, pair{key, value})
	}
	return out, nil
}

func responseStatus(s string) (string, bool) {
	for _, st := range []string{survey.Completed, survey.Partial, survey.Saved, survey.Submitted} {
		if strings.EqualFold(strings.TrimSpace(s), st) {
			return st, true
		}
	}
	return "", false
}

// responseValues checks a response's values against the survey's variables: each names a
// variable once, and a choice variable's value is its codes (one for Single, ';'-separated
// without repeats for Multiple). Keys become the survey's spelling.
func responseValues(sv survey.Survey, pairs []pair) (map[string]string, error) {
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		v, ok := sv.Variable(p.key)
		if !ok {
			return nil, fmt.Errorf("survey %s has no variable %s", sv.ID, p.key)
		}
		if _, dup := out[v.ID]; dup {
			return nil, fmt.Errorf("variable %s is given twice", v.ID)
		}
		if p.value != "" && (v.ResponseType == survey.ResponseSingle || v.ResponseType == survey.ResponseMultiple) {
			codes := strings.Split(p.value, ";")
			if v.ResponseType == survey.ResponseSingle && len(codes) > 1 {
				return nil, fmt.Errorf("%s is single choice: give one code, not %q", v.ID, p.value)
			}
			seen := map[string]bool{}
			for i, c := range codes {
				c = strings.TrimSpace(c)
				if seen[c] {
					return nil, fmt.Errorf("%s: code %s is given twice", v.ID, c)
				}
				seen[c] = true
				if !slices.ContainsFunc(v.Codes, func(x survey.Code) bool { return x.Value == c }) {
					return nil, fmt.Errorf("%s: %q is not one of its codes (%s)", v.ID, c, codeList(v))
				}
				codes[i] = c
			}
			p.value = strings.Join(codes, ";")
		}
		out[v.ID] = p.value
	}
	return out, nil
}

func codeList(v survey.Variable) string {
	values := make([]string, len(v.Codes))
	for i, c := range v.Codes {
		values[i] = c.Value
	}
	return strings.Join(values, ", ")
}
