package graphsim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

// The field behaviours of docs/graph-behaviour.md ("Delta in the field",
// "Deletions that never reach delta", "Paging"), each seen through
// msgraph-sdk-go and azidentity over TLS, on by default and off by its
// /_sim/lenient switch.

// deltaPages reads one round through the SDK and returns its entries in
// order (ids may repeat) and the deltaLink; a 410 is returned as is.
func deltaPages(t *testing.T, client *msgraphsdk.GraphServiceClient, driveID, link string, top int32, prefer ...string) ([]models.DriveItemable, string, error) {
	t.Helper()
	ctx := context.Background()
	b := client.Drives().ByDriveId(driveID).Items().ByDriveItemId("root").Delta()
	cfg := deltaConfig(top, prefer...)
	var out []models.DriveItemable
	for pages := 0; pages < 10_000; pages++ {
		if link == "" {
			link = "first"
			resp, err := b.GetAsDeltaGetResponse(ctx, cfg)
			if err != nil {
				return out, "", err
			}
			out = append(out, resp.GetValue()...)
			if resp.GetOdataDeltaLink() != nil {
				return out, *resp.GetOdataDeltaLink(), nil
			}
			link = *resp.GetOdataNextLink()
			continue
		}
		resp, err := b.WithUrl(link).GetAsDeltaGetResponse(ctx, cfg)
		if err != nil {
			return out, "", err
		}
		out = append(out, resp.GetValue()...)
		if resp.GetOdataDeltaLink() != nil {
			return out, *resp.GetOdataDeltaLink(), nil
		}
		link = *resp.GetOdataNextLink()
	}
	t.Fatal("delta round never ends")
	return nil, "", nil
}

func sharedChanged(it models.DriveItemable) bool {
	return stringValue(it.GetAdditionalData()["@microsoft.graph.sharedChanged"]) == "True"
}

func (s *sim) lenient(t *testing.T, l tenant.Lenient) {
	t.Helper()
	if st := s.control(t, "POST", "/lenient", l, nil); st != 200 {
		t.Fatalf("POST /_sim/lenient: %d", st)
	}
}

func (s *sim) apply(t *testing.T, ops ...tenant.Change) []string {
	t.Helper()
	var out struct {
		Results []struct {
			ItemID string `json:"itemId"`
			Error  string `json:"error"`
		} `json:"results"`
	}
	if st := s.control(t, "POST", "/changes", map[string]any{"ops": ops}, &out); st != 200 {
		t.Fatalf("changes: %d", st)
	}
	var ids []string
	for _, r := range out.Results {
		if r.Error != "" {
			t.Fatalf("change: %s", r.Error)
		}
		ids = append(ids, r.ItemID)
	}
	return ids
}

// Ancestors come again after each changed item; noRepeats sends each id once.
func TestRepeatsThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	d, _ := biggestDrive(s.export(t))
	for _, lax := range []tenant.Lenient{{}, {NoRepeats: true}} {
		s.lenient(t, lax)
		_, link, err := deltaPages(t, client, d.ID, "", 200, allPrefer)
		if err != nil {
			t.Fatal(err)
		}
		folder := s.apply(t, tenant.Change{Op: "create", DriveID: d.ID, Name: fmt.Sprint("Repeats ", lax.NoRepeats), Folder: true})[0]
		_, link, _ = deltaPages(t, client, d.ID, link, 200, allPrefer)
		s.apply(t, tenant.Change{Op: "create", DriveID: d.ID, ParentID: folder, Name: "a.txt"},
			tenant.Change{Op: "create", DriveID: d.ID, ParentID: folder, Name: "b.txt"})
		items, _, err := deltaPages(t, client, d.ID, link, 1, allPrefer)
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, it := range items {
			n[*it.GetId()]++
		}
		switch {
		case !lax.NoRepeats && n[folder] < 2:
			t.Fatalf("default: the folder came %d times in %d entries; ancestors are re-sent", n[folder], len(items))
		case lax.NoRepeats && n[folder] != 1:
			t.Fatalf("noRepeats: the folder came %d times", n[folder])
		}
	}
}

// A folder's sharing change carries no sharedChanged (a file's does) unless
// folderSharedChanged; folder changes never answer 410 under noFolderResyncs.
func TestFolderSharedChangedThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	d, _ := biggestDrive(s.export(t))
	for _, lax := range []tenant.Lenient{{NoFolderResyncs: true}, {NoFolderResyncs: true, FolderSharedChanged: true}} {
		s.lenient(t, lax)
		ids := s.apply(t, tenant.Change{Op: "create", DriveID: d.ID, Name: fmt.Sprint("Team ", lax.FolderSharedChanged), Folder: true})
		ids = append(ids, s.apply(t, tenant.Change{Op: "create", DriveID: d.ID, Name: fmt.Sprint("Plan ", lax.FolderSharedChanged, ".docx")})...)
		_, link, err := deltaPages(t, client, d.ID, "", 500, allPrefer)
		if err != nil {
			t.Fatal(err)
		}
		s.apply(t, tenant.Change{Op: "share", DriveID: d.ID, ItemID: ids[0], Scope: "organization"},
			tenant.Change{Op: "share", DriveID: d.ID, ItemID: ids[1], Scope: "organization"})
		items, _, err := deltaPages(t, client, d.ID, link, 500, allPrefer)
		if err != nil {
			t.Fatalf("folder change with noFolderResyncs: %v", err)
		}
		got := map[string]bool{}
		for _, it := range items {
			got[*it.GetId()] = got[*it.GetId()] || sharedChanged(it)
		}
		if got[ids[0]] != lax.FolderSharedChanged || !got[ids[1]] {
			t.Fatalf("lenient %+v: sharedChanged folder %v, file %v", lax, got[ids[0]], got[ids[1]])
		}
	}
}

// Each 410 variant, as the SDK sees it, and a fresh round from Location or
// from scratch afterwards.
func TestResyncVariantsThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	d, _ := biggestDrive(s.export(t))
	for _, v := range []struct {
		name, inner string
		location    bool
	}{
		{"apply", "resyncChangesApplyDifferences", true},
		{"upload", "resyncChangesUploadDifferences", true},
		{"noInnerCode", "", true},
		{"noLocation", "resyncChangesApplyDifferences", false},
	} {
		_, link, err := deltaPages(t, client, d.ID, "", 500, allPrefer)
		if err != nil {
			t.Fatal(err)
		}
		if st := s.control(t, "POST", "/invalidate-delta", map[string]string{"variant": v.name}, nil); st != 200 {
			t.Fatalf("invalidate %s: %d", v.name, st)
		}
		_, _, err = deltaPages(t, client, d.ID, link, 500, allPrefer)
		oe := odataError(t, err, 410, "resyncRequired")
		inner := ""
		if oe.GetErrorEscaped().GetInnerError() != nil {
			inner = stringValue(oe.GetErrorEscaped().GetInnerError().GetAdditionalData()["code"])
		}
		loc := oe.GetResponseHeaders().Get("Location")
		if inner != v.inner || (len(loc) > 0) != v.location {
			t.Fatalf("%s: inner code %q, Location %v", v.name, inner, loc)
		}
		if v.location {
			if _, _, err := deltaPages(t, client, d.ID, loc[0], 500, allPrefer); err != nil {
				t.Fatalf("%s: following Location: %v", v.name, err)
			}
		}
	}
	if st := s.control(t, "POST", "/invalidate-delta", map[string]string{"variant": "sometimes"}, nil); st != 400 {
		t.Fatalf("unknown variant: %d", st)
	}
}

// Without Sites.FullControl.All nothing answers 403, but sharing is left
// out; denyWithoutFullControl brings the old refusal back.
func TestScopedDownThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	ex := s.export(t)
	d, _ := biggestDrive(ex)
	s.SetAppPermissions([]string{"User.Read.All", "Files.ReadWrite.All"})
	client, _ := s.graphClient(t)
	items, _, err := deltaPages(t, client, d.ID, "", 500, allPrefer)
	if err != nil {
		t.Fatalf("delta without Sites.FullControl.All: %v", err)
	}
	for _, it := range items {
		if it.GetShared() != nil || sharedChanged(it) {
			t.Fatalf("sharing shown to an app without Sites.FullControl.All on %s", *it.GetId())
		}
	}
	var item string
	for _, p := range ex.perms {
		if p.DriveID == d.ID && p.Link != nil {
			item = p.ItemID
		}
	}
	if _, err := client.Drives().ByDriveId(d.ID).Items().ByDriveItemId(item).Permissions().Get(context.Background(), nil); err != nil {
		t.Fatalf("listing permissions with Files.ReadWrite.All: %v", err)
	}
	s.lenient(t, tenant.Lenient{DenyWithoutFullControl: true})
	_, _, err = deltaPages(t, client, d.ID, "", 500, allPrefer)
	odataError(t, err, 403, "accessDenied")
}

// A retention deletion never reaches delta; a fresh enumeration no longer
// lists the item.
func TestRetentionDeleteThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	d, items := biggestDrive(s.export(t))
	var victim string
	for id, it := range items {
		if !it.Root && !it.Folder {
			victim = id
			break
		}
	}
	_, link, err := deltaPages(t, client, d.ID, "", 500, allPrefer)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Results []struct{ Error string } `json:"results"`
	}
	if st := s.control(t, "POST", "/retention-delete", map[string]string{"driveId": d.ID, "itemId": victim}, &out); st != 200 || out.Results[0].Error != "" {
		t.Fatalf("retention-delete: %d %+v", st, out)
	}
	changes, _, err := deltaPages(t, client, d.ID, link, 500, allPrefer)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range changes {
		if *it.GetId() == victim {
			t.Fatal("the retention deletion reached delta")
		}
	}
	all, _, _ := deltaPages(t, client, d.ID, "", 500, allPrefer)
	for _, it := range all {
		if *it.GetId() == victim {
			t.Fatal("a fresh enumeration still lists the item")
		}
	}
	for _, it := range s.export(t).items {
		if it.ID == victim {
			t.Fatal("the export still lists the item")
		}
	}
}

// Deleted items: about 7 a page whatever $top says, a file facet and size
// 0, no deleted facet when $select leaves it out; each with its switch.
func TestDeletedPagesThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	d, _ := biggestDrive(s.export(t))
	for _, lax := range []tenant.Lenient{{}, {FullDeletedPages: true, PlainTombstones: true, SelectKeepsDeleted: true}} {
		s.lenient(t, lax)
		folder := s.apply(t, tenant.Change{Op: "create", DriveID: d.ID, Name: fmt.Sprint("Bulk ", lax.PlainTombstones), Folder: true})[0]
		var ops []tenant.Change
		for k := range 20 {
			ops = append(ops, tenant.Change{Op: "create", DriveID: d.ID, ParentID: folder, Name: fmt.Sprint(k, ".txt")})
		}
		s.apply(t, ops...)
		_, link, err := deltaPages(t, client, d.ID, "", 1000, allPrefer)
		if err != nil {
			t.Fatal(err)
		}
		s.apply(t, tenant.Change{Op: "delete", DriveID: d.ID, ItemID: folder})
		// Plain HTTP: the SDK's models hide whether a facet was present.
		pages, deleted := 0, 0
		for next := link; next != ""; pages++ {
			u, _ := url.Parse(next)
			q := u.Query()
			q.Set("$select", "id,parentReference,file,size,name")
			u.RawQuery = q.Encode()
			resp, body := s.graph(t, "GET", u.String(), nil, "Prefer", allPrefer)
			if resp.StatusCode != 200 {
				t.Fatalf("delta: %d %s", resp.StatusCode, body)
			}
			var page struct {
				Value []map[string]json.RawMessage `json:"value"`
				Next  string                       `json:"@odata.nextLink"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Value {
				if _, named := it["name"]; named {
					continue // the live folder above
				}
				deleted++
				_, hasDeleted := it["deleted"]
				_, hasFile := it["file"]
				if hasDeleted != lax.SelectKeepsDeleted || hasFile == lax.PlainTombstones || !lax.PlainTombstones && string(it["size"]) != "0" {
					t.Fatalf("lenient %+v: tombstone %s in %s", lax, it["id"], next)
				}
			}
			if !lax.FullDeletedPages && len(page.Value) > 8 {
				t.Fatalf("a page of deletions with %d entries", len(page.Value))
			}
			next = page.Next
		}
		if deleted != 21 || !lax.FullDeletedPages && pages < 3 || lax.FullDeletedPages && pages != 1 {
			t.Fatalf("lenient %+v: %d deletions in %d pages", lax, deleted, pages)
		}
	}
}

// /users with $expand=manager comes 100 a page whatever $top says, unless
// fullExpandPages.
func TestExpandManagerPagesThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{Tenant: tenant.Config{Seed: 3, Users: 250, FilesPerUser: 1}})
	client, _ := s.graphClient(t)
	top := int32(999)
	for _, lax := range []tenant.Lenient{{}, {FullExpandPages: true}} {
		s.lenient(t, lax)
		resp, err := client.Users().Get(context.Background(), &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: &top, Expand: []string{"manager($select=id)"}},
		})
		if err != nil {
			t.Fatalf("users: %v", err)
		}
		want := 100
		if lax.FullExpandPages {
			want = 250
		}
		if n := len(resp.GetValue()); n != want {
			t.Fatalf("lenient %+v: first page of %d users, want %d", lax, n, want)
		}
	}
}
