package graph

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// Dataloaders batch the per-object lookups of one request (an item's permissions, a drive's
// owner, …) into one query per kind. The connection resolvers go further: they know which
// nested fields the query selects and prefetch them for the whole page before returning, so a
// page costs a fixed number of statements whatever its size. The loaders' batching window only
// serves the remaining cases (node lookups, inheritedFrom).

// batchWait is how long a loader collects keys before it queries.
const batchWait = 2 * time.Millisecond

const maxBatch = 1000

type entry[V any] struct {
	done chan struct{}
	v    V
	err  error
}

type loader[K comparable, V any] struct {
	ctx   context.Context
	fetch func(context.Context, []K) (map[K]V, error)

	mu      sync.Mutex
	cache   map[K]*entry[V]
	pending []K
	timer   *time.Timer
}

func newLoader[K comparable, V any](ctx context.Context, fetch func(context.Context, []K) (map[K]V, error)) *loader[K, V] {
	return &loader[K, V]{ctx: ctx, fetch: fetch, cache: map[K]*entry[V]{}}
}

// load returns the value for k (the zero value when the row does not exist).
func (l *loader[K, V]) load(ctx context.Context, k K) (V, error) {
	l.mu.Lock()
	e, ok := l.cache[k]
	if !ok {
		e = &entry[V]{done: make(chan struct{})}
		l.cache[k] = e
		l.pending = append(l.pending, k)
		switch {
		case len(l.pending) >= maxBatch:
			l.dispatchLocked()
		case l.timer == nil:
			l.timer = time.AfterFunc(batchWait, func() {
				l.mu.Lock()
				defer l.mu.Unlock()
				l.dispatchLocked()
			})
		}
	}
	l.mu.Unlock()
	select {
	case <-e.done:
		return e.v, e.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

func (l *loader[K, V]) dispatchLocked() {
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	keys := l.pending
	l.pending = nil
	if len(keys) == 0 {
		return
	}
	entries := make([]*entry[V], len(keys))
	for i, k := range keys {
		entries[i] = l.cache[k]
	}
	go func() {
		values, err := l.fetch(l.ctx, keys)
		for i, k := range keys {
			entries[i].v, entries[i].err = values[k], err
			close(entries[i].done)
		}
	}()
}

// resolved is the done channel of every primed entry: closed once, shared, so that priming a
// page's keys allocates no channel per key.
var resolved = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// prime records values fetched some other way; keys already known keep their value.
func (l *loader[K, V]) prime(values map[K]V, keys []K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	entries := make([]entry[V], len(keys))
	for i, k := range keys {
		if _, ok := l.cache[k]; ok {
			continue
		}
		entries[i] = entry[V]{done: resolved, v: values[k]}
		l.cache[k] = &entries[i]
	}
}

// loaders are the dataloaders of one request.
type loaders struct {
	items        *loader[store.RowKey, *model.DriveItem]
	permissions  *loader[store.RowKey, []*model.Permission]
	users        *loader[store.RowKey, *model.User]
	drives       *loader[store.RowKey, *model.Drive]
	ownerDrives  *loader[store.RowKey, *model.Drive]
	driveStats   *loader[store.RowKey, store.DriveItemStats]
	integrations *loader[string, *model.Integration]
	tenantFacts  *loader[string, *models.TenantFacts]
}

func newLoaders(ctx context.Context, st *store.Store) *loaders {
	return &loaders{
		items:       newLoader(ctx, apiLoad(st.ItemsByKey, toItem)),
		permissions: newLoader(ctx, apiLoad(st.PermissionsByItem, apiPermissions)),
		users:       newLoader(ctx, apiLoad(st.UsersByKey, toUser)),
		drives:      newLoader(ctx, apiLoad(st.DrivesByKey, toDrive)),
		ownerDrives: newLoader(ctx, apiLoad(st.DrivesByOwner, toDrive)),
		driveStats:  newLoader(ctx, st.DriveItemStatsByDrive),
		tenantFacts: newLoader(ctx, st.TenantFacts),
		integrations: newLoader(ctx, func(ctx context.Context, ids []string) (map[string]*model.Integration, error) {
			out := map[string]*model.Integration{}
			for _, id := range ids {
				in, err := st.Integration(ctx, id)
				if err != nil {
					if errors.Is(err, store.ErrNotFound) {
						continue
					}
					return nil, err
				}
				out[id] = (*model.Integration)(in)
			}
			return out, nil
		}),
	}
}

type loadersKey struct{}

// withLoaders gives each operation its own loaders, so nothing cached outlives a request.
func (r *Resolver) withLoaders(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, loadersKey{}, newLoaders(ctx, r.store)))
}

func (r *Resolver) loaders(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	// Outside an operation (tests calling resolvers directly): unshared loaders.
	return newLoaders(ctx, r.store)
}

// Selection paths the list resolvers prefetch for: from a connection down to the field that
// needs a query, each step "Type.field", the field and the object type it is selected on (for
// fragments on that type). TestPrefetchPathsExistInTheSchema walks each one through the schema,
// so renaming a field there fails a test instead of silently ending the prefetch.
const (
	pathUserDrive            = "UserConnection.edges UserEdge.node User.drive"
	pathDriveOwner           = "DriveConnection.edges DriveEdge.node Drive.owner"
	pathDriveItemCount       = "DriveConnection.edges DriveEdge.node Drive.itemCount"
	pathDriveSharedItemCount = "DriveConnection.edges DriveEdge.node Drive.sharedItemCount"
	pathItemPermissions      = "DriveItemConnection.edges DriveItemEdge.node DriveItem.permissions"
	pathItemSharedScope      = "DriveItemConnection.edges DriveItemEdge.node DriveItem.sharedScope"
	pathItemOwner            = "DriveItemConnection.edges DriveItemEdge.node DriveItem.owner"
	pathItemDrive            = "DriveItemConnection.edges DriveItemEdge.node DriveItem.drive"
)

// prefetchPaths lists the paths above, for the test.
func prefetchPaths() []string {
	return []string{pathUserDrive, pathDriveOwner, pathDriveItemCount, pathDriveSharedItemCount,
		pathItemPermissions, pathItemSharedScope, pathItemOwner, pathItemDrive}
}

// selected reports whether the current field's selection reaches path (one of the constants
// above).
func selected(ctx context.Context, path string) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return false
	}
	opCtx := graphql.GetOperationContext(ctx)
	sel := fc.Field.Selections
	for _, step := range strings.Fields(path) {
		typ, name, _ := strings.Cut(step, ".")
		var next ast.SelectionSet
		found := false
		for _, f := range graphql.CollectFields(opCtx, sel, []string{typ}) {
			if f.Name == name {
				found = true
				next = append(next, f.Selections...)
			}
		}
		if !found {
			return false
		}
		sel = next
	}
	return true
}

// prefetchItems loads, for a page of items, what the query selects below them: their
// permissions, drives and drive owners, one statement each.
func (r *Resolver) prefetchItems(ctx context.Context, integrationID string, items []*model.DriveItem) error {
	l := r.loaders(ctx)
	keys := make([]store.RowKey, len(items))
	byKey := make(map[store.RowKey]*model.DriveItem, len(items))
	driveSet := map[store.RowKey]bool{}
	var driveKeys []store.RowKey
	for i := range items {
		keys[i] = store.RowKey{IntegrationID: integrationID, ID: items[i].ID}
		byKey[keys[i]] = items[i]
		dk := store.RowKey{IntegrationID: integrationID, ID: items[i].DriveID}
		if !driveSet[dk] {
			driveSet[dk] = true
			driveKeys = append(driveKeys, dk)
		}
	}
	l.items.prime(byKey, keys)
	if selected(ctx, pathItemPermissions) || selected(ctx, pathItemSharedScope) {
		perms, err := r.store.PermissionsByItem(ctx, keys)
		if err != nil {
			return err
		}
		l.permissions.prime(apiMap(perms, apiPermissions), keys)
	}
	wantOwner := selected(ctx, pathItemOwner)
	if wantOwner || selected(ctx, pathItemDrive) {
		stored, err := r.store.DrivesByKey(ctx, driveKeys)
		if err != nil {
			return err
		}
		drives := apiMap(stored, toDrive)
		l.drives.prime(drives, driveKeys)
		if wantOwner {
			return r.prefetchUsers(ctx, integrationID, drives)
		}
	}
	return nil
}

func (r *Resolver) prefetchUsers(ctx context.Context, integrationID string, drives map[store.RowKey]*model.Drive) error {
	seen := map[store.RowKey]bool{}
	var userKeys []store.RowKey
	owned := map[store.RowKey]*model.Drive{}
	for _, d := range drives {
		if d == nil || d.OwnerUserID == "" {
			continue
		}
		k := store.RowKey{IntegrationID: integrationID, ID: d.OwnerUserID}
		if !seen[k] {
			seen[k] = true
			userKeys = append(userKeys, k)
			owned[k] = d
		}
	}
	if len(userKeys) == 0 {
		return nil
	}
	// Each owner's drive is one of these drives: owner { drive } needs no query.
	r.loaders(ctx).ownerDrives.prime(owned, userKeys)
	users, err := r.store.UsersByKey(ctx, userKeys)
	if err != nil {
		return err
	}
	r.loaders(ctx).users.prime(apiMap(users, toUser), userKeys)
	return nil
}
