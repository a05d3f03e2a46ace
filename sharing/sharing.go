// Package sharing changes sharing in Microsoft 365 on an administrator's behalf: it removes
// permissions (stop sharing) and sets the expiry of anonymous links, always through Microsoft
// Graph first and in the database second, and records one audit event per permission it
// touched or refused.
//
// # Stop sharing
//
// For each item, All means every permission of the item's own that is sharing (not the
// owner's, not limited access, not an existingAccess link); otherwise exactly the listed
// permission ids, so an empty list removes nothing (the GraphQL API refuses one: a script
// whose filter found nothing must not unshare the whole item). A permission the
// database holds as inherited, and the owner's, are refused without calling Graph. Otherwise
// Graph's DELETE runs first. Then, whatever Graph answered, the item's permissions are read
// once more (one request, 5 resource units) and each permission is judged by that list, not
// by the DELETE's answer: SharePoint answers 204 and keeps the owner's grant and limited
// access, and answers 403 notAllowed for a permission the item inherits (its id is the same
// as the folder's, since SharePoint names grants after their principal). Gone from the list
// is "Confirmed removed"; still listed names what is still there in words (still granted by
// the folder X, or kept by Microsoft 365). The item's rows then become what Graph listed, and
// drive_items' sharing state is recomputed. A copy of a folder's grant on a uniquely shared
// item is the item's own permission and is removed from the item alone. When the list cannot
// be read, the DELETE's answers stand (204 and 404 remove the row) and the message says the
// removal could not be confirmed.
//
// A listed permission id that the database does not hold for the item is never sent to Graph
// (Overshare does not act on sharing it has not shown to anyone) and never silently dropped:
// when the audit log records that Overshare removed it from this item, it is already removed
// (a repeated call, or a concurrent one that went first: the message says when and by whom);
// otherwise it fails, naming it ("sync again if it was just created"). Neither writes an audit
// event, since nothing was done; nor does a repeated All, which finds nothing left to remove.
//
// # One call at a time per item
//
// Calls on the same item (stop sharing, bulk or not, and link expiry) are serialised in the
// process by a lock per integration and item held on the Service: from reading the item's
// permissions in the database, through Graph and the re-read, to the last audit event. So two
// concurrent calls send one DELETE per permission, and the one that waited answers from what
// the first did. Across processes (several `serve` replicas) nothing is locked: both may send
// the DELETE, and the second is answered 404, confirmed by its re-read and recorded as already
// removed, which is true; the answers and the audit log still agree.
//
// # Graph clients
//
// One msgraph client per integration is kept (at most Config.MaxClients, least recently used
// dropped), because a client owns the app's access token and its connections: a new one costs
// a sign-in round trip before its first call. A client is keyed by the integration's tenant,
// client id and encrypted secret, so rotating the secret builds a new one.
package sharing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

// Defaults.
const (
	DefaultConcurrency = 4
	DefaultMaxClients  = 32
)

// Config is what the service needs.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	// GraphDefaults gives the authority and Graph URLs, the extra CA and the version; the
	// tenant, client id and secret come from each integration.
	GraphDefaults msgraph.Config
	// Concurrency is how many items are worked on at once (Graph DELETEs cost 5 resource
	// units each; a few at a time stays well inside an app's budget). Default 4.
	Concurrency int
	// MaxClients bounds the cache of Graph clients. Default 32.
	MaxClients int
}

// Service changes sharing. It is safe for concurrent use.
type Service struct {
	cfg Config
	st  *store.Store
	log *slog.Logger

	mu      sync.Mutex
	clients map[string]*cachedClient // by integration id
	tick    uint64

	locks itemLocks // one change of an item's sharing at a time, in this process
}

type cachedClient struct {
	key    string
	client *msgraph.Client
	used   uint64
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	return &Service{cfg: cfg, st: cfg.Store, log: cfg.Logger, clients: map[string]*cachedClient{},
		locks: itemLocks{held: map[store.RowKey]*itemLock{}}}
}

// client returns the integration's Graph client, building it when the integration is new to
// the cache or its credentials changed.
func (s *Service) client(ctx context.Context, integrationID string) (*msgraph.Client, *models.Integration, error) {
	in, err := s.st.Integration(ctx, integrationID)
	if err != nil {
		return nil, nil, err
	}
	// The ciphertexts change with every new credential (a fresh nonce), so a rotated secret or
	// certificate builds a new client.
	sum := sha256.Sum256(append(append([]byte(in.CredentialType), in.SecretCiphertext...), in.CertificateCiphertext...))
	key := in.TenantID + "|" + in.ClientID + "|" + hex.EncodeToString(sum[:])
	// The re-read after a change maps permissions with this client: judge
	// External by the domains the last sync used (a client that lists no
	// users knows none), re-read every call since a sync may change them.
	facts, err := s.st.TenantFacts(ctx, []string{integrationID})
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	if c := s.clients[integrationID]; c != nil && c.key == key {
		s.tick++
		c.used = s.tick
		s.mu.Unlock()
		syncer.ApplyTenantDomains(c.client, facts[integrationID])
		return c.client, in, nil
	}
	s.mu.Unlock()

	cred, err := s.st.IntegrationCredential(ctx, integrationID)
	if err != nil {
		return nil, nil, err
	}
	cfg := s.cfg.GraphDefaults
	cfg.TenantID, cfg.ClientID = in.TenantID, in.ClientID
	cfg.ClientSecret, cfg.Certificate = cred.Secret, cred.Certificate
	if cfg.Logger == nil {
		cfg.Logger = s.log
	}
	gc, err := msgraph.New(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("graph client for integration %s: %w", integrationID, err)
	}
	syncer.ApplyTenantDomains(gc, facts[integrationID])
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[integrationID]; c != nil && c.key == key {
		return c.client, in, nil // built concurrently by another call
	}
	if _, ok := s.clients[integrationID]; !ok && len(s.clients) >= s.cfg.MaxClients {
		var oldest string
		for id, c := range s.clients {
			if oldest == "" || c.used < s.clients[oldest].used {
				oldest = id
			}
		}
		delete(s.clients, oldest)
	}
	s.tick++
	s.clients[integrationID] = &cachedClient{key: key, client: gc, used: s.tick}
	return gc, in, nil
}
