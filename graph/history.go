package graph

import (
	"context"
	"time"

	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// maxTrendDays bounds the windows of the overview's history fields: the retention default
// (OVERSHARE_HISTORY_RETENTION) keeps 400 days.
const maxTrendDays = 400

func eventConnection(page store.Page[models.SharingEvent]) *model.SharingEventConnection {
	out := &model.SharingEventConnection{PageInfo: pageInfo(page), Edges: make([]*model.SharingEventEdge, len(page.Rows))}
	for i := range page.Rows {
		out.Edges[i] = &model.SharingEventEdge{Cursor: page.Cursor(i), Node: (*model.SharingEvent)(&page.Rows[i])}
	}
	return out
}

// itemExposure summarises an item's intervals as of now: time to fix runs from the start of
// its first exposure beyond the organisation to the end of its last, once none is open.
func itemExposure(rows []models.ExposureInterval, now time.Time) *model.ItemExposure {
	out := &model.ItemExposure{Intervals: make([]*model.ExposureInterval, len(rows))}
	var fixed *time.Time
	for i, iv := range rows {
		end := now
		if iv.EndedAt != nil {
			end = *iv.EndedAt
		}
		out.Intervals[i] = &model.ExposureInterval{Level: model.LevelEnum(iv.Level), StartedAt: iv.StartedAt, EndedAt: iv.EndedAt,
			FromFirstSeen: iv.FromFirstSeen, Seconds: int64(end.Sub(iv.StartedAt).Seconds())}
		if iv.Level != models.LevelBeyond {
			continue
		}
		if out.FirstExposedAt == nil {
			out.FirstExposedAt = &rows[i].StartedAt
		}
		if iv.EndedAt == nil {
			out.ExposedNow = true
		} else if fixed == nil || iv.EndedAt.After(*fixed) {
			fixed = iv.EndedAt
		}
	}
	if !out.ExposedNow && fixed != nil {
		out.FixedAt = fixed
		s := int64(fixed.Sub(*out.FirstExposedAt).Seconds())
		out.TimeToFixSeconds = &s
	}
	return out
}

// eventWatcher is where a sharingChanged subscription is in the log. Ids are handed out in
// insertion order but two transactions may commit out of it, so each read looks back a
// little behind the newest id sent and skips the ids it already sent.
type eventWatcher struct {
	// start is the newest id when the subscription began: nothing up to it is sent.
	start, last int64
	sent        map[int64]bool
}

// eventLookBack is how far behind its newest id a watcher reads again.
const eventLookBack = 200

func newEventWatcher(last int64) *eventWatcher {
	return &eventWatcher{start: last, last: last, sent: map[int64]bool{}}
}

// sendNewEvents sends the events recorded since the watcher's last read; false when the
// subscription ended or the log cannot be read.
func (r *Resolver) sendNewEvents(ctx context.Context, integrationID string, w *eventWatcher, out chan<- *model.SharingEvent) bool {
	from := max(w.last-eventLookBack, w.start)
	for {
		evs, err := r.store.SharingEventsSince(ctx, integrationID, from, 500)
		if err != nil {
			r.log.WarnContext(ctx, "sharingChanged: history not read", "integration", integrationID, "error", err)
			return false
		}
		for i := range evs {
			e := &evs[i]
			from = e.ID
			if w.sent[e.ID] {
				continue
			}
			select {
			case out <- (*model.SharingEvent)(e):
			case <-ctx.Done():
				return false
			}
			w.sent[e.ID] = true
			w.last = max(w.last, e.ID)
		}
		if len(evs) < 500 {
			break
		}
	}
	for id := range w.sent {
		if id <= w.last-eventLookBack {
			delete(w.sent, id)
		}
	}
	return true
}
