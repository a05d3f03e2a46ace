package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/apiseed"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

func seeded(t *testing.T, st *store.Store) apiseed.Data {
	t.Helper()
	d := apiseed.Build("it1", 6, 60)
	if err := apiseed.Write(context.Background(), st, d); err != nil {
		t.Fatalf("seed: %v", err)
	}
	// A second integration whose rows must never show up in the first one's answers.
	if err := apiseed.Write(context.Background(), st, apiseed.Build("it2", 2, 10)); err != nil {
		t.Fatalf("seed second integration: %v", err)
	}
	return d
}

func bptr(b bool) *bool { return &b }

func TestAPIItemFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := seeded(t, st)
		after, before := apiseed.Base.Add(3*time.Minute), apiseed.Base.Add(9*time.Minute)
		filters := map[string]store.ItemFilter{
			"all":                       {},
			"shared":                    {SharedOnly: true},
			"anonymous":                 {Scopes: []string{"anonymous"}},
			"organization":              {Scopes: []string{"organization"}},
			"users (links and grants)":  {Scopes: []string{"users"}},
			"anonymous or organization": {Scopes: []string{"anonymous", "organization"}},
			"external":                  {External: bptr(true)},
			"shared, not external":      {External: bptr(false)},
			"edit links":                {LinkTypes: []string{"edit"}},
			"with expiry":               {HasExpiry: bptr(true)},
			"links without expiry":      {HasExpiry: bptr(false)},
			"anonymous without expiry":  {Scopes: []string{"anonymous"}, HasExpiry: bptr(false)},
			"with password":             {HasPassword: bptr(true)},
			"without password":          {HasPassword: bptr(false)},
			"owner u002":                {OwnerUserID: "u002"},
			"drive 1":                   {DriveID: "b!drive001"},
			"search budget":             {Search: "BUDGET"},
			"search wildcard %":         {Search: "100%"},
			"search wildcard _":         {Search: "n_b"},
			"modified range":            {ModifiedAfter: &after, ModifiedBefore: &before},
			"owner and scope":           {OwnerUserID: "u001", Scopes: []string{"users"}, External: bptr(true)},
			"expired links":             {Expired: true},
			"expired anonymous edit":    {Expired: true, Scopes: []string{"anonymous"}, LinkTypes: []string{"edit"}},
		}
		for name, f := range filters {
			want := d.Match(f)
			if len(want) == 0 && name != "search wildcard _" {
				t.Fatalf("%s: the seed selects nothing, so the filter is not tested", name)
			}
			got := walkItems(t, st, f, store.DefaultItemOrder, 37)
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: got %d items, want %d\n got %v\nwant %v", name, len(got), len(want), got, want)
			}
			n, err := st.CountDriveItems(ctx, "it1", f)
			if err != nil || n != len(want) {
				t.Errorf("%s: count = %d, %v; want %d", name, n, err, len(want))
			}
		}
		if _, err := st.ListDriveItems(ctx, "it1", store.ItemFilter{Scopes: []string{"everyone"}}, store.DefaultItemOrder, store.PageRequest{First: 1}); err == nil {
			t.Error("an unknown scope was accepted")
		}
	})
}

// walkItems follows the cursors from the first page to the last and returns the ids in order.
func walkItems(t *testing.T, st *store.Store, f store.ItemFilter, o store.ItemOrder, pageSize int) []string {
	t.Helper()
	var ids []string
	for _, it := range walkPages(t, pageSize, func(req store.PageRequest) (store.Page[models.DriveItem], error) {
		return st.ListDriveItems(context.Background(), "it1", f, o, req)
	}) {
		ids = append(ids, it.ID)
	}
	return ids
}

// walkPages follows a list's end cursors from the start to the end and returns every row; it
// fails on a page that is short yet says more follow, and on a walk that does not end.
func walkPages[T any](t *testing.T, pageSize int, list func(store.PageRequest) (store.Page[T], error)) []T {
	t.Helper()
	var rows []T
	after := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		p, err := list(store.PageRequest{First: pageSize, After: after})
		if err != nil {
			t.Fatalf("list page %d: %v", pages, err)
		}
		rows = append(rows, p.Rows...)
		if !p.HasNext {
			return rows
		}
		if len(p.Rows) != pageSize {
			t.Fatalf("page %d has %d rows and says more follow", pages, len(p.Rows))
		}
		after = p.EndCursor()
	}
}

func TestAPIItemPaginationEveryOrder(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		d := seeded(t, st)
		byID := map[string]models.DriveItem{}
		for _, it := range d.Items {
			byID[it.ID] = it
		}
		all := d.Match(store.ItemFilter{})
		for _, field := range []string{store.ItemOrderModified, store.ItemOrderName, store.ItemOrderSize} {
			for _, desc := range []bool{false, true} {
				o := store.ItemOrder{Field: field, Desc: desc}
				for _, size := range []int{1, 7, 500} {
					got := walkItems(t, st, store.ItemFilter{}, o, size)
					if len(got) != len(all) {
						t.Fatalf("%+v page %d: walked %d rows, want %d", o, size, len(got), len(all))
					}
					seen := map[string]bool{}
					for i, id := range got {
						if seen[id] {
							t.Fatalf("%+v page %d: %s returned twice", o, size, id)
						}
						seen[id] = true
						if i > 0 && compareItems(byID[got[i-1]], byID[id], field, desc) > 0 {
							t.Fatalf("%+v page %d: %s before %s is out of order", o, size, got[i-1], id)
						}
					}
				}
			}
		}
	})
}

// compareItems orders two items the way the API promises: key (NULL last ascending), then id,
// both in the direction asked for.
func compareItems(a, b models.DriveItem, field string, desc bool) int {
	c := 0
	switch field {
	case store.ItemOrderName:
		c = strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	case store.ItemOrderSize:
		c = int(a.Size - b.Size)
	default:
		switch {
		case a.LastModifiedDateTime == nil && b.LastModifiedDateTime == nil:
		case a.LastModifiedDateTime == nil:
			c = 1
		case b.LastModifiedDateTime == nil:
			c = -1
		default:
			c = a.LastModifiedDateTime.Compare(*b.LastModifiedDateTime)
		}
	}
	if c == 0 {
		c = strings.Compare(a.ID, b.ID)
	}
	if desc {
		c = -c
	}
	return c
}

func TestAPICursorsAreCheckedAndCapped(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		seeded(t, st)
		p, err := st.ListDriveItems(ctx, "it1", store.ItemFilter{}, store.ItemOrder{Field: store.ItemOrderName}, store.PageRequest{First: 2})
		if err != nil {
			t.Fatal(err)
		}
		for name, req := range map[string]struct {
			o     store.ItemOrder
			after string
		}{
			"garbage":              {store.DefaultItemOrder, "not-a-cursor"},
			"other ordering":       {store.ItemOrder{Field: store.ItemOrderSize}, p.EndCursor()},
			"other direction":      {store.ItemOrder{Field: store.ItemOrderName, Desc: true}, p.EndCursor()},
			"valid base64, no key": {store.DefaultItemOrder, "e30"},
		} {
			_, err := st.ListDriveItems(ctx, "it1", store.ItemFilter{}, req.o, store.PageRequest{First: 2, After: req.after})
			if !errors.Is(err, store.ErrBadCursor) {
				t.Errorf("%s: err = %v, want ErrBadCursor", name, err)
			}
		}
		big, err := st.ListDriveItems(ctx, "it1", store.ItemFilter{}, store.DefaultItemOrder, store.PageRequest{First: 1_000_000})
		if err != nil || len(big.Rows) > store.MaxPageSize {
			t.Errorf("first: 1000000 gave %d rows, %v; want at most %d", len(big.Rows), err, store.MaxPageSize)
		}
	})
}

func TestAPIUsersDrivesRunsAudit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := seeded(t, st)
		// Users: every page walk returns every user once, in display-name order.
		var names []string
		for _, u := range walkPages(t, 4, func(req store.PageRequest) (store.Page[models.User], error) {
			return st.ListUsers(ctx, "it1", store.UserFilter{}, req)
		}) {
			names = append(names, strings.ToLower(u.DisplayName))
		}
		if len(names) != len(d.Users) || !slices.IsSorted(names) {
			t.Errorf("users walk = %v", names)
		}
		guests, err := st.CountUsers(ctx, "it1", store.UserFilter{Guest: bptr(true)})
		if err != nil || guests != 2 {
			t.Errorf("guests = %d, %v; want 2", guests, err)
		}
		found, err := st.ListUsers(ctx, "it1", store.UserFilter{Search: "FABRIKAM"}, store.PageRequest{First: 50})
		if err != nil || len(found.Rows) != 2 {
			t.Errorf("search by mail domain found %d users, %v; want 2", len(found.Rows), err)
		}
		drives, err := st.ListDrives(ctx, "it1", store.DriveFilter{QuotaStates: []string{"nearing"}}, store.PageRequest{First: 50})
		if err != nil || len(drives.Rows) != 1 || drives.Rows[0].ID != "b!drive003" {
			t.Errorf("nearing drives = %+v, %v", drives.Rows, err)
		}
		near, err := st.DrivesNearQuota(ctx, "it1", 10)
		if err != nil || len(near) != 1 {
			t.Errorf("drives near quota = %d, %v", len(near), err)
		}

		start := time.Now().UTC().Truncate(time.Second)
		for i := 0; i < 5; i++ {
			run := &models.SyncRun{ID: "run-" + string(rune('a'+i)), IntegrationID: "it1", Status: models.SyncSucceeded, StartedAt: start.Add(time.Duration(i%3) * time.Minute)}
			if err := st.CreateSyncRun(ctx, run); err != nil {
				t.Fatal(err)
			}
		}
		var runs []string
		for _, r := range walkPages(t, 2, func(req store.PageRequest) (store.Page[models.SyncRun], error) {
			return st.ListSyncRuns(ctx, "it1", req)
		}) {
			runs = append(runs, r.ID)
		}
		if want := []string{"run-c", "run-e", "run-b", "run-d", "run-a"}; !slices.Equal(runs, want) {
			t.Errorf("runs newest first = %v, want %v", runs, want)
		}

		for i := 0; i < 3; i++ {
			ev := &models.AuditEvent{IntegrationID: "it1", At: start.Add(time.Duration(i) * time.Second), ActorSubject: "admin",
				Action: models.AuditStopSharing, ItemID: "b!drive000-i0000", Result: models.AuditRemoved}
			if i == 2 {
				ev.Result = models.AuditFailed
			}
			if err := st.AddAuditEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		events, err := st.ListAuditEvents(ctx, store.AuditFilter{IntegrationID: "it1", Result: models.AuditRemoved}, store.PageRequest{First: 1})
		if err != nil || len(events.Rows) != 1 || !events.HasNext || !events.Rows[0].At.Equal(start.Add(time.Second)) {
			t.Errorf("newest removed event = %+v, %v", events, err)
		}
		if n, err := st.CountAuditEvents(ctx, store.AuditFilter{ItemID: "b!drive000-i0000"}); err != nil || n != 3 {
			t.Errorf("audit events of the item = %d, %v", n, err)
		}
	})
}

func TestAPIOverviewAndLoaders(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := seeded(t, st)
		o, err := st.IntegrationOverview(ctx, "it1")
		if err != nil {
			t.Fatal(err)
		}
		if o.Users != 6 || o.Guests != 2 || o.Drives != 6 || o.Items != 6*61 {
			t.Errorf("totals = %+v", o)
		}
		if o.SharedItems != d.SharedItems() {
			t.Errorf("shared items = %d, want %d", o.SharedItems, d.SharedItems())
		}
		for _, c := range o.ByScope {
			if want := len(d.Match(store.ItemFilter{Scopes: []string{c.Scope}})); c.Items != want {
				t.Errorf("scope %s: %d items, want %d", c.Scope, c.Items, want)
			}
		}
		// Per drive of 60 items: 6 external specific-people links, 6 guest grants.
		if o.ExternalShares != 6*12 {
			t.Errorf("external shares = %d, want %d", o.ExternalShares, 6*12)
		}
		top, err := st.TopSharers(ctx, "it1", 3)
		if err != nil || len(top) != 3 || top[0].SharedItems == 0 {
			t.Errorf("top sharers = %+v, %v", top, err)
		}

		keys := []store.RowKey{{"it1", "b!drive000-i0000"}, {"it1", "b!drive000-i0007"}, {"it1", "b!drive000-i0009"}, {"it2", "b!drive000-i0000"}}
		perms, err := st.PermissionsByItem(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		if len(perms[keys[0]]) != 2 || len(perms[keys[1]]) != 1 || len(perms[keys[2]]) != 0 || len(perms[keys[3]]) != 2 {
			t.Errorf("permissions by item: %d %d %d %d", len(perms[keys[0]]), len(perms[keys[1]]), len(perms[keys[2]]), len(perms[keys[3]]))
		}
		stats, err := st.DriveItemStatsByDrive(ctx, []store.RowKey{{"it1", "b!drive000"}})
		if err != nil || stats[store.RowKey{"it1", "b!drive000"}].Items != 61 {
			t.Errorf("drive stats = %+v, %v", stats, err)
		}
		if got, want := stats[store.RowKey{"it1", "b!drive000"}].SharedItems, len(d.Match(store.ItemFilter{SharedOnly: true, DriveID: "b!drive000"})); got != want {
			t.Errorf("shared items of drive = %d, want %d", got, want)
		}
	})
}

// The API's reads scan named columns themselves (PostgreSQL through pgx, SQLite through
// database/sql); every field must come back as gorm, which the sync writes through, reads it.
func TestAPIReadsMatchGorm(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		seeded(t, st)
		page, err := st.ListDriveItems(ctx, "it1", store.ItemFilter{}, store.ItemOrder{Field: store.ItemOrderName}, store.PageRequest{First: store.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		var items []models.DriveItem
		if err := st.Gorm().Where("integration_id = ? AND is_root = false", "it1").Find(&items).Error; err != nil {
			t.Fatal(err)
		}
		if len(page.Rows) != len(items) || len(items) == 0 {
			t.Fatalf("listed %d items, gorm reads %d", len(page.Rows), len(items))
		}
		byID := map[string]models.DriveItem{}
		var keys []store.RowKey
		for _, it := range items {
			byID[it.ID] = it
			keys = append(keys, store.RowKey{IntegrationID: "it1", ID: it.ID})
		}
		for _, it := range page.Rows {
			if !reflect.DeepEqual(it, byID[it.ID]) {
				t.Errorf("listed item\n%+v\ngorm reads\n%+v", it, byID[it.ID])
			}
		}
		loaded, err := st.ItemsByKey(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if it := loaded[k]; it == nil || !reflect.DeepEqual(*it, byID[k.ID]) {
				t.Errorf("item loaded by key\n%+v\ngorm reads\n%+v", it, byID[k.ID])
			}
		}

		var users []models.User
		var drives []models.Drive
		if err := st.Gorm().Where("integration_id = ?", "it1").Find(&users).Error; err != nil {
			t.Fatal(err)
		}
		if err := st.Gorm().Where("integration_id = ?", "it1").Find(&drives).Error; err != nil {
			t.Fatal(err)
		}
		userPage, err := st.ListUsers(ctx, "it1", store.UserFilter{}, store.PageRequest{First: store.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		drivePage, err := st.ListDrives(ctx, "it1", store.DriveFilter{QuotaStates: []string{"normal", "nearing", "critical", "exceeded", ""}}, store.PageRequest{First: store.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		if len(users) == 0 || len(userPage.Rows) != len(users) || len(drivePage.Rows) != len(drives) {
			t.Fatalf("listed %d users and %d drives, gorm reads %d and %d", len(userPage.Rows), len(drivePage.Rows), len(users), len(drives))
		}
		var userKeys, driveKeys []store.RowKey
		for _, u := range users {
			userKeys = append(userKeys, store.RowKey{IntegrationID: "it1", ID: u.ID})
		}
		for _, d := range drives {
			driveKeys = append(driveKeys, store.RowKey{IntegrationID: "it1", ID: d.ID})
		}
		usersByKey, err := st.UsersByKey(ctx, userKeys)
		if err != nil {
			t.Fatal(err)
		}
		drivesByKey, err := st.DrivesByKey(ctx, driveKeys)
		if err != nil {
			t.Fatal(err)
		}
		drivesByOwner, err := st.DrivesByOwner(ctx, userKeys)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			k := store.RowKey{IntegrationID: "it1", ID: u.ID}
			listed := slices.IndexFunc(userPage.Rows, func(r models.User) bool { return r.ID == u.ID })
			if listed < 0 || !reflect.DeepEqual(userPage.Rows[listed], u) || usersByKey[k] == nil || !reflect.DeepEqual(*usersByKey[k], u) {
				t.Errorf("user %s listed or loaded differs from gorm's reading\n%+v", u.ID, u)
			}
		}
		for _, d := range drives {
			listed := slices.IndexFunc(drivePage.Rows, func(r models.Drive) bool { return r.ID == d.ID })
			byKey, byOwner := drivesByKey[store.RowKey{IntegrationID: "it1", ID: d.ID}], drivesByOwner[store.RowKey{IntegrationID: "it1", ID: d.OwnerUserID}]
			if listed < 0 || !reflect.DeepEqual(drivePage.Rows[listed], d) || byKey == nil || !reflect.DeepEqual(*byKey, d) || byOwner == nil || !reflect.DeepEqual(*byOwner, d) {
				t.Errorf("drive %s listed or loaded differs from gorm's reading\n%+v", d.ID, d)
			}
		}

		perms, err := st.PermissionsByItem(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		var want []models.Permission
		if err := st.Gorm().Where("integration_id = ?", "it1").Order("item_id, inherited, id").Find(&want).Error; err != nil {
			t.Fatal(err)
		}
		var got []models.Permission
		for _, k := range keys {
			for _, p := range perms[k] {
				got = append(got, *p)
			}
		}
		sort.SliceStable(got, func(i, j int) bool { return got[i].ItemID < got[j].ItemID })
		// Roots are not among the keys; their permissions are not expected.
		want = slices.DeleteFunc(want, func(p models.Permission) bool { _, ok := byID[p.ItemID]; return !ok })
		if len(got) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("permissions by item differ from gorm's reading (%d and %d rows)", len(got), len(want))
			for i := range min(len(got), len(want)) {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("first difference:\n%+v\n%+v", got[i], want[i])
					break
				}
			}
		}
	})
}

func TestAPIDrivesListByOwnerName(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.CreateIntegration(ctx, &models.Integration{ID: "in1", Name: "Drives", TenantID: "t", ClientID: "c"}, "secret"); err != nil {
			t.Fatal(err)
		}
		users := []models.User{{ID: "u1", DisplayName: "zed Young"}, {ID: "u2", DisplayName: "Alice Archer"}, {ID: "u3", DisplayName: "Bob Baker"},
			{ID: "u4", DisplayName: "Émile Zola"}, {ID: "u5", DisplayName: "bob baker"}}
		if err := st.UpsertUsers(ctx, "in1", users); err != nil {
			t.Fatal(err)
		}
		// Every OneDrive is named "OneDrive"; d6's owner is not synced, d7 has none.
		var drives []models.Drive
		for i, owner := range []string{"u1", "u2", "u3", "u4", "u5", "gone", ""} {
			drives = append(drives, models.Drive{ID: fmt.Sprintf("d%d", i+1), OwnerUserID: owner, Name: "OneDrive", DriveType: "business"})
		}
		drives[6].Name = "Archive"
		if err := st.UpsertDrives(ctx, "in1", drives); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range walkPages(t, 2, func(req store.PageRequest) (store.Page[models.Drive], error) {
			return st.ListDrives(ctx, "in1", store.DriveFilter{}, req)
		}) {
			got = append(got, d.ID)
		}
		// "Émile" sorts where each database puts it (lower() is ASCII-only on SQLite); the
		// cursor must carry it across pages either way. The rest: by owner name, then id, a
		// drive without a synced owner by its own name.
		ascii := slices.DeleteFunc(slices.Clone(got), func(id string) bool { return id == "d4" })
		if want := []string{"d2", "d7", "d3", "d5", "d6", "d1"}; !slices.Equal(ascii, want) || len(got) != 7 {
			t.Errorf("drives walk = %v; want %v with d4 somewhere", got, want)
		}
	})
}
