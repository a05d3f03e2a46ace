package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/graphsimtest"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/sharing"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

// Stopping sharing through the API, end to end: the simulator loses the permission, the
// database follows, the audit log tells who did what, a repeat is a no-op, an inherited
// permission is refused naming the folder, and a bulk dry run changes nothing anywhere.
func TestStopSharingThroughTheAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		sim, err := graphsim.Start(ctx, graphsim.Options{Tenant: tenant.Config{Seed: 7, Users: 5, FilesPerUser: 20, ShareRatio: 0.1}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sim.Close() })
		info := sim.Info()
		tn := sim.Tenant()
		var drive string // a OneDrive with no lock (graphsim locks some by default)
		for _, d := range tn.DriveStates() {
			if d.Provisioned && d.Lock == tenant.LockNone {
				drive = d.DriveID
				break
			}
		}
		apply := func(c tenant.Change) tenant.ChangeResult {
			c.DriveID = drive
			r, err := tn.Apply(c)
			if err != nil {
				t.Fatalf("apply %s: %v", c.Op, err)
			}
			return r
		}
		folder := apply(tenant.Change{Op: "create", Name: "Projects", Folder: true}).ItemID
		file := apply(tenant.Change{Op: "create", ParentID: folder, Name: "plan-x7.docx"}).ItemID
		// plan-x7 gets sharing of its own, so SharePoint copies the folder's link
		// onto it (docs/graph-behaviour.md); notes-x7 too, until its sharing is
		// reset below: the next sync then stores what it lists as inherited.
		notes := apply(tenant.Change{Op: "create", ParentID: folder, Name: "notes-x7.docx"}).ItemID
		anonID := apply(tenant.Change{Op: "share", ItemID: folder, Scope: "anonymous", LinkType: "edit"}).PermissionID
		orgID := apply(tenant.Change{Op: "share", ItemID: file, Scope: "organization", LinkType: "view"}).PermissionID
		apply(tenant.Change{Op: "share", ItemID: notes, Scope: "organization", LinkType: "view"})
		simHas := func(item, perm string) bool {
			ps, err := tn.Permissions(drive, item)
			if err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(ps, func(p tenant.Permission) bool { return p.ID == perm })
		}

		defaults := graphsimtest.Endpoints(info)
		defaults.Version = "test"
		in := &models.Integration{Name: "Contoso", TenantID: info.TenantID, ClientID: info.ClientID}
		if err := st.CreateIntegration(ctx, in, info.ClientSecret); err != nil {
			t.Fatal(err)
		}
		sy := syncer.New(syncer.Config{Store: st, GraphDefaults: defaults, Version: "test"})
		if _, err := sy.Run(ctx, in.ID, true); err != nil {
			t.Fatal(err)
		}
		apply(tenant.Change{Op: "inherit", ItemID: notes})
		if _, err := sy.Run(ctx, in.ID, false); err != nil {
			t.Fatal(err)
		}
		svc := sharing.New(sharing.Config{Store: st, GraphDefaults: defaults})
		e := newEnv(t, st, func(c *server.Config) {
			c.GraphQL.Sharing = svc
			c.GraphQL.Credentials = sharing.CredentialChecker{Defaults: defaults}
		})
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		itemID := globalID("DriveItem", in.ID, file)
		orgPerm := globalID("Permission", in.ID, file, orgID)
		inheritedPerm := globalID("Permission", in.ID, notes, anonID)
		ids := map[string]any{"i": itemID, "p": []string{orgPerm}}

		var listed struct {
			DriveItems struct {
				Edges []struct {
					Node struct {
						ID          string
						Permissions []struct {
							ID            string
							Inherited     bool
							InheritedFrom *struct{ Name string }
							Link          struct{ Scope string }
						}
					}
				}
			}
		}
		e.must(admin, `query($id: ID!) { driveItems(integrationId: $id, filter: {search: "plan-x7"}) { edges { node { id
  permissions { id inherited inheritedFrom { name } link { scope } } } } } }`, map[string]any{"id": in.ID}, &listed)
		if len(listed.DriveItems.Edges) != 1 || listed.DriveItems.Edges[0].Node.ID != itemID || len(listed.DriveItems.Edges[0].Node.Permissions) < 2 {
			t.Fatalf("the synced file: %+v", listed)
		}

		const stop = `mutation($i: ID!, $p: [ID!]) { stopSharing(input: {itemId: $i, permissionIds: $p}) { removed { id graphId alreadyRemoved } failed { permissionId message } } }`
		type result struct {
			StopSharing struct {
				Removed []struct {
					ID, GraphID    string
					AlreadyRemoved bool
				}
				Failed []struct{ PermissionID, Message string }
			}
		}

		// The inherited link is refused, naming the folder to change instead.
		var refused result
		e.must(admin, stop, map[string]any{"i": globalID("DriveItem", in.ID, notes), "p": []string{inheritedPerm}}, &refused)
		if len(refused.StopSharing.Removed) != 0 || len(refused.StopSharing.Failed) != 1 || !strings.Contains(refused.StopSharing.Failed[0].Message, "Projects") ||
			refused.StopSharing.Failed[0].PermissionID != inheritedPerm || !simHas(folder, anonID) {
			t.Errorf("inherited permission: %+v", refused)
		}

		// A bulk dry run shows what would go and touches nothing.
		var dry struct {
			StopSharingBulk struct {
				Items, Permissions int
				Preview            []struct{ Item struct{ ID string } }
			}
		}
		e.must(admin, `mutation($id: ID!, $d: ID!) { stopSharingBulk(integrationId: $id, filter: {driveId: $d, sharedScope: [ORGANIZATION]}, dryRun: true) {
  items permissions preview { item { id } } } }`, map[string]any{"id": in.ID, "d": globalID("Drive", in.ID, drive)}, &dry)
		if !slices.ContainsFunc(dry.StopSharingBulk.Preview, func(p struct{ Item struct{ ID string } }) bool { return p.Item.ID == itemID }) {
			t.Errorf("the dry run does not list the file: %+v", dry)
		}
		deletes := func() int64 { return sim.Stats().ByEndpoint["DELETE /drives/{id}/items/{id}/permissions/{id}"] }
		if !simHas(file, orgID) || deletes() != 0 {
			t.Errorf("the dry run changed the simulator")
		}

		// An explicit empty list (a script's filter that found nothing) removes nothing and
		// says so; omitting the list is what means "all".
		simBefore, err := tn.Permissions(drive, file)
		if err != nil {
			t.Fatal(err)
		}
		r := e.do(admin, stop, map[string]any{"i": itemID, "p": []string{}})
		if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) || !strings.Contains(r.Errors[0].Message, "permissionIds is empty") ||
			!strings.Contains(r.Errors[0].Message, "omit it") {
			t.Errorf("an empty permissionIds: %+v, want BAD_USER_INPUT saying it is empty", r.Errors)
		}
		simAfter, err := tn.Permissions(drive, file)
		if err != nil {
			t.Fatal(err)
		}
		if deletes() != 0 || len(simAfter) != len(simBefore) || len(simBefore) < 2 {
			t.Errorf("an empty permissionIds changed the simulator: %d DELETEs, %d permissions before, %d after", deletes(), len(simBefore), len(simAfter))
		}

		// An id Overshare does not hold for the item comes back failed, naming it, and is not
		// sent to Microsoft 365.
		unknownPerm := globalID("Permission", in.ID, file, "no-such-permission")
		var unknown result
		e.must(admin, stop, map[string]any{"i": itemID, "p": []string{unknownPerm}}, &unknown)
		if len(unknown.StopSharing.Removed) != 0 || len(unknown.StopSharing.Failed) != 1 || unknown.StopSharing.Failed[0].PermissionID != unknownPerm ||
			!strings.Contains(unknown.StopSharing.Failed[0].Message, `does not know permission "no-such-permission" on this item`) {
			t.Errorf("an unknown permission id: %+v, want a failure naming it", unknown)
		}
		if deletes() != 0 {
			t.Errorf("an unknown permission id sent %d DELETEs", deletes())
		}

		// Stop the organization link: gone from Microsoft 365 and from the database, audited.
		var done result
		e.must(admin, stop, ids, &done)
		if len(done.StopSharing.Removed) != 1 || done.StopSharing.Removed[0].ID != orgPerm || done.StopSharing.Removed[0].GraphID != orgID ||
			done.StopSharing.Removed[0].AlreadyRemoved || len(done.StopSharing.Failed) != 0 {
			t.Fatalf("stop sharing: %+v", done)
		}
		if simHas(file, orgID) {
			t.Error("the simulator still has the link")
		}
		var gone struct{ Node *struct{ ID string } }
		e.must(admin, `query($p: ID!) { node(id: $p) { id } }`, map[string]any{"p": orgPerm}, &gone)
		if gone.Node != nil {
			t.Error("the database still has the link")
		}
		var audit struct {
			AuditEvents struct {
				Edges []struct {
					Node struct{ Action, Result, LinkScope, ActorSubject, ItemName, PermissionGraphID string }
				}
			}
		}
		e.must(admin, `query($i: ID!) { auditEvents(filter: {itemId: $i}) { edges { node { action result linkScope actorSubject itemName permissionGraphId } } } }`,
			map[string]any{"i": itemID}, &audit)
		found := slices.ContainsFunc(audit.AuditEvents.Edges, func(ed struct {
			Node struct{ Action, Result, LinkScope, ActorSubject, ItemName, PermissionGraphID string }
		}) bool {
			n := ed.Node
			return n.Action == models.AuditStopSharing && n.Result == models.AuditRemoved && n.LinkScope == models.LinkScopeOrganization &&
				n.ActorSubject == devidp.DemoAdminScriptClientID && n.ItemName == "plan-x7.docx" && n.PermissionGraphID == orgID
		})
		if !found {
			t.Errorf("no audit event for the removal: %+v", audit)
		}

		// The same call again changes nothing and says the link is already removed.
		var again result
		e.must(admin, stop, ids, &again)
		if len(again.StopSharing.Removed) != 1 || !again.StopSharing.Removed[0].AlreadyRemoved || again.StopSharing.Removed[0].ID != orgPerm ||
			len(again.StopSharing.Failed) != 0 || deletes() != 1 {
			t.Errorf("a repeated stop: %+v, %d DELETEs", again, deletes())
		}

		// A viewer may not.
		r = e.do(e.idp.Token(t, devidp.DemoViewerScriptClientID), stop, ids)
		if !slices.Equal(r.codes(), []string{"FORBIDDEN"}) {
			t.Errorf("viewer stop sharing: %+v", r.Errors)
		}
	})
}
