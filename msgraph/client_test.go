package msgraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

// Every test here runs the real client (msgraph-sdk-go + azidentity) against
// the real simulator over TLS, configured exactly as production is: an
// authority host, a Graph base URL and an extra CA file.

func startSim(t *testing.T, opt graphsim.Options) *graphsim.Server {
	t.Helper()
	if opt.Tenant.Seed == 0 {
		opt.Tenant = tenant.Config{Seed: 1, Users: 20, FilesPerUser: 30, ShareRatio: 0.1}
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := graphsim.Start(ctx, opt)
	if err != nil {
		cancel()
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = srv.Close() })
	return srv
}

func configFor(srv *graphsim.Server) Config {
	info := srv.Info()
	return Config{
		TenantID: info.TenantID, ClientID: info.ClientID, ClientSecret: info.ClientSecret,
		AuthorityURL: info.AuthorityHost, GraphURL: info.GraphBaseURL, CAFile: info.CAFile,
		Version: "test",
	}
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// truth is the simulator's export, indexed.
type truth struct {
	users  map[string]tenant.ExportUser
	drives map[string]tenant.ExportDrive // by owner user id: the drives the app can read
	items  map[string]map[string]tenant.ExportItem
	perms  map[string][]tenant.ExportPermission // by item id
	// closed are the drives locked noAccess or closed to the app, by owner;
	// their items and permissions are not in items and perms.
	closed map[string]tenant.ExportDrive
}

func closedLock(l tenant.Lock) bool { return l == tenant.LockNoAccess || l == tenant.LockAccessDenied }

func exportOf(t *testing.T, srv *graphsim.Server) truth {
	t.Helper()
	var buf bytes.Buffer
	if err := srv.Tenant().Export(&buf); err != nil {
		t.Fatalf("export: %v", err)
	}
	tr := truth{users: map[string]tenant.ExportUser{}, drives: map[string]tenant.ExportDrive{}, closed: map[string]tenant.ExportDrive{},
		items: map[string]map[string]tenant.ExportItem{}, perms: map[string][]tenant.ExportPermission{}}
	dec := json.NewDecoder(&buf)
	closedIDs := map[string]bool{} // the export lists drives before their items
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("decode export: %v", err)
		}
		var head struct{ Type string }
		_ = json.Unmarshal(raw, &head)
		switch head.Type {
		case "user":
			var u tenant.ExportUser
			_ = json.Unmarshal(raw, &u)
			tr.users[u.ID] = u
		case "drive":
			var d tenant.ExportDrive
			_ = json.Unmarshal(raw, &d)
			if closedLock(d.Lock) {
				tr.closed[d.OwnerUserID] = d
				closedIDs[d.ID] = true
				continue
			}
			tr.drives[d.OwnerUserID] = d
		case "item":
			var it tenant.ExportItem
			_ = json.Unmarshal(raw, &it)
			if closedIDs[it.DriveID] {
				continue
			}
			if tr.items[it.DriveID] == nil {
				tr.items[it.DriveID] = map[string]tenant.ExportItem{}
			}
			tr.items[it.DriveID][it.ID] = it
		case "permission":
			var p tenant.ExportPermission
			_ = json.Unmarshal(raw, &p)
			if closedIDs[p.DriveID] {
				continue
			}
			tr.perms[p.ItemID] = append(tr.perms[p.ItemID], p)
		}
	}
	return tr
}

func TestCheckCredentialsOK(t *testing.T) {
	srv := startSim(t, graphsim.Options{})
	c := newClient(t, configFor(srv))
	if err := c.CheckCredentials(context.Background()); err != nil {
		t.Fatalf("CheckCredentials: %v", err)
	}
	if st := c.Stats(); st.Requests < 3 {
		t.Errorf("CheckCredentials made %d Graph requests, want users + drives batch + permissions", st.Requests)
	}
}

func TestCheckCredentialsClassified(t *testing.T) {
	srv := startSim(t, graphsim.Options{})
	good := configFor(srv)
	tests := []struct {
		name       string
		cfg        func(Config) Config
		before     func()
		kind       Kind
		permission string
		mention    string
	}{
		{name: "wrong secret", cfg: func(c Config) Config { c.ClientSecret = "not-the-secret"; return c }, kind: WrongSecret, mention: "AADSTS7000215"},
		{name: "expired secret", before: func() { srv.ExpireSecret(true) }, kind: ExpiredSecret, mention: "expired"},
		{name: "unknown client", cfg: func(c Config) Config { c.ClientID = "11111111-2222-3333-4444-555555555555"; return c }, kind: ClientNotFound, mention: "11111111-2222-3333-4444-555555555555"},
		{name: "unknown tenant", cfg: func(c Config) Config { c.TenantID = "99999999-9999-9999-9999-999999999999"; return c }, kind: TenantNotFound, mention: "99999999-9999-9999-9999-999999999999"},
		{name: "no User.Read.All", before: func() { srv.SetAppPermissions([]string{"Files.ReadWrite.All", "Sites.FullControl.All"}) }, kind: MissingPermission, permission: "User.Read.All"},
		// Graph scopes sharing down rather than refusing (docs/graph-behaviour.md);
		// this case is the refusal's classification.
		{name: "no Sites.FullControl.All", before: func() {
			srv.Tenant().SetLenient(tenant.Lenient{DenyWithoutFullControl: true})
			srv.SetAppPermissions([]string{"User.Read.All", "Files.ReadWrite.All"})
		}, kind: MissingPermission, permission: "Sites.FullControl.All"},
		{name: "read-only app", before: func() { srv.SetAppPermissions([]string{"User.Read.All", "Files.Read.All"}) }, kind: MissingPermission, permission: "Sites.FullControl.All, Files.ReadWrite.All"},
		{name: "malformed tenant", cfg: func(c Config) Config { c.TenantID = "contoso-tenant"; return c }, kind: TenantNotFound, mention: "AADSTS900023"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.ExpireSecret(false)
			srv.SetAppPermissions([]string{"User.Read.All", "Files.ReadWrite.All", "Sites.FullControl.All"})
			t.Cleanup(func() {
				srv.Tenant().SetLenient(tenant.Lenient{})
				srv.ExpireSecret(false)
				srv.SetAppPermissions([]string{"User.Read.All", "Files.ReadWrite.All", "Sites.FullControl.All"})
			})
			if tc.before != nil {
				tc.before()
			}
			cfg := good
			if tc.cfg != nil {
				cfg = tc.cfg(cfg)
			}
			err := newClient(t, cfg).CheckCredentials(context.Background())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("CheckCredentials = %v (%T), want *Error", err, err)
			}
			if e.Kind != tc.kind || e.Permission != tc.permission {
				t.Fatalf("got kind %v permission %q (%q), want %v %q", e.Kind, e.Permission, e.Message, tc.kind, tc.permission)
			}
			if tc.mention != "" && !strings.Contains(e.Message, tc.mention) {
				t.Errorf("message %q does not mention %q", e.Message, tc.mention)
			}
			if tc.permission != "" && !strings.Contains(e.Message, tc.permission) {
				t.Errorf("message %q does not name %s", e.Message, tc.permission)
			}
			for _, secret := range []string{good.ClientSecret, cfg.ClientSecret} {
				if strings.Contains(e.Message, secret) || strings.Contains(e.Error(), secret) {
					t.Errorf("message leaks the secret: %q", e.Message)
				}
			}
		})
	}
}

func TestUnreachableGraphIsNetwork(t *testing.T) {
	srv := startSim(t, graphsim.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	cfg := configFor(srv)
	cfg.GraphURL = "https://" + closed + "/v1.0"
	err = newClient(t, cfg).CheckCredentials(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Kind != Network {
		t.Fatalf("CheckCredentials = %v, want a Network error", err)
	}
	if !strings.Contains(e.Message, "refused") || !strings.Contains(e.Message, closed) {
		t.Errorf("message %q should say the connection to %s was refused", e.Message, closed)
	}

	// An authority that does not speak our CA's TLS: the CA file is missing.
	cfg = configFor(srv)
	cfg.CAFile = ""
	err = newClient(t, cfg).CheckCredentials(context.Background())
	if !errors.As(err, &e) || e.Kind != Network || !strings.Contains(e.Message, "TLS") {
		t.Fatalf("without the CA: %v, want a TLS Network error", err)
	}
}

func TestListUsersEqualsSimulator(t *testing.T) {
	srv := startSim(t, graphsim.Options{Tenant: tenant.Config{Seed: 3, Users: 1200, FilesPerUser: 1, ShareRatio: 0.1}})
	c := newClient(t, configFor(srv))
	tr := exportOf(t, srv)
	var got []User
	pages := 0
	err := c.ListUsers(context.Background(), func(us []User) error {
		pages++
		got = append(got, us...)
		return nil
	})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(got) != len(tr.users) {
		t.Fatalf("got %d users, simulator has %d", len(got), len(tr.users))
	}
	// $top=999 with $expand=manager: Graph caps such pages at 100.
	if pages != 12 {
		t.Errorf("%d pages for %d users, want 12 pages of up to 100", pages, len(got))
	}
	seen := map[string]bool{}
	for _, u := range got {
		if seen[u.ID] {
			t.Fatalf("user %s listed twice", u.ID)
		}
		seen[u.ID] = true
		want, ok := tr.users[u.ID]
		if !ok {
			t.Fatalf("user %s is not in the simulator", u.ID)
		}
		var lic []string
		for _, l := range u.Licenses {
			lic = append(lic, l.SkuID)
		}
		var wantLic []string
		for _, l := range want.AssignedLicenses {
			wantLic = append(wantLic, l.SkuID)
		}
		gotRow := []any{u.DisplayName, u.UserPrincipalName, u.Mail, u.UserType, u.AccountEnabled, u.JobTitle, u.Department,
			u.CreatedAt.Format(time.RFC3339), u.ManagerID, strings.Join(lic, ",")}
		wantRow := []any{want.DisplayName, want.UserPrincipalName, want.Mail, want.UserType, want.AccountEnabled, want.JobTitle, want.Department,
			want.CreatedDateTime, want.ManagerID, strings.Join(wantLic, ",")}
		for i := range gotRow {
			if gotRow[i] != wantRow[i] {
				t.Fatalf("user %s field %d: got %v, want %v", u.ID, i, gotRow[i], wantRow[i])
			}
		}
		if u.GivenName == "" || u.Surname == "" {
			t.Errorf("user %s: givenName/surname missing", u.ID)
		}
	}
	if len(c.TenantDomains()) == 0 {
		t.Error("no tenant domain learned from member users")
	}
	if st := srv.Stats(); st.RU != 0 || c.Stats().ResourceUnits != 0 {
		t.Errorf("directory calls cost no RU: simulator charged %d, client counted %d", st.RU, c.Stats().ResourceUnits)
	}
}

func TestUserDrivesBatch(t *testing.T) {
	srv := startSim(t, graphsim.Options{Tenant: tenant.Config{Seed: 5, Users: 45, FilesPerUser: 2, ShareRatio: 0.1}})
	c := newClient(t, configFor(srv))
	tr := exportOf(t, srv)
	var ids []string
	for id := range tr.users {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	got, closed, err := c.UserDrives(context.Background(), ids)
	if err != nil {
		t.Fatalf("UserDrives: %v", err)
	}
	without, locked := 0, 0
	for _, id := range ids {
		if want, has := tr.closed[id]; has {
			// A locked or closed OneDrive: the reason, not the drive.
			wantKind := map[tenant.Lock]Kind{tenant.LockNoAccess: Locked, tenant.LockAccessDenied: NoAccess}[want.Lock]
			if e := closed[id]; e == nil || e.Kind != wantKind || got[id] != nil {
				t.Fatalf("user %s's %s drive: inaccessible %v, drive %v; want kind %v", id, want.Lock, e, got[id], wantKind)
			}
			locked++
			continue
		}
		d, ok := got[id]
		if !ok {
			t.Fatalf("user %s missing from the result", id)
		}
		want, has := tr.drives[id]
		if !has {
			without++
			if d != nil {
				t.Errorf("user %s has no OneDrive, got drive %s", id, d.ID)
			}
			continue
		}
		if d == nil {
			t.Fatalf("user %s: no drive, want %s", id, want.ID)
		}
		if d.ID != want.ID || d.Name != want.Name || d.DriveType != want.DriveType || d.WebURL != want.WebURL || d.Owner.ID != id {
			t.Errorf("drive of %s: got %+v, want %+v", id, d, want)
		}
		q := Quota{want.Quota.Total, want.Quota.Used, want.Quota.Remaining, want.Quota.Deleted, want.Quota.State}
		if d.Quota != q {
			t.Errorf("quota of %s: got %+v, want %+v", id, d.Quota, q)
		}
	}
	if without == 0 || locked < 2 {
		t.Fatalf("the tenant has %d users without a OneDrive and %d locked ones: the 404 and 423/403 paths are untested", without, locked)
	}
	st := c.Stats()
	if st.Requests != 3 || st.BatchedRequests != int64(len(ids)) {
		t.Errorf("requests %d batched %d, want 3 $batch requests carrying %d", st.Requests, st.BatchedRequests, len(ids))
	}
	if sim := srv.Stats(); sim.RU != st.ResourceUnits || st.ResourceUnits != int64(len(ids)) {
		t.Errorf("RU: client %d, simulator %d, want %d (1 per drive)", st.ResourceUnits, sim.RU, len(ids))
	}
}

// enumerate runs a full delta round of one drive and returns the last state of
// every item and the delta link.
func enumerate(t *testing.T, c *Client, driveID, link string) (map[string]DriveItem, string, int) {
	t.Helper()
	items := map[string]DriveItem{}
	pages := 0
	for {
		p, err := c.DeltaPage(context.Background(), driveID, link)
		if err != nil {
			t.Fatalf("DeltaPage(%s): %v", driveID, err)
		}
		pages++
		for _, it := range p.Items {
			items[it.ID] = it
		}
		if p.DeltaLink != "" {
			return items, p.DeltaLink, pages
		}
		link = p.NextLink
	}
}

func checkItems(t *testing.T, drive string, got map[string]DriveItem, want map[string]tenant.ExportItem) {
	t.Helper()
	live := 0
	for id, it := range got {
		if it.Deleted {
			if _, ok := want[id]; ok {
				t.Errorf("drive %s: item %s reported deleted but exists", drive, id)
			}
			continue
		}
		live++
		w, ok := want[id]
		if !ok {
			t.Errorf("drive %s: item %s (%s) is not in the simulator", drive, id, it.Name)
			continue
		}
		if it.Name != w.Name || it.ParentID != w.ParentID || it.IsRoot != w.Root || it.IsFolder != w.Folder ||
			it.Size != w.Size || it.MimeType != w.MimeType || it.WebURL != w.WebURL ||
			it.CreatedBy.ID != w.CreatedBy.ID || it.LastModifiedBy.ID != w.LastModifiedBy.ID ||
			it.ModifiedAt.Format(time.RFC3339) != w.LastModifiedDateTime {
			t.Errorf("drive %s item %s: got %+v, want %+v", drive, id, it, w)
		}
	}
	if live != len(want) {
		t.Errorf("drive %s: %d live items, simulator has %d", drive, live, len(want))
	}
}

func TestDeltaFullEnumerationEqualsSimulator(t *testing.T) {
	srv := startSim(t, graphsim.Options{})
	cfg := configFor(srv)
	cfg.PageSize = 7 // many pages per drive
	c := newClient(t, cfg)
	tr := exportOf(t, srv)
	scoped, empty := 0, 0
	for _, d := range tr.drives {
		got, deltaLink, pages := enumerate(t, c, d.ID, "")
		if pages < 2 {
			t.Errorf("drive %s: %d page(s) with $top 7", d.ID, pages)
		}
		if deltaLink == "" {
			t.Fatalf("drive %s: no delta link", d.ID)
		}
		checkItems(t, d.ID, got, tr.items[d.ID])
		root := got[d.RootID]
		if !root.IsRoot || root.Shared == nil || !root.Shared.Empty {
			t.Errorf("drive %s: root %+v should carry an empty shared facet (hierarchicalsharing)", d.ID, root)
		}
		for id, it := range got {
			if it.Shared == nil || it.IsRoot {
				continue
			}
			if it.Shared.Empty {
				empty++
				continue
			}
			scoped++
			if len(tr.perms[id]) == 0 {
				t.Errorf("item %s has shared scope %q but no permission of its own", id, it.Shared.Scope)
			}
		}
		for id := range tr.items[d.ID] {
			if len(tr.perms[id]) > 0 && id != d.RootID {
				if it := got[id]; it.Shared == nil || it.Shared.Scope == "" {
					t.Errorf("item %s has its own sharing but delta shows shared=%+v", id, it.Shared)
				}
			}
		}
	}
	if scoped == 0 {
		t.Fatal("no item with a shared scope: the Prefer headers had no visible effect")
	}
	t.Logf("%d drives, %d items with a sharing scope, %d with an empty facet", len(tr.drives), scoped, empty)
}

func TestDeltaIncrementalSharedChanged(t *testing.T) {
	srv := startSim(t, graphsim.Options{})
	c := newClient(t, configFor(srv))
	tr := exportOf(t, srv)
	var d tenant.ExportDrive
	for _, x := range tr.drives {
		if len(tr.items[x.ID]) > 5 {
			d = x
			break
		}
	}
	_, link, _ := enumerate(t, c, d.ID, "")

	// Share one file that had no sharing of its own.
	var target string
	for id, it := range tr.items[d.ID] {
		if !it.Folder && !it.Root && len(tr.perms[id]) == 0 {
			target = id
			break
		}
	}
	if target == "" {
		t.Fatal("no unshared file")
	}
	if _, err := srv.Tenant().Apply(tenant.Change{Op: "share", DriveID: d.ID, ItemID: target, LinkType: "view", Scope: "anonymous"}); err != nil {
		t.Fatalf("share: %v", err)
	}
	got, _, _ := enumerate(t, c, d.ID, link)
	it, ok := got[target]
	if !ok {
		t.Fatalf("shared item %s is not in the incremental round (%d items)", target, len(got))
	}
	if !it.SharedChanged || it.Shared == nil || it.Shared.Scope != "anonymous" {
		t.Errorf("shared item: SharedChanged=%v Shared=%+v, want true and scope anonymous", it.SharedChanged, it.Shared)
	}
	// The change and its ancestors up to the root (Graph re-sends them).
	if want := strings.Count(tr.items[d.ID][target].Path, "/") + 1; len(got) != want {
		t.Errorf("incremental round returned %d items for one change %s deep, want %d", len(got), tr.items[d.ID][target].Path, want)
	}
}

func TestDeltaResyncAfterInvalidate(t *testing.T) {
	srv := startSim(t, graphsim.Options{})
	c := newClient(t, configFor(srv))
	tr := exportOf(t, srv)
	var d tenant.ExportDrive
	for _, x := range tr.drives {
		d = x
		break
	}
	_, link, _ := enumerate(t, c, d.ID, "")
	srv.Tenant().InvalidateDelta()
	_, err := c.DeltaPage(context.Background(), d.ID, link)
	var e *Error
	if !errors.As(err, &e) || e.Kind != ResyncRequired || e.Status != 410 {
		t.Fatalf("after invalidate: %v, want ResyncRequired 410", err)
	}
	if !strings.HasPrefix(e.Location, srv.Info().GraphBaseURL) {
		t.Fatalf("Location %q is not a Graph link", e.Location)
	}
	got, _, _ := enumerate(t, c, d.ID, e.Location)
	checkItems(t, d.ID, got, tr.items[d.ID])
}

func permIDs(ps []Permission) []string {
	var out []string
	for _, p := range ps {
		if !p.Inherited {
			out = append(out, p.ID)
		}
	}
	sort.Strings(out)
	return out
}

func TestListPermissionsEqualsSimulator(t *testing.T) {
	srv := startSim(t, graphsim.Options{Tenant: tenant.Config{Seed: 1, Users: 60, FilesPerUser: 20, ShareRatio: 0.3,
		InheritedFrom: tenant.InheritedFromFull}}) // own entries are told apart by inheritedFrom
	c := newClient(t, configFor(srv))
	tr := exportOf(t, srv)
	// Learn the tenant's domains as a sync would: the verified ones (the
	// guess from users' addresses calls the groups' alias domain external).
	domains, err := c.VerifiedDomains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c.SetVerifiedDomains(domains)
	if err := c.ListUsers(context.Background(), func([]User) error { return nil }); err != nil {
		t.Fatal(err)
	}
	checked, external, links := 0, 0, 0
	for _, d := range tr.drives {
		var ids []string
		for id := range tr.items[d.ID] {
			ids = append(ids, id)
		}
		ids = append(ids, "01NOTANITEMXXXXXXXXXXXXXXXXXXXXXXX") // unknown: absent, not an error
		got, err := c.ListPermissions(context.Background(), d.ID, ids)
		if err != nil {
			t.Fatalf("ListPermissions(%s): %v", d.ID, err)
		}
		if _, ok := got["01NOTANITEMXXXXXXXXXXXXXXXXXXXXXXX"]; ok {
			t.Error("an unknown item is in the result")
		}
		for id := range tr.items[d.ID] {
			var want []string
			byID := map[string]tenant.ExportPermission{}
			for _, p := range tr.perms[id] {
				want = append(want, p.ID)
				byID[p.ID] = p
			}
			sort.Strings(want)
			if g := permIDs(got[id]); !slices.Equal(g, want) {
				t.Fatalf("item %s: own permissions %v, simulator %v", id, g, want)
			}
			for _, p := range got[id] {
				if p.Inherited {
					if p.InheritedFromID == "" {
						t.Errorf("item %s permission %s inherited from nowhere", id, p.ID)
					}
					continue
				}
				w := byID[p.ID]
				checked++
				if !slices.Equal(p.Roles, w.Roles) || p.HasPassword != w.HasPassword {
					t.Errorf("permission %s: roles %v password %v, want %v %v", p.ID, p.Roles, p.HasPassword, w.Roles, w.HasPassword)
				}
				if (p.Link == nil) != (w.Link == nil) {
					t.Fatalf("permission %s: link %+v, want %+v", p.ID, p.Link, w.Link)
				}
				if p.Link != nil {
					links++
					if *p.Link != (Link{w.Link.Type, w.Link.Scope, w.Link.WebURL, w.Link.PreventsDownload}) {
						t.Errorf("permission %s: link %+v, want %+v", p.ID, *p.Link, *w.Link)
					}
				}
				switch {
				case w.ExpirationDateTime == nil && p.ExpiresAt != nil:
					t.Errorf("permission %s expires %v, want never", p.ID, p.ExpiresAt)
				case w.ExpirationDateTime != nil && (p.ExpiresAt == nil || p.ExpiresAt.Format(time.RFC3339) != *w.ExpirationDateTime):
					t.Errorf("permission %s expires %v, want %s", p.ID, p.ExpiresAt, *w.ExpirationDateTime)
				}
				var who *tenant.ExportIdentity
				kind := KindUser
				switch {
				case w.GrantedToUser != nil:
					who = w.GrantedToUser
				case w.GrantedToGroup != nil:
					who, kind = w.GrantedToGroup, KindGroup
				case w.GrantedToApplication != nil:
					who, kind = w.GrantedToApplication, KindApplication
				case w.EveryoneExceptExternal:
					who, kind = &tenant.ExportIdentity{DisplayName: tenant.EveryoneExceptExternalUsers}, KindOrganization
				}
				if (who == nil) != (p.GrantedTo == nil) {
					t.Fatalf("permission %s: grantedTo %+v, want %+v", p.ID, p.GrantedTo, who)
				}
				if who != nil && (p.GrantedTo.ID != who.ID || p.GrantedTo.Email != who.Email || p.GrantedTo.Kind != kind) {
					t.Errorf("permission %s: grantedTo %+v, want %+v (%s)", p.ID, *p.GrantedTo, *who, kind)
				}
				ext := p.GrantedTo != nil && p.GrantedTo.External
				for _, g := range p.GrantedToIdentities {
					ext = ext || g.External
				}
				if w.Guest != ext {
					t.Errorf("permission %s: external %v, simulator says guest %v (%+v)", p.ID, ext, w.Guest, p)
				}
				if ext {
					external++
				}
				if (w.Invitation != nil) != (p.InvitationEmail != "") {
					t.Errorf("permission %s: invitation %q, want %+v", p.ID, p.InvitationEmail, w.Invitation)
				}
			}
		}
	}
	if checked == 0 || external == 0 || links == 0 {
		t.Fatalf("checked %d permissions, %d external, %d links: the tenant lacks variety", checked, external, links)
	}
	t.Logf("%d own permissions compared (%d links, %d external)", checked, links, external)
}

// TestListPermissionsOfSeveralDrives: items of different drives share
// $batch requests (20 parts each) and every item gets its own drive's
// permissions, even where two drives' item ids collide in the key space.
func TestListPermissionsOfSeveralDrives(t *testing.T) {
	srv := startSim(t, graphsim.Options{Tenant: tenant.Config{Seed: 3, Users: 30, FilesPerUser: 6, ShareRatio: 0.5,
		InheritedFrom: tenant.InheritedFromFull}})
	c := newClient(t, configFor(srv))
	tr := exportOf(t, srv)
	ctx := context.Background()
	var refs []ItemRef
	for _, d := range tr.drives {
		for id := range tr.items[d.ID] {
			refs = append(refs, ItemRef{DriveID: d.ID, ItemID: id})
		}
	}
	refs = append(refs, ItemRef{DriveID: refs[0].DriveID, ItemID: "01NOTANITEMXXXXXXXXXXXXXXXXXXXXXXX"})
	before := srv.Stats()
	got, err := c.ListPermissionsOf(ctx, refs)
	if err != nil {
		t.Fatalf("ListPermissionsOf: %v", err)
	}
	after := srv.Stats()
	if envelopes, want := (after.Requests-after.BatchedRequests)-(before.Requests-before.BatchedRequests), int64((len(refs)+19)/20); envelopes != want {
		t.Errorf("%d items of %d drives took %d requests, want %d ($batch of 20 across drives)", len(refs), len(tr.drives), envelopes, want)
	}
	if _, ok := got[refs[len(refs)-1]]; ok {
		t.Error("an unknown item is in the result")
	}
	for _, ref := range refs[:len(refs)-1] {
		var want []string
		for _, p := range tr.perms[ref.ItemID] {
			want = append(want, p.ID)
		}
		sort.Strings(want)
		if g := permIDs(got[ref]); !slices.Equal(g, want) {
			t.Fatalf("item %s of drive %s: own permissions %v, simulator %v", ref.ItemID, ref.DriveID, g, want)
		}
	}
}

// sharedFile finds an item with an own permission matching ok.
// sharedFile finds a file with a permission ok accepts on a OneDrive with no
// lock (graphsim locks some by default; these tests write).
func sharedFile(tr truth, ok func(tenant.ExportPermission) bool) (driveID, itemID string, p tenant.ExportPermission) {
	for _, d := range tr.drives {
		if d.Lock != tenant.LockNone {
			continue
		}
		for id, it := range tr.items[d.ID] {
			if it.Root {
				continue
			}
			for _, p := range tr.perms[id] {
				if ok(p) {
					return d.ID, id, p
				}
			}
		}
	}
	return "", "", tenant.ExportPermission{}
}

func TestDeleteAndExpire(t *testing.T) {
	srv := startSim(t, graphsim.Options{Tenant: tenant.Config{Seed: 2, Users: 20, FilesPerUser: 30, ShareRatio: 0.3}})
	c := newClient(t, configFor(srv))
	tr := exportOf(t, srv)
	ctx := context.Background()

	// Expiry on an anonymous link.
	d, item, anon := sharedFile(tr, func(p tenant.ExportPermission) bool { return p.Link != nil && p.Link.Scope == "anonymous" })
	if anon.ID == "" {
		t.Fatal("no anonymous link")
	}
	when := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	p, err := c.SetPermissionExpiration(ctx, d, item, anon.ID, when)
	if err != nil {
		t.Fatalf("SetPermissionExpiration: %v", err)
	}
	if p.ExpiresAt == nil || !p.ExpiresAt.Equal(when) {
		t.Errorf("expiry %v, want %v", p.ExpiresAt, when)
	}
	// Expiry on an organisation link: refused, clearly.
	d2, item2, org := sharedFile(tr, func(p tenant.ExportPermission) bool { return p.Link != nil && p.Link.Scope == "organization" })
	_, err = c.SetPermissionExpiration(ctx, d2, item2, org.ID, when)
	if k := KindOf(err); k != Rejected || !strings.Contains(err.Error(), "anonymous") {
		t.Errorf("expiry on an organisation link: %v (%v), want Rejected naming anonymous links", err, k)
	}

	// Delete an own permission, then again: NotFound.
	if err := c.DeletePermission(ctx, d, item, anon.ID); err != nil {
		t.Fatalf("DeletePermission: %v", err)
	}
	perms, err := srv.Tenant().Permissions(d, item)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range perms {
		if p.ID == anon.ID {
			t.Fatal("permission still there after delete")
		}
	}
	if err := c.DeletePermission(ctx, d, item, anon.ID); KindOf(err) != NotFound {
		t.Errorf("second delete: %v, want NotFound", err)
	}

	// A permission the item inherits: with full inheritedFrom, find one (not
	// the owner's), then DELETE it in the default mode.
	if err := srv.Tenant().SetInheritedFrom("full"); err != nil {
		t.Fatal(err)
	}
	var inhDrive, inhItem, inhPerm string
	for _, dd := range tr.drives {
		if dd.Lock != tenant.LockNone {
			continue
		}
		for id := range tr.items[dd.ID] {
			ps, _ := srv.Tenant().Permissions(dd.ID, id)
			for _, p := range ps {
				if p.InheritedFrom != nil && !slices.Contains(p.Roles, "owner") {
					inhDrive, inhItem, inhPerm = dd.ID, id, p.ID
				}
			}
		}
		if inhPerm != "" {
			break
		}
	}
	if inhPerm == "" {
		t.Fatal("no inherited permission in the tenant")
	}
	if err := srv.Tenant().SetInheritedFrom("absent"); err != nil {
		t.Fatal(err)
	}
	err = c.DeletePermission(ctx, inhDrive, inhItem, inhPerm)
	if KindOf(err) != NotAllowed {
		t.Errorf("delete inherited: %v (%v), want NotAllowed", err, KindOf(err))
	}
	// The list after it still has it, without inheritedFrom.
	ps, err := c.ItemPermissions(ctx, inhDrive, inhItem)
	if err != nil || !slices.ContainsFunc(ps, func(p Permission) bool { return p.ID == inhPerm && !p.Inherited }) {
		t.Errorf("list after a refused delete: %v, want %s listed without inheritedFrom", err, inhPerm)
	}
}

// New fills what Config leaves empty with Microsoft's endpoints and refuses a sign-in
// endpoint without TLS. (The environment variables are internal/config's.)
func TestNewAppliesMicrosoftsDefaults(t *testing.T) {
	c, err := New(context.Background(), Config{TenantID: "t", ClientID: "c", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.AuthorityURL != DefaultAuthorityURL || c.cfg.GraphURL != DefaultGraphURL || c.cfg.PageSize != DefaultPageSize {
		t.Errorf("defaults not applied: %+v", c.cfg)
	}
	if _, err := New(context.Background(), Config{TenantID: "t", ClientID: "c", ClientSecret: "s", AuthorityURL: "http://login.example.test/"}); err == nil {
		t.Error("an http authority was accepted")
	}
}

// TestWriteAndSharingPermissionsNamed: each call names the permission it
// lacks.
func TestWriteAndSharingPermissionsNamed(t *testing.T) {
	srv := startSim(t, graphsim.Options{Tenant: tenant.Config{Seed: 2, Users: 20, FilesPerUser: 30, ShareRatio: 0.3}})
	tr := exportOf(t, srv)
	d, item, anon := sharedFile(tr, func(p tenant.ExportPermission) bool { return p.Link != nil && p.Link.Scope == "anonymous" })
	// Graph scopes sharing down rather than refusing it (docs/graph-behaviour.md);
	// the refusal is what this test names.
	srv.Tenant().SetLenient(tenant.Lenient{DenyWithoutFullControl: true})
	srv.SetAppPermissions([]string{"User.Read.All", "Files.Read.All"})
	c := newClient(t, configFor(srv)) // a new client: tokens carry the roles of their issue
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"delete", func() error { return c.DeletePermission(ctx, d, item, anon.ID) }, "Files.ReadWrite.All"},
		{"expire", func() error {
			_, err := c.SetPermissionExpiration(ctx, d, item, anon.ID, time.Now().Add(time.Hour))
			return err
		}, "Files.ReadWrite.All"},
		{"delta", func() error { _, err := c.DeltaPage(ctx, d, ""); return err }, "Sites.FullControl.All"},
		{"permissions", func() error { _, err := c.ListPermissions(ctx, d, []string{item}); return err }, "Sites.FullControl.All"},
	}
	for _, tc := range tests {
		err := tc.call()
		var e *Error
		if !errors.As(err, &e) || e.Kind != MissingPermission || e.Permission != tc.want || e.Status != 403 {
			t.Errorf("%s: %v, want MissingPermission %s", tc.name, err, tc.want)
		}
	}
	for uid := range tr.drives {
		if got, _, err := c.UserDrives(ctx, []string{uid}); err != nil || got[uid] == nil {
			t.Errorf("drives with Files.Read.All: %v, %v", got, err)
		}
		break
	}
}

// TestDeltaLinkFollowedOnTheConfiguredHost: a stored link issued by Graph at
// another address (the demo's simulator before a restart, or before a proxy
// was configured) is followed on the configured Graph host.
func TestDeltaLinkFollowedOnTheConfiguredHost(t *testing.T) {
	srv := startSim(t, graphsim.Options{Tenant: tenant.Config{Seed: 5, Users: 2, FilesPerUser: 30, ShareRatio: 0.1}})
	cfg := configFor(srv)
	cfg.PageSize = 10
	c := newClient(t, cfg)
	ctx := context.Background()
	drive := srv.Tenant().Drives()[0].ID
	first, err := c.DeltaPage(ctx, drive, "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(first.NextLink)
	if err != nil || first.NextLink == "" {
		t.Fatalf("next link %q: %v", first.NextLink, err)
	}
	u.Host = "127.0.0.1:1" // nothing listens there
	second, err := c.DeltaPage(ctx, drive, u.String())
	if err != nil {
		t.Fatalf("stored link on an old host: %v", err)
	}
	if len(second.Items) == 0 || second.Items[0].ID == first.Items[0].ID {
		t.Errorf("the second page has %d items, starting with the first page's first item: the link was not followed", len(second.Items))
	}
}
