package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// EachSharingRow walks, page by page, exactly the items a filter selects (apiseed answers which),
// each once and in name order, with each row's drive and owner, only the permissions that
// match, and none of another integration's rows; an error from the callback stops it.
func TestEachSharingRow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := seeded(t, st)
		for _, f := range []store.ItemFilter{
			{},
			{Scopes: []string{models.LinkScopeAnonymous}},
			{External: bptr(true)},
			{Expired: true},
		} {
			for _, pageSize := range []int{7, 0} {
				var items []string
				var lastName string
				err := st.EachSharingRow(ctx, d.Integration.ID, f, pageSize, func(r store.SharingRow) error {
					if r.Permission.ItemID != r.Item.ID || r.Item.IntegrationID != d.Integration.ID {
						t.Fatalf("a row mixes item %s and permission of %s (integration %s)", r.Item.ID, r.Permission.ItemID, r.Item.IntegrationID)
					}
					if r.Drive == nil || r.Owner == nil || r.Drive.ID != r.Item.DriveID || r.Owner.ID != r.Drive.OwnerUserID {
						t.Fatalf("item %s: drive %+v, owner %+v", r.Item.ID, r.Drive, r.Owner)
					}
					if !r.Permission.IsSharing() {
						t.Errorf("item %s: permission %s is not sharing", r.Item.ID, r.Permission.ID)
					}
					if len(f.Scopes) == 1 && r.Permission.SharingScope() != f.Scopes[0] {
						t.Errorf("item %s: permission of scope %s under a %s filter", r.Item.ID, r.Permission.SharingScope(), f.Scopes[0])
					}
					if len(items) == 0 || items[len(items)-1] != r.Item.ID {
						if slices.Contains(items, r.Item.ID) {
							t.Fatalf("item %s comes twice (page size %d)", r.Item.ID, pageSize)
						}
						if name := strings.ToLower(r.Item.Name); name < lastName {
							t.Errorf("item %q after %q: not in name order", r.Item.Name, lastName)
						} else {
							lastName = name
						}
						items = append(items, r.Item.ID)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(items)
				shared := f
				shared.SharedOnly = true // implied
				if want := d.Match(shared); !slices.Equal(items, want) {
					t.Errorf("filter %+v, page size %d: %d items, want %d", f, pageSize, len(items), len(want))
				}
			}
		}
		stop := errors.New("stop")
		n := 0
		err := st.EachSharingRow(ctx, d.Integration.ID, store.ItemFilter{}, 5, func(store.SharingRow) error {
			n++
			return stop
		})
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("after an error from the callback: %v, %d calls", err, n)
		}
	})
}
