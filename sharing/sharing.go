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
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/overshare/overshare/auth"
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

// Item names an item and which of its permissions to remove: with All, every permission of
// the item's own that is sharing (PermissionIDs is ignored); otherwise exactly the listed Graph
// ids, so an empty list removes nothing.
type Item struct {
	ItemID        string
	All           bool
	PermissionIDs []string
}

// Outcome is what happened to one permission.
type Outcome struct {
	ItemID       string
	PermissionID string
	// Result is models.AuditRemoved, models.AuditAlreadyRemoved or models.AuditFailed.
	Result string
	// Message says what happened, in words: "Confirmed removed: …", or why it failed and what
	// is still there.
	Message string
	// Confirmed is true when the item's permissions, read again after the removal, no longer
	// list the permission.
	Confirmed bool
}

// Error is a failure shown to the caller as is: Message is written for people and holds no
// secret. Code is a GraphQL error code (BAD_USER_INPUT, NOT_FOUND, GRAPH_ERROR).
type Error struct {
	Code    string
	Message string
	err     error
}

// Error codes.
const (
	CodeBadUserInput = "BAD_USER_INPUT"
	CodeNotFound     = "NOT_FOUND"
	CodeGraphError   = "GRAPH_ERROR"
)

func (e *Error) Error() string     { return e.Message }
func (e *Error) ErrorCode() string { return e.Code }
func (e *Error) Unwrap() error     { return e.err }

// StopSharing removes permissions of items of one integration, Concurrency items at a time,
// and returns one outcome per permission attempted, in the order of items. Per-permission
// failures are outcomes; the error is for failures of the whole call (the integration is
// unknown, the database failed, ctx ended).
func (s *Service) StopSharing(ctx context.Context, actor auth.Principal, integrationID string, items []Item) ([]Outcome, error) {
	items = mergeItems(items)
	if len(items) == 0 {
		return nil, nil
	}
	gc, _, err := s.client(ctx, integrationID)
	if err != nil {
		return nil, err
	}
	keys := make([]store.RowKey, 0, len(items))
	for _, it := range items {
		keys = append(keys, store.RowKey{IntegrationID: integrationID, ID: it.ItemID})
	}
	stored, err := s.st.ItemsByKey(ctx, keys)
	if err != nil {
		return nil, err
	}

	results := make([][]Outcome, len(items))
	errs := make([]error, len(items))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(s.cfg.Concurrency, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				k := store.RowKey{IntegrationID: integrationID, ID: items[i].ItemID}
				it := stored[k]
				if it == nil {
					results[i] = unknownItem(items[i])
					continue
				}
				job := itemJob{s: s, gc: gc, actor: actor, item: it}
				results[i], errs[i] = job.runLocked(ctx, items[i])
			}
		}()
	}
feed:
	for i := range items {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()

	var out []Outcome
	for i := range items {
		out = append(out, results[i]...)
	}
	if err := errors.Join(errs...); err != nil {
		return out, err
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, nil
}

// mergeItems makes one entry per item, so that no permission is sent to Graph twice: an entry
// with All (everything of the item's own) wins over lists of ids. An entry asking for nothing
// (no All, no ids) is dropped.
func mergeItems(items []Item) []Item {
	at := make(map[string]int, len(items))
	var out []Item
	for _, it := range items {
		if !it.All && len(it.PermissionIDs) == 0 {
			continue
		}
		i, ok := at[it.ItemID]
		if !ok {
			at[it.ItemID] = len(out)
			e := Item{ItemID: it.ItemID, All: it.All}
			if !it.All {
				e.PermissionIDs = slices.Clone(it.PermissionIDs)
			}
			out = append(out, e)
			continue
		}
		if out[i].All || it.All {
			out[i].All, out[i].PermissionIDs = true, nil
			continue
		}
		out[i].PermissionIDs = append(out[i].PermissionIDs, it.PermissionIDs...)
	}
	return out
}

// itemJob removes permissions of one item, one at a time, then lists the item's permissions
// once more to confirm.
type itemJob struct {
	s       *Service
	gc      *msgraph.Client
	actor   auth.Principal
	item    *models.DriveItem
	perms   []*models.Permission
	folders map[store.RowKey]*models.DriveItem
}

// attempt is what Graph answered to the DELETE of one permission (nil err: 204), or why it
// was not sent (refused).
type attempt struct {
	p       *models.Permission
	sent    bool
	err     error
	refused string // sent == false: the reason, in words
}

// unknownItem answers the listed ids of an item the database does not hold (deleted since
// it was listed, or never synced): each fails, naming it; All finds nothing to remove.
func unknownItem(it Item) []Outcome {
	var out []Outcome
	for _, id := range it.PermissionIDs {
		out = append(out, Outcome{ItemID: it.ItemID, PermissionID: id, Result: models.AuditFailed,
			Message: fmt.Sprintf("Overshare does not know permission %q on this item, nor the item (it may have been deleted since); sync again if it was just created. Nothing was sent to Microsoft 365.", id)})
	}
	return out
}

// runLocked works on the item under its lock: the item's permissions are read from the
// database after the lock is taken, so a call that waited sees what the one before it did.
func (j *itemJob) runLocked(ctx context.Context, it Item) ([]Outcome, error) {
	key := store.RowKey{IntegrationID: j.item.IntegrationID, ID: j.item.ID}
	unlock, err := j.s.locks.lock(ctx, key)
	if err != nil {
		return nil, err
	}
	defer unlock()
	perms, err := j.s.st.PermissionsByItem(ctx, []store.RowKey{key})
	if err != nil {
		return nil, err
	}
	j.perms = perms[key]
	// The folders inherited permissions come from, for the refusal message.
	var fromKeys []store.RowKey
	for _, p := range j.perms {
		if p.Inherited && p.InheritedFromID != nil {
			fromKeys = append(fromKeys, store.RowKey{IntegrationID: j.item.IntegrationID, ID: *p.InheritedFromID})
		}
	}
	if j.folders, err = j.s.st.ItemsByKey(ctx, fromKeys); err != nil {
		return nil, err
	}
	targets, unknown := j.targets(it)
	out, err := j.run(ctx, targets)
	if err != nil {
		return out, err
	}
	unknownOut, err := j.unknown(ctx, unknown)
	return append(out, unknownOut...), err
}

func (j *itemJob) run(ctx context.Context, targets []*models.Permission) ([]Outcome, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	tries := make([]attempt, 0, len(targets))
	for _, p := range targets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		a := attempt{p: p}
		switch {
		case p.Inherited:
			a.refused = j.inheritedMessage(ctx, p)
		case isOwner(p):
			a.refused = "This is the owner's access to their own file; Microsoft 365 does not let it be removed."
		default:
			a.sent = true
			a.err = j.gc.DeletePermission(ctx, j.item.DriveID, j.item.ID, p.ID)
			if a.err != nil && ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
		tries = append(tries, a)
	}
	// One read of the item's permissions says what is still there, whatever Graph answered.
	listed, lerr := j.gc.ItemPermissions(ctx, j.item.DriveID, j.item.ID)
	switch {
	case lerr != nil && ctx.Err() != nil:
		return nil, ctx.Err()
	case msgraph.KindOf(lerr) == msgraph.NotFound:
		listed, lerr = nil, nil // the item is gone, and every permission with it
	}
	out := make([]Outcome, 0, len(tries))
	inheritedNow := map[string]*models.DriveItem{} // refused as inherited: the folder holding it
	for _, a := range tries {
		o := j.outcome(ctx, a, listed, lerr, inheritedNow)
		out = append(out, o)
	}
	if err := j.updateFromList(ctx, out, listed, lerr, inheritedNow); err != nil {
		return out, err
	}
	for k, a := range tries {
		if err := j.s.audit(ctx, j.actor, models.AuditStopSharing, j.item, a.p, out[k]); err != nil {
			return out, err
		}
	}
	return out, nil
}

// targets are the permissions to remove: with All, every permission of the item's own that
// is sharing; otherwise the listed ids the database holds for the item, each once. unknown are
// the listed ids it does not hold, in the order asked.
func (j *itemJob) targets(it Item) (targets []*models.Permission, unknown []string) {
	if it.All {
		for _, p := range j.perms {
			if p.IsSharing() {
				targets = append(targets, p)
			}
		}
		return targets, nil
	}
	byID := make(map[string]*models.Permission, len(j.perms))
	for _, p := range j.perms {
		byID[p.ID] = p
	}
	seen := map[string]bool{}
	for _, id := range it.PermissionIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if p := byID[id]; p != nil {
			targets = append(targets, p)
		} else {
			unknown = append(unknown, id)
		}
	}
	return targets, unknown
}

// unknown answers the listed ids the database does not hold for the item, without calling
// Graph and without an audit event (nothing was done): an id that Overshare removed from this
// item before (a repeated call, or a concurrent one that went first) is already removed, as
// the audit log says; any other fails, naming it, so that a script learns that it asked for
// something Overshare has never shown.
func (j *itemJob) unknown(ctx context.Context, ids []string) ([]Outcome, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	removals, err := j.s.st.LastRemovals(ctx, j.item.IntegrationID, j.item.ID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Outcome, 0, len(ids))
	for _, id := range ids {
		o := Outcome{ItemID: j.item.ID, PermissionID: id, Result: models.AuditFailed,
			Message: fmt.Sprintf("Overshare does not know permission %q on this item; sync again if it was just created. Nothing was sent to Microsoft 365.", id)}
		if ev := removals[id]; ev != nil {
			who := ev.ActorName
			if who == "" {
				who = ev.ActorSubject
			}
			o.Result = models.AuditAlreadyRemoved
			o.Confirmed = strings.HasPrefix(ev.Message, "Confirmed removed")
			o.Message = fmt.Sprintf("Already removed: Overshare removed it from this item on %s (by %s); nothing was sent to Microsoft 365 again.",
				expiryWords(ev.At), who)
		}
		out = append(out, o)
	}
	return out, nil
}

// outcome judges one attempt by the permissions listed afterwards: gone is "confirmed
// removed"; still listed names what is still there.
func (j *itemJob) outcome(ctx context.Context, a attempt, listed []msgraph.Permission, lerr error, inheritedNow map[string]*models.DriveItem) Outcome {
	o := Outcome{ItemID: j.item.ID, PermissionID: a.p.ID, Result: models.AuditFailed}
	kind := msgraph.KindOf(a.err)
	switch {
	case !a.sent:
		o.Message = a.refused
		return o
	case kind == msgraph.NotAllowed && lerr != nil && msgraph.KindOf(lerr).DriveInaccessible():
		// A blocked site answers a change 403 notAllowed too, as SharePoint refuses an entry
		// the item inherits; the item cannot be read either, so it is the site.
		o.Message = graphMessage(lerr)
		return o
	case a.err != nil && kind != msgraph.NotFound && kind != msgraph.NotAllowed:
		o.Message = graphMessage(a.err)
		return o
	}
	var still *msgraph.Permission
	if lerr == nil {
		for k := range listed {
			if listed[k].ID == a.p.ID {
				still = &listed[k]
			}
		}
	}
	switch {
	case lerr != nil && a.err == nil:
		o.Result, o.Message = models.AuditRemoved, "Removed in Microsoft 365, but it could not be confirmed: "+graphMessage(lerr)
	case lerr != nil && kind == msgraph.NotFound:
		o.Result, o.Message = models.AuditAlreadyRemoved, "Microsoft 365 no longer had this permission; removed from Overshare too."
	case lerr != nil:
		o.Message = graphMessage(a.err)
	case still == nil && kind == msgraph.NotFound:
		o.Result, o.Confirmed = models.AuditAlreadyRemoved, true
		o.Message = "Confirmed removed: Microsoft 365 no longer had this permission and does not list it on the item."
	case still == nil:
		o.Result, o.Confirmed = models.AuditRemoved, true
		o.Message = "Confirmed removed: Microsoft 365 no longer lists this permission on the item."
	case kind == msgraph.NotAllowed || still.Inherited:
		folder := j.folderOf(ctx, a.p, still)
		inheritedNow[a.p.ID] = folder
		o.Message = "Still there: " + InheritedMessage(folder)
	default:
		o.Message = "Still there: Microsoft 365 answered that it was removed but still lists it on the item " +
			"(SharePoint keeps some access, such as the owner's and limited access, whatever is asked)."
	}
	return o
}

// folderOf is where a permission still listed on the item comes from: the item Graph names
// in inheritedFrom, else the nearest stored ancestor that holds the same id.
func (j *itemJob) folderOf(ctx context.Context, p *models.Permission, still *msgraph.Permission) *models.DriveItem {
	if still.InheritedFromID != "" {
		if f, err := j.s.st.DriveItem(ctx, j.item.IntegrationID, still.InheritedFromID); err == nil {
			return f
		}
	}
	f, err := j.s.st.AncestorHoldingPermission(ctx, j.item.IntegrationID, j.item.ID, p.ID)
	if err != nil {
		return nil
	}
	return f
}

// updateFromList makes the database match what Graph listed after the removals: the item's
// rows become the listed permissions (an entry refused as inherited is stored as inherited
// from the folder that holds it). When the list could not be read, the confirmed Graph answers
// are applied row by row.
func (j *itemJob) updateFromList(ctx context.Context, out []Outcome, listed []msgraph.Permission, lerr error, inheritedNow map[string]*models.DriveItem) error {
	var err error
	if lerr != nil {
		for _, o := range out {
			if o.Result != models.AuditFailed {
				if _, e := j.s.st.RemoveOwnPermission(ctx, j.item.IntegrationID, j.item.ID, o.PermissionID); e != nil {
					err = e
				}
			}
		}
	} else {
		stored := make(map[string]*models.Permission, len(j.perms))
		for _, p := range j.perms {
			stored[p.ID] = p
		}
		// An item inherits all or nothing: one entry refused as inherited means every entry
		// it lists comes from the same folder.
		var from *models.DriveItem
		inherits := len(inheritedNow) > 0
		for _, f := range inheritedNow {
			from = f
		}
		rows := make([]models.Permission, len(listed))
		for k := range listed {
			rows[k] = syncer.PermissionRow(j.item.IntegrationID, j.item.DriveID, j.item.ID, &listed[k])
			switch {
			case j.item.IsRoot:
			case listed[k].InheritedFromID != "":
				id := listed[k].InheritedFromID
				rows[k].Inherited, rows[k].InheritedFromID = true, &id
			case listed[k].Inherited || inherits:
				rows[k].Inherited = true
				if from != nil {
					rows[k].InheritedFromID = &from.ID
				}
			case stored[listed[k].ID] != nil && stored[listed[k].ID].Inherited:
				rows[k].Inherited, rows[k].InheritedFromID = true, stored[listed[k].ID].InheritedFromID
			}
		}
		err = j.s.st.ReplaceItemPermissions(ctx, j.item.IntegrationID, j.item.DriveID, j.item.ID, rows)
	}
	if err != nil {
		// Microsoft 365 changed; the next sync brings the database in line.
		j.s.log.Error("stop sharing: database not updated after Graph changed the item",
			"integration", j.item.IntegrationID, "item", j.item.ID, "error", err)
		for k := range out {
			if out[k].Result != models.AuditFailed {
				out[k].Message += " The database could not be updated yet; the next sync will."
			}
		}
	}
	return err
}

// inheritedMessage names the folder where an inherited permission is set.
func (j *itemJob) inheritedMessage(ctx context.Context, p *models.Permission) string {
	var folder *models.DriveItem
	if p.InheritedFromID != nil {
		folder = j.folders[store.RowKey{IntegrationID: j.item.IntegrationID, ID: *p.InheritedFromID}]
	}
	if folder == nil {
		if f, err := j.s.st.AncestorHoldingPermission(ctx, j.item.IntegrationID, j.item.ID, p.ID); err == nil {
			folder = f
		}
	}
	return InheritedMessage(folder)
}

// InheritedMessage is the refusal for an inherited permission, naming the folder it comes
// from when known.
func InheritedMessage(folder *models.DriveItem) string {
	if folder == nil {
		return "This permission is inherited from a parent folder; stop sharing on the folder it comes from instead."
	}
	where := folder.Path
	if folder.IsRoot || where == "" || where == "/" {
		return "This permission is inherited from the root of the OneDrive; it cannot be removed from a single item."
	}
	return fmt.Sprintf("This permission is inherited from the folder %q (%s); stop sharing on that folder instead.", folder.Name, where)
}

func isOwner(p *models.Permission) bool {
	for _, r := range strings.Split(p.Roles, ",") {
		if r == "owner" {
			return true
		}
	}
	return false
}

// graphMessage is msgraph's sentence for an administrator.
func graphMessage(err error) string {
	var ge *msgraph.Error
	if errors.As(err, &ge) && ge.Message != "" {
		return ge.Message
	}
	return "Microsoft Graph could not be reached or answered unexpectedly: " + err.Error()
}

// LinkExpiry is what SetLinkExpiration did: the updated row, and in words the expiry Microsoft
// 365 applied, which a tenant's policy for Anyone links may have made earlier than the one asked
// for without refusing it (Limited).
type LinkExpiry struct {
	Permission *models.Permission
	Requested  *time.Time // nil: clear
	Limited    bool
	Message    string
}

// SetLinkExpiration sets (or with nil clears) the expiry of an anonymous sharing link set on
// the item itself, in Microsoft 365 and then in the database with the expiry Graph answered,
// records an audit event (set_link_expiration, updated or failed, with that date) and returns
// the updated row. Graph refuses an expiry on organisation and specific-people links, so those
// are refused here in words without calling it; so is an inherited link (its folder is named).
func (s *Service) SetLinkExpiration(ctx context.Context, actor auth.Principal, integrationID, itemID, permID string, expiresAt *time.Time) (*LinkExpiry, error) {
	unlock, err := s.locks.lock(ctx, store.RowKey{IntegrationID: integrationID, ID: itemID})
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, err := s.st.PermissionByKey(ctx, store.PermissionKey{IntegrationID: integrationID, ItemID: itemID, ID: permID})
	if err != nil {
		return nil, err
	}
	item, err := s.st.DriveItem(ctx, integrationID, itemID)
	if err != nil {
		return nil, err
	}
	fail := func(code, msg string, cause error) (*LinkExpiry, error) {
		o := Outcome{ItemID: itemID, PermissionID: permID, Result: models.AuditFailed, Message: msg}
		if err := s.audit(ctx, actor, models.AuditSetLinkExpiration, item, p, o); err != nil {
			return nil, err
		}
		return nil, &Error{Code: code, Message: msg, err: cause}
	}
	if p.Inherited {
		var folder *models.DriveItem
		if p.InheritedFromID != nil {
			folder, _ = s.st.DriveItem(ctx, integrationID, *p.InheritedFromID)
		}
		return fail(CodeBadUserInput, strings.Replace(InheritedMessage(folder), "stop sharing on", "set its expiry on", 1), nil)
	}
	if p.Scope() != models.LinkScopeAnonymous {
		return fail(CodeBadUserInput, notAnonymousMessage(p), nil)
	}
	if expiresAt != nil && !expiresAt.After(time.Now()) {
		return fail(CodeBadUserInput, "The expiry must be in the future.", nil)
	}
	gc, _, err := s.client(ctx, integrationID)
	if err != nil {
		return nil, err
	}
	var at time.Time // Graph's zero date clears the expiry
	if expiresAt != nil {
		at = expiresAt.UTC().Truncate(time.Second)
	}
	answer, err := gc.SetPermissionExpiration(ctx, item.DriveID, itemID, permID, at)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch msgraph.KindOf(err) {
		case msgraph.Rejected:
			if expiresAt == nil {
				return fail(CodeBadUserInput, clearRefusedMessage(err), err)
			}
			return fail(CodeBadUserInput, graphMessage(err), err)
		case msgraph.NotFound:
			if _, derr := s.st.RemoveOwnPermission(ctx, integrationID, itemID, permID); derr != nil {
				return nil, derr
			}
			return fail(CodeNotFound, "Microsoft 365 no longer has this link; it was removed from Overshare too.", err)
		case msgraph.NotAllowed:
			return fail(CodeBadUserInput, "Microsoft 365 does not allow changing this link on this item (403 notAllowed): it may be inherited from a parent folder; set its expiry on that folder instead.", err)
		}
		return fail(CodeGraphError, graphMessage(err), err)
	}
	if err := s.st.SetOwnPermissionExpiry(ctx, integrationID, itemID, permID, answer.ExpiresAt); err != nil {
		return nil, err
	}
	res := expiryOutcome(expiresAt, answer.ExpiresAt)
	o := Outcome{ItemID: itemID, PermissionID: permID, Result: models.AuditUpdated, Message: res.Message}
	if err := s.audit(ctx, actor, models.AuditSetLinkExpiration, item, p, o); err != nil {
		return nil, err
	}
	if res.Permission, err = s.st.PermissionByKey(ctx, store.PermissionKey{IntegrationID: integrationID, ItemID: itemID, ID: permID}); err != nil {
		return nil, err
	}
	return res, nil
}

// expiryOutcome compares the expiry asked for with the one Microsoft Graph answered: a tenant
// that requires Anyone links to expire within some days shortens a later date to its maximum
// and answers 200 (docs/graph-behaviour.md, "Links: expiry, passwords and tenant policy").
func expiryOutcome(requested, applied *time.Time) *LinkExpiry {
	res := &LinkExpiry{Requested: requested}
	switch {
	case applied == nil && requested == nil:
		res.Message = "Expiry cleared: the link no longer expires."
	case applied == nil:
		res.Message = "Microsoft 365 did not set the expiry: the link still has none."
	case requested != nil && applied.Before(requested.Truncate(time.Second)):
		res.Limited = true
		res.Message = "Microsoft 365 limited the expiry to " + expiryWords(*applied) +
			" (the tenant's maximum for Anyone links), not " + expiryWords(*requested) + " as asked."
	case requested == nil:
		res.Message = "Microsoft 365 kept an expiry (" + expiryWords(*applied) + ") instead of clearing it."
	default:
		res.Message = "Expiry set to " + expiryWords(*applied) + "."
	}
	return res
}

func expiryWords(t time.Time) string { return t.UTC().Format("2 January 2006 15:04 UTC") }

// clearRefusedMessage words Graph's refusal to remove an expiry, which a tenant requiring Anyone
// links to expire answers with 400 invalidRequest.
func clearRefusedMessage(err error) string {
	return "Microsoft 365 refused to remove the expiry of this link: tenants whose sharing policy requires Anyone links " +
		"to expire keep an expiry on every such link. Set a date instead, or stop sharing the link. (Microsoft Graph said: " +
		graphMessage(err) + ")"
}

func notAnonymousMessage(p *models.Permission) string {
	what := "a direct grant to people, not a link"
	switch p.Scope() {
	case models.LinkScopeOrganization:
		what = "an organisation link (people in your organisation)"
	case models.LinkScopeUsers:
		what = "a specific-people link"
	case "":
	default:
		what = "a " + p.Scope() + " link"
	}
	return "Microsoft 365 sets an expiry only on anonymous (\"Anyone with the link\") links; this permission is " + what +
		", and Microsoft Graph refuses an expiry on organisation and specific-people links."
}

// audit records one event for one permission.
func (s *Service) audit(ctx context.Context, actor auth.Principal, action string, item *models.DriveItem, p *models.Permission, o Outcome) error {
	name := actor.Name
	if name == "" {
		name = actor.Email
	}
	ev := &models.AuditEvent{
		IntegrationID: item.IntegrationID,
		ActorSubject:  actor.Subject,
		ActorName:     name,
		Action:        action,
		DriveID:       item.DriveID,
		ItemID:        item.ID,
		ItemName:      item.Name,
		ItemPath:      item.Path,
		PermissionID:  p.ID,
		LinkType:      p.LinkType,
		LinkScope:     p.Scope(),
		LinkWebURL:    p.LinkWebURL,
		GrantedTo:     grantedTo(p),
		Result:        o.Result,
		Message:       o.Message,
	}
	// The event must be written even when the caller has gone: the change in Microsoft 365
	// has happened.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.st.AddAuditEvent(actx, ev); err != nil {
		s.log.Error("audit event not written", "action", action, "integration", item.IntegrationID,
			"item", item.ID, "permission", p.ID, "result", o.Result, "error", err)
		return err
	}
	return nil
}

// grantedTo says who a permission gives access to, in words.
func grantedTo(p *models.Permission) string {
	switch {
	case p.Scope() == models.LinkScopeAnonymous:
		return "anyone with the link"
	case p.Scope() == models.LinkScopeOrganization:
		return "everyone in the organisation with the link"
	case p.GrantedToDisplayName != "" || p.GrantedToEmail != "":
		return person(p.GrantedToDisplayName, p.GrantedToEmail)
	}
	var names []string
	for _, id := range p.GrantedToIdentities {
		names = append(names, person(id.DisplayName, id.Email))
	}
	if len(names) == 0 && p.InvitationEmail != "" {
		names = append(names, p.InvitationEmail)
	}
	return strings.Join(names, ", ")
}

func person(name, email string) string {
	switch {
	case name != "" && email != "":
		return name + " <" + email + ">"
	case name != "":
		return name
	}
	return email
}

// client returns the integration's Graph client, building it when the integration is new to
// the cache or its credentials changed.
func (s *Service) client(ctx context.Context, integrationID string) (*msgraph.Client, *models.Integration, error) {
	in, err := s.st.Integration(ctx, integrationID)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(in.SecretCiphertext)
	key := in.TenantID + "|" + in.ClientID + "|" + hex.EncodeToString(sum[:])
	s.mu.Lock()
	if c := s.clients[integrationID]; c != nil && c.key == key {
		s.tick++
		c.used = s.tick
		s.mu.Unlock()
		return c.client, in, nil
	}
	s.mu.Unlock()

	secret, err := s.st.IntegrationSecret(ctx, integrationID)
	if err != nil {
		return nil, nil, err
	}
	cfg := s.cfg.GraphDefaults
	cfg.TenantID, cfg.ClientID, cfg.ClientSecret = in.TenantID, in.ClientID, secret
	if cfg.Logger == nil {
		cfg.Logger = s.log
	}
	gc, err := msgraph.New(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("graph client for integration %s: %w", integrationID, err)
	}
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

// cachedClients is the number of cached Graph clients (for tests).
func (s *Service) cachedClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}
