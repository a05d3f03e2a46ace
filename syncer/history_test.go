package syncer_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// integrationHistory reads an integration's whole sharing history, oldest first, by item.
func integrationHistory(t *testing.T, st *store.Store, integID string) map[string][]models.SharingEvent {
	t.Helper()
	out := map[string][]models.SharingEvent{}
	var after int64
	for {
		evs, err := st.SharingEventsSince(context.Background(), integID, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return out
		}
		for _, e := range evs {
			out[e.ItemID] = append(out[e.ItemID], e)
		}
		after = evs[len(evs)-1].ID
	}
}

// assertOnlyFirstSeen: a first sync records the sharing it finds as one "first seen" event
// per shared item, not as changes.
func assertOnlyFirstSeen(t *testing.T, st *store.Store, integID string) {
	t.Helper()
	byItem := integrationHistory(t, st, integID)
	if len(byItem) == 0 {
		t.Fatal("the first sync recorded no sharing at all")
	}
	for item, evs := range byItem {
		if len(evs) != 1 || evs[0].Kind != models.SharingFirstSeen || len(evs[0].After) == 0 {
			t.Fatalf("after the first sync item %s has %d events, the first %s with %d permissions; want one first_seen",
				item, len(evs), evs[0].Kind, len(evs[0].After))
		}
	}
}

// assertHistoryReplays: replaying each item's events gives its own sharing as stored (which
// assertSharingEqual compares with the tenant's), deleted items none.
func assertHistoryReplays(t *testing.T, st *store.Store, integID string, step int) {
	t.Helper()
	var perms []models.Permission
	if err := st.Gorm().Where("integration_id = ? AND NOT inherited", integID).Find(&perms).Error; err != nil {
		t.Fatal(err)
	}
	byItem := map[string][]models.Permission{}
	for _, p := range perms {
		byItem[p.ItemID] = append(byItem[p.ItemID], p)
	}
	history := integrationHistory(t, st, integID)
	items := map[string]bool{}
	for id := range byItem {
		items[id] = true
	}
	for id := range history {
		items[id] = true
	}
	var diffs []string
	for id := range items {
		got, want := store.Replay(history[id]), store.SharingSnapshots(byItem[id])
		if !store.SameSharing(got, want) {
			diffs = append(diffs, fmt.Sprintf("%s: %d events replay to %v, stored %v", id, len(history[id]), got, want))
		}
	}
	kinds := map[string]int{}
	for _, evs := range history {
		for _, e := range evs {
			kinds[e.Kind+"/"+e.Source]++
		}
	}
	t.Logf("after sync %d: %d items with history, events %v", step, len(history), kinds)
	if len(diffs) > 0 {
		sort.Strings(diffs)
		t.Fatalf("after sync %d, %d items' histories do not replay to their sharing:\n%s", step, len(diffs), strings.Join(diffs, "\n"))
	}
}
