package benchapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"testing"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/internal/gctune"
	"github.com/overshare/overshare/store"
)

// BenchmarkDriveItemsFloor answers the same page as BenchmarkDriveItemsAnonymous, under the same
// 32 clients, with everything but GraphQL: HTTP, the bearer token checked by the server's
// verifier, the store's two statements (the page, its permissions) and encoding/json. It is
// not an API; it is the bound this machine puts on any API over this database, so that the
// 25 ms target can be weighed against it.
func BenchmarkDriveItemsFloor(b *testing.B) {
	st := openSeeded(b)
	gctune.Apply(os.Getenv) // as startServer does, so that the two compare
	verifier, token := startVerifier(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pprof.Do(r.Context(), pprof.Labels("side", "server"), func(ctx context.Context) { floorPage(ctx, w, r, st, verifier) })
	}))
	b.Cleanup(srv.Close)
	q := fmt.Sprintf(query, "")
	for b.Loop() {
		measure(b, srv.URL, token, q, "floor (same page, no GraphQL)                ", "floor")
	}
}

type floorLink struct {
	Type  string              `json:"type"`
	Scope *model.SharingScope `json:"scope"`
}

type floorPermission struct {
	ID   string     `json:"id"`
	Link *floorLink `json:"link"`
}

type floorNode struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Path        string            `json:"path"`
	Permissions []floorPermission `json:"permissions"`
}

type floorEdge struct {
	Node floorNode `json:"node"`
}

type floorAnswer struct {
	Data struct {
		DriveItems struct {
			Edges    []floorEdge `json:"edges"`
			PageInfo pageInfo    `json:"pageInfo"`
		} `json:"driveItems"`
	} `json:"data"`
}

func floorPage(ctx context.Context, w http.ResponseWriter, r *http.Request, st *store.Store, v *auth.Verifier) {
	tok, _ := auth.BearerToken(r)
	p, err := v.Verify(ctx, tok)
	if err != nil || !p.HasRole(auth.RoleAdmin) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	var req struct {
		Variables struct {
			After *string `json:"after"`
		} `json:"variables"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pr := store.PageRequest{First: 100}
	if req.Variables.After != nil {
		pr.After = *req.Variables.After
	}
	page, err := st.ListDriveItems(ctx, integrationID, store.ItemFilter{Scopes: []string{"anonymous"}}, store.DefaultItemOrder, pr)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	keys := make([]store.RowKey, len(page.Rows))
	for i := range page.Rows {
		keys[i] = store.RowKey{IntegrationID: integrationID, ID: page.Rows[i].ID}
	}
	perms, err := st.PermissionsByItem(ctx, keys)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var out floorAnswer
	out.Data.DriveItems.Edges = make([]floorEdge, len(page.Rows))
	for i := range page.Rows {
		it := (*model.DriveItem)(&page.Rows[i])
		n := floorNode{ID: it.GlobalID(), Name: it.Name, Path: it.Path, Permissions: []floorPermission{}}
		for _, sp := range perms[keys[i]] {
			mp := (*model.Permission)(sp)
			fp := floorPermission{ID: mp.GlobalID()}
			if l := mp.Link(); l != nil {
				fp.Link = &floorLink{Type: l.Type, Scope: l.Scope}
			}
			n.Permissions = append(n.Permissions, fp)
		}
		out.Data.DriveItems.Edges[i] = floorEdge{Node: n}
	}
	out.Data.DriveItems.PageInfo = pageInfo{EndCursor: page.EndCursor(), HasNextPage: page.HasNext}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&out)
}
