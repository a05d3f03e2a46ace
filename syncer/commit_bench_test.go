package syncer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// BenchmarkCommitPage measures the database side of one delta page of
// 1,000 new items (50 with permissions) on PostgreSQL: the part of a sync
// that neither Graph nor the simulator takes.
func BenchmarkCommitPage(b *testing.B) {
	cfg := benchDB(b)
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	const integ, drive = "bench", "d1"
	if _, err := st.StartFullRound(ctx, integ, drive); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	b.ResetTimer()
	for n := range b.N {
		items := make([]models.DriveItem, 1000)
		perms := map[string][]models.Permission{}
		for i := range items {
			id := fmt.Sprintf("item-%d-%d", n, i)
			items[i] = models.DriveItem{ID: id, ParentID: "root", Name: fmt.Sprintf("Quarterly report %d draft v%d.docx", n, i),
				Path: "/x", Size: 1234, MimeType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
				WebURL: "https://contoso-my.sharepoint.com/personal/a_b/Documents/" + id, CreatedDateTime: &now, LastModifiedDateTime: &now,
				CreatedByID: "u1", CreatedByName: "Adele Vance", CreatedByEmail: "adele@contoso.com"}
			if i%20 == 0 {
				scope := "anonymous"
				perms[id] = []models.Permission{{ID: "p-" + id, Roles: "read", LinkScope: &scope, LinkType: "view"},
					{ID: "owner", Roles: "owner", GrantedToID: "u1", Inherited: true}}
			}
		}
		if err := st.CommitSyncPage(ctx, integ, drive, store.SyncPage{Items: items, Permissions: perms, NextLink: "next"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "items/s")
}
