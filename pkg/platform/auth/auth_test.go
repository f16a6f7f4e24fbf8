package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/platform/auth"
)

type memKeys struct {
	keys  map[string]auth.Key
	reads int
}

func (m *memKeys) GetKey(_ context.Context, id string) (auth.Key, error) {
	m.reads++
	k, ok := m.keys[id]
	if !ok {
		return auth.Key{}, auth.ErrKeyNotFound
	}
	return k, nil
}

func newStore() (*memKeys, string, string) {
	id, secret, hash := auth.NewSecret()
	return &memKeys{keys: map[string]auth.Key{id: {ID: id, WorkspaceID: "ws_1", Name: "crm", SecretHash: hash}}}, id, secret
}

func TestVerify(t *testing.T) {
	store, id, secret := newStore()
	v := auth.NewVerifier(store, 0)
	p, err := v.Verify(context.Background(), id, secret)
	if err != nil || p.WorkspaceID != "ws_1" || p.KeyID != id {
		t.Fatalf("Verify(good) = %+v, %v", p, err)
	}
	for name, c := range map[string][2]string{
		"wrong secret": {id, secret + "x"},
		"unknown key":  {"acct_nope", secret},
		"no key":       {"", secret},
		"no secret":    {id, ""},
	} {
		if _, err := v.Verify(context.Background(), c[0], c[1]); !errors.Is(err, auth.ErrUnauthorized) {
			t.Errorf("%s: err = %v, want ErrUnauthorized", name, err)
		}
	}
}

func TestStoredHashIsNotTheSecret(t *testing.T) {
	_, secret, hash := auth.NewSecret()
	if hash == secret || len(hash) != 64 || auth.HashSecret(secret) != hash {
		t.Fatalf("hash %q of secret %q", hash, secret)
	}
}

func TestCacheAndRevocation(t *testing.T) {
	store, id, secret := newStore()
	now := time.Unix(1000, 0)
	v := auth.NewVerifier(store, time.Minute)
	v.Now = func() time.Time { return now }
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := v.Verify(ctx, id, secret); err != nil {
			t.Fatal(err)
		}
	}
	if store.reads != 1 {
		t.Fatalf("store reads = %d, want 1 (cached)", store.reads)
	}
	if _, err := v.Verify(ctx, id, "wrong"); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatal("a cached key accepted a wrong secret")
	}
	k := store.keys[id]
	k.Revoked = true
	store.keys[id] = k
	now = now.Add(2 * time.Minute)
	if _, err := v.Verify(ctx, id, secret); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatal("revoked key accepted after the cache expired")
	}
}
