package watch_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/jobs"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/syncer"
	"github.com/overshare/overshare/watch"
)

// FuzzReceiver: whatever arrives at /webhooks/graph, the receiver answers one of its
// statuses, never panics, and echoes a validation token only as text/plain.
func FuzzReceiver(f *testing.F) {
	ctx := context.Background()
	st := testdb.Open(f, testdb.SQLiteConfig(f))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	in := &models.Integration{Name: "fuzz", TenantID: "t", ClientID: "c"}
	if err := st.CreateIntegration(ctx, in, "secret"); err != nil {
		f.Fatal(err)
	}
	if err := st.SaveSubscription(ctx, models.GraphSubscription{ID: "sub-1", IntegrationID: in.ID, DriveID: "drive-1",
		ExpiresAt: time.Now().Add(time.Hour)}, "the-state"); err != nil {
		f.Fatal(err)
	}
	// The real queue, not started: accepted notifications insert jobs nobody works.
	q, err := jobs.New(ctx, jobs.Config{Store: st, Syncer: syncer.New(syncer.Config{Store: st, Logger: quiet}), Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	rc := watch.NewReceiver(watch.ReceiverConfig{Store: st, Enqueue: q, Logger: quiet, MaxBody: 64 << 10})

	f.Add("", []byte(`{"value":[{"subscriptionId":"sub-1","clientState":"the-state","changeType":"updated"}]}`))
	f.Add("", []byte(`{"value":[{"subscriptionId":"sub-1","clientState":"the-state","lifecycleEvent":"missed"}]}`))
	f.Add("", []byte(`{"value":[{"subscriptionId":"sub-1","clientState":"wrong"}]}`))
	f.Add("validationToken=abc%3Cscript%3E", []byte(nil))
	f.Add("", []byte(`{"value":null}`))
	f.Add("", []byte(`{"value":[{}, 1, "x"]}`))
	f.Fuzz(func(t *testing.T, rawQuery string, body []byte) {
		for _, path := range []string{watch.NotificationPath, watch.LifecyclePath} {
			req := httptest.NewRequest(http.MethodPost, "https://overshare.example"+path, bytes.NewReader(body))
			req.URL.RawQuery = rawQuery
			rec := httptest.NewRecorder()
			rc.ServeHTTP(rec, req)
			switch rec.Code {
			case http.StatusOK:
				if q, err := url.ParseQuery(rawQuery); err == nil && !q.Has("validationToken") ||
					rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
					t.Fatalf("200 for query %q: %q", rawQuery, rec.Header().Get("Content-Type"))
				}
			case http.StatusAccepted, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
			default:
				t.Fatalf("query %q body %q: status %d", rawQuery, body, rec.Code)
			}
		}
	})
}
