package graph_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/graph"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// gid is a global ID as clients see it (base64url of "Type:part:…").
func gid(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Plain fields are bound to the rows' struct fields and to methods of graph/model's types over
// them rather than to resolvers: what a client reads must not change for it. In particular
// empty stored text reads as null, not "".
func TestPlainFieldsReadAsBefore(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		in := &models.Integration{ID: "in1", Name: "Contoso", TenantID: "t", ClientID: "c"}
		must(t, st.CreateIntegration(ctx, in, "secret-1234"))
		must(t, st.UpsertUsers(ctx, in.ID, []models.User{
			{ID: "u1", DisplayName: "Ann", UserPrincipalName: "ann@contoso.example", UserType: models.UserTypeGuest,
				AccountEnabled: true, JobTitle: "Analyst", LicenseSkuIDs: models.StringList{"sku-1"}},
		}))
		must(t, st.UpsertDrives(ctx, in.ID, []models.Drive{
			{ID: "d:1", OwnerUserID: "u1", Name: "OneDrive", DriveType: "business", QuotaTotal: 100, QuotaUsed: 40, QuotaState: "normal"},
		}))
		modified := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
		now := time.Now().UTC()
		items := []models.DriveItem{
			{IntegrationID: in.ID, DriveID: "d:1", ID: "root", Name: "root", Path: "/", IsRoot: true, IsFolder: true, SyncedAt: now},
			{IntegrationID: in.ID, DriveID: "d:1", ID: "f1", ParentID: "root", Name: "Plan.docx", Path: "/Plan.docx", Size: 42,
				WebURL: "https://contoso.example/Plan.docx", MimeType: "application/msword", LastModifiedDateTime: &modified,
				CreatedByID: "u1", CreatedByName: "Ann", SyncedAt: now},
			{IntegrationID: in.ID, DriveID: "d:1", ID: "f2", ParentID: "root", Name: "Empty", Path: "/Empty", IsFolder: true, SyncedAt: now},
		}
		must(t, st.Gorm().Create(&items).Error)
		anonymous, inheritedFrom := models.LinkScopeAnonymous, "root"
		perms := []models.Permission{
			{IntegrationID: in.ID, DriveID: "d:1", ItemID: "f1", ID: "p1", Roles: "read,write", LinkType: "edit", LinkScope: &anonymous,
				SyncedAt: now},
			{IntegrationID: in.ID, DriveID: "d:1", ItemID: "f1", ID: "p2", Roles: "read", GrantedToID: "u1", GrantedToDisplayName: "Ann",
				GrantedToKind: models.GranteeUser, GrantedToExternal: true,
				GrantedToIdentities: models.Identities{{DisplayName: "Bob", Email: "bob@fabrikam.example", External: true}}, SyncedAt: now},
			{IntegrationID: in.ID, DriveID: "d:1", ItemID: "f1", ID: "owner", Roles: "owner", Inherited: true, InheritedFromID: &inheritedFrom, SyncedAt: now},
		}
		must(t, st.Gorm().Create(&perms).Error)
		run := &models.SyncRun{ID: "run1", IntegrationID: in.ID, Status: models.SyncRunning, Phase: "items"}
		must(t, st.CreateSyncRun(ctx, run))
		must(t, st.AddAuditEvent(ctx, &models.AuditEvent{ID: "ev1", IntegrationID: in.ID, ActorSubject: "s", Action: models.AuditStopSharing,
			ItemID: "f1", ItemName: "Plan.docx", Result: models.AuditRemoved}))

		srv, err := graph.New(graph.Options{Store: st, Events: events.NewLocal(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		must(t, err)
		srv.AddTransport(transport.POST{})
		admin := &auth.Principal{Subject: "admin", Roles: []auth.Role{auth.RoleAdmin, auth.RoleViewer}}

		got := post(t, srv, admin, `query($in: ID!, $perm: ID!, $run: ID!, $ev: ID!) {
  driveItems(integrationId: $in, orderBy: {field: NAME, direction: ASC}) { edges { node {
    id graphId name path webUrl folder size mimeType createdAt modifiedAt
    createdBy { id displayName email external kind } modifiedBy { id }
    sharedScope
    permissions { id graphId roles inherited inheritedFrom { graphId }
      link { type scope webUrl expiresAt hasPassword preventsDownload }
      grantedTo { id displayName email external kind } grantedToIdentities { id displayName email external kind } item { graphId } }
    drive { id graphId name driveType webUrl quota { total used remaining deleted state } itemCount sharedItemCount
      owner { id graphId displayName mail guest accountEnabled jobTitle department licenses { skuId } hasDrive drive { graphId } } }
  } } }
  integration(id: $in) { id name secretHint status lastError }
  perm: node(id: $perm) { __typename ... on Permission { graphId } }
  run: node(id: $run) { __typename ... on SyncRun { id phase error integration { name } } }
  ev: node(id: $ev) { __typename ... on AuditEvent { id integrationId actorName itemGraphId itemName itemPath permissionGraphId
    linkType linkScope linkWebUrl grantedTo result message } }
}`, map[string]any{"in": in.ID, "perm": gid("Permission:in1:f1:p2"), "run": gid("SyncRun:run1"), "ev": gid("AuditEvent:ev1")})

		drive := `{"id":"` + gid("Drive:in1:d%3A1") + `","graphId":"d:1","name":"OneDrive","driveType":"business","webUrl":null,
  "quota":{"total":100,"used":40,"remaining":0,"deleted":0,"state":"normal"},"itemCount":2,"sharedItemCount":0,
  "owner":{"id":"` + gid("User:in1:u1") + `","graphId":"u1","displayName":"Ann","mail":null,"guest":true,"accountEnabled":true,
    "jobTitle":"Analyst","department":null,"licenses":[{"skuId":"sku-1"}],"hasDrive":true,"drive":{"graphId":"d:1"}}}`
		want := `{
"driveItems":{"edges":[
 {"node":{"id":"` + gid("DriveItem:in1:f2") + `","graphId":"f2","name":"Empty","path":"/Empty","webUrl":null,"folder":true,"size":0,
  "mimeType":null,"createdAt":null,"modifiedAt":null,"createdBy":null,"modifiedBy":null,"sharedScope":null,"permissions":[],
  "drive":` + drive + `}},
 {"node":{"id":"` + gid("DriveItem:in1:f1") + `","graphId":"f1","name":"Plan.docx","path":"/Plan.docx",
  "webUrl":"https://contoso.example/Plan.docx","folder":false,"size":42,"mimeType":"application/msword","createdAt":null,
  "modifiedAt":"2025-03-04T05:06:07Z","createdBy":{"id":"u1","displayName":"Ann","email":null,"external":false,"kind":null},
  "modifiedBy":null,"sharedScope":"ANONYMOUS","permissions":[
   {"id":"` + gid("Permission:in1:f1:p1") + `","graphId":"p1","roles":["read","write"],"inherited":false,"inheritedFrom":null,
    "link":{"type":"edit","scope":"ANONYMOUS","webUrl":null,"expiresAt":null,"hasPassword":null,"preventsDownload":false},
    "grantedTo":null,"grantedToIdentities":[],"item":{"graphId":"f1"}},
   {"id":"` + gid("Permission:in1:f1:p2") + `","graphId":"p2","roles":["read"],"inherited":false,"inheritedFrom":null,"link":null,
    "grantedTo":{"id":"u1","displayName":"Ann","email":null,"external":true,"kind":"user"},
    "grantedToIdentities":[{"id":null,"displayName":"Bob","email":"bob@fabrikam.example","external":true,"kind":"user"}],
    "item":{"graphId":"f1"}},
   {"id":"` + gid("Permission:in1:f1:owner") + `","graphId":"owner","roles":["owner"],"inherited":true,
    "inheritedFrom":{"graphId":"root"},"link":null,"grantedTo":null,"grantedToIdentities":[],"item":{"graphId":"f1"}}],
  "drive":` + drive + `}}]},
"integration":{"id":"` + gid("Integration:in1") + `","name":"Contoso","secretHint":"1234","status":"ACTIVE","lastError":null},
"perm":{"__typename":"Permission","graphId":"p2"},
"run":{"__typename":"SyncRun","id":"` + gid("SyncRun:run1") + `","phase":"items","error":null,"integration":{"name":"Contoso"}},
"ev":{"__typename":"AuditEvent","id":"` + gid("AuditEvent:ev1") + `","integrationId":"` + gid("Integration:in1") + `",
  "actorName":null,"itemGraphId":"f1","itemName":"Plan.docx","itemPath":null,"permissionGraphId":null,"linkType":null,
  "linkScope":null,"linkWebUrl":null,"grantedTo":null,"result":"removed","message":null}
}`
		// Edge cursors are computed on demand: each is the position after its row.
		var page struct {
			DriveItems struct {
				Edges []struct {
					Cursor string
					Node   struct{ GraphID string }
				}
				PageInfo struct{ EndCursor string }
			}
		}
		pageQuery := `query($in: ID!, $after: String) { driveItems(integrationId: $in, orderBy: {field: NAME, direction: ASC}, after: $after) {
  edges { cursor node { graphId } } pageInfo { endCursor } } }`
		must(t, json.Unmarshal(post(t, srv, admin, pageQuery, map[string]any{"in": in.ID}), &page))
		if e := page.DriveItems.Edges; len(e) != 2 || e[1].Cursor != page.DriveItems.PageInfo.EndCursor || e[0].Cursor == e[1].Cursor {
			t.Fatalf("edges %+v, end cursor %q", e, page.DriveItems.PageInfo.EndCursor)
		}
		first := page.DriveItems.Edges[0].Cursor
		must(t, json.Unmarshal(post(t, srv, admin, pageQuery, map[string]any{"in": in.ID, "after": first}), &page))
		if e := page.DriveItems.Edges; len(e) != 1 || e[0].Node.GraphID != "f1" {
			t.Errorf("after the first edge's cursor: %+v", e)
		}

		var a, b any
		must(t, json.Unmarshal(got, &a))
		must(t, json.Unmarshal([]byte(want), &b))
		ja, _ := json.MarshalIndent(a, "", " ")
		jb, _ := json.MarshalIndent(b, "", " ")
		if !bytes.Equal(ja, jb) {
			t.Errorf("got\n%s\nwant\n%s", ja, jb)
		}
	})
}

func post(t testing.TB, h http.Handler, p *auth.Principal, query string, vars map[string]any) json.RawMessage {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req = req.WithContext(auth.WithPrincipal(req.Context(), p))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("answer %d: %s", rec.Code, rec.Body.String())
	}
	return out.Data
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
