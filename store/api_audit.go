package store

import (
	"context"
	"fmt"

	"github.com/overshare/overshare/models"
)

// AuditFilter selects audit events; empty fields match everything.
type AuditFilter struct {
	IntegrationID string
	Action        string
	Result        string
	ItemID        string
}

var auditKey = sortKey{name: "at", expr: "a.at", idExpr: "a.id", kind: keyTime, desc: true}

func (f AuditFilter) where() *where {
	w := &where{}
	if f.IntegrationID != "" {
		w.add("a.integration_id = ?", f.IntegrationID)
	}
	if f.Action != "" {
		w.add("a.action = ?", f.Action)
	}
	if f.Result != "" {
		w.add("a.result = ?", f.Result)
	}
	if f.ItemID != "" {
		w.add("a.item_id = ?", f.ItemID)
	}
	return w
}

// ListAuditEvents returns one page of audit events matching f, newest first.
func (s *Store) ListAuditEvents(ctx context.Context, f AuditFilter, page PageRequest) (Page[models.AuditEvent], error) {
	w := f.where()
	if page.After != "" {
		cond, args, err := auditKey.after(page.After)
		if err != nil {
			return Page[models.AuditEvent]{}, err
		}
		w.add(cond, args...)
	}
	limit := page.limit()
	var rows []models.AuditEvent
	err := s.rdb.WithContext(ctx).Table("audit_events AS a").Select("a.*").Where(w.sql(), w.args...).
		Order(auditKey.orderBy()).Limit(limit + 1).Find(&rows).Error
	if err != nil {
		return Page[models.AuditEvent]{}, fmt.Errorf("list audit events: %w", err)
	}
	return finishPage(rows, limit, func(e *models.AuditEvent) string { return auditKey.encode(e.At, e.ID) }), nil
}

// CountAuditEvents counts audit events matching f.
func (s *Store) CountAuditEvents(ctx context.Context, f AuditFilter) (int, error) {
	w := f.where()
	var n int64
	if err := s.rdb.WithContext(ctx).Table("audit_events AS a").Where(w.sql(), w.args...).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count audit events: %w", err)
	}
	return int(n), nil
}

// AuditEventByID loads one audit event.
func (s *Store) AuditEventByID(ctx context.Context, id string) (*models.AuditEvent, error) {
	var e models.AuditEvent
	if err := s.rdb.WithContext(ctx).Where("id = ?", id).Take(&e).Error; err != nil {
		return nil, notFound(err, "load audit event")
	}
	return &e, nil
}

var runKey = sortKey{name: "startedAt", expr: "r.started_at", idExpr: "r.id", kind: keyTime, desc: true}

// ListSyncRuns returns one page of an integration's sync runs, newest first.
func (s *Store) ListSyncRuns(ctx context.Context, integrationID string, page PageRequest) (Page[models.SyncRun], error) {
	w := &where{}
	w.add("r.integration_id = ?", integrationID)
	if page.After != "" {
		cond, args, err := runKey.after(page.After)
		if err != nil {
			return Page[models.SyncRun]{}, err
		}
		w.add(cond, args...)
	}
	limit := page.limit()
	var rows []models.SyncRun
	err := s.rdb.WithContext(ctx).Table("sync_runs AS r").Select("r.*").Where(w.sql(), w.args...).
		Order(runKey.orderBy()).Limit(limit + 1).Find(&rows).Error
	if err != nil {
		return Page[models.SyncRun]{}, fmt.Errorf("list sync runs: %w", err)
	}
	return finishPage(rows, limit, func(r *models.SyncRun) string { return runKey.encode(r.StartedAt, r.ID) }), nil
}

// CountSyncRuns counts an integration's sync runs.
func (s *Store) CountSyncRuns(ctx context.Context, integrationID string) (int, error) {
	var n int64
	if err := s.rdb.WithContext(ctx).Model(&models.SyncRun{}).Where("integration_id = ?", integrationID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count sync runs: %w", err)
	}
	return int(n), nil
}

// RunningSyncRuns returns the newest running sync run of each integration that has one.
func (s *Store) RunningSyncRuns(ctx context.Context, integrationIDs []string) (map[string]*models.SyncRun, error) {
	out := map[string]*models.SyncRun{}
	if len(integrationIDs) == 0 {
		return out, nil
	}
	var rows []models.SyncRun
	err := s.rdb.WithContext(ctx).Where("integration_id IN ? AND status = ?", integrationIDs, models.SyncRunning).
		Order("started_at DESC, id DESC").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load running sync runs: %w", err)
	}
	for i := range rows {
		if out[rows[i].IntegrationID] == nil {
			out[rows[i].IntegrationID] = &rows[i]
		}
	}
	return out, nil
}
