package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// TestBulkMethodsAgree runs the same writes through COPY, unnest and gorm's
// batch upsert on PostgreSQL and expects identical rows, so the benchmark
// compares two correct implementations.
func TestBulkMethodsAgree(t *testing.T) {
	ctx := context.Background()
	type result struct {
		items map[string]models.DriveItem
		perms []models.Permission
	}
	run := func(method string) result {
		st := testdb.Open(t, testdb.PostgresConfig(t))
		if method == "gorm" {
			store.UseGormBulk(st, true)
		} else {
			store.UseNativeBulk(st, method)
		}
		items := tree()
		items[2].SharedScope = ptr("users")
		if err := st.CommitSyncPage(ctx, integ, "d1", page(items, nil, "n1", "")); err != nil {
			t.Fatal(err)
		}
		link := perm("p1", ptr("anonymous"), "read")
		link.ExpiresAt = ptr(t0)
		link.GrantedToIdentities = models.Identities{{ID: "x", Email: "x@fabrikam.com", External: true}}
		byItem := map[string][]models.Permission{"budget": {link, perm("p2", nil, "write")}, "a": {perm("p3", ptr("users"), "read")}}
		if err := st.CommitSyncPage(ctx, integ, "d1", store.SyncPage{Permissions: byItem, NextLink: "n2"}); err != nil {
			t.Fatal(err)
		}
		// Second round: a rename, a deletion, one permission gone.
		last := page([]models.DriveItem{item("fin", "root", "Money", true)}, []string{"a"}, "", "d1")
		last.Permissions = map[string][]models.Permission{"budget": {link}}
		if err := st.CommitSyncPage(ctx, integ, "d1", last); err != nil {
			t.Fatal(err)
		}
		r := result{items: mustItems(t, st, "d1")}
		for id, it := range r.items {
			it.SyncedAt = time.Time{}
			r.items[id] = it
		}
		for _, id := range ids(r.items) {
			ps, err := st.ItemPermissions(ctx, integ, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				p.SyncedAt = time.Time{}
				r.perms = append(r.perms, p)
			}
		}
		return r
	}
	viaGorm := run("gorm")
	if len(viaGorm.items) != 5 || len(viaGorm.perms) != 1 {
		t.Fatalf("gorm path: %d items, %d permissions; want 5 and 1", len(viaGorm.items), len(viaGorm.perms))
	}
	for _, method := range []string{"copy", "unnest"} {
		if got := run(method); !reflect.DeepEqual(got, viaGorm) {
			t.Fatalf("%s and gorm wrote different rows:\n%+v\n%+v", method, got, viaGorm)
		}
	}
}
