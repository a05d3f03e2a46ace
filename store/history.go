package store

// Each item's sharing history: every write that changes permissions (a sync page, a scheduled
// refresh, a deletion, the sharing service's changes, a link's expiry noticed by expireDue)
// reads the own sharing of the items it touches before the write, and after it records the
// difference as sharing_events and opens or closes exposure_intervals, in the same
// transaction. There is no other writer of either table, so replaying an item's events gives
// its current sharing.

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/overshare/overshare/models"
)

// Actor is who changed sharing through Overshare; the zero Actor means a sync found the change.
type Actor struct{ Subject, Name string }

// historyCause says what kind of write a history records.
type historyCause struct {
	// first: the drive has never finished a full round, so sharing found on an item with none
	// stored is the state Overshare first sees, not a change.
	first bool
	// source is the events' source (models.Source*); actor, for SourceOvershare, who.
	source string
	actor  Actor
}

// overshareCause is the cause of a change an admin made through Overshare; without an actor,
// of one Overshare learnt from Microsoft 365 while making another.
func overshareCause(a Actor) historyCause {
	if a == (Actor{}) {
		return syncCause(false)
	}
	return historyCause{source: models.SourceOvershare, actor: a}
}

func syncCause(first bool) historyCause {
	return historyCause{first: first, source: models.SourceMicrosoft365}
}

// itemMeta is what an event copies of its item.
type itemMeta struct {
	driveID, name, path string
	modifiedAt          *time.Time
	modifiedBy          string
}

// history is one write's view of the own sharing of the items it touches.
type history struct {
	integrationID string
	cause         historyCause
	before        map[string][]models.Permission
	// nextExpiry is each item's stored next_expiry before the write: a link that expires at
	// or after it was live when the item's state was last computed.
	nextExpiry map[string]*time.Time
	meta       map[string]itemMeta
}

// ownSharingSelect reads permissions alone, by the primary key's prefix: joined with
// drive_items, PostgreSQL's plans made from a first sync's stale statistics scanned drive_items
// on every page (BENCHMARKS.md, "Sync with sharing history").
const ownSharingSelect = `SELECT p.* FROM permissions p WHERE p.integration_id = ? AND ` + sharedPermission + ` AND `

// beginHistory reads the own sharing of the listed items before a write changes it.
func beginHistory(t *tx, integrationID string, itemIDs []string, cause historyCause) (*history, error) {
	h := newHistory(integrationID, cause)
	err := forChunks(itemIDs, 500, func(chunk []string) error {
		return h.read(t, `p.item_id IN ?`, chunk)
	})
	return h, err
}

// beginHistoryWhere is beginHistory for the items whose permissions match cond (on p).
func beginHistoryWhere(t *tx, integrationID string, cause historyCause, cond string, args ...any) (*history, error) {
	h := newHistory(integrationID, cause)
	return h, h.read(t, cond, args...)
}

func newHistory(integrationID string, cause historyCause) *history {
	return &history{integrationID: integrationID, cause: cause, before: map[string][]models.Permission{},
		nextExpiry: map[string]*time.Time{}, meta: map[string]itemMeta{}}
}

// read loads the own sharing of the items whose permissions match cond (on p), and what the
// history needs of those items: their next_expiry and what events copy.
func (h *history) read(t *tx, cond string, args ...any) error {
	var rows []models.Permission
	if err := t.db.Raw(ownSharingSelect+cond, append([]any{h.integrationID}, args...)...).Scan(&rows).Error; err != nil {
		return fmt.Errorf("read sharing before the change: %w", err)
	}
	var ids []string
	for _, p := range rows {
		if _, ok := h.before[p.ItemID]; !ok {
			ids = append(ids, p.ItemID)
		}
		h.before[p.ItemID] = append(h.before[p.ItemID], p)
	}
	return h.readItems(t, ids)
}

// finish records the difference between the sharing read before and after, the own
// permissions of the items after the write (items not in it have none left; it may list
// permissions that are not sharing, which are left out). page holds the items Graph gave with
// the change, whose names and modification times the events copy.
func (h *history) finish(t *tx, after map[string][]models.Permission, page map[string]*models.DriveItem) error {
	ids := make([]string, 0, len(h.before)+len(after))
	for id := range h.before {
		ids = append(ids, id)
	}
	for id, perms := range after {
		if _, ok := h.before[id]; !ok && hasSharing(perms) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Strings(ids)
	var events []models.SharingEvent
	var spans []exposureChange
	for _, id := range ids {
		evs, span := h.itemChange(t.now, id, sharingOnly(after[id]))
		if len(evs) == 0 {
			continue
		}
		events = append(events, evs...)
		spans = append(spans, span)
	}
	if len(events) == 0 {
		return nil
	}
	if err := h.fillMeta(t, events, page); err != nil {
		return err
	}
	if err := insertEvents(t, events); err != nil {
		return err
	}
	if t.historyOf == nil {
		t.historyOf = map[string]bool{}
	}
	t.historyOf[h.integrationID] = true
	return applyExposure(t, h.integrationID, spans, events)
}

// OnSharingChange sets the function told, after each commit that recorded sharing history,
// which integration's history grew (cmd publishes it on the events bus). It runs on the
// writer's goroutine and must not block.
func (s *Store) OnSharingChange(fn func(integrationID string)) {
	s.onSharing.Store(&fn)
}

func (s *Store) historyCommitted(err error, t *tx) {
	if err != nil || t == nil || len(t.historyOf) == 0 {
		return
	}
	if fn := s.onSharing.Load(); fn != nil {
		for id := range t.historyOf {
			(*fn)(id)
		}
	}
}

// itemChange compares one item's sharing before and after: its events and what happened to
// its exposure.
func (h *history) itemChange(at time.Time, itemID string, after []models.Permission) ([]models.SharingEvent, exposureChange) {
	before := h.before[itemID]
	next := h.nextExpiry[itemID]
	liveBefore := func(p *models.Permission) bool {
		return p.LinkScope == nil || p.ExpiresAt == nil || next != nil && !p.ExpiresAt.Before(*next)
	}
	span := exposureChange{itemID: itemID, at: at,
		before: exposureOf(before, liveBefore),
		after:  exposureOf(after, func(p *models.Permission) bool { return live(p, at) })}
	ev := func(kind, permID string, b, a []models.Permission) models.SharingEvent {
		return models.SharingEvent{IntegrationID: h.integrationID, ItemID: itemID, Kind: kind, PermissionID: permID,
			Source: h.cause.source, ObservedAt: at, Before: snapshots(b), After: snapshots(a),
			ExposureBefore: span.before, ExposureAfter: span.after}
	}
	if len(before) == 0 && h.cause.first {
		span.firstSeen = true
		return []models.SharingEvent{ev(models.SharingFirstSeen, "", nil, after)}, span
	}
	var out []models.SharingEvent
	old := make(map[string]*models.Permission, len(before))
	for i := range before {
		old[before[i].ID] = &before[i]
	}
	for i := range after {
		p := &after[i]
		o, ok := old[p.ID]
		delete(old, p.ID)
		switch {
		case !ok:
			e := ev(models.SharingAdded, p.ID, nil, after[i:i+1])
			if h.cause.source == models.SourceOvershare {
				e.Source = models.SourceMicrosoft365 // Overshare only removes and shortens
			}
			out = append(out, e)
		case !sameGrant(snapshotOf(o), snapshotOf(p)):
			out = append(out, h.actorEvent(ev(models.SharingChanged, p.ID, []models.Permission{*o}, after[i:i+1])))
		case p.LinkScope != nil && p.ExpiresAt != nil && liveBefore(o) && !p.ExpiresAt.After(at):
			e := ev(models.SharingLinkExpired, p.ID, []models.Permission{*o}, after[i:i+1])
			e.Source = models.SourceClock
			out = append(out, e)
			if span.expiredAt == nil || p.ExpiresAt.After(*span.expiredAt) {
				span.expiredAt = p.ExpiresAt
			}
		}
	}
	for _, o := range before {
		if _, gone := old[o.ID]; gone {
			out = append(out, h.actorEvent(ev(models.SharingRemoved, o.ID, []models.Permission{o}, nil)))
		}
	}
	span.onlyExpiry = len(out) > 0 && span.expiredAt != nil && allKind(out, models.SharingLinkExpired)
	return out, span
}

// actorEvent names the admin on an event of a change made through Overshare.
func (h *history) actorEvent(e models.SharingEvent) models.SharingEvent {
	if h.cause.source == models.SourceOvershare {
		e.ActorSubject, e.ActorName = h.cause.actor.Subject, h.cause.actor.Name
	}
	return e
}

// fillMeta copies each event's item name, path and modification from the page Graph gave,
// else from what was read before the write, else from the stored item.
func (h *history) fillMeta(t *tx, events []models.SharingEvent, page map[string]*models.DriveItem) error {
	var missing []string
	for _, e := range events {
		if _, ok := h.meta[e.ItemID]; !ok && page[e.ItemID] == nil {
			missing = append(missing, e.ItemID)
		}
	}
	missing = slices.Compact(missing)
	if err := h.readItems(t, missing); err != nil {
		return err
	}
	for i := range events {
		e := &events[i]
		if it := page[e.ItemID]; it != nil {
			by := it.LastModifiedByName
			if by == "" {
				by = it.LastModifiedByEmail
			}
			e.DriveID, e.ItemName, e.ItemPath, e.ItemModifiedAt, e.ItemModifiedBy = it.DriveID, it.Name, it.Path, utcPtr(it.LastModifiedDateTime), by
			continue
		}
		m := h.meta[e.ItemID]
		e.DriveID, e.ItemName, e.ItemPath, e.ItemModifiedAt, e.ItemModifiedBy = m.driveID, m.name, m.path, m.modifiedAt, m.modifiedBy
	}
	return nil
}

// readItems reads the listed items' next_expiry and what events copy of them.
func (h *history) readItems(t *tx, ids []string) error {
	return forChunks(ids, 500, func(chunk []string) error {
		var rows []struct {
			ID, DriveID, Name, Path string
			NextExpiry              *time.Time
			LastModifiedDateTime    *time.Time
			By                      string
		}
		err := t.db.Raw(`SELECT id, drive_id, name, path, next_expiry, last_modified_date_time,
	CASE WHEN last_modified_by_name <> '' THEN last_modified_by_name ELSE last_modified_by_email END AS by
FROM drive_items WHERE integration_id = ? AND id IN ?`, h.integrationID, chunk).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("read items of sharing events: %w", err)
		}
		for _, r := range rows {
			h.nextExpiry[r.ID] = utcPtr(r.NextExpiry)
			h.meta[r.ID] = itemMeta{driveID: r.DriveID, name: r.Name, path: r.Path, modifiedAt: utcPtr(r.LastModifiedDateTime), modifiedBy: r.By}
		}
		return nil
	})
}

var eventsTable = table{name: "sharing_events", cols: []string{"integration_id", "drive_id", "item_id", "item_name", "item_path",
	"kind", "permission_id", "source", "actor_subject", "actor_name", "observed_at", "item_modified_at", "item_modified_by",
	"before", "after", "exposure_before", "exposure_after"}}

func eventValues(e *models.SharingEvent) []any {
	return []any{e.IntegrationID, e.DriveID, e.ItemID, e.ItemName, e.ItemPath, e.Kind, e.PermissionID, e.Source,
		e.ActorSubject, e.ActorName, e.ObservedAt, e.ItemModifiedAt, e.ItemModifiedBy, e.Before, e.After,
		int64(e.ExposureBefore), int64(e.ExposureAfter)}
}

// insertEvents writes the events: as arrays in one statement on PostgreSQL (gorm's batch
// insert cost as much again as the whole history, BENCHMARKS.md), in small statements on
// SQLite (its driver binds parameters in O(n²)).
func insertEvents(t *tx, events []models.SharingEvent) error {
	if t.dialect == Postgres {
		return insertArrays(t, eventsTable, len(events), "", func(i int) []any { return eventValues(&events[i]) })
	}
	if err := t.db.CreateInBatches(events, 25).Error; err != nil {
		return fmt.Errorf("write sharing events: %w", err)
	}
	return nil
}

func allKind(events []models.SharingEvent, kind string) bool {
	for _, e := range events {
		if e.Kind != kind {
			return false
		}
	}
	return true
}

// live reports whether a permission gives access at a moment (livePermission in SQL).
func live(p *models.Permission, at time.Time) bool {
	return p.LinkScope == nil || p.ExpiresAt == nil || p.ExpiresAt.After(at)
}

// sharingOnly keeps the permissions that are sharing of the item's own, normalized.
func sharingOnly(perms []models.Permission) []models.Permission {
	var out []models.Permission
	for _, p := range perms {
		normalizePermission(&p)
		if p.IsSharing() {
			out = append(out, p)
		}
	}
	return out
}

func hasSharing(perms []models.Permission) bool {
	for i := range perms {
		if perms[i].IsSharing() {
			return true
		}
	}
	return false
}

// exposureOf is the exposure (models.Exposure*) of the permissions isLive keeps, by the same
// conditions as the sharing flags.
func exposureOf(perms []models.Permission, isLive func(*models.Permission) bool) int {
	var kept []models.Permission
	for i := range perms {
		if isLive(&perms[i]) {
			kept = append(kept, perms[i])
		}
	}
	_, flags := sharingStateOf(kept, time.Time{}) // liveness is decided above
	return exposureOfFlags(flags)
}

func exposureOfFlags(flags int) int {
	e := 0
	if flags&flagAnonymous != 0 {
		e |= models.ExposureAnonymous
	}
	if flags&flagOrganization != 0 {
		e |= models.ExposureOrganization
	}
	if flags&flagExternal != 0 {
		e |= models.ExposureExternal
	}
	return e
}

// snapshotOf is what a sharing event keeps of a permission.
func snapshotOf(p *models.Permission) models.GrantSnapshot {
	s := models.GrantSnapshot{ID: p.ID, Roles: p.Roles, LinkType: p.LinkType, Scope: p.SharingScope(),
		ExpiresAt: utcPtr(p.ExpiresAt), HasPassword: p.HasPassword, PreventsDownload: p.LinkPreventsDownload,
		GrantedTo: p.GrantedToDisplayName, GrantedToEmail: p.GrantedToEmail, External: p.GrantedToExternal}
	for _, g := range p.GrantedToIdentities {
		s.External = s.External || g.External
		switch {
		case g.Email != "":
			s.Recipients = append(s.Recipients, g.Email)
		case g.DisplayName != "":
			s.Recipients = append(s.Recipients, g.DisplayName)
		default:
			s.Recipients = append(s.Recipients, g.ID)
		}
	}
	sort.Strings(s.Recipients)
	return s
}

func snapshots(perms []models.Permission) models.GrantSnapshots {
	out := make(models.GrantSnapshots, len(perms))
	for i := range perms {
		out[i] = snapshotOf(&perms[i])
	}
	return out
}

// sameGrant reports whether two snapshots of one permission say the same.
func sameGrant(a, b models.GrantSnapshot) bool {
	ea, eb := a.ExpiresAt, b.ExpiresAt
	if (ea == nil) != (eb == nil) || ea != nil && !ea.Equal(*eb) {
		return false
	}
	ra, rb := a.Recipients, b.Recipients
	a.ExpiresAt, b.ExpiresAt, a.Recipients, b.Recipients = nil, nil, nil, nil
	return reflect.DeepEqual(a, b) && slices.Equal(ra, rb)
}

// deletedCause is the cause of the history of items deleted with their sharing.
var deletedCause = historyCause{source: models.SourceItemDeleted}
