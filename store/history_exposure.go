package store

import (
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/overshare/overshare/models"
)

// exposureChange is what one write did to one item's exposure (models.Exposure* bits).
type exposureChange struct {
	itemID        string
	at            time.Time
	before, after int
	// firstSeen: the exposure was found on the drive's first read, not seen to begin.
	firstSeen bool
	// expiredAt is the latest expiry among the item's links that expired since its state was
	// last computed; onlyExpiry says nothing else changed, so exposure ended then, not at.
	expiredAt  *time.Time
	onlyExpiry bool
}

// exposureLevels are the levels an item's intervals are kept at, with the bits of each.
var exposureLevels = []struct {
	level string
	mask  int
}{
	{models.LevelAnonymous, models.ExposureAnonymous},
	{models.LevelOrganization, models.ExposureOrganization},
	{models.LevelExternal, models.ExposureExternal},
	{models.LevelBeyond, models.ExposureBeyondOrganization},
}

// applyExposure opens an interval for each level an item gained and closes the open one of
// each level it lost.
func applyExposure(t *tx, integrationID string, spans []exposureChange, events []models.SharingEvent) error {
	drives := make(map[string]string, len(events))
	for _, e := range events {
		drives[e.ItemID] = e.DriveID
	}
	type closing struct {
		level string
		at    time.Time
	}
	closes := map[closing][]string{}
	var opens []models.ExposureInterval
	for _, c := range spans {
		for _, l := range exposureLevels {
			was, is := c.before&l.mask != 0, c.after&l.mask != 0
			switch {
			case was && !is:
				end := c.at
				if c.onlyExpiry {
					end = utc(*c.expiredAt)
				}
				k := closing{l.level, end}
				closes[k] = append(closes[k], c.itemID)
			case is && !was:
				opens = append(opens, models.ExposureInterval{IntegrationID: integrationID, DriveID: drives[c.itemID],
					ItemID: c.itemID, Level: l.level, StartedAt: c.at, FromFirstSeen: c.firstSeen})
			}
		}
	}
	for k, ids := range closes {
		err := forChunks(ids, 500, func(chunk []string) error {
			return t.db.Exec(`UPDATE exposure_intervals SET ended_at = ? WHERE integration_id = ? AND item_id IN ? AND level = ? AND ended_at IS NULL`,
				k.at, integrationID, chunk, k.level).Error
		})
		if err != nil {
			return fmt.Errorf("close exposure intervals: %w", err)
		}
	}
	if len(opens) == 0 {
		return nil
	}
	// An interval already open stays as it is: two writers that both saw the item unexposed
	// (a sync page and an admin's change at once) open it once.
	if t.dialect == Postgres {
		return insertArrays(t, intervalsTable, len(opens), openConflict, func(i int) []any {
			o := &opens[i]
			return []any{o.IntegrationID, o.DriveID, o.ItemID, o.Level, o.StartedAt, o.FromFirstSeen}
		})
	}
	keep := clause.OnConflict{Columns: []clause.Column{{Name: "integration_id"}, {Name: "item_id"}, {Name: "level"}},
		TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "ended_at IS NULL"}}}, DoNothing: true}
	if err := t.db.Clauses(keep).CreateInBatches(opens, 60).Error; err != nil {
		return fmt.Errorf("open exposure intervals: %w", err)
	}
	return nil
}

// openConflict leaves alone an interval already open (the unique index exposure_intervals_open).
const openConflict = `ON CONFLICT (integration_id, item_id, level) WHERE ended_at IS NULL DO NOTHING`

var intervalsTable = table{name: "exposure_intervals", cols: []string{"integration_id", "drive_id", "item_id", "level", "started_at", "from_first_seen"}}
