package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// TestReadsAnswerWhileAWriteIsOpen: the dashboard's reads answer, from the
// last committed state, while a write transaction (a sync page, a stop
// sharing) holds the database; on SQLite they used to queue behind the one
// connection until it ended.
func TestReadsAnswerWhileAWriteIsOpen(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		in := &models.Integration{Name: "Contoso", TenantID: "tenant", ClientID: "client"}
		if err := st.CreateIntegration(ctx, in, "the-client-secret-1234"); err != nil {
			t.Fatal(err)
		}
		tx := st.Gorm().Begin()
		if err := tx.Error; err != nil {
			t.Fatal(err)
		}
		if err := tx.Exec(`INSERT INTO users (integration_id, id, display_name, synced_at) VALUES (?, ?, ?, ?)`, in.ID, "u-uncommitted", "Not yet", time.Now().UTC()).Error; err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
		type result struct {
			c   store.Counts
			err error
		}
		done := make(chan result, 1)
		go func() {
			c, err := st.CountsForIntegration(ctx, in.ID)
			done <- result{c, err}
		}()
		select {
		case r := <-done:
			tx.Rollback()
			if r.err != nil {
				t.Fatalf("counts during a write: %v", r.err)
			}
			if r.c.Users != 0 {
				t.Errorf("counts during a write saw %d users, want 0 (the uncommitted row is not visible)", r.c.Users)
			}
		case <-time.After(30 * time.Second):
			tx.Rollback()
			<-done
			t.Fatal("the counts waited for the open write transaction to end")
		}
	})
}
