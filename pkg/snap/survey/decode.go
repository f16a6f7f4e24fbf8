package survey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"

	"github.com/participant-roster/roster/pkg/platform/strictbody"
)

// ParticipantInput is a participant body (Add or Update Participant) as the client sent it. It
// keeps what plain JSON decoding loses: whether a section or property was there at all, and the
// seeding in the client's order and spelling, so validation can name the first bad key the
// client wrote. Status properties and unknown properties are not decoded: the vendor ignores
// them.
type ParticipantInput struct {
	// Enabled is nil when absent or null, which means true.
	Enabled *bool
	// Invitation is nil when invitationSection is absent or null.
	Invitation *InvitationInput
	// Login is nil when loginSection is absent or null.
	Login *LoginInput
}

// InvitationInput is an invitationSection as sent.
type InvitationInput struct {
	OptedOut        bool // absent or null: false
	SendInvitations bool // absent or null: false
	// EmailAddress is nil when absent or null.
	EmailAddress *string
	// Seeding is invitationSeeding (Add's spelling) or inviteSeeding (Update's); nil when
	// neither is given.
	Seeding []Seed
}

// LoginInput is a loginSection as sent.
type LoginInput struct {
	// Login is nil when absent or null.
	Login *string
	// Password is nil when absent or null.
	Password *string
	// HasInterviewer reports whether the interviewer property was present, even as null; an
	// SOI manager must send it.
	HasInterviewer bool
	// Interviewer is nil when absent or null; "" means all interviewers.
	Interviewer *string
	Subjects    []SubjectInput
}

// SubjectInput is one subject as sent, in a loginSection or to a subject call.
type SubjectInput struct {
	// Name is subjectName; null or absent reads as "", the non-group subject's name.
	Name string
	// Seeding is questionnaireSeeding, in the client's order; nil when absent or null.
	Seeding []Seed
}

// Seed is one seeding property as sent. A null value reads as "", which clears it.
type Seed struct {
	Key   string
	Value string
}

// The wire shapes. Sections, interviewer and seeding stay raw so absent, null and a value can be
// told apart, and seeding keeps its order.
type wireParticipant struct {
	Enabled    *bool           `json:"enabled"`
	Invitation *wireInvitation `json:"invitationSection"`
	Login      *wireLogin      `json:"loginSection"`
}

type wireInvitation struct {
	OptedOut          *bool           `json:"optedOut"`
	SendInvitations   *bool           `json:"sendInvitations"`
	EmailAddress      *string         `json:"emailAddress"`
	InvitationSeeding json.RawMessage `json:"invitationSeeding"`
	InviteSeeding     json.RawMessage `json:"inviteSeeding"`
}

type wireLogin struct {
	Login       *string         `json:"login"`
	Password    *string         `json:"password"`
	Interviewer json.RawMessage `json:"interviewer"`
	Subjects    []wireSubject   `json:"subjects"`
}

type wireSubject struct {
	SubjectName          *string         `json:"subjectName"`
	QuestionnaireSeeding json.RawMessage `json:"questionnaireSeeding"`
}

// DecodeParticipant reads an Add or Update Participant body. Malformed JSON, a body that is not
// an object and a property of the wrong type are *Error wrapping ErrBadJSON; seeding given in
// both spellings with different contents is an *Error (MsgSeedingSpellingsDiffer).
func DecodeParticipant(body []byte) (ParticipantInput, error) {
	var w wireParticipant
	if err := unmarshalObject(body, &w); err != nil {
		return ParticipantInput{}, err
	}
	in := ParticipantInput{Enabled: w.Enabled}
	if w.Invitation != nil {
		inv, err := decodeInvitation(*w.Invitation)
		if err != nil {
			return ParticipantInput{}, err
		}
		in.Invitation = &inv
	}
	if w.Login != nil {
		login, err := decodeLogin(*w.Login)
		if err != nil {
			return ParticipantInput{}, err
		}
		in.Login = &login
	}
	return in, nil
}

// DecodeImport reads a bulk import body, {"participants": [<Add Participant body>, ...]}, and
// returns the rows undecoded (each is read with DecodeParticipant). Malformed JSON, a body that
// is not an object and a "participants" that is not an array are *Error wrapping ErrBadJSON.
func DecodeImport(body []byte) ([]json.RawMessage, error) {
	var w struct {
		Participants []json.RawMessage `json:"participants"`
	}
	if err := unmarshalObject(body, &w); err != nil {
		return nil, err
	}
	return w.Participants, nil
}

// DecodeSubject reads an Add or Update Participant Subject body:
// { "subjectName", "questionnaireSeeding", "status" (ignored) }.
func DecodeSubject(body []byte) (SubjectInput, error) {
	var w wireSubject
	if err := unmarshalObject(body, &w); err != nil {
		return SubjectInput{}, err
	}
	return decodeSubject(w, "questionnaireSeeding")
}

func decodeInvitation(w wireInvitation) (InvitationInput, error) {
	inv := InvitationInput{
		OptedOut:        w.OptedOut != nil && *w.OptedOut,
		SendInvitations: w.SendInvitations != nil && *w.SendInvitations,
		EmailAddress:    w.EmailAddress,
	}
	long, err := decodeSeeding(w.InvitationSeeding, "invitationSeeding", "invitationSection.invitationSeeding")
	if err != nil {
		return InvitationInput{}, err
	}
	short, err := decodeSeeding(w.InviteSeeding, "inviteSeeding", "invitationSection.inviteSeeding")
	if err != nil {
		return InvitationInput{}, err
	}
	// The vendor spells it invitationSeeding on Add and inviteSeeding on Update and in
	// responses; a client echoing a GET back may send both. Equal contents are one seeding.
	switch {
	case long != nil && short != nil:
		if !maps.Equal(seedMap(long), seedMap(short)) || len(long) != len(short) {
			return InvitationInput{}, reject(MsgSeedingSpellingsDiffer)
		}
		inv.Seeding = long
	case long != nil:
		inv.Seeding = long
	default:
		inv.Seeding = short
	}
	return inv, nil
}

func decodeLogin(w wireLogin) (LoginInput, error) {
	login := LoginInput{Login: w.Login, Password: w.Password}
	if w.Interviewer != nil {
		login.HasInterviewer = true
		if err := json.Unmarshal(w.Interviewer, &login.Interviewer); err != nil {
			return LoginInput{}, badJSON(MsgWrongType("loginSection.interviewer", "a string or null"))
		}
	}
	for i, ws := range w.Subjects {
		sub, err := decodeSubject(ws, fmt.Sprintf("loginSection.subjects[%d].questionnaireSeeding", i))
		if err != nil {
			return LoginInput{}, err
		}
		login.Subjects = append(login.Subjects, sub)
	}
	return login, nil
}

func decodeSubject(w wireSubject, path string) (SubjectInput, error) {
	sub := SubjectInput{}
	if w.SubjectName != nil {
		sub.Name = *w.SubjectName
	}
	seeds, err := decodeSeeding(w.QuestionnaireSeeding, "questionnaireSeeding", path)
	if err != nil {
		return SubjectInput{}, err
	}
	sub.Seeding = seeds
	return sub, nil
}

// decodeSeeding reads a seeding object in the client's order. Absent or null is nil; {} is an
// empty, non-nil list. name is the property as the client knows it, path where it sits.
func decodeSeeding(raw json.RawMessage, name, path string) ([]Seed, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, badJSON(MsgWrongType(path, "an object"))
	}
	seeds := []Seed{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, badJSON(MsgBadJSON(err.Error()))
		}
		key, _ := tok.(string) // an object's keys are strings, and raw is valid JSON
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, badJSON(MsgBadJSON(err.Error()))
		}
		var s *string
		if err := json.Unmarshal(value, &s); err != nil {
			return nil, badJSON(MsgSeedingValueNotString(name, key))
		}
		seed := Seed{Key: key}
		if s != nil {
			seed.Value = *s
		}
		seeds = append(seeds, seed)
	}
	return seeds, nil
}

func seedMap(seeds []Seed) map[string]string {
	m := make(map[string]string, len(seeds))
	for _, s := range seeds {
		m[s.Key] = s.Value
	}
	return m
}

// unmarshalObject decodes body, which must be one JSON object, into v. A repeated key or
// invalid UTF-8 is refused as malformed JSON (strictbody).
func unmarshalObject(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return badJSON(MsgBodyNotObject)
	}
	err := strictbody.JSON(trimmed, v, strictbody.Options{Object: true})
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, strictbody.ErrNotObject):
		return badJSON(MsgBodyNotObject)
	case errors.As(err, &typeErr):
		return badJSON(MsgWrongType(typeErr.Field, jsonKind(typeErr.Type)))
	}
	return badJSON(MsgBadJSON(err.Error()))
}

// jsonKind names the JSON type that decodes into t, for messages.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "of another type"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "of another type"
}

func badJSON(msg string) error { return &Error{Message: msg, Err: ErrBadJSON} }
