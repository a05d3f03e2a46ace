package graph_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/graph"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
)

// BenchmarkDriveItemsPage runs the query of `make bench-api` (a page of 100 items with an
// anonymous link each, and their permissions) through the GraphQL handler, one request at a
// time, on PostgreSQL: the API's own cost per request without HTTP, token checks or
// concurrency.
func BenchmarkDriveItemsPage(b *testing.B) {
	ctx := context.Background()
	st := testdb.Open(b, testdb.PostgresConfig(b))
	must(b, st.CreateIntegration(ctx, &models.Integration{ID: "in1", Name: "Bench", TenantID: "t", ClientID: "c"}, "secret"))
	must(b, st.UpsertDrives(ctx, "in1", []models.Drive{{ID: "d1", OwnerUserID: "u1", Name: "OneDrive"}}))
	now := time.Now().UTC()
	items := []models.DriveItem{{IntegrationID: "in1", DriveID: "d1", ID: "root", Name: "root", Path: "/", IsRoot: true, IsFolder: true, SyncedAt: now}}
	var perms []models.Permission
	anonymous, root := models.LinkScopeAnonymous, "root"
	perms = append(perms, models.Permission{IntegrationID: "in1", DriveID: "d1", ItemID: "root", ID: "owner", Roles: "owner", SyncedAt: now})
	for i := range 120 {
		id := fmt.Sprintf("item-%04d", i)
		modified := now.Add(-time.Duration(i) * time.Minute)
		items = append(items, models.DriveItem{IntegrationID: "in1", DriveID: "d1", ID: id, ParentID: "root", Name: id + ".docx",
			Path: "/" + id + ".docx", WebURL: "https://contoso.example/" + id, LastModifiedDateTime: &modified, HasOwnPermissions: true, SyncedAt: now})
		perms = append(perms,
			models.Permission{IntegrationID: "in1", DriveID: "d1", ItemID: id, ID: "p-" + id, Roles: "read", LinkType: "view", LinkScope: &anonymous,
				LinkWebURL: "https://contoso.example/:w:/" + id, SyncedAt: now},
			models.Permission{IntegrationID: "in1", DriveID: "d1", ItemID: id, ID: "owner", Roles: "owner", Inherited: true, InheritedFromID: &root, SyncedAt: now})
	}
	must(b, st.Gorm().Create(&items).Error)
	must(b, st.Gorm().Create(&perms).Error)
	must(b, st.RecomputePermissionState(ctx, "in1"))

	srv, err := graph.New(graph.Options{Store: st, Events: events.NewLocal(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	must(b, err)
	srv.AddTransport(transport.POST{})
	admin := &auth.Principal{Subject: "admin", Roles: []auth.Role{auth.RoleAdmin, auth.RoleViewer}}
	const query = `query($in: ID!) {
  driveItems(integrationId: $in, filter: {sharedScope: [ANONYMOUS]}, first: 100) {
    edges { node { id name path permissions { id link { type scope } } } }
    pageInfo { endCursor hasNextPage }
  }
}`
	vars := map[string]any{"in": "in1"}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		post(b, srv, admin, query, vars)
	}
	// The process's CPU time per request: wall time also holds PostgreSQL's share and, on a
	// busy machine, waiting for a core.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
