package graphsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	abs "github.com/microsoft/kiota-abstractions-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

const allPrefer = "hierarchicalsharing, deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges"

// deltaRound is one delta round followed to its end: the last occurrence of
// every item, the number of pages and the deltaLink.
type deltaRound struct {
	items     map[string]models.DriveItemable
	pages     int
	links     []string
	deltaLink string
	// resyncs counts 410s answered by a fresh enumeration (from Location,
	// or from scratch when Graph gave none); items then hold only the
	// fresh enumeration, to replace the caller's copy (mark and sweep).
	resyncs int
}

// followDelta follows a round through the SDK, from the first request or a
// stored link, re-sending the headers on every page as the sync engine must.
func followDelta(t testing.TB, client *msgraphsdk.GraphServiceClient, driveID, link string, cfg *drives.ItemItemsItemDeltaRequestBuilderGetRequestConfiguration) deltaRound {
	t.Helper()
	ctx := context.Background()
	b := client.Drives().ByDriveId(driveID).Items().ByDriveItemId("root").Delta()
	var resp drives.ItemItemsItemDeltaGetResponseable
	var err error
	if link == "" {
		resp, err = b.GetAsDeltaGetResponse(ctx, cfg)
	} else {
		resp, err = b.WithUrl(link).GetAsDeltaGetResponse(ctx, cfg)
	}
	r := deltaRound{items: map[string]models.DriveItemable{}}
	for {
		var oe *odataerrors.ODataError
		if errors.As(err, &oe) && oe.ResponseStatusCode == 410 && r.resyncs < 3 {
			r.resyncs++
			r.items = map[string]models.DriveItemable{}
			if loc := oe.GetResponseHeaders().Get("Location"); len(loc) > 0 {
				resp, err = b.WithUrl(loc[0]).GetAsDeltaGetResponse(ctx, cfg)
			} else {
				resp, err = b.GetAsDeltaGetResponse(ctx, cfg)
			}
			continue
		}
		if err != nil {
			t.Fatalf("delta page %d of %s: %v", r.pages+1, driveID, err)
		}
		r.pages++
		for _, it := range resp.GetValue() {
			r.items[*it.GetId()] = it
		}
		if nl := resp.GetOdataNextLink(); nl != nil {
			if r.pages > 10000 {
				t.Fatalf("delta of %s does not end", driveID)
			}
			r.links = append(r.links, *nl)
			resp, err = b.WithUrl(*nl).GetAsDeltaGetResponse(ctx, cfg)
			continue
		}
		if dl := resp.GetOdataDeltaLink(); dl != nil {
			r.deltaLink = *dl
			r.links = append(r.links, *dl)
		}
		return r
	}
}

func deltaConfig(top int32, prefer ...string) *drives.ItemItemsItemDeltaRequestBuilderGetRequestConfiguration {
	h := abs.NewRequestHeaders()
	for _, p := range prefer {
		h.Add("Prefer", p) // one header line per value, as the SDK sends them
	}
	cfg := &drives.ItemItemsItemDeltaRequestBuilderGetRequestConfiguration{Headers: h,
		QueryParameters: &drives.ItemItemsItemDeltaRequestBuilderGetQueryParameters{
			Select: []string{"id", "name", "deleted", "shared", "parentReference", "file", "folder", "root", "size"}}}
	if top > 0 {
		cfg.QueryParameters.Top = &top
	}
	return cfg
}

// biggestDrive picks the drive with the most items, and its items.
func biggestDrive(ex export) (tenant.ExportDrive, map[string]tenant.ExportItem) {
	count := map[string]int{}
	for _, it := range ex.items {
		count[it.DriveID]++
	}
	var best tenant.ExportDrive
	for _, d := range ex.drives {
		if count[d.ID] > count[best.ID] {
			best = d
		}
	}
	items := map[string]tenant.ExportItem{}
	for _, it := range ex.items {
		if it.DriveID == best.ID {
			items[it.ID] = it
		}
	}
	return best, items
}

func TestDeltaThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	ex := s.export(t)
	drive, want := biggestDrive(ex)

	// A full round in small pages equals the export of that drive.
	full := followDelta(t, client, drive.ID, "", deltaConfig(10, "hierarchicalsharing", "deltashowremovedasdeleted, deltatraversepermissiongaps", "deltashowsharingchanges"))
	if full.pages < 2 || full.deltaLink == "" {
		t.Fatalf("full round: %d pages, deltaLink %q", full.pages, full.deltaLink)
	}
	for _, l := range full.links {
		if !strings.HasPrefix(l, s.info.GraphBaseURL+"/drives/"+drive.ID+"/root/delta?token=") {
			t.Fatalf("link %q is not an absolute delta link on the simulator", l)
		}
	}
	live := 0
	for id, it := range full.items {
		if it.GetDeleted() != nil {
			continue
		}
		live++
		w, ok := want[id]
		if !ok {
			t.Fatalf("delta returned %s, not in the export", id)
		}
		if *it.GetName() != w.Name && !w.Root {
			t.Fatalf("item %s named %q, export says %q", id, *it.GetName(), w.Name)
		}
		if (it.GetFolder() != nil) != w.Folder || (it.GetRoot() != nil) != w.Root {
			t.Fatalf("item %s folder/root facets disagree with the export", id)
		}
	}
	if live != len(want) {
		t.Fatalf("delta returned %d live items, export has %d", live, len(want))
	}
	root := full.items[drive.RootID]
	if root == nil || root.GetRoot() == nil || root.GetShared() == nil {
		t.Fatalf("root missing, or without its root facet and (hierarchical sharing) shared facet")
	}

	// token=latest: an empty page and a deltaLink.
	latest := "latest"
	lr, err := client.Drives().ByDriveId(drive.ID).Items().ByDriveItemId("root").DeltaWithToken(&latest).GetAsDeltaWithTokenGetResponse(context.Background(), nil)
	if err != nil || len(lr.GetValue()) != 0 || lr.GetOdataDeltaLink() == nil || strings.Contains(*lr.GetOdataDeltaLink(), "latest") {
		t.Fatalf("token=latest: err %v, %d items, deltaLink %v", err, len(lr.GetValue()), lr.GetOdataDeltaLink())
	}

	// Change two items, then read the changes from the stored deltaLink.
	var file, other tenant.ExportItem
	for _, it := range want {
		if !it.Folder && !it.Root {
			if file.ID == "" {
				file = it
			} else if other.ID == "" {
				other = it
			}
		}
	}
	var res struct {
		Results []struct {
			PermissionID string `json:"permissionId"`
			Error        string `json:"error"`
		} `json:"results"`
	}
	ops := []tenant.Change{
		{Op: "share", DriveID: drive.ID, ItemID: file.ID, LinkType: "edit", Scope: "anonymous"},
		{Op: "rename", DriveID: drive.ID, ItemID: other.ID, Name: "renamed by test.txt"},
	}
	if st := s.control(t, "POST", "/changes", map[string]any{"ops": ops}, &res); st != 200 || res.Results[0].Error != "" || res.Results[1].Error != "" {
		t.Fatalf("apply changes: %d %+v", st, res)
	}
	inc := followDelta(t, client, drive.ID, full.deltaLink, deltaConfig(0, allPrefer))
	shared := inc.items[file.ID]
	if shared == nil || shared.GetShared() == nil || shared.GetShared().GetScope() == nil || *shared.GetShared().GetScope() != "anonymous" {
		t.Fatalf("shared file %s missing from the changes or without an anonymous shared facet", file.ID)
	}
	if v := stringValue(shared.GetAdditionalData()["@microsoft.graph.sharedChanged"]); v != "True" {
		t.Fatalf("shared file: @microsoft.graph.sharedChanged = %q, want \"True\"", v)
	}
	if r := inc.items[other.ID]; r == nil || *r.GetName() != "renamed by test.txt" {
		t.Fatalf("renamed item missing from the changes")
	}
	if len(inc.items) >= len(want) {
		t.Fatalf("incremental round returned %d items of %d: not incremental", len(inc.items), len(want))
	}

	// After invalidation the stored link answers 410 resyncRequired with a
	// Location that starts a fresh round.
	if st := s.control(t, "POST", "/invalidate-delta", nil, nil); st != 200 {
		t.Fatalf("invalidate-delta: %d", st)
	}
	_, err = client.Drives().ByDriveId(drive.ID).Items().ByDriveItemId("root").Delta().WithUrl(inc.deltaLink).GetAsDeltaGetResponse(context.Background(), nil)
	oe := odataError(t, err, 410, "resyncRequired")
	loc := oe.GetResponseHeaders().Get("Location")
	if len(loc) != 1 || !strings.HasPrefix(loc[0], s.info.GraphBaseURL+"/drives/"+drive.ID+"/root/delta?token=") {
		t.Fatalf("410 Location header %v", loc)
	}
	if inner := oe.GetErrorEscaped().GetInnerError(); inner == nil {
		t.Fatalf("410 without innerError")
	}
	fresh := followDelta(t, client, drive.ID, loc[0], deltaConfig(0))
	liveAfter := 0
	for _, it := range fresh.items {
		if it.GetDeleted() == nil {
			liveAfter++
		}
	}
	if liveAfter != len(want) { // one share and one rename: the count is unchanged
		t.Fatalf("fresh round after 410 returned %d live items, want %d", liveAfter, len(want))
	}
}

func stringValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case *string:
		if v != nil {
			return *v
		}
	}
	return ""
}

// The URL forms the SDK and stored links produce, over plain HTTP.
func TestDeltaURLForms(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	ex := s.export(t)
	drive, want := biggestDrive(ex)
	esc := url.PathEscape(drive.ID) // "b!…" → "b%21…"
	if !strings.Contains(esc, "%21") {
		esc = strings.Replace(esc, "!", "%21", 1)
	}
	type page struct {
		Value     []map[string]any `json:"value"`
		NextLink  string           `json:"@odata.nextLink"`
		DeltaLink string           `json:"@odata.deltaLink"`
	}
	get := func(t *testing.T, path string, header ...string) page {
		resp, body := s.graph(t, "GET", path, nil, header...)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	forms := []string{
		"/drives/" + drive.ID + "/root/delta",
		"/drives/" + esc + "/root/delta",
		"/drives/" + esc + "/root/delta()",
		"/drives/" + esc + "/items/root/delta()",
		"/drives/" + esc + "/items/" + drive.RootID + "/delta",
		"/drives/" + drive.ID + "/items/root/microsoft.graph.delta()",
	}
	for _, f := range forms {
		t.Run(f, func(t *testing.T) {
			p := get(t, f+"?$top=1000&$select=id,name")
			if len(p.Value) != len(want) || p.DeltaLink == "" {
				t.Fatalf("%d items (want %d), deltaLink %q", len(p.Value), len(want), p.DeltaLink)
			}
			for _, it := range p.Value {
				for k := range it {
					if k != "id" && k != "name" && k != "deleted" && k != "@microsoft.graph.sharedChanged" {
						t.Fatalf("$select=id,name returned %q", k)
					}
				}
			}
		})
	}
	t.Run("token forms", func(t *testing.T) {
		latest := get(t, "/drives/"+esc+"/root/delta?token=latest")
		if len(latest.Value) != 0 || latest.DeltaLink == "" {
			t.Fatalf("?token=latest: %d items, deltaLink %q", len(latest.Value), latest.DeltaLink)
		}
		tok := mustQuery(t, latest.DeltaLink).Get("token")
		for _, f := range []string{
			"/drives/" + esc + "/root/delta(token='" + url.PathEscape(tok) + "')",
			"/drives/" + esc + "/items/root/delta(token='latest')",
			latest.DeltaLink,
		} {
			p := get(t, f)
			if len(p.Value) != 0 || p.DeltaLink == "" {
				t.Fatalf("%s: %d items, deltaLink %q (nothing changed)", f, len(p.Value), p.DeltaLink)
			}
		}
	})
	t.Run("prefer", func(t *testing.T) {
		resp, _ := s.graph(t, "GET", "/drives/"+esc+"/root/delta?$top=5", nil,
			"Prefer", "hierarchicalsharing", "Prefer", "deltashowremovedasdeleted, deltatraversepermissiongaps", "Prefer", "odata.maxpagesize=10")
		got := resp.Header.Get("Preference-Applied")
		for _, p := range []string{"hierarchicalsharing", "deltashowremovedasdeleted", "deltatraversepermissiongaps"} {
			if !strings.Contains(got, p) {
				t.Fatalf("Preference-Applied %q lacks %s", got, p)
			}
		}
		if strings.Contains(got, "maxpagesize") {
			t.Fatalf("Preference-Applied %q claims a preference the simulator ignores", got)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			path   string
			status int
			code   string
		}{
			{"/drives/b!nope/root/delta", 404, "itemNotFound"},
			{"/drives/" + esc + "/root/delta?token=garbage", 400, "invalidRequest"},
			{"/drives/" + esc + "/root/delta?$top=zero", 400, "invalidRequest"},
			{"/drives/" + esc + "/root/deltas", 400, "BadRequest"},
		} {
			resp, body := s.graph(t, "GET", tc.path, nil)
			if e := mustGraphError(t, resp, body, tc.status); e.Error.Code != tc.code {
				t.Fatalf("%s: code %s, want %s", tc.path, e.Error.Code, tc.code)
			}
		}
		// Delta on a folder other than the root is not supported on OneDrive for Business.
		for _, it := range want {
			if it.Folder && !it.Root {
				resp, body := s.graph(t, "GET", "/drives/"+esc+"/items/"+it.ID+"/delta", nil)
				mustGraphError(t, resp, body, 400)
				break
			}
		}
	})
}

func mustQuery(t testing.TB, link string) url.Values {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("parse %q: %v", link, err)
	}
	return u.Query()
}
