package graphsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim/tenant"
)

// The hand-written delta encoding must be byte for byte what encoding/json
// makes of the documented shapes, for every kind of item and selection.
func TestAppendItemMatchesEncodingJSON(t *testing.T) {
	// A folder share may expire the tokens (410); this test is about encoding, not resyncs.
	tn := tenant.New(tenant.Config{Seed: 5, Users: 6, FilesPerUser: 40, ShareRatio: 0.4, Lenient: tenant.Lenient{NoFolderResyncs: true}})
	var items []tenant.Item
	opts := tenant.DeltaOptions{HierarchicalSharing: true, ShowSharingChanges: true, ShowRemovedAsDeleted: true, TraversePermissionGaps: true, Top: 1000}
	tokens := map[string]string{}
	for _, d := range tn.Drives() {
		page, err := tn.Delta(d.ID, "root", "", opts)
		for err == nil {
			items = append(items, page.Items...)
			if page.NextToken == "" {
				break
			}
			page, err = tn.Delta(d.ID, "root", page.NextToken, opts)
		}
		if err != nil {
			t.Fatal(err)
		}
		tokens[d.ID] = page.DeltaToken
	}
	tn.ApplyRandomChanges(9, 80)
	for _, d := range tn.Drives() {
		page, err := tn.Delta(d.ID, "root", tokens[d.ID], opts)
		// A folder's sharing change may expire the delta link (410), as on
		// Graph: follow the fresh enumeration the error carries.
		var resync *tenant.ResyncError
		if errors.As(err, &resync) {
			page, err = tn.Delta(d.ID, "root", resync.FreshToken, opts)
		}
		for err == nil {
			items = append(items, page.Items...)
			if page.NextToken == "" {
				break
			}
			page, err = tn.Delta(d.ID, "root", page.NextToken, opts)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	owner := tenant.Identity{ID: "u1", DisplayName: "Zoë \"Z\" <Ω>", Email: "z@example.com"}
	items = append(items,
		tenant.Item{ID: "odd", DriveID: "b!x", ParentID: "p", Name: "tab\there \"quoted\" back\\slash \x01 \u2028 ünï <&> \xff", Size: 3,
			CreatedBy: owner, Shared: &tenant.SharedFacet{Scope: "users", Owner: &owner, SharedDateTime: time.Unix(1700000000, 0)}, SharedChanged: true},
		tenant.Item{ID: "empty-shared", DriveID: "b!x", Shared: &tenant.SharedFacet{Empty: true}, Folder: true},
		tenant.Item{ID: "gone", DriveID: "b!x", Deleted: true},
	)
	var deleted, shared, changed int
	for _, sel := range []selection{nil, parseSelect("id,name,deleted,shared,parentReference,file,folder,root,size"), parseSelect("id")} {
		for _, it := range items {
			want, err := marshal(toItemJSON(it, sel, tombShape{}))
			if err != nil {
				t.Fatal(err)
			}
			if got := appendItem(nil, it, sel, tombShape{}); !bytes.Equal(got, want) {
				t.Fatalf("item %s, select %v:\n got %s\nwant %s", it.ID, sel, got, want)
			}
			if it.Deleted {
				deleted++
			}
			if it.Shared != nil {
				shared++
			}
			if it.SharedChanged {
				changed++
			}
		}
	}
	if deleted == 0 || shared == 0 || changed == 0 {
		t.Fatalf("the sample lacks deleted (%d), shared (%d) or sharedChanged (%d) items", deleted, shared, changed)
	}
	page := appendDeltaPage(nil, "https://127.0.0.1:1", items[:3], nil, tombShape{}, "https://127.0.0.1:1/v1.0/next?token=a&b", "")
	want, _ := marshal(deltaPageJSON{Context: "https://127.0.0.1:1/v1.0/$metadata#Collection(driveItem)",
		Value: []itemJSON{toItemJSON(items[0], nil, tombShape{}), toItemJSON(items[1], nil, tombShape{}), toItemJSON(items[2], nil, tombShape{})}, NextLink: "https://127.0.0.1:1/v1.0/next?token=a&b"})
	if !bytes.Equal(page, want) || !json.Valid(page) {
		t.Fatalf("page:\n got %s\nwant %s", page, want)
	}
}
