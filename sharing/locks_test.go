package sharing

import (
	"context"
	"testing"
	"time"

	"github.com/overshare/overshare/store"
)

// The lock of an item excludes, a waiter gives up when its context ends, and the map forgets
// an item nobody holds or waits for.
func TestItemLocks(t *testing.T) {
	s := New(Config{})
	k := store.RowKey{IntegrationID: "i", ID: "a"}
	unlock, err := s.locks.lock(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.locks.lock(context.Background(), store.RowKey{IntegrationID: "i", ID: "b"})
	if err != nil {
		t.Fatal("another item's lock waited")
	}
	other()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.locks.lock(ctx, k); err != context.DeadlineExceeded {
		t.Fatalf("second lock of a held item: %v, want the deadline", err)
	}
	got := make(chan func())
	go func() {
		u, err := s.locks.lock(context.Background(), k)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("a waiter got a held lock")
	case <-time.After(20 * time.Millisecond):
	}
	unlock()
	(<-got)()
	if n := s.lockedItems(); n != 0 {
		t.Fatalf("%d items still in the lock map", n)
	}
}
