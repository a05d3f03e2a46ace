package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keySet is the provider's JWKS, fetched on first use and again when a token names a key id it
// does not know (key rotation) — at most once every 10 s. Providers that sign with a new key the
// moment it is made (Ory Hydra does) would otherwise have every new token refused for up to the
// whole interval; 10 s keeps a flood of forged key ids to six fetches a minute.
//
// It replaces go-oidc's RemoteKeySet, which fetches the JWKS again for every token whose
// signature fails: anyone could then make Overshare fetch Entra ID's keys once per forged
// request, until the provider throttles it and every real token fails too.
type keySet struct {
	url    string
	client *http.Client
	algs   []jose.SignatureAlgorithm

	mu   sync.RWMutex
	keys []jose.JSONWebKey

	fetchMu     sync.Mutex // one fetch at a time; waiters then reuse its result
	lastAttempt time.Time
}

const (
	keyRefreshInterval = 10 * time.Second // between fetches while keys are known
	keyRetryInterval   = 2 * time.Second  // between fetches while none could be fetched
	keyFetchTimeout    = 10 * time.Second
)

// VerifySignature implements oidc.KeySet. go-oidc has already checked the algorithm.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, k.algs)
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %w", err)
	}
	kid := jws.Signatures[0].Header.KeyID
	k.mu.RLock()
	keys := k.keys
	k.mu.RUnlock()
	if payload, known := verifyWith(jws, keys, kid); payload != nil {
		return payload, nil
	} else if known && len(keys) > 0 {
		// The key is known and the signature is wrong: forged or damaged, new keys won't help.
		return nil, errors.New("signature does not verify")
	}
	keys, err = k.refresh(ctx)
	if err != nil {
		return nil, err
	}
	if payload, _ := verifyWith(jws, keys, kid); payload != nil {
		return payload, nil
	}
	return nil, errors.New("signature does not verify")
}

// verifyWith tries the keys matching kid (all keys when the token names none). known reports
// whether some key had that id.
func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey, kid string) (payload []byte, known bool) {
	for _, key := range keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		known = true
		if p, err := jws.Verify(&key); err == nil {
			return p, true
		}
	}
	return nil, known
}

// refresh fetches the keys unless that was tried too recently, and returns the current ones.
func (k *keySet) refresh(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()
	k.mu.RLock()
	keys := k.keys
	k.mu.RUnlock()
	interval := keyRefreshInterval
	if len(keys) == 0 {
		interval = keyRetryInterval
	}
	if time.Since(k.lastAttempt) < interval {
		if len(keys) == 0 {
			return nil, errors.New("fetching keys failed a moment ago")
		}
		return keys, nil
	}
	k.lastAttempt = time.Now()
	fresh, err := k.fetch(ctx)
	if err != nil {
		if len(keys) > 0 {
			return keys, nil // keep verifying with the keys we have while the provider is down
		}
		return nil, fmt.Errorf("fetching keys: %w", err)
	}
	k.mu.Lock()
	k.keys = fresh
	k.mu.Unlock()
	return fresh, nil
}

func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	// A request's context may be cancelled by its client; the keys serve everyone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keyFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", k.url, resp.Status)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("decode %s: %w", k.url, err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		// Skip what go-jose cannot read (new key types) and encryption keys, as go-oidc does.
		if key.UnmarshalJSON(raw) != nil || !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no usable signing key", k.url)
	}
	return keys, nil
}
