package sharing_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/graphsimtest"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/sharing"
	"github.com/overshare/overshare/sharing/change"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

const deleteEndpoint = "DELETE /drives/{id}/items/{id}/permissions/{id}"

var admin = auth.Principal{Subject: "sub-admin-1", Name: "Ada Admin", Email: "ada@example.com"}

// env is a simulator with a known nested sharing set up, synced into st:
//
//	/Projects            folder, anonymous edit link (anonID), direct grant to a member (userID)
//	/Projects/plan.docx  file shared after the folder with an organisation view link (orgID):
//	                     SharePoint copied the folder's entries onto it (owner, anonID, userID
//	                     as its own, same ids), then added orgID
//	/Projects/notes.txt  file that inherits everything from the folder
type env struct {
	srv      *graphsim.Server
	st       *store.Store
	sy       *syncer.Syncer
	svc      *sharing.Service
	integ    string
	drive    string
	folder   string
	file     string
	notes    string
	anonID   string
	userID   string
	orgID    string
	member   string
	defaults msgraph.Config
}

func setup(t *testing.T, st *store.Store) *env {
	t.Helper()
	ctx := context.Background()
	srv, err := graphsim.Start(ctx, graphsim.Options{Tenant: tenant.Config{Seed: 7, Users: 6, FilesPerUser: 30, ShareRatio: 0.15}})
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	info := srv.Info()
	e := &env{srv: srv, st: st}
	e.defaults = graphsimtest.Endpoints(info)
	e.defaults.Version = "test"

	tn := srv.Tenant()
	for _, u := range tn.UsersPage(0, tn.UserCount()) {
		if d, ok := tn.DriveOfUser(u.ID); ok && u.HasDrive {
			e.drive = d.ID
			break
		}
	}
	if e.drive == "" {
		t.Fatal("no user with a drive in the tenant")
	}
	apply := func(c tenant.Change) tenant.ChangeResult {
		t.Helper()
		c.DriveID = e.drive
		r, err := tn.Apply(c)
		if err != nil {
			t.Fatalf("apply %s: %v", c.Op, err)
		}
		return r
	}
	e.folder = apply(tenant.Change{Op: "create", Name: "Projects", Folder: true}).ItemID
	e.file = apply(tenant.Change{Op: "create", ParentID: e.folder, Name: "plan.docx"}).ItemID
	e.notes = apply(tenant.Change{Op: "create", ParentID: e.folder, Name: "notes.txt"}).ItemID
	e.anonID = apply(tenant.Change{Op: "share", ItemID: e.folder, Scope: "anonymous", LinkType: "edit"}).PermissionID
	d, _ := tn.Drive(e.drive)
	for _, u := range tn.UsersPage(0, tn.UserCount()) {
		if u.UserType == "Member" && u.AccountEnabled && u.ID != d.OwnerUserID {
			e.member = u.ID
			break
		}
	}
	e.userID = apply(tenant.Change{Op: "share", ItemID: e.folder, Scope: "direct", GranteeID: e.member}).PermissionID
	e.orgID = apply(tenant.Change{Op: "share", ItemID: e.file, Scope: "organization", LinkType: "view"}).PermissionID

	in := &models.Integration{Name: "Contoso", TenantID: info.TenantID, ClientID: info.ClientID}
	if err := st.CreateIntegration(ctx, in, info.ClientSecret); err != nil {
		t.Fatalf("create integration: %v", err)
	}
	e.integ = in.ID
	e.sy = syncer.New(syncer.Config{Store: st, GraphDefaults: e.defaults, Version: "test", Logger: quiet()})
	e.sync(t, true)
	e.svc = sharing.New(sharing.Config{Store: st, Logger: quiet(), GraphDefaults: e.defaults})

	// The fixture is what the tests rely on: the copies are plan.docx's own.
	for _, id := range []string{e.anonID, e.userID} {
		if p := e.row(t, e.file, id); p == nil || p.Inherited {
			t.Fatalf("after the sync, plan.docx should hold the folder's %s as its own copy: %+v", id, p)
		}
		if p := e.row(t, e.folder, id); p == nil || p.Inherited {
			t.Fatalf("after the sync, the folder should hold %s: %+v", id, p)
		}
	}
	return e
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (e *env) sync(t *testing.T, full bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	runID, err := e.sy.Run(ctx, e.integ, full)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	r, err := e.st.SyncRun(ctx, runID)
	if err != nil || r.Status != models.SyncSucceeded {
		t.Fatalf("sync run: %v %+v", err, r)
	}
}

// row is the stored permission, nil when absent.
func (e *env) row(t *testing.T, itemID, permID string) *models.Permission {
	t.Helper()
	p, err := e.st.PermissionByKey(context.Background(), store.PermissionKey{IntegrationID: e.integ, ItemID: itemID, ID: permID})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// simHas reports whether the simulator lists permID on itemID (own or inherited).
func (e *env) simHas(t *testing.T, itemID, permID string) bool {
	t.Helper()
	ps, err := e.srv.Tenant().Permissions(e.drive, itemID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.ID == permID {
			return true
		}
	}
	return false
}

func (e *env) deletes() int64 { return e.srv.Stats().ByEndpoint[deleteEndpoint] }

func (e *env) audit(t *testing.T) []models.AuditEvent {
	t.Helper()
	evs, err := e.st.AuditEvents(context.Background(), e.integ, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func (e *env) stop(t *testing.T, items ...change.Item) []change.Outcome {
	t.Helper()
	out, err := e.svc.StopSharing(context.Background(), admin, e.integ, items)
	if err != nil {
		t.Fatalf("stop sharing: %v", err)
	}
	return out
}

func TestStopOneAnonymousLink(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		anonymous := func() bool {
			page, err := st.ListDriveItems(context.Background(), e.integ, store.ItemFilter{Scopes: []string{models.LinkScopeAnonymous}},
				store.DefaultItemOrder, store.PageRequest{First: 500})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Rows {
				if it.ID == e.folder {
					return true
				}
			}
			return false
		}
		if !anonymous() {
			t.Fatal("the folder is not listed among items with anonymous links before")
		}
		out := e.stop(t, change.Item{ItemID: e.folder, PermissionIDs: []string{e.anonID}})
		if len(out) != 1 || out[0].Result != models.AuditRemoved || out[0].PermissionID != e.anonID {
			t.Fatalf("outcome %+v, want the anonymous link removed", out)
		}
		if !strings.HasPrefix(out[0].Message, "Confirmed removed") {
			t.Fatalf("message %q does not confirm the removal", out[0].Message)
		}
		if e.simHas(t, e.folder, e.anonID) || e.simHas(t, e.notes, e.anonID) {
			t.Fatal("the simulator still lists the anonymous link on the folder or on what inherits from it")
		}
		if e.row(t, e.folder, e.anonID) != nil {
			t.Fatal("the database still holds the folder's anonymous link")
		}
		// plan.docx broke inheritance before: its copy is its own and stays.
		if !e.simHas(t, e.file, e.anonID) || e.row(t, e.file, e.anonID) == nil {
			t.Fatal("plan.docx's own copy of the link went with the folder's")
		}
		if anonymous() {
			t.Fatal("the folder is still listed among items with anonymous links")
		}
		evs := e.audit(t)
		if len(evs) != 1 {
			t.Fatalf("%d audit events, want 1", len(evs))
		}
		ev := evs[0]
		if ev.Action != models.AuditStopSharing || ev.Result != models.AuditRemoved || ev.PermissionID != e.anonID || ev.Message != out[0].Message ||
			ev.ItemID != e.folder || ev.ItemName != "Projects" || ev.ItemPath != "/Projects" ||
			ev.LinkScope != models.LinkScopeAnonymous || ev.LinkType != "edit" || !strings.HasPrefix(ev.LinkWebURL, "https://") ||
			ev.ActorSubject != admin.Subject || ev.ActorName != admin.Name || ev.GrantedTo != "anyone with the link" ||
			time.Since(ev.At) > time.Hour || ev.At.After(time.Now().Add(time.Minute)) {
			t.Fatalf("audit event %+v", ev)
		}
		// The folder's sharing history names the admin; the copy on plan.docx has none.
		removal := func() []models.SharingEvent {
			t.Helper()
			h, err := st.ItemHistory(context.Background(), e.integ, e.folder, store.PageRequest{First: 50})
			if err != nil {
				t.Fatal(err)
			}
			var out []models.SharingEvent
			for _, ev := range h.Rows {
				if ev.Kind == models.SharingRemoved {
					out = append(out, ev)
				}
			}
			return out
		}
		if rm := removal(); len(rm) != 1 || rm[0].PermissionID != e.anonID || rm[0].Source != models.SourceOvershare ||
			rm[0].ActorSubject != admin.Subject || rm[0].ActorName != admin.Name || rm[0].ItemName != "Projects" {
			t.Fatalf("the folder's history records the removal as %+v", rm)
		}

		// The same call again: already removed, as the audit log says; nothing sent to Graph,
		// nothing recorded.
		before := e.deletes()
		again := e.stop(t, change.Item{ItemID: e.folder, PermissionIDs: []string{e.anonID}})
		if len(again) != 1 || again[0].Result != models.AuditAlreadyRemoved || again[0].PermissionID != e.anonID || !again[0].Confirmed ||
			!strings.HasPrefix(again[0].Message, "Already removed") || !strings.Contains(again[0].Message, admin.Name) {
			t.Fatalf("second call answered %+v, want the link already removed by %s", again, admin.Name)
		}
		if e.deletes() != before {
			t.Fatal("the second call sent a DELETE to Graph")
		}
		if n := len(e.audit(t)); n != 1 {
			t.Fatalf("%d audit events after the second call, want 1", n)
		}
		if n := len(removal()); n != 1 {
			t.Fatalf("%d removals in the folder's history after the second call, want 1", n)
		}
	})
}

func TestStopAllOwnKeepsOwner(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		out := e.stop(t, change.Item{ItemID: e.file, All: true})
		got := map[string]string{}
		for _, o := range out {
			got[o.PermissionID] = o.Result
			if !strings.HasPrefix(o.Message, "Confirmed removed") {
				t.Errorf("%s: message %q", o.PermissionID, o.Message)
			}
		}
		want := map[string]string{e.orgID: models.AuditRemoved, e.anonID: models.AuditRemoved, e.userID: models.AuditRemoved}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("outcomes %v, want the link, the copied link and the copied grant removed", got)
		}
		for _, id := range []string{e.orgID, e.anonID, e.userID} {
			if e.simHas(t, e.file, id) {
				t.Fatalf("the simulator still lists %s on the file", id)
			}
		}
		if !e.simHas(t, e.folder, e.anonID) || !e.simHas(t, e.folder, e.userID) {
			t.Fatal("removing the file's copies removed the folder's")
		}
		after, err := st.ItemPermissions(context.Background(), e.integ, e.file)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != 1 || !strings.Contains(after[0].Roles, "owner") || after[0].Inherited {
			t.Fatalf("file permissions after: %+v, want the owner's own copy alone", after)
		}
		it, err := st.DriveItem(context.Background(), e.integ, e.file)
		if err != nil {
			t.Fatal(err)
		}
		if !it.HasOwnPermissions || it.SharingFlags != 0 {
			t.Fatalf("file: has_own_permissions %v, flags %b; want a hierarchy root that shares nothing", it.HasOwnPermissions, it.SharingFlags)
		}
		if evs := e.audit(t); len(evs) != 3 {
			t.Fatalf("audit events %+v", evs)
		}
		assertEqualToSimulator(t, e)
	})
}

// TestStopCopiedGrant: the grant SharePoint copied onto plan.docx from its folder is the
// file's own: stop sharing removes it from the file alone, and the re-read confirms it.
func TestStopCopiedGrant(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		reads := e.srv.Stats().ByEndpoint["GET /drives/{id}/items/{id}/permissions"]
		out := e.stop(t, change.Item{ItemID: e.file, PermissionIDs: []string{e.userID}})
		if len(out) != 1 || out[0].Result != models.AuditRemoved || !strings.HasPrefix(out[0].Message, "Confirmed removed") {
			t.Fatalf("outcome %+v, want confirmed removed", out)
		}
		if n := e.srv.Stats().ByEndpoint["GET /drives/{id}/items/{id}/permissions"] - reads; n != 1 {
			t.Fatalf("%d permission reads after the DELETE, want 1", n)
		}
		if e.simHas(t, e.file, e.userID) || e.row(t, e.file, e.userID) != nil {
			t.Fatal("the copied grant is still on the file")
		}
		if !e.simHas(t, e.folder, e.userID) || e.row(t, e.folder, e.userID) == nil {
			t.Fatal("the folder lost its grant")
		}
		if evs := e.audit(t); len(evs) != 1 || evs[0].Message != out[0].Message {
			t.Fatalf("audit events %+v", evs)
		}
		assertEqualToSimulator(t, e)
	})
}

// TestAccessRemainsReported: plan.docx's unique permissions were deleted in SharePoint since
// the sync, so the user's grant (same id as the folder's) now comes from the folder. Graph
// refuses the DELETE (403 notAllowed), the re-read still lists it, and the outcome says it is
// still granted by the folder; the database then holds plan.docx as inheriting, and a second
// attempt is refused without calling Graph.
func TestAccessRemainsReported(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		if _, err := e.srv.Tenant().Apply(tenant.Change{Op: "inherit", DriveID: e.drive, ItemID: e.file}); err != nil {
			t.Fatal(err)
		}
		before := e.deletes()
		out := e.stop(t, change.Item{ItemID: e.file, PermissionIDs: []string{e.userID}})
		if len(out) != 1 || out[0].Result != models.AuditFailed {
			t.Fatalf("outcome %+v, want failed", out)
		}
		if m := out[0].Message; !strings.HasPrefix(m, "Still there") || !strings.Contains(m, `"Projects"`) || !strings.Contains(m, "/Projects") {
			t.Fatalf("message %q does not say the folder still grants it", m)
		}
		if e.deletes()-before != 1 || !e.simHas(t, e.file, e.userID) {
			t.Fatal("want one refused DELETE and the grant still listed")
		}
		if p := e.row(t, e.file, e.userID); p == nil || !p.Inherited || p.InheritedFromID == nil || *p.InheritedFromID != e.folder {
			t.Fatalf("database row after the re-read: %+v, want inherited from the folder", p)
		}
		if p := e.row(t, e.file, e.orgID); p != nil {
			t.Fatal("the file's own link, gone from Graph, is still stored")
		}
		if evs := e.audit(t); len(evs) != 1 || evs[0].Result != models.AuditFailed || evs[0].Message != out[0].Message {
			t.Fatalf("audit events %+v", evs)
		}
		again := e.stop(t, change.Item{ItemID: e.file, PermissionIDs: []string{e.userID}})
		if len(again) != 1 || again[0].Result != models.AuditFailed || !strings.Contains(again[0].Message, `"Projects"`) || e.deletes()-before != 1 {
			t.Fatalf("second attempt %+v (DELETEs %d), want a refusal naming the folder without Graph", again, e.deletes()-before)
		}
		assertEqualToSimulator(t, e)
	})
}

// TestKeptByMicrosoft365Reported: SharePoint answers 204 for limited access and keeps it; the
// re-read shows it, and the outcome says so instead of "removed".
func TestKeptByMicrosoft365Reported(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		// Someone without access to the folder yet.
		tn := e.srv.Tenant()
		d, _ := tn.Drive(e.drive)
		var other string
		for _, u := range tn.UsersPage(0, tn.UserCount()) {
			if u.UserType == "Member" && u.ID != d.OwnerUserID && u.ID != e.member {
				other = u.ID
			}
		}
		limited, err := tn.Apply(tenant.Change{Op: "share", DriveID: e.drive, ItemID: e.notes, Scope: "limitedAccess", GranteeID: other})
		if err != nil {
			t.Fatal(err)
		}
		e.sync(t, false)
		if p := e.row(t, e.notes, limited.PermissionID); p == nil || p.IsSharing() {
			t.Fatalf("limited access row %+v, want stored and not sharing", p)
		}
		out := e.stop(t, change.Item{ItemID: e.notes, PermissionIDs: []string{limited.PermissionID}})
		if len(out) != 1 || out[0].Result != models.AuditFailed || !strings.HasPrefix(out[0].Message, "Still there") {
			t.Fatalf("outcome %+v, want 'Still there'", out)
		}
		if e.row(t, e.notes, limited.PermissionID) == nil {
			t.Fatal("the row of a permission Graph kept was removed")
		}
		assertEqualToSimulator(t, e)
	})
}

func TestAlreadyRemovedInMicrosoft365(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		if err := e.srv.Tenant().DeletePermission(e.drive, e.file, e.orgID); err != nil {
			t.Fatal(err)
		}
		out := e.stop(t, change.Item{ItemID: e.file, PermissionIDs: []string{e.orgID}})
		if len(out) != 1 || out[0].Result != models.AuditAlreadyRemoved {
			t.Fatalf("outcome %+v, want already removed", out)
		}
		if e.row(t, e.file, e.orgID) != nil {
			t.Fatal("the row is still in the database")
		}
		if evs := e.audit(t); len(evs) != 1 || evs[0].Result != models.AuditAlreadyRemoved {
			t.Fatalf("audit events %+v", evs)
		}
	})
}

func TestGraphFailureKeepsRow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		// Tokens issued from now on lack every permission that allows writing files.
		e.srv.SetAppPermissions([]string{"User.Read.All", "Files.Read.All", "Sites.Read.All"})
		out := e.stop(t, change.Item{ItemID: e.folder, PermissionIDs: []string{e.anonID}})
		if len(out) != 1 || out[0].Result != models.AuditFailed || out[0].PermissionID != e.anonID {
			t.Fatalf("outcome %+v, want the anonymous link failed", out)
		}
		if !strings.Contains(out[0].Message, "Files.ReadWrite.All") {
			t.Fatalf("message %q does not name the permission the app needs", out[0].Message)
		}
		if e.row(t, e.folder, e.anonID) == nil || e.row(t, e.file, e.anonID) == nil || !e.simHas(t, e.folder, e.anonID) {
			t.Fatal("the link changed although Graph refused")
		}
		if evs := e.audit(t); len(evs) != 1 || evs[0].Result != models.AuditFailed || evs[0].Message != out[0].Message {
			t.Fatalf("audit events %+v", evs)
		}
	})
}

// TestReadOnlyDriveRefusesInWords: a OneDrive whose site is locked
// read-only syncs, and stop sharing on it fails saying so, not as a missing
// permission; nothing changes.
func TestReadOnlyDriveRefusesInWords(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		if err := e.srv.Tenant().SetDriveLock(e.drive, tenant.LockReadOnly); err != nil {
			t.Fatal(err)
		}
		e.sync(t, false) // a read-only drive reads normally
		out := e.stop(t, change.Item{ItemID: e.folder, PermissionIDs: []string{e.anonID}})
		if len(out) != 1 || out[0].Result != models.AuditFailed {
			t.Fatalf("outcome %+v, want the anonymous link failed", out)
		}
		if !strings.Contains(out[0].Message, "locked read-only") || strings.Contains(out[0].Message, "grant") {
			t.Fatalf("message %q should say the OneDrive is locked read-only, not ask for a permission", out[0].Message)
		}
		if e.row(t, e.folder, e.anonID) == nil || !e.simHas(t, e.folder, e.anonID) {
			t.Fatal("the link changed although the drive is read-only")
		}
	})
}

func TestSetLinkExpiration(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		ctx := context.Background()
		at := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
		res, err := e.svc.SetLinkExpiration(ctx, admin, e.integ, e.folder, e.anonID, &at)
		if err != nil {
			t.Fatalf("set expiry: %v", err)
		}
		if p := res.Permission; p.ExpiresAt == nil || !p.ExpiresAt.Equal(at) || res.Limited {
			t.Fatalf("returned row expires %v (limited %v), want %v", p.ExpiresAt, res.Limited, at)
		}
		if got := e.row(t, e.file, e.anonID); got == nil || got.ExpiresAt != nil && got.ExpiresAt.Equal(at) {
			t.Fatalf("plan.docx's own copy expires %v, want it unchanged", got)
		}
		if simAt := e.simExpiry(t); !simAt.Equal(at) {
			t.Fatalf("simulator expiry %v, want %v", simAt, at)
		}

		_, err = e.svc.SetLinkExpiration(ctx, admin, e.integ, e.file, e.orgID, &at)
		var se *change.Error
		if !errors.As(err, &se) || se.Kind != change.Invalid || !strings.Contains(se.Message, "organisation link") ||
			!strings.Contains(se.Message, "anonymous") {
			t.Fatalf("organisation link: error %v, want a refusal in words", err)
		}
		if got := e.row(t, e.file, e.orgID); got.ExpiresAt != nil {
			t.Fatal("the organisation link got an expiry")
		}

		// Clearing is refused under the tenant's policy for Anyone links (on by default).
		_, err = e.svc.SetLinkExpiration(ctx, admin, e.integ, e.folder, e.anonID, nil)
		if !errors.As(err, &se) || se.Kind != change.Invalid || !strings.Contains(se.Message, "refused to remove the expiry") {
			t.Fatalf("clear under the policy: error %v, want a refusal in words", err)
		}
		if got := e.row(t, e.folder, e.anonID); got.ExpiresAt == nil || !got.ExpiresAt.Equal(at) || !e.simExpiry(t).Equal(at) {
			t.Fatalf("a refused clear changed the expiry: %v", got.ExpiresAt)
		}

		// Without the policy the link no longer expires.
		e.srv.Tenant().SetLinkSettings(tenant.LinkSettings{Policy: tenant.LinkPolicy{Off: true}})
		res, err = e.svc.SetLinkExpiration(ctx, admin, e.integ, e.folder, e.anonID, nil)
		if err != nil || res.Permission.ExpiresAt != nil || res.Message != "Expiry cleared: the link no longer expires." {
			t.Fatalf("clear expiry: %v, %+v", err, res)
		}
		evs := e.audit(t)
		results := map[string]int{}
		for _, ev := range evs {
			if ev.Action != models.AuditSetLinkExpiration {
				t.Fatalf("audit action %s", ev.Action)
			}
			results[ev.Result]++
		}
		if results[models.AuditUpdated] != 2 || results[models.AuditFailed] != 2 {
			t.Fatalf("audit results %v, want 2 updated and 2 failed", results)
		}
		e.sync(t, false)
		assertEqualToSimulator(t, e)
	})
}

// A tenant that requires Anyone links to expire within 30 days shortens a later expiry without
// refusing it: the result says so in words with the date Microsoft 365 applied, and the
// database and the audit log hold that date, not the one asked for.
func TestSetLinkExpirationLimitedByTenantPolicy(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		ctx := context.Background()
		asked := time.Now().AddDate(1, 0, 0).UTC().Truncate(time.Second)
		res, err := e.svc.SetLinkExpiration(ctx, admin, e.integ, e.folder, e.anonID, &asked)
		if err != nil {
			t.Fatal(err)
		}
		applied := e.simExpiry(t)
		if limit := time.Now().AddDate(0, 0, 30); applied.After(limit) || applied.Before(limit.Add(-time.Hour)) {
			t.Fatalf("the simulator applied %v, want its 30-day maximum", applied)
		}
		day := applied.Format("2 January 2006 15:04 UTC")
		if !res.Limited || res.Message != "Microsoft 365 limited the expiry to "+day+" (the tenant's maximum for Anyone links), not "+
			asked.Format("2 January 2006 15:04 UTC")+" as asked." {
			t.Fatalf("result %+v, want the limit in words", res)
		}
		if p := res.Permission; p.ExpiresAt == nil || !p.ExpiresAt.Equal(applied) {
			t.Fatalf("returned row expires %v, want %v", p.ExpiresAt, applied)
		}
		if got := e.row(t, e.folder, e.anonID); got.ExpiresAt == nil || !got.ExpiresAt.Equal(applied) {
			t.Fatalf("stored expiry %v, want %v", got.ExpiresAt, applied)
		}
		evs := e.audit(t)
		if len(evs) != 1 || evs[0].Result != models.AuditUpdated || !strings.Contains(evs[0].Message, "limited the expiry to "+day) {
			t.Fatalf("audit events %+v, want the applied date", evs)
		}
	})
}

// simExpiry is the anonymous link's expiry in the simulator.
func (e *env) simExpiry(t *testing.T) time.Time {
	t.Helper()
	ps, err := e.srv.Tenant().Permissions(e.drive, e.folder)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.ID == e.anonID {
			return p.ExpirationDateTime
		}
	}
	t.Fatalf("link %s is gone from the simulator", e.anonID)
	return time.Time{}
}

// After stopping sharing on many items, an incremental sync changes nothing the service wrote:
// no removed permission comes back, and the database equals the simulator.
func TestIncrementalSyncAfterStopSharing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		ctx := context.Background()
		page, err := st.ListDriveItems(ctx, e.integ, store.ItemFilter{SharedOnly: true}, store.ItemOrder{Field: store.ItemOrderName}, store.PageRequest{First: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Rows) < 5 {
			t.Fatalf("only %d shared items; the tenant is too small for this test", len(page.Rows))
		}
		var items []change.Item
		for i, it := range page.Rows {
			if i%2 == 0 {
				items = append(items, change.Item{ItemID: it.ID, All: true})
			}
		}
		out := e.stop(t, items...)
		removed := 0
		for _, o := range out {
			if o.Result != models.AuditRemoved {
				t.Fatalf("outcome %+v", o)
			}
			removed++
		}
		if n := len(e.audit(t)); n != removed || removed < len(items) {
			t.Fatalf("%d audit events for %d removed permissions of %d items", n, removed, len(items))
		}
		assertEqualToSimulator(t, e)
		e.sync(t, false)
		assertEqualToSimulator(t, e)
		for _, o := range out {
			if e.row(t, o.ItemID, o.PermissionID) != nil {
				t.Fatalf("permission %s of %s came back after the sync", o.PermissionID, o.ItemID)
			}
		}
		// Each removal is in its item's history once, by the admin: the sync found nothing more.
		for _, o := range out {
			h, err := st.ItemHistory(ctx, e.integ, o.ItemID, store.PageRequest{First: 100})
			if err != nil {
				t.Fatal(err)
			}
			var rm []string
			for _, ev := range h.Rows {
				if ev.Kind == models.SharingRemoved && ev.PermissionID == o.PermissionID {
					rm = append(rm, ev.Source+"/"+ev.ActorName)
				}
			}
			if len(rm) != 1 || rm[0] != models.SourceOvershare+"/"+admin.Name {
				t.Fatalf("permission %s of %s: removals in its history %v, want one by %s", o.PermissionID, o.ItemID, rm, admin.Name)
			}
		}
	})
}

// assertEqualToSimulator compares every stored permission with what the simulator lists for
// its item: own rows with the export, inherited rows with the item's listing, and
// has_own_permissions with the export.
func assertEqualToSimulator(t *testing.T, e *env) {
	t.Helper()
	var buf bytes.Buffer
	if err := e.srv.Tenant().Export(&buf); err != nil {
		t.Fatal(err)
	}
	own := map[string]tenant.ExportPermission{}
	withOwn := map[string]bool{}
	// Drives the app cannot read (locked, closed to it) are not synced.
	closed := map[string]bool{}
	for _, d := range e.srv.Tenant().DriveStates() {
		closed[d.DriveID] = d.Lock == tenant.LockNoAccess || d.Lock == tenant.LockAccessDenied
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var p tenant.ExportPermission
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p.Type == "permission" && !closed[p.DriveID] {
			own[p.ItemID+"|"+p.ID] = p
			withOwn[p.ItemID] = true
		}
	}
	var rows []models.Permission
	if err := e.st.Gorm().Where("integration_id = ?", e.integ).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var problems []string
	seen := map[string]bool{}
	for _, p := range rows {
		if closed[p.DriveID] {
			continue
		}
		key := p.ItemID + "|" + p.ID
		if !p.Inherited {
			seen[key] = true
			w, ok := own[key]
			switch {
			case !ok:
				problems = append(problems, "own "+key+" not in the simulator")
			case fmt.Sprint(stamp(p.ExpiresAt)) != fmt.Sprint(deref(w.ExpirationDateTime)):
				problems = append(problems, fmt.Sprintf("own %s expires %s in the database, %s in the simulator", key, stamp(p.ExpiresAt), deref(w.ExpirationDateTime)))
			}
			continue
		}
		listed, err := e.srv.Tenant().Permissions(p.DriveID, p.ItemID)
		if err != nil {
			problems = append(problems, "inherited "+key+": "+err.Error())
			continue
		}
		found := false
		for _, l := range listed {
			// OneDrive for Business omits inheritedFrom: an inherited row matches the item's
			// listing by id, the item having no permission of its own.
			if l.ID == p.ID && !withOwn[p.ItemID] && (l.InheritedFrom == nil || p.InheritedFromID == nil || l.InheritedFrom.ID == *p.InheritedFromID) {
				found = true
				want := ""
				if !l.ExpirationDateTime.IsZero() {
					want = l.ExpirationDateTime.UTC().Format(time.RFC3339)
				}
				if stamp(p.ExpiresAt) != want {
					problems = append(problems, "inherited "+key+" expiry differs")
				}
			}
		}
		if !found {
			problems = append(problems, "inherited "+key+" not listed by the simulator")
		}
	}
	for key := range own {
		if !seen[key] {
			problems = append(problems, "own "+key+" missing from the database")
		}
	}
	var markedRows []models.DriveItem
	e.st.Gorm().Where("integration_id = ? AND has_own_permissions", e.integ).Find(&markedRows)
	marked := 0
	for _, it := range markedRows {
		if !closed[it.DriveID] {
			marked++
		}
	}
	if marked != len(withOwn) {
		problems = append(problems, fmt.Sprintf("%d items marked has_own_permissions, the simulator has %d", marked, len(withOwn)))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		if len(problems) > 10 {
			problems = problems[:10]
		}
		t.Fatalf("database differs from the simulator:\n%s", strings.Join(problems, "\n"))
	}
}

func stamp(p *time.Time) string {
	if p == nil {
		return ""
	}
	return p.UTC().Truncate(time.Second).Format(time.RFC3339)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// The same item twice in one call (a bulk list built from overlapping filters) is one removal.
func TestDuplicateItemsRemovedOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		before := e.deletes()
		out := e.stop(t,
			change.Item{ItemID: e.folder, PermissionIDs: []string{e.anonID}},
			change.Item{ItemID: e.folder, All: true},
			change.Item{ItemID: e.folder, PermissionIDs: []string{e.anonID}})
		// The entry without ids (everything of the folder's own: its link and its grant) wins.
		if len(out) != 2 || out[0].Result != models.AuditRemoved || out[1].Result != models.AuditRemoved || out[0].PermissionID == out[1].PermissionID {
			t.Fatalf("outcomes %+v, want each of the folder's two permissions removed once", out)
		}
		if n := e.deletes() - before; n != 2 {
			t.Fatalf("%d DELETEs sent to Graph, want 2", n)
		}
		if n := len(e.audit(t)); n != 2 {
			t.Fatalf("%d audit events, want 2", n)
		}
	})
}

// An explicit empty list removes nothing, alone or beside a list of ids for the same item;
// only All means everything of the item's own.
func TestExplicitEmptyListRemovesNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		before := e.deletes()
		if out := e.stop(t, change.Item{ItemID: e.folder, PermissionIDs: []string{}}); len(out) != 0 {
			t.Fatalf("an empty list answered %+v, want nothing", out)
		}
		if n := e.deletes() - before; n != 0 {
			t.Fatalf("an empty list sent %d DELETEs to Graph", n)
		}
		for _, id := range []string{e.anonID, e.userID} {
			if e.row(t, e.folder, id) == nil || !e.simHas(t, e.folder, id) {
				t.Fatalf("%s went from the folder", id)
			}
		}
		out := e.stop(t, change.Item{ItemID: e.folder, PermissionIDs: []string{}}, change.Item{ItemID: e.folder, PermissionIDs: []string{e.anonID}})
		if len(out) != 1 || out[0].PermissionID != e.anonID || out[0].Result != models.AuditRemoved {
			t.Fatalf("an empty list beside the link: %+v, want the link alone removed", out)
		}
		if e.row(t, e.folder, e.userID) == nil || !e.simHas(t, e.folder, e.userID) {
			t.Fatal("the folder's grant went too")
		}
		if n := len(e.audit(t)); n != 1 {
			t.Fatalf("%d audit events, want 1", n)
		}
	})
}

// A permission id the database does not hold for the item comes back failed, naming it; the
// rest of the call is unchanged.
func TestUnknownPermissionIDFails(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		before := e.deletes()
		// The organisation link is plan.docx's: unknown on the folder.
		out := e.stop(t, change.Item{ItemID: e.file, PermissionIDs: []string{e.orgID, "no-such-permission"}},
			change.Item{ItemID: e.folder, PermissionIDs: []string{e.orgID}})
		got := map[string]change.Outcome{}
		for _, o := range out {
			got[o.ItemID+"/"+o.PermissionID] = o
		}
		if len(out) != 3 || got[e.file+"/"+e.orgID].Result != models.AuditRemoved {
			t.Fatalf("outcomes %+v, want the link removed and two failures", out)
		}
		for _, k := range []string{e.file + "/no-such-permission", e.folder + "/" + e.orgID} {
			o := got[k]
			if o.Result != models.AuditFailed || !strings.Contains(o.Message, "does not know permission") ||
				!strings.Contains(o.Message, o.PermissionID) || !strings.Contains(o.Message, "sync again") {
				t.Errorf("%s: %+v, want a failure naming it", k, o)
			}
		}
		if n := e.deletes() - before; n != 1 {
			t.Fatalf("%d DELETEs sent to Graph, want 1", n)
		}
		if evs := e.audit(t); len(evs) != 1 || evs[0].PermissionID != e.orgID {
			t.Fatalf("audit events %+v, want the removal alone", evs)
		}
		if !e.simHas(t, e.folder, e.anonID) || !e.simHas(t, e.folder, e.userID) {
			t.Fatal("the folder lost sharing")
		}
	})
}

// Concurrent calls on one item are one removal per permission: the simulator sees one DELETE
// each, the audit log one "removed" each, and no answer contradicts another (the calls that
// waited find nothing left, or already removed).
func TestConcurrentStopSharingOneItem(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		before := e.deletes()
		want := []string{e.anonID, e.userID} // the folder's own sharing
		const calls = 4
		outs := make([][]change.Outcome, calls)
		errs := make([]error, calls)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				it := change.Item{ItemID: e.folder, All: true}
				if i%2 == 1 {
					it = change.Item{ItemID: e.folder, PermissionIDs: want}
				}
				<-start
				outs[i], errs[i] = e.svc.StopSharing(context.Background(), admin, e.integ, []change.Item{it})
			}()
		}
		close(start)
		wg.Wait()
		removed := map[string]int{}
		for i := range calls {
			if errs[i] != nil {
				t.Fatalf("call %d: %v", i, errs[i])
			}
			for _, o := range outs[i] {
				switch o.Result {
				case models.AuditRemoved:
					removed[o.PermissionID]++
				case models.AuditAlreadyRemoved:
				default:
					t.Errorf("call %d: %+v, want removed or already removed", i, o)
				}
			}
			if i%2 == 1 && len(outs[i]) != len(want) {
				t.Errorf("call %d with ids answered %+v, want each id answered", i, outs[i])
			}
		}
		for _, id := range want {
			if removed[id] != 1 {
				t.Errorf("%s answered removed %d times, want once", id, removed[id])
			}
			if e.simHas(t, e.folder, id) || e.row(t, e.folder, id) != nil {
				t.Errorf("%s is still on the folder", id)
			}
		}
		if n := e.deletes() - before; n != int64(len(want)) {
			t.Errorf("%d DELETEs sent to Graph, want %d", n, len(want))
		}
		results := map[string]int{}
		for _, ev := range e.audit(t) {
			results[ev.PermissionID+" "+ev.Result]++
		}
		if len(results) != 2 || results[e.anonID+" "+models.AuditRemoved] != 1 || results[e.userID+" "+models.AuditRemoved] != 1 {
			t.Errorf("audit events %v, want one removed per permission", results)
		}
	})
}
