package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/overshare/overshare/models"
)

// Reads of the sharing history (history.go writes it).

// eventKey orders events newest first; ids grow with time, the item id only fills the cursor.
var eventKey = sortKey{name: "event", expr: "e.id", idExpr: "e.item_id", kind: keyInt, desc: true}

// ItemHistory returns one page of an item's sharing events, newest first.
func (s *Store) ItemHistory(ctx context.Context, integrationID, itemID string, page PageRequest) (Page[models.SharingEvent], error) {
	w := &where{}
	w.add("e.integration_id = ? AND e.item_id = ?", integrationID, itemID)
	return s.listEvents(ctx, w, page)
}

// RecentSharingEvents returns one page of an integration's sharing events, newest first.
func (s *Store) RecentSharingEvents(ctx context.Context, integrationID string, page PageRequest) (Page[models.SharingEvent], error) {
	w := &where{}
	w.add("e.integration_id = ?", integrationID)
	return s.listEvents(ctx, w, page)
}

func (s *Store) listEvents(ctx context.Context, w *where, page PageRequest) (Page[models.SharingEvent], error) {
	if page.After != "" {
		cond, args, err := eventKey.after(page.After)
		if err != nil {
			return Page[models.SharingEvent]{}, err
		}
		w.add(cond, args...)
	}
	limit := page.limit()
	var rows []models.SharingEvent
	err := s.rdb.WithContext(ctx).Table("sharing_events AS e").Select("e.*").Where(w.sql(), w.args...).
		Order(eventKey.orderBy()).Limit(limit + 1).Find(&rows).Error
	if err != nil {
		return Page[models.SharingEvent]{}, fmt.Errorf("list sharing events: %w", err)
	}
	return finishPage(rows, limit, func(e *models.SharingEvent) string { return eventKey.encode(e.ID, e.ItemID) }), nil
}

// SharingEventsSince returns up to limit of an integration's events after the one with id
// afterID, oldest first: how a watcher or a replay reads the log in order.
func (s *Store) SharingEventsSince(ctx context.Context, integrationID string, afterID int64, limit int) ([]models.SharingEvent, error) {
	var rows []models.SharingEvent
	err := s.rdb.WithContext(ctx).Where("integration_id = ? AND id > ?", integrationID, afterID).
		Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read sharing events: %w", err)
	}
	return rows, nil
}

// Replay applies events of one item, oldest first, to no sharing: the permissions (by id)
// the item's own sharing holds after them. Expired links stay, as Microsoft 365 lists them.
func Replay(events []models.SharingEvent) map[string]models.GrantSnapshot {
	state := map[string]models.GrantSnapshot{}
	for _, e := range events {
		switch e.Kind {
		case models.SharingFirstSeen:
			state = map[string]models.GrantSnapshot{}
			fallthrough
		case models.SharingAdded, models.SharingChanged, models.SharingLinkExpired:
			for _, g := range e.After {
				state[g.ID] = g
			}
		case models.SharingRemoved:
			for _, g := range e.Before {
				delete(state, g.ID)
			}
		}
	}
	return state
}

// SharingSnapshots is the own sharing among an item's permissions as events record it, by id:
// what Replay of its events should give.
func SharingSnapshots(perms []models.Permission) map[string]models.GrantSnapshot {
	out := map[string]models.GrantSnapshot{}
	for _, p := range sharingOnly(perms) {
		out[p.ID] = snapshotOf(&p)
	}
	return out
}

// SameSharing reports whether two views of an item's own sharing agree.
func SameSharing(a, b map[string]models.GrantSnapshot) bool {
	if len(a) != len(b) {
		return false
	}
	for id, g := range a {
		h, ok := b[id]
		if !ok || !sameGrant(g, h) {
			return false
		}
	}
	return true
}

// ItemExposure lists an item's exposure intervals, oldest first.
func (s *Store) ItemExposure(ctx context.Context, integrationID, itemID string) ([]models.ExposureInterval, error) {
	var rows []models.ExposureInterval
	err := s.rdb.WithContext(ctx).Where("integration_id = ? AND item_id = ?", integrationID, itemID).
		Order("started_at, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read exposure of item %s: %w", itemID, err)
	}
	return rows, nil
}

// TimeToFix is how long an integration's exposures beyond the organisation lasted until
// they ended, over those that ended since a moment.
type TimeToFix struct {
	Median time.Duration
	Fixed  int // how many ended
}

// MedianTimeToFix is the median duration of the integration's exposure beyond the
// organisation (models.LevelBeyond intervals) that ended at or after since.
func (s *Store) MedianTimeToFix(ctx context.Context, integrationID string, since time.Time) (TimeToFix, error) {
	var rows []struct {
		StartedAt time.Time
		EndedAt   time.Time
	}
	err := s.rdb.WithContext(ctx).Raw(`SELECT started_at, ended_at FROM exposure_intervals
WHERE integration_id = ? AND level = ? AND ended_at >= ?`, integrationID, models.LevelBeyond, utc(since)).Scan(&rows).Error
	if err != nil {
		return TimeToFix{}, fmt.Errorf("read fixed exposures: %w", err)
	}
	if len(rows) == 0 {
		return TimeToFix{}, nil
	}
	ds := make([]time.Duration, len(rows))
	for i, r := range rows {
		ds[i] = r.EndedAt.Sub(r.StartedAt)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	m := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		m = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	return TimeToFix{Median: m, Fixed: len(ds)}, nil
}

// ExposureDay is how many items were exposed at each level at the end of one day (UTC).
type ExposureDay struct {
	Day                               time.Time // midnight UTC at the start of the day
	Anonymous, Organization, External int
}

// ExposureTrend returns, for each of the last days days up to today, how many items were
// exposed anonymously, to the organisation and externally at the day's end (today: now). Days
// before the first recorded exposure are left out: the history does not know them, and a zero
// would read as "nothing was shared".
func (s *Store) ExposureTrend(ctx context.Context, integrationID string, days int) ([]ExposureDay, error) {
	at := s.clock()
	today := at.Truncate(24 * time.Hour)
	from := today.AddDate(0, 0, -(days - 1))
	// ORDER BY … LIMIT 1, not MIN(): SQLite returns an aggregate of a datetime as text.
	var firsts []time.Time
	if err := s.rdb.WithContext(ctx).Raw(`SELECT started_at FROM exposure_intervals WHERE integration_id = ? ORDER BY started_at LIMIT 1`,
		integrationID).Scan(&firsts).Error; err != nil {
		return nil, fmt.Errorf("read the start of the exposure history: %w", err)
	}
	if len(firsts) == 0 {
		return []ExposureDay{}, nil
	}
	first := firsts[0]
	if start := first.UTC().Truncate(24 * time.Hour); start.After(from) {
		days -= int(start.Sub(from) / (24 * time.Hour))
		from = start
	}
	var rows []struct {
		Level     string
		StartedAt time.Time
		EndedAt   *time.Time
	}
	err := s.rdb.WithContext(ctx).Raw(`SELECT level, started_at, ended_at FROM exposure_intervals
WHERE integration_id = ? AND level IN (?, ?, ?) AND (ended_at IS NULL OR ended_at > ?)`,
		integrationID, models.LevelAnonymous, models.LevelOrganization, models.LevelExternal, from).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read exposure intervals: %w", err)
	}
	out := make([]ExposureDay, days)
	for d := range out {
		day := from.AddDate(0, 0, d)
		end := day.Add(24 * time.Hour)
		if end.After(at) {
			end = at
		}
		out[d].Day = day
		for _, r := range rows {
			if r.StartedAt.After(end) || r.EndedAt != nil && !r.EndedAt.After(end) {
				continue
			}
			switch r.Level {
			case models.LevelAnonymous:
				out[d].Anonymous++
			case models.LevelOrganization:
				out[d].Organization++
			case models.LevelExternal:
				out[d].External++
			}
		}
	}
	return out, nil
}

// PruneSharingHistory deletes the sharing events observed before a moment and the exposure
// intervals that ended before it, and returns how many events it deleted.
// It deletes in batches of pruneBatch rows, each its own transaction, so that a first prune of
// a large history holds no lock for long. An item whose oldest events are pruned replays from
// the oldest one kept.
func (s *Store) PruneSharingHistory(ctx context.Context, before time.Time) (int64, error) {
	events, err := s.pruneBatches(ctx, `DELETE FROM sharing_events WHERE id IN
	(SELECT id FROM sharing_events WHERE observed_at < ? LIMIT ?)`, before)
	if err != nil {
		return events, fmt.Errorf("prune sharing events: %w", err)
	}
	if _, err := s.pruneBatches(ctx, `DELETE FROM exposure_intervals WHERE id IN
	(SELECT id FROM exposure_intervals WHERE ended_at < ? LIMIT ?)`, before); err != nil {
		return events, fmt.Errorf("prune exposure intervals: %w", err)
	}
	return events, nil
}

// pruneBatches runs a DELETE of at most pruneBatch rows older than before until one deletes
// fewer, and returns how many rows went.
func (s *Store) pruneBatches(ctx context.Context, stmt string, before time.Time) (int64, error) {
	var n int64
	for {
		res := s.db.WithContext(ctx).Exec(stmt, utc(before), pruneBatch)
		if res.Error != nil {
			return n, ctxErr(ctx, res.Error)
		}
		n += res.RowsAffected
		if res.RowsAffected < pruneBatch {
			return n, nil
		}
	}
}

const pruneBatch = 10000

// Now is the store's clock: the moment reads of time-aware state (exposure so far) use.
func (s *Store) Now() time.Time { return s.clock() }

// LastSharingEventID is the id of the integration's newest sharing event, 0 without any: where
// a watcher starts.
func (s *Store) LastSharingEventID(ctx context.Context, integrationID string) (int64, error) {
	var id *int64
	if err := s.rdb.WithContext(ctx).Raw(`SELECT MAX(id) FROM sharing_events WHERE integration_id = ?`, integrationID).Scan(&id).Error; err != nil {
		return 0, fmt.Errorf("read the newest sharing event: %w", err)
	}
	if id == nil {
		return 0, nil
	}
	return *id, nil
}

// SharingEventByID loads one sharing event.
func (s *Store) SharingEventByID(ctx context.Context, integrationID string, id int64) (*models.SharingEvent, error) {
	var e models.SharingEvent
	if err := s.rdb.WithContext(ctx).Where("integration_id = ? AND id = ?", integrationID, id).Take(&e).Error; err != nil {
		return nil, notFound(err, "load sharing event")
	}
	return &e, nil
}
