// Package auth issues and verifies API credentials. A credential is a public key id and a secret;
// only the secret's SHA-256 is stored. Secrets are 256 random bits, so a fast hash is enough: no
// guessable input exists to brute-force, unlike passwords. Comparison is constant-time, and an
// unknown key id costs the same comparison as a known one.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/participant-roster/roster/pkg/platform/ids"
)

// ErrUnauthorized is the one answer for a missing, unknown, revoked or wrong credential, so a
// caller cannot tell which.
var ErrUnauthorized = errors.New("auth: missing or invalid credentials")

// ErrKeyNotFound is what a KeyStore returns for an unknown key id.
var ErrKeyNotFound = errors.New("auth: key not found")

// Key is a stored credential.
type Key struct {
	ID          string
	WorkspaceID string
	Name        string
	SecretHash  string
	Revoked     bool
	CreatedAt   time.Time
}

// Principal is who a verified request acts as. The workspace comes only from here.
type Principal struct {
	WorkspaceID string
	KeyID       string
	KeyName     string
}

// KeyStore looks credentials up by key id.
type KeyStore interface {
	GetKey(ctx context.Context, keyID string) (Key, error)
}

// NewSecret returns a new key id and secret for a Spot API key, and the hash to store.
func NewSecret() (keyID, secret, secretHash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error()) // crypto/rand never fails on Linux
	}
	secret = "sk_live_" + base64.RawURLEncoding.EncodeToString(b)
	return ids.New(ids.SpotKey), secret, HashSecret(secret)
}

// HashSecret is the stored form of a secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// dummyHash is compared against when the key id is unknown, so that path takes as long.
var dummyHash = HashSecret("no such key")

// Verifier checks credentials against a KeyStore. Verified keys are cached for TTL so a warm
// Lambda does not pay a read per request; a revoked key stops working within TTL.
type Verifier struct {
	Store KeyStore
	TTL   time.Duration
	Now   func() time.Time

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	key     Key
	expires time.Time
}

// NewVerifier returns a verifier with the given cache lifetime (0 disables the cache).
func NewVerifier(store KeyStore, ttl time.Duration) *Verifier {
	return &Verifier{Store: store, TTL: ttl, Now: time.Now, cache: map[string]cachedKey{}}
}

// Verify returns the principal for a key id and secret, or ErrUnauthorized. Store failures are
// returned as they are (they are ours, not the caller's).
func (v *Verifier) Verify(ctx context.Context, keyID, secret string) (Principal, error) {
	if keyID == "" || secret == "" || len(keyID) > 64 || len(secret) > 256 {
		return Principal{}, ErrUnauthorized
	}
	key, err := v.lookup(ctx, keyID)
	switch {
	case errors.Is(err, ErrKeyNotFound):
		subtle.ConstantTimeCompare([]byte(dummyHash), []byte(HashSecret(secret)))
		return Principal{}, ErrUnauthorized
	case err != nil:
		return Principal{}, err
	}
	if subtle.ConstantTimeCompare([]byte(key.SecretHash), []byte(HashSecret(secret))) != 1 || key.Revoked {
		return Principal{}, ErrUnauthorized
	}
	return Principal{WorkspaceID: key.WorkspaceID, KeyID: key.ID, KeyName: key.Name}, nil
}

func (v *Verifier) lookup(ctx context.Context, keyID string) (Key, error) {
	now := v.Now()
	v.mu.Lock()
	c, ok := v.cache[keyID]
	v.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.key, nil
	}
	key, err := v.Store.GetKey(ctx, keyID)
	if err != nil {
		return Key{}, err
	}
	if v.TTL > 0 && !key.Revoked {
		v.mu.Lock()
		v.cache[keyID] = cachedKey{key: key, expires: now.Add(v.TTL)}
		v.mu.Unlock()
	}
	return key, nil
}
