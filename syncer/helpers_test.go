package syncer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

// smallTenant is big enough for several delta pages per drive with a small
// page size, several permission batches, guests and users without drives.
func smallTenant(seed int64) tenant.Config {
	return tenant.Config{Seed: seed, Users: 14, FilesPerUser: 60, ShareRatio: 0.08}
}

func startSim(t *testing.T, opt graphsim.Options) *graphsim.Server {
	t.Helper()
	srv, err := graphsim.Start(context.Background(), opt)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// pageSize is small so that drives have several delta pages.
const pageSize = 40

func graphDefaults(info graphsim.Info) msgraph.Config {
	return msgraph.Config{AuthorityURL: info.AuthorityHost, GraphURL: info.GraphBaseURL, CAFile: info.CAFile, PageSize: pageSize}
}

func newSyncer(st *store.Store, info graphsim.Info, bus events.Bus) *syncer.Syncer {
	return syncer.New(syncer.Config{Store: st, Bus: bus, GraphDefaults: graphDefaults(info), Version: "test"})
}

// clock is a syncer clock a test moves forward to make the scheduled
// refreshes due.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newSyncerAt is newSyncer on a test clock.
func newSyncerAt(st *store.Store, info graphsim.Info, c *clock) *syncer.Syncer {
	return syncer.New(syncer.Config{Store: st, GraphDefaults: graphDefaults(info), Version: "test", Now: c.Now})
}

// refreshRun advances the clock past the root refresh interval (not the
// sweep's) and runs the incremental sync that re-reads the roots.
func refreshRun(t *testing.T, st *store.Store, s *syncer.Syncer, c *clock, integID string) *models.SyncRun {
	t.Helper()
	c.advance(syncer.DefaultRootRefreshInterval)
	run := runSync(t, st, s, integID, false)
	if run.RootsRefreshed == 0 {
		t.Fatal("the root refresh was due, yet no root was re-read")
	}
	return run
}

func createIntegration(t *testing.T, st *store.Store, info graphsim.Info, secret string) string {
	t.Helper()
	in := &models.Integration{Name: "Contoso", TenantID: info.TenantID, ClientID: info.ClientID}
	if err := st.CreateIntegration(context.Background(), in, secret); err != nil {
		t.Fatalf("create integration: %v", err)
	}
	return in.ID
}

func runSync(t *testing.T, st *store.Store, s *syncer.Syncer, integID string, full bool) *models.SyncRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	runID, err := s.Run(ctx, integID, full)
	if err != nil {
		t.Fatalf("sync (full=%v): %v", full, err)
	}
	r, err := st.SyncRun(context.Background(), runID)
	if err != nil {
		t.Fatalf("read sync run: %v", err)
	}
	if r.Status != models.SyncSucceeded {
		t.Fatalf("sync run status %s, error %q", r.Status, r.Error)
	}
	return r
}

// export is the simulator's state, parsed.
type export struct {
	users  map[string]tenant.ExportUser
	drives map[string]tenant.ExportDrive
	items  map[string]tenant.ExportItem
	perms  map[string]tenant.ExportPermission // key item|id
}

func readExport(t *testing.T, srv *graphsim.Server) export {
	t.Helper()
	var buf bytes.Buffer
	if err := srv.Tenant().Export(&buf); err != nil {
		t.Fatalf("export: %v", err)
	}
	return parseExport(t, &buf)
}

func parseExport(t *testing.T, buf io.Reader) export {
	t.Helper()
	ex := export{users: map[string]tenant.ExportUser{}, drives: map[string]tenant.ExportDrive{},
		items: map[string]tenant.ExportItem{}, perms: map[string]tenant.ExportPermission{}}
	sc := bufio.NewScanner(buf)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Bytes()
		var head struct{ Type string }
		if err := json.Unmarshal(line, &head); err != nil {
			t.Fatalf("export line: %v", err)
		}
		var err error
		switch head.Type {
		case "user":
			var u tenant.ExportUser
			err = json.Unmarshal(line, &u)
			ex.users[u.ID] = u
		case "drive":
			var d tenant.ExportDrive
			err = json.Unmarshal(line, &d)
			ex.drives[d.ID] = d
		case "item":
			var it tenant.ExportItem
			err = json.Unmarshal(line, &it)
			ex.items[it.ID] = it
		case "permission":
			var p tenant.ExportPermission
			err = json.Unmarshal(line, &p)
			ex.perms[p.ItemID+"|"+p.ID] = p
		}
		if err != nil {
			t.Fatalf("export %s: %v", head.Type, err)
		}
	}
	return ex
}

func stamp(p *time.Time) string {
	if p == nil {
		return "0001-01-01T00:00:00Z"
	}
	return p.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// diff collects differences and reports at most a few of each kind.
type diff struct {
	t    *testing.T
	n    map[string]int
	seen int
}

func (d *diff) add(kind, format string, args ...any) {
	d.n[kind]++
	d.seen++
	if d.n[kind] <= 5 {
		d.t.Errorf(kind+": "+format, args...)
	}
}

func (d *diff) eq(kind, id, field string, got, want any) {
	if fmt.Sprint(got) != fmt.Sprint(want) {
		d.add(kind, "%s %s: database has %v, simulator %v", id, field, got, want)
	}
}

// assertEqualToExport compares every stored field of users, drives, items
// and own permissions with the simulator's export, and checks that each
// table has no duplicate or extra rows. Drives the app cannot read (locked
// noAccess, closed to the app) are left out of the comparison of items and
// permissions; instead each must be stored flagged with the right state and
// a reason (under its id, or under a placeholder when Graph never told its
// id), and every readable drive must be stored unflagged.
func assertEqualToExport(t *testing.T, st *store.Store, integID string, srv *graphsim.Server) {
	t.Helper()
	assertEqual(t, st, integID, readExport(t, srv))
}

func assertEqual(t *testing.T, st *store.Store, integID string, ex export) {
	t.Helper()
	db := st.Gorm().WithContext(context.Background())
	d := &diff{t: t, n: map[string]int{}}

	var users []models.User
	if err := db.Where("integration_id = ?", integID).Find(&users).Error; err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, u := range users {
		seen[u.ID] = true
		w, ok := ex.users[u.ID]
		if !ok {
			d.add("user", "%s stored but not in the tenant", u.ID)
			continue
		}
		d.eq("user", u.ID, "displayName", u.DisplayName, w.DisplayName)
		d.eq("user", u.ID, "userPrincipalName", u.UserPrincipalName, w.UserPrincipalName)
		d.eq("user", u.ID, "mail", u.Mail, w.Mail)
		d.eq("user", u.ID, "userType", u.UserType, w.UserType)
		d.eq("user", u.ID, "accountEnabled", u.AccountEnabled, w.AccountEnabled)
		d.eq("user", u.ID, "jobTitle", u.JobTitle, w.JobTitle)
		d.eq("user", u.ID, "department", u.Department, w.Department)
		d.eq("user", u.ID, "createdDateTime", stamp(u.CreatedDateTime), w.CreatedDateTime)
		d.eq("user", u.ID, "managerId", u.ManagerID, w.ManagerID)
		var skus []string
		for _, l := range w.AssignedLicenses {
			skus = append(skus, l.SkuID)
		}
		d.eq("user", u.ID, "licenses", strings.Join(u.LicenseSkuIDs, ","), strings.Join(skus, ","))
		if w.UserType == models.UserTypeGuest {
			if u.HasDrive != nil && *u.HasDrive {
				d.add("user", "%s guest marked with a drive", u.ID)
			}
		} else {
			d.eq("user", u.ID, "hasDrive", fmt.Sprint(u.HasDrive != nil && *u.HasDrive), fmt.Sprint(w.HasDrive))
			if u.HasDrive == nil {
				d.add("user", "%s member whose drive was never looked up", u.ID)
			}
		}
	}
	for id := range ex.users {
		if !seen[id] {
			d.add("user", "%s missing", id)
		}
	}

	var drives []models.Drive
	if err := db.Where("integration_id = ?", integID).Find(&drives).Error; err != nil {
		t.Fatal(err)
	}
	closed := map[string]models.DriveAccess{} // drive id → the state it must be stored with
	byOwner := map[string]string{}            // owner → export drive id
	for _, w := range ex.drives {
		byOwner[w.OwnerUserID] = w.ID
		switch w.Lock {
		case tenant.LockNoAccess:
			closed[w.ID] = models.DriveLocked
		case tenant.LockAccessDenied:
			closed[w.ID] = models.DriveNoAccess
		}
	}
	seen = map[string]bool{}
	for _, dr := range drives {
		id := dr.ID
		if models.IsUnknownDriveID(id) {
			id = byOwner[dr.OwnerUserID]
		}
		if want, ok := closed[id]; ok {
			seen[id] = true
			if dr.Access != want || dr.AccessReason == "" || dr.AccessSince == nil {
				d.add("drive", "%s (owner %s) stored with access %q reason %q since %v, want %q with a reason", dr.ID, dr.OwnerUserID, dr.Access, dr.AccessReason, dr.AccessSince, want)
			}
			continue
		}
		seen[dr.ID] = true
		w, ok := ex.drives[dr.ID]
		if !ok {
			d.add("drive", "%s stored but not in the tenant", dr.ID)
			continue
		}
		d.eq("drive", dr.ID, "access", dr.Access, models.DriveReadable)
		d.eq("drive", dr.ID, "owner", dr.OwnerUserID, w.OwnerUserID)
		d.eq("drive", dr.ID, "name", dr.Name, w.Name)
		d.eq("drive", dr.ID, "driveType", dr.DriveType, w.DriveType)
		d.eq("drive", dr.ID, "webUrl", dr.WebURL, w.WebURL)
		d.eq("drive", dr.ID, "rootId", dr.RootID, w.RootID)
		d.eq("drive", dr.ID, "quota", fmt.Sprint(dr.QuotaTotal, dr.QuotaUsed, dr.QuotaRemaining, dr.QuotaDeleted, dr.QuotaState),
			fmt.Sprint(w.Quota.Total, w.Quota.Used, w.Quota.Remaining, w.Quota.Deleted, w.Quota.State))
	}
	for id := range ex.drives {
		if !seen[id] {
			d.add("drive", "%s missing", id)
		}
	}

	var items []models.DriveItem
	if err := db.Where("integration_id = ?", integID).Find(&items).Error; err != nil {
		t.Fatal(err)
	}
	seen = map[string]bool{}
	for _, it := range items {
		if _, ok := closed[it.DriveID]; ok {
			continue
		}
		if seen[it.ID] {
			d.add("item", "%s stored twice", it.ID)
		}
		seen[it.ID] = true
		w, ok := ex.items[it.ID]
		if !ok {
			d.add("item", "%s (%s) stored but not in the tenant", it.ID, it.Path)
			continue
		}
		d.eq("item", it.ID, "driveId", it.DriveID, w.DriveID)
		d.eq("item", it.ID, "parentId", it.ParentID, w.ParentID)
		d.eq("item", it.ID, "name", it.Name, w.Name)
		d.eq("item", it.ID, "path", it.Path, w.Path)
		d.eq("item", it.ID, "root", it.IsRoot, w.Root)
		d.eq("item", it.ID, "folder", it.IsFolder, w.Folder)
		d.eq("item", it.ID, "size", it.Size, w.Size)
		d.eq("item", it.ID, "mimeType", it.MimeType, w.MimeType)
		d.eq("item", it.ID, "webUrl", it.WebURL, w.WebURL)
		d.eq("item", it.ID, "createdDateTime", stamp(it.CreatedDateTime), w.CreatedDateTime)
		d.eq("item", it.ID, "lastModifiedDateTime", stamp(it.LastModifiedDateTime), w.LastModifiedDateTime)
		d.eq("item", it.ID, "createdBy", fmt.Sprint(it.CreatedByID, it.CreatedByName, it.CreatedByEmail),
			fmt.Sprint(w.CreatedBy.ID, w.CreatedBy.DisplayName, w.CreatedBy.Email))
		d.eq("item", it.ID, "lastModifiedBy", fmt.Sprint(it.LastModifiedByID, it.LastModifiedByName, it.LastModifiedByEmail),
			fmt.Sprint(w.LastModifiedBy.ID, w.LastModifiedBy.DisplayName, w.LastModifiedBy.Email))
	}
	for id, w := range ex.items {
		if _, ok := closed[w.DriveID]; !ok && !seen[id] {
			d.add("item", "%s (%s) missing", id, w.Path)
		}
	}

	var perms []models.Permission
	if err := db.Where("integration_id = ? AND NOT inherited", integID).Find(&perms).Error; err != nil {
		t.Fatal(err)
	}
	seen = map[string]bool{}
	for _, p := range perms {
		if _, ok := closed[p.DriveID]; ok {
			continue
		}
		key := p.ItemID + "|" + p.ID
		seen[key] = true
		w, ok := ex.perms[key]
		if !ok {
			d.add("permission", "%s stored as own but not in the tenant (roles %s, scope %s)", key, p.Roles, p.Scope())
			continue
		}
		roles := append([]string(nil), w.Roles...)
		sort.Strings(roles)
		d.eq("permission", key, "driveId", p.DriveID, w.DriveID)
		d.eq("permission", key, "roles", p.Roles, strings.Join(roles, ","))
		if w.Link == nil {
			if p.LinkScope != nil {
				d.add("permission", "%s has a link in the database only", key)
			}
		} else {
			d.eq("permission", key, "link", fmt.Sprint(p.LinkType, p.Scope(), p.LinkWebURL, p.LinkPreventsDownload),
				fmt.Sprint(w.Link.Type, w.Link.Scope, w.Link.WebURL, w.Link.PreventsDownload))
		}
		want := "0001-01-01T00:00:00Z"
		if w.ExpirationDateTime != nil {
			want = *w.ExpirationDateTime
		}
		d.eq("permission", key, "expiration", stamp(p.ExpiresAt), want)
		d.eq("permission", key, "hasPassword", p.HasPassword, w.HasPassword)
		var g *tenant.ExportIdentity
		kind := ""
		switch {
		case w.GrantedToUser != nil:
			g, kind = w.GrantedToUser, models.GranteeUser
		case w.GrantedToGroup != nil:
			g, kind = w.GrantedToGroup, models.GranteeGroup
		case w.GrantedToApplication != nil:
			g, kind = w.GrantedToApplication, models.GranteeApplication
		case w.EveryoneExceptExternal:
			g, kind = &tenant.ExportIdentity{DisplayName: tenant.EveryoneExceptExternalUsers}, models.GranteeOrganization
		}
		if g != nil {
			d.eq("permission", key, "grantedTo", fmt.Sprint(p.GrantedToID, p.GrantedToDisplayName, p.GrantedToEmail, p.GrantedToKind),
				fmt.Sprint(g.ID, g.DisplayName, g.Email, kind))
		} else if p.GrantedToID != "" || p.GrantedToKind != "" {
			d.add("permission", "%s granted to %s (%s) in the database only", key, p.GrantedToID, p.GrantedToKind)
		}
		var gotIDs, wantIDs []string
		external := p.GrantedToExternal
		for _, x := range p.GrantedToIdentities {
			gotIDs = append(gotIDs, x.ID+"/"+x.DisplayName+"/"+x.Email)
			external = external || x.External
		}
		for _, x := range w.GrantedToIdentities {
			wantIDs = append(wantIDs, x.ID+"/"+x.DisplayName+"/"+x.Email)
		}
		d.eq("permission", key, "grantedToIdentities", strings.Join(gotIDs, ","), strings.Join(wantIDs, ","))
		d.eq("permission", key, "guest", external, w.Guest)
		inv := ""
		if w.Invitation != nil {
			inv = w.Invitation.Email
		}
		d.eq("permission", key, "invitation", p.InvitationEmail, inv)
	}
	for key, w := range ex.perms {
		if _, ok := closed[w.DriveID]; !ok && !seen[key] {
			d.add("permission", "%s missing (or stored as inherited)", key)
		}
	}
	// Inherited rows belong to items that inherit: the tenant gives them no own permission.
	var inherited []models.Permission
	if err := db.Where("integration_id = ? AND inherited", integID).Find(&inherited).Error; err != nil {
		t.Fatal(err)
	}
	withOwnPerms := map[string]bool{}
	for _, p := range ex.perms {
		withOwnPerms[p.ItemID] = true
	}
	for _, p := range inherited {
		if withOwnPerms[p.ItemID] {
			d.add("permission", "%s|%s stored as inherited on an item with permissions of its own", p.ItemID, p.ID)
		}
	}
	// Own permissions mark their items.
	var marked []models.DriveItem
	db.Where("integration_id = ? AND has_own_permissions", integID).Find(&marked)
	nMarked := 0
	for _, it := range marked {
		if _, ok := closed[it.DriveID]; !ok {
			nMarked++
		}
	}
	withOwn := map[string]bool{}
	for _, p := range ex.perms {
		if _, ok := closed[p.DriveID]; !ok {
			withOwn[p.ItemID] = true
		}
	}
	if nMarked != len(withOwn) {
		d.add("item", "%d items marked has_own_permissions, the tenant has %d", nMarked, len(withOwn))
	}
	if d.seen > 0 {
		t.Fatalf("database differs from the simulator's export: %v", d.n)
	}
}

// assertSummary compares the simulator's counts with the database's, over
// the drives the app can read (summaryOf).
func assertSummary(t *testing.T, st *store.Store, integID string, srv *graphsim.Server) {
	t.Helper()
	assertCounts(t, st, integID, summaryOf(readExport(t, srv)))
}

// summaryOf is the simulator's Summary (tenant.Summary) counted from its
// export, leaving out the items and permissions of drives the app cannot
// read (locked noAccess, closed to the app): the sync skips those.
func summaryOf(ex export) tenant.Summary {
	sum := tenant.Summary{Users: len(ex.users), Drives: len(ex.drives),
		PermissionsByScope: map[string]int{"anonymous": 0, "organization": 0, "users": 0, "direct": 0}}
	closed := func(driveID string) bool {
		l := ex.drives[driveID].Lock
		return l == tenant.LockNoAccess || l == tenant.LockAccessDenied
	}
	for _, it := range ex.items {
		if !it.Root && !closed(it.DriveID) {
			sum.Items++
		}
	}
	shared := map[string]bool{}
	for _, p := range ex.perms {
		scope := p.SharingScope()
		if closed(p.DriveID) || scope == "" || ex.items[p.ItemID].Root {
			continue
		}
		sum.PermissionsByScope[scope]++
		sum.Permissions++
		shared[p.ItemID] = true
	}
	sum.SharedItems = len(shared)
	return sum
}

func assertCounts(t *testing.T, st *store.Store, integID string, sum tenant.Summary) {
	t.Helper()
	db := st.Gorm().WithContext(context.Background())
	var users, drives, items, shared, perms int64
	db.Model(&models.User{}).Where("integration_id = ?", integID).Count(&users)
	db.Model(&models.Drive{}).Where("integration_id = ?", integID).Count(&drives)
	// The drives stored as not readable are left out, as summaryOf does.
	readable := "drive_id NOT IN (SELECT id FROM drives WHERE integration_id = ? AND access_state <> '')"
	db.Model(&models.DriveItem{}).Where("integration_id = ? AND NOT is_root AND "+readable, integID, integID).Count(&items)
	var rows []models.Permission
	db.Where("integration_id = ? AND item_id IN (SELECT id FROM drive_items WHERE integration_id = ? AND NOT is_root) AND "+readable,
		integID, integID, integID).Find(&rows)
	byScope := map[string]int{}
	sharedItems := map[string]bool{}
	for _, p := range rows {
		if !p.IsSharing() {
			continue
		}
		perms++
		sharedItems[p.ItemID] = true
		s := p.SharingScope()
		if s == models.LinkScopeUsers && !p.IsLink() {
			s = "direct"
		}
		byScope[s]++
	}
	shared = int64(len(sharedItems))
	got := fmt.Sprint(users, drives, items, shared, perms)
	want := fmt.Sprint(sum.Users, sum.Drives, sum.Items, sum.SharedItems, sum.Permissions)
	if got != want {
		t.Fatalf("counts users drives items sharedItems permissions: database %s, simulator summary %s", got, want)
	}
	for k, v := range sum.PermissionsByScope {
		if byScope[k] != v {
			t.Fatalf("permissions of scope %s: database %d, simulator %d", k, byScope[k], v)
		}
	}
}

// bound is the package doc's lower bound for a full sync: the requests
// and resource units no sync can do without. perDrive counts permission
// batches per drive (Σ_d ceil(C_d/20), what msgraph.ListPermissions, which
// takes one drive's items, allows); global counts them across drives
// (ceil(C/20), which needs items of several drives in one $batch).
type bound struct{ perDrive, global, ru int64 }

func fullSyncBound(t *testing.T, srv *graphsim.Server, ex export) bound {
	t.Helper()
	members := 0
	for _, u := range ex.users {
		if u.UserType != models.UserTypeGuest {
			members++
		}
	}
	perDrive := map[string]int{}
	for _, it := range ex.items {
		perDrive[it.DriveID]++
	}
	cands := candidatesByDrive(t, srv, ex)
	var base, batches int64
	b := bound{}
	base += int64(math.Ceil(float64(len(ex.users)) / 100)) // $expand=manager: 100 users a page
	base += 2                                              // tenant facts: /organization and /subscribedSkus
	base += int64(math.Ceil(float64(members) / 20))
	b.ru += int64(members) // GET drive: 1 RU each
	total := 0
	for id := range ex.drives {
		pages := max(1, int(math.Ceil(float64(perDrive[id])/pageSize)))
		base += int64(pages)
		b.ru += 2 + int64(pages-1) // the first page has no token (2 RU), next links do (1 RU)
		batches += int64(math.Ceil(float64(cands[id]) / 20))
		b.ru += int64(cands[id]) * 5
		total += cands[id]
	}
	b.perDrive = base + batches
	b.global = base + int64(math.Ceil(float64(total)/20))
	return b
}

// candidatesByDrive counts the items delta marks with a shared facet on a
// full enumeration, per drive, by reading delta straight from the tenant.
func candidatesByDrive(t *testing.T, srv *graphsim.Server, ex export) map[string]int {
	t.Helper()
	out := map[string]int{}
	for id := range ex.drives {
		token := ""
		for {
			p, err := srv.Tenant().Delta(id, "root", token, tenant.DeltaOptions{HierarchicalSharing: true, ShowSharingChanges: true,
				ShowRemovedAsDeleted: true, TraversePermissionGaps: true, Top: 1000})
			if err != nil {
				t.Fatalf("delta: %v", err)
			}
			for _, it := range p.Items {
				if it.Shared != nil && !it.Deleted {
					out[id]++
				}
			}
			if p.NextToken == "" {
				break
			}
			token = p.NextToken
		}
	}
	return out
}

func permissionReads(s graphsim.Stats) int64 {
	return s.ByEndpoint["GET /drives/{id}/items/{id}/permissions"]
}

// incrementalBound is the package doc's lower bound for an incremental
// sync from the stored delta links: one user page, each drive's delta pages
// (with a token: 1 RU), the permission batches of the items whose sharing
// changed (5 RU each; global: 20 a batch across drives), and the re-read of
// the drives that changed (1 RU each, 20 a batch). It reads the rounds
// straight from the tenant. Items whose sharing changed are those marked
// sharedChanged and those whose shared facet differs from the stored one
// (folders are never marked). A drive whose delta link answers 410 costs a
// full enumeration instead; reads is the most permission reads the sync
// may make beyond one per change (the resynced drives' candidates).
type incBound struct {
	bound
	reads int64
}

func incrementalBound(t *testing.T, st *store.Store, integID string, srv *graphsim.Server) incBound {
	t.Helper()
	var states []models.DriveSyncState
	if err := st.Gorm().Where("integration_id = ?", integID).Find(&states).Error; err != nil {
		t.Fatal(err)
	}
	var stored []models.DriveItem
	if err := st.Gorm().Where("integration_id = ?", integID).Find(&stored).Error; err != nil {
		t.Fatal(err)
	}
	facet := map[string]string{}
	for _, it := range stored {
		facet[it.ID] = "-"
		if it.SharedScope != nil {
			facet[it.ID] = "=" + *it.SharedScope
		}
	}
	facetOf := func(it tenant.Item) string {
		if it.Shared == nil {
			return "-"
		}
		return "=" + it.Shared.Scope
	}
	users := srv.Tenant().UserCount()
	b := incBound{bound: bound{perDrive: int64(math.Ceil(float64(users) / 100))}}
	changedDrives, totalChanged, perDriveBatches := 0, 0, int64(0)
	opt := tenant.DeltaOptions{HierarchicalSharing: true, ShowSharingChanges: true, ShowRemovedAsDeleted: true, TraversePermissionGaps: true, Top: pageSize}
	for _, s := range states {
		if s.DeltaLink == nil {
			t.Fatalf("drive %s has no delta link", s.DriveID)
		}
		u, err := url.Parse(*s.DeltaLink)
		if err != nil {
			t.Fatal(err)
		}
		token := u.Query().Get("token")
		changes, changed, resynced := 0, 0, false
		seen := map[string]bool{}
		for {
			p, err := srv.Tenant().Delta(s.DriveID, "root", token, opt)
			var re *tenant.ResyncError
			if errors.As(err, &re) {
				token, resynced = re.FreshToken, true
				b.perDrive++
				b.ru++ // the refused request is charged too
				continue
			}
			if err != nil {
				t.Fatalf("delta: %v", err)
			}
			b.perDrive++
			b.ru++
			for _, it := range p.Items {
				changes++
				cand := resynced && it.Shared != nil ||
					!resynced && (it.SharedChanged || !it.Root && facetOf(it) != nonEmpty(facet[it.ID], "-"))
				if cand && !it.Deleted && !seen[it.ID] {
					seen[it.ID] = true
					changed++
				}
			}
			if p.NextToken == "" {
				break
			}
			token = p.NextToken
		}
		if resynced {
			b.ru++ // the first page of a fresh enumeration costs 2
			b.reads += int64(changed)
		}
		batches := int64(math.Ceil(float64(changed) / 20))
		b.perDrive += batches
		perDriveBatches += batches
		totalChanged += changed
		b.ru += int64(changed) * 5
		if changes > 0 {
			changedDrives++
			b.ru++
		}
	}
	rereads := int64(math.Ceil(float64(changedDrives) / 20))
	b.global = b.perDrive - perDriveBatches + int64(math.Ceil(float64(totalChanged)/20)) + rereads
	b.perDrive += rereads
	return b
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
