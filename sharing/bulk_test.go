package sharing_test

import (
	"context"
	"slices"
	"testing"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// A bulk stop on a filter for anonymous links removes exactly those links: the folder's
// direct grant and plan.docx's organisation link stay, in Microsoft 365 and in the database.
func TestStopSelectedRemovesOnlyWhatTheFilterMatches(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		ctx := context.Background()
		sel, err := st.SelectToStop(ctx, e.integ, store.ItemFilter{Scopes: []string{models.LinkScopeAnonymous}}, 500)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(sel.Matching[e.folder]); n != 1 || sel.Matching[e.folder][0].ID != e.anonID {
			t.Fatalf("the folder's selected permissions: %+v", sel.Matching[e.folder])
		}
		out, err := e.svc.StopSelected(ctx, admin, sel)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != sel.PermissionCount() {
			t.Fatalf("%d outcomes for %d selected permissions", len(out), sel.PermissionCount())
		}
		for _, o := range out {
			if o.Failed() || !slices.ContainsFunc(sel.Matching[o.ItemID], func(p models.Permission) bool { return p.ID == o.PermissionID }) {
				t.Fatalf("outcome %+v", o)
			}
		}
		if e.simHas(t, e.folder, e.anonID) || e.row(t, e.folder, e.anonID) != nil {
			t.Fatal("the folder's anonymous link is still there")
		}
		if !e.simHas(t, e.folder, e.userID) || e.row(t, e.folder, e.userID) == nil {
			t.Fatal("the folder's direct grant went, though the filter named anonymous links only")
		}
		if !e.simHas(t, e.file, e.orgID) || e.row(t, e.file, e.orgID) == nil {
			t.Fatal("plan.docx's organisation link went, though the filter named anonymous links only")
		}
	})
}
