package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// BenchmarkSharingFiltersSQLite measures the sharing filters on an embedded database of the
// demo's size (10,000 items, 5% shared, spread as in bench-api) on the one SQLite connection:
// a read that takes long here holds up every other statement, River's included.
func BenchmarkSharingFiltersSQLite(b *testing.B) {
	ctx := context.Background()
	st := testdb.Open(b, testdb.SQLiteConfig(b))
	seedSharing(b, st, 10000)
	for _, c := range []struct {
		name string
		f    store.ItemFilter
	}{
		{"anonymous", store.ItemFilter{Scopes: []string{models.LinkScopeAnonymous}}},
		{"external", store.ItemFilter{External: ptr(true)}},
		{"shared", store.ItemFilter{SharedOnly: true}},
		{"anonymousNoExpiry", store.ItemFilter{Scopes: []string{models.LinkScopeAnonymous}, HasExpiry: ptr(false)}},
		{"organizationNoExpiry", store.ItemFilter{Scopes: []string{models.LinkScopeOrganization}, HasExpiry: ptr(false)}},
		{"anonymousEdit", store.ItemFilter{Scopes: []string{models.LinkScopeAnonymous}, LinkTypes: []string{"edit"}}},
		{"linkTypeView", store.ItemFilter{LinkTypes: []string{"view"}}},
	} {
		b.Run(c.name+"/first100", func(b *testing.B) {
			for b.Loop() {
				if _, err := st.ListDriveItems(ctx, integ, c.f, store.DefaultItemOrder, store.PageRequest{First: 100}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/totalCount", func(b *testing.B) {
			for b.Loop() {
				if _, err := st.CountDriveItems(ctx, integ, c.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("overview", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.IntegrationOverview(ctx, integ); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("topSharers", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.TopSharers(ctx, integ, 10); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// seedSharing writes n items in one drive through the store, 5% of them shared.
func seedSharing(b *testing.B, st *store.Store, n int) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	items := []models.DriveItem{item("root", "", "root", true)}
	perms := map[string][]models.Permission{}
	for i := range n {
		id := fmt.Sprintf("item-%05d", i)
		it := item(id, "root", fmt.Sprintf("file %d.docx", i), false)
		it.LastModifiedDateTime = ptr(t0.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))))
		items = append(items, it)
		owner := perm("owner", nil, "owner")
		if rng.IntN(100) >= 5 {
			continue
		}
		var p models.Permission
		switch r := rng.IntN(100); {
		case r < 40:
			p = perm("p-"+id, ptr(models.LinkScopeOrganization), "read")
		case r < 70:
			p = perm("p-"+id, ptr(models.LinkScopeAnonymous), "read")
			if rng.IntN(3) == 0 {
				p.LinkType, p.Roles = "edit", "write"
			}
			if rng.IntN(4) == 0 {
				p.ExpiresAt = ptr(t0.AddDate(0, 1, 0))
			}
		case r < 90:
			p = perm("p-"+id, ptr(models.LinkScopeUsers), "read")
		default:
			p = perm("p-"+id, nil, "read")
			p.GrantedToExternal = rng.IntN(4) == 0
		}
		perms[id] = []models.Permission{p, owner}
	}
	for start := 0; start < len(items); start += 1000 {
		end := min(start+1000, len(items))
		if err := st.CommitSyncPage(ctx, integ, "d1", page(items[start:end], nil, "next", "")); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.CommitSyncPage(ctx, integ, "d1", permissionsPage("delta", perms)); err != nil {
		b.Fatal(err)
	}
}
