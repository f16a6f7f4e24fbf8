// Package idempotency is the Idempotency-Key mechanism of the HTTP APIs (the IETF httpapi
// draft, draft-ietf-httpapi-idempotency-key-header): a client that sends a key with a POST
// gets, for the same key and the same request within Retention, the first answer again
// (status, body, Location, Content-Type, Preference-Applied, marked Idempotent-Replayed:
// true) and nothing runs twice. The same key with another request is refused (422), and so
// is the same key while its first request still runs (409).
//
// A key belongs to a Scope: the verified credential (workspace and key id) and the route, so
// keys never collide across credentials or routes and nothing the client names widens them.
// The first request takes an INPROGRESS record (a conditional write in the Store) with a lock
// of Lock; a successful answer turns the record COMPLETED; an error answer (4xx or 5xx) or a
// panic frees the key instead, so the client may retry it (see kept). A record
// whose lock has passed (its request died) may be taken over, and records are forgotten after
// Retention (DynamoDB TTL; the store ignores an expired record before TTL deletes it).
//
// The package knows no family and no SDK: each family gives the guard its scope and its
// error shape (ErrorWriters), and the DynamoDB adapter (package idemstore) is the Store.
package idempotency

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of the mechanism.
const (
	Header         = "Idempotency-Key"
	ReplayedHeader = "Idempotent-Replayed"
)

// Limits of the mechanism.
const (
	// MaxKeyLength is the longest key accepted (printable ASCII characters).
	MaxKeyLength = 255
	// Lock is how long an INPROGRESS record keeps its key from other requests. It is far above
	// what a request may take (API Gateway gives up after 30 s, the functions after their
	// Timeout), so a record still INPROGRESS after it belongs to a request that died.
	Lock = 2 * time.Minute
	// Retention is how long a key answers with its first answer; the record then expires.
	Retention = 24 * time.Hour
	// MaxBodyBytes is the most of a request body the guard reads to fingerprint it: API
	// Gateway's payload limit. A larger body (which API Gateway never passes) goes to the
	// handler unguarded, for its own 413.
	MaxBodyBytes = 10 << 20
)

// Record statuses.
const (
	InProgress = "INPROGRESS"
	Completed  = "COMPLETED"
)

// ReplayedHeaders are the answer's headers a replay gives again.
var ReplayedHeaders = []string{"Location", "Content-Type", "Preference-Applied"}

// Scope is what a key belongs to: the verified credential and the route.
type Scope struct {
	Workspace  string // the credential's workspace
	Credential string // the verified key id (a Spot API key, a Snap user)
	Route      string // method and route pattern, e.g. "POST /screener-participants-import"
}

// Key is one record's name: a scope and the client's key.
type Key struct {
	Scope
	Value string
}

// Answer is a stored response.
type Answer struct {
	Status int
	Header http.Header // only ReplayedHeaders
	Body   []byte
}

// Record is the state of one key.
type Record struct {
	Status      string // InProgress or Completed
	Fingerprint string // of the request that took the key
	Token       string // the taking request's own token: only it may complete or release the record
	LockedUntil time.Time
	ExpiresAt   time.Time
	Answer      Answer // Completed only
}

// Store keeps the records. Every write is conditional, so two requests never both take a key.
type Store interface {
	// Begin writes rec (INPROGRESS) unless the key is held: by a COMPLETED record, or an
	// INPROGRESS one whose lock has not passed, that has not expired at now. When it is held,
	// Begin returns the record that holds it and taken false.
	Begin(ctx context.Context, k Key, rec Record, now time.Time) (held Record, taken bool, err error)
	// Complete replaces the INPROGRESS record of rec.Token with rec (COMPLETED, with its
	// answer). ErrAnswerTooLarge: the answer does not fit a record (nothing is written).
	// ErrNotHeld: the record is no longer rec.Token's.
	Complete(ctx context.Context, k Key, rec Record) error
	// Release deletes the record if it is still token's (ErrNotHeld otherwise).
	Release(ctx context.Context, k Key, token string) error
}

// Errors of a Store.
var (
	ErrAnswerTooLarge = errors.New("idempotency: the answer is too large to store")
	ErrNotHeld        = errors.New("idempotency: the record is no longer this request's")
)

// Refusal is the guard's answer to a request it does not let through; a family writes it in
// its own error shape with this status and message.
type Refusal struct {
	Status  int
	Message string
}

func (r *Refusal) Error() string { return "idempotency: " + r.Message }

// The refusals.
var (
	ErrKeyInvalid = &Refusal{http.StatusBadRequest,
		"The Idempotency-Key header must be sent once, with 1 to 255 printable ASCII characters."}
	ErrKeyReused = &Refusal{http.StatusUnprocessableEntity,
		"This Idempotency-Key was used for a different request (method, path, query or body); use a new key for a new request."}
	ErrKeyInUse = &Refusal{http.StatusConflict,
		"A request with this Idempotency-Key is still being processed; retry once it has been answered."}
)

// ParseKey reads the header's values: one value, 1 to MaxKeyLength printable ASCII
// characters. A Structured Fields string (the draft's form, `"…"`) is unquoted first, so
// `"abc"` and `abc` are the same key.
func ParseKey(values []string) (string, error) {
	if len(values) != 1 {
		return "", ErrKeyInvalid
	}
	v := strings.TrimSpace(values[0])
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		u, err := strconv.Unquote(v)
		if err != nil {
			return "", ErrKeyInvalid
		}
		v = u
	}
	if len(v) == 0 || len(v) > MaxKeyLength {
		return "", ErrKeyInvalid
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return "", ErrKeyInvalid
		}
	}
	return v, nil
}

// Fingerprint is the request's identity for its key: SHA-256 of its method, path, raw query
// and body, each length-prefixed so no two requests share one.
func Fingerprint(method, path, rawQuery string, body []byte) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(method), []byte(path), []byte(rawQuery), body} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// newToken is a record's owner token: 128 random bits.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}
