package auth_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/participant-roster/roster/pkg/platform/auth"
)

// syncKeys is a KeyStore safe for concurrent use, counting its reads.
type syncKeys struct {
	keys  map[string]auth.Key // never written after setup
	reads atomic.Int32
}

func (s *syncKeys) GetKey(_ context.Context, id string) (auth.Key, error) {
	s.reads.Add(1)
	k, ok := s.keys[id]
	if !ok {
		return auth.Key{}, auth.ErrKeyNotFound
	}
	return k, nil
}

// TestVerifyConcurrently: one verifier serves many requests at once (a warm Lambda's handlers
// share it), each answered right, the cache saving most of the reads. `make test` runs it under
// the race detector.
func TestVerifyConcurrently(t *testing.T) {
	store := &syncKeys{keys: map[string]auth.Key{}}
	type cred struct{ id, secret string }
	var creds []cred
	for range 3 {
		id, secret, hash := auth.NewSecret()
		store.keys[id] = auth.Key{ID: id, WorkspaceID: "ws_1", SecretHash: hash}
		creds = append(creds, cred{id, secret})
	}
	v := auth.NewVerifier(store, time.Minute)
	const workers, calls = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				c := creds[(w+i)%len(creds)]
				secret, wantErr := c.secret, error(nil)
				if i%5 == 4 {
					secret, wantErr = c.secret+"x", auth.ErrUnauthorized
				}
				p, err := v.Verify(context.Background(), c.id, secret)
				if !errors.Is(err, wantErr) || (err == nil && p.KeyID != c.id) {
					t.Errorf("Verify(%s) = %+v, %v; want %v", c.id, p, err, wantErr)
					return
				}
			}
		})
	}
	wg.Wait()
	if reads := store.reads.Load(); reads > workers*int32(len(creds)) {
		t.Errorf("%d store reads for %d verifications of %d keys: the cache is not used", reads, workers*calls, len(creds))
	}
}
