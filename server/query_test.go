package server_test

import (
	"encoding/base64"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/internal/apiseed"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/store"
)

func globalID(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, ":")))
}

type itemPage struct {
	DriveItems struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct {
			Cursor string
			Node   struct {
				ID, GraphID, Name string
				Size              int64
				ModifiedAt        *time.Time
			}
		}
	}
}

// walk pages through driveItems with the given filter and order and returns the graph ids.
func (e *env) walk(token string, filter map[string]any, order map[string]any, first int) ([]string, int) {
	e.t.Helper()
	var ids []string
	var after any
	total := -1
	for pages := 0; ; pages++ {
		if pages > 500 {
			e.t.Fatal("pagination does not end")
		}
		var p itemPage
		e.must(token, `query($id: ID!, $f: DriveItemFilter, $o: DriveItemOrder, $first: Int, $after: String) {
  driveItems(integrationId: $id, filter: $f, orderBy: $o, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id graphId name size modifiedAt } }
  }
}`, map[string]any{"id": integrationID, "f": filter, "o": order, "first": first, "after": after}, &p)
		total = p.DriveItems.TotalCount
		for _, ed := range p.DriveItems.Edges {
			ids = append(ids, ed.Node.GraphID)
		}
		if !p.DriveItems.PageInfo.HasNextPage {
			return ids, total
		}
		after = *p.DriveItems.PageInfo.EndCursor
	}
}

func TestDriveItemsPaginationAndFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		all := e.data.Match(store.ItemFilter{})

		// Every ordering walks every item exactly once, in order.
		byID := map[string]int{}
		for i, it := range e.data.Items {
			byID[it.ID] = i
		}
		for _, field := range []string{"MODIFIED_AT", "NAME", "SIZE"} {
			for _, dir := range []string{"ASC", "DESC"} {
				got, total := e.walk(admin, nil, map[string]any{"field": field, "direction": dir}, 45)
				if total != len(all) {
					t.Errorf("%s %s: totalCount %d, want %d", field, dir, total, len(all))
				}
				sorted := slices.Clone(got)
				sort.Strings(sorted)
				if !slices.Equal(sorted, all) {
					t.Fatalf("%s %s: walked %d items, want each of %d exactly once", field, dir, len(got), len(all))
				}
				for i := 1; i < len(got); i++ {
					a, b := e.data.Items[byID[got[i-1]]], e.data.Items[byID[got[i]]]
					if !inOrder(a.Name, b.Name, a.Size, b.Size, a.LastModifiedDateTime, b.LastModifiedDateTime, a.ID, b.ID, field, dir == "DESC") {
						t.Fatalf("%s %s: %s before %s", field, dir, a.ID, b.ID)
					}
				}
			}
		}

		user1 := globalID("User", integrationID, "u001")
		after := apiseed.Base.Add(3 * time.Minute)
		cases := []struct {
			name   string
			filter map[string]any
			want   store.ItemFilter
		}{
			{"anonymous", map[string]any{"sharedScope": []string{"ANONYMOUS"}}, store.ItemFilter{Scopes: []string{"anonymous"}}},
			{"organization or users", map[string]any{"sharedScope": []string{"ORGANIZATION", "USERS"}}, store.ItemFilter{Scopes: []string{"organization", "users"}}},
			{"external", map[string]any{"external": true}, store.ItemFilter{External: ptr(true)}},
			{"edit links", map[string]any{"linkType": []string{"edit"}}, store.ItemFilter{LinkTypes: []string{"edit"}}},
			{"no expiry", map[string]any{"hasExpiry": false}, store.ItemFilter{HasExpiry: ptr(false)}},
			{"password", map[string]any{"hasPassword": true}, store.ItemFilter{HasPassword: ptr(true)}},
			{"owner", map[string]any{"ownerId": user1}, store.ItemFilter{OwnerUserID: "u001"}},
			{"drive", map[string]any{"driveId": globalID("Drive", integrationID, "b!drive002")}, store.ItemFilter{DriveID: "b!drive002"}},
			{"search", map[string]any{"search": "payroll"}, store.ItemFilter{Search: "payroll"}},
			{"modified after", map[string]any{"modifiedAfter": after.Format(time.RFC3339)}, store.ItemFilter{ModifiedAfter: &after}},
			{"shared only", map[string]any{"sharedOnly": true}, store.ItemFilter{SharedOnly: true}},
			{"combined", map[string]any{"ownerId": user1, "sharedScope": []string{"ANONYMOUS"}, "hasExpiry": false}, store.ItemFilter{OwnerUserID: "u001", Scopes: []string{"anonymous"}, HasExpiry: ptr(false)}},
		}
		for _, c := range cases {
			want := e.data.Match(c.want)
			if len(want) == 0 || len(want) == len(all) {
				t.Fatalf("%s: the seed does not exercise the filter (%d of %d)", c.name, len(want), len(all))
			}
			got, total := e.walk(admin, c.filter, nil, 100)
			sort.Strings(got)
			if !slices.Equal(got, want) || total != len(want) {
				t.Errorf("%s: got %d items (totalCount %d), want %d", c.name, len(got), total, len(want))
			}
		}

		// Bad arguments are the caller's error, said plainly.
		for name, q := range map[string]string{
			"first too large":   `query($id: ID!) { driveItems(integrationId: $id, first: 1000000) { edges { cursor } } }`,
			"negative first":    `query($id: ID!) { driveItems(integrationId: $id, first: -1) { edges { cursor } } }`,
			"forged cursor":     `query($id: ID!) { driveItems(integrationId: $id, after: "eyJvIjoieCJ9") { edges { cursor } } }`,
			"wrong id type":     `query($id: ID!) { driveItems(integrationId: $id, filter: {ownerId: "RHJpdmU6aXQxOmIhZHJpdmUwMDA"}) { edges { cursor } } }`,
			"bad time":          `query($id: ID!) { driveItems(integrationId: $id, filter: {modifiedAfter: "yesterday"}) { edges { cursor } } }`,
			"unknown scope":     `query($id: ID!) { driveItems(integrationId: $id, filter: {sharedScope: [EVERYONE]}) { edges { cursor } } }`,
			"syntax":            `query($id: ID!) { driveItems(integrationId: $id { edges } }`,
			"unknown field":     `query($id: ID!) { driveItems(integrationId: $id) { edges { node { password } } } }`,
			"top sharers first": `query($id: ID!) { overview(integrationId: $id) { topSharers(first: 501) { displayName } } }`,
		} {
			r := e.do(admin, q, map[string]any{"id": integrationID})
			if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) {
				t.Errorf("%s: codes %v errors %+v", name, r.codes(), r.Errors)
			}
			for _, er := range r.Errors {
				if strings.Contains(strings.ToLower(er.Message), "select") || strings.Contains(er.Message, "sql") {
					t.Errorf("%s: the message speaks SQL: %q", name, er.Message)
				}
			}
		}
		r := e.do(admin, `query($id: ID!) { overview(integrationId: $id) { items } }`, map[string]any{"id": "no-such-integration"})
		if !slices.Equal(r.codes(), []string{"NOT_FOUND"}) {
			t.Errorf("unknown integration: %+v", r.Errors)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func inOrder(an, bn string, as, bs int64, am, bm *time.Time, aid, bid, field string, desc bool) bool {
	c := 0
	switch field {
	case "NAME":
		c = strings.Compare(strings.ToLower(an), strings.ToLower(bn))
	case "SIZE":
		c = int(as - bs)
	default:
		switch {
		case am == nil && bm == nil:
		case am == nil:
			c = 1
		case bm == nil:
			c = -1
		default:
			c = am.Compare(*bm)
		}
	}
	if c == 0 {
		c = strings.Compare(aid, bid)
	}
	if desc {
		c = -c
	}
	return c < 0
}

// A page of items with their permissions, owners and drives takes the same number of SQL
// statements whatever its size: no N+1.
func TestNoNPlusOne(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		queries := map[string]string{
			"items": `query($id: ID!, $first: Int) { driveItems(integrationId: $id, first: $first) { edges { node {
  id name path sharedScope
  permissions { id roles inherited link { type scope webUrl expiresAt hasPassword preventsDownload } grantedTo { displayName email external } grantedToIdentities { email external } }
  owner { id displayName mail drive { id } }
  drive { id name quota { used } }
} } } }`,
			"drives": `query($id: ID!, $first: Int) { drives(integrationId: $id, first: $first) { edges { node {
  id name itemCount sharedItemCount owner { displayName } } } } }`,
			"users": `query($id: ID!, $first: Int) { users(integrationId: $id, first: $first) { edges { node {
  id displayName licenses { skuId skuPartNumber } drive { name } } } } }`,
		}
		for name, q := range queries {
			counts := map[int]int64{}
			for _, first := range []int{2, 6, 100} {
				e.stmts.Store(0)
				var v map[string]any
				e.must(admin, q, map[string]any{"id": integrationID, "first": first}, &v)
				counts[first] = e.stmts.Load()
			}
			if counts[2] != counts[100] || counts[6] != counts[100] {
				t.Errorf("%s: statements grow with the page: %v", name, counts)
			}
			if counts[100] > 6 {
				t.Errorf("%s: %d statements for one page", name, counts[100])
			}
			t.Logf("%s: %d statements per page", name, counts[100])
		}
	})
}

func TestOverviewNodeAndLists(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		var o struct {
			Overview struct {
				Items, SharedItems, Users, Guests, Drives int
				ByScope                                   []struct {
					Scope string
					Items int
				}
				TopSharers []struct {
					DisplayName string
					SharedItems int
					User        struct{ ID string }
				}
				DrivesNearQuota []struct {
					OwnerName    string
					UsedFraction float64
				}
			}
		}
		e.must(admin, `query($id: ID!) { overview(integrationId: $id) { items sharedItems users guests drives byScope { scope items }
  topSharers(first: 3) { displayName sharedItems user { id } } drivesNearQuota { ownerName usedFraction } } }`, map[string]any{"id": integrationID}, &o)
		if o.Overview.SharedItems != e.data.SharedItems() || o.Overview.Users != 6 || o.Overview.Guests != 2 || len(o.Overview.ByScope) != 3 {
			t.Errorf("overview = %+v", o.Overview)
		}
		if len(o.Overview.TopSharers) != 3 || o.Overview.TopSharers[0].User.ID == "" || len(o.Overview.DrivesNearQuota) != 1 {
			t.Errorf("lists = %+v %+v", o.Overview.TopSharers, o.Overview.DrivesNearQuota)
		}

		// node() answers each type by its global ID.
		itemID := globalID("DriveItem", integrationID, "b!drive000-i0003")
		var n struct {
			Node struct {
				Typename    string `json:"__typename"`
				Name        string
				Permissions []struct {
					ID                  string
					GrantedToIdentities []struct{ External bool }
				}
			}
		}
		e.must(admin, `query($n: ID!) { node(id: $n) { __typename ... on DriveItem { name permissions { id grantedToIdentities { external } } } } }`, map[string]any{"n": itemID}, &n)
		if n.Node.Typename != "DriveItem" || len(n.Node.Permissions) != 1 || len(n.Node.Permissions[0].GrantedToIdentities) != 2 {
			t.Fatalf("node = %+v", n)
		}
		var p struct {
			Node struct {
				Typename string `json:"__typename"`
				Item     struct{ ID string }
			}
		}
		e.must(admin, `query($n: ID!) { node(id: $n) { __typename ... on Permission { item { id } } } }`, map[string]any{"n": n.Node.Permissions[0].ID}, &p)
		if p.Node.Typename != "Permission" || p.Node.Item.ID != itemID {
			t.Errorf("permission node = %+v", p)
		}
		var missing struct{ Node *struct{ ID string } }
		e.must(admin, `query($n: ID!) { node(id: $n) { id } }`, map[string]any{"n": globalID("User", integrationID, "nobody")}, &missing)
		if missing.Node != nil {
			t.Errorf("a missing user resolved to %+v", missing.Node)
		}

		// Inherited permissions point at the folder they come from.
		var inh struct {
			Node struct {
				Permissions []struct {
					Inherited     bool
					InheritedFrom struct{ Name string }
				}
			}
		}
		e.must(admin, `query($n: ID!) { node(id: $n) { ... on DriveItem { permissions { inherited inheritedFrom { name } } } } }`,
			map[string]any{"n": globalID("DriveItem", integrationID, "b!drive000-i0008")}, &inh)
		if len(inh.Node.Permissions) != 1 || !inh.Node.Permissions[0].Inherited || inh.Node.Permissions[0].InheritedFrom.Name != "Shared folder" {
			t.Errorf("inherited permission = %+v", inh)
		}

		var ints struct {
			Integrations []struct {
				ID, Name, SecretHint, Status string
				Counts                       struct{ Items, SharedItems int }
			}
		}
		e.must(admin, `{ integrations { id name secretHint status counts { items sharedItems } } }`, nil, &ints)
		if len(ints.Integrations) != 1 || ints.Integrations[0].SecretHint != e.data.Secret[len(e.data.Secret)-4:] ||
			ints.Integrations[0].Counts.SharedItems != e.data.ListedSharedItems() || ints.Integrations[0].ID != globalID("Integration", integrationID) {
			t.Errorf("integrations = %+v", ints)
		}
		// The integration's global ID works wherever its plain id does.
		var viaGlobal struct{ Overview struct{ Items int } }
		e.must(admin, `query($id: ID!) { overview(integrationId: $id) { items } }`, map[string]any{"id": ints.Integrations[0].ID}, &viaGlobal)
		if viaGlobal.Overview.Items != o.Overview.Items {
			t.Errorf("overview by global id = %d items", viaGlobal.Overview.Items)
		}

		var users struct {
			Users struct {
				TotalCount int
				Edges      []struct{ Node struct{ DisplayName string } }
			}
		}
		e.must(admin, `query($id: ID!) { users(integrationId: $id, filter: {guest: true}) { totalCount edges { node { displayName } } } }`, map[string]any{"id": integrationID}, &users)
		if users.Users.TotalCount != 2 || len(users.Users.Edges) != 2 {
			t.Errorf("guests = %+v", users)
		}
	})
}
