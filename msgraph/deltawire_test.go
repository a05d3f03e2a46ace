package msgraph

import (
	"testing"
	"time"
)

// TestDecodeDeltaPageShapes: the shapes Graph uses for facets and
// annotations decode as the SDK's models did (presence of a facet, null,
// the sharedChanged annotation as a string or a boolean, an empty shared
// facet under hierarchical sharing, a deleted item without a name).
func TestDecodeDeltaPageShapes(t *testing.T) {
	body := []byte(`{"@odata.context":"x","@odata.nextLink":"https://graph/next","value":[
	 {"id":"R","root":{},"folder":{"childCount":2},"name":"root","parentReference":{"driveId":"d"}},
	 {"id":"A","name":"a.txt","size":12,"file":{"mimeType":"text/plain","hashes":{"quickXorHash":"x"}},
	  "parentReference":{"id":"R","path":"/drive/root:"},"shared":{"scope":"anonymous","owner":{"user":{"id":"u"}}},
	  "createdDateTime":"2025-01-02T03:04:05Z","lastModifiedDateTime":"2025-02-03T04:05:06.789Z",
	  "createdBy":{"user":{"id":"u1","displayName":"Ann","email":"ann@contoso.com"}},
	  "lastModifiedBy":{"user":{"id":"g1","displayName":"Gus","email":"gus@fabrikam.com","userPrincipalName":"gus_fabrikam.com#EXT#@contoso.onmicrosoft.com"}},
	  "@microsoft.graph.sharedChanged":"True"},
	 {"id":"B","name":"b","folder":null,"shared":{},"@microsoft.graph.sharedChanged":true},
	 {"id":"C","deleted":{"state":"deleted"},"parentReference":{"id":"R"}},
	 {"id":"D","name":"d","deleted":null,"shared":null,"@microsoft.graph.sharedChanged":"False"}
	]}`)
	c := &Client{}
	p, err := c.decodeDeltaPage("d", body)
	if err != nil {
		t.Fatal(err)
	}
	if p.NextLink != "https://graph/next" || p.DeltaLink != "" || len(p.Items) != 5 {
		t.Fatalf("page: next %q delta %q, %d items", p.NextLink, p.DeltaLink, len(p.Items))
	}
	r, a, b, cc, d := p.Items[0], p.Items[1], p.Items[2], p.Items[3], p.Items[4]
	if !r.IsRoot || !r.IsFolder || r.ParentID != "" || r.DriveID != "d" {
		t.Errorf("root: %+v", r)
	}
	if a.IsFolder || a.MimeType != "text/plain" || a.Size != 12 || a.ParentID != "R" || a.Shared == nil || a.Shared.Scope != "anonymous" || a.Shared.Empty || !a.SharedChanged {
		t.Errorf("file: %+v shared %+v", a, a.Shared)
	}
	if !a.CreatedAt.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) || a.ModifiedAt.Nanosecond() != 789000000 {
		t.Errorf("times: %v %v", a.CreatedAt, a.ModifiedAt)
	}
	if a.CreatedBy.ID != "u1" || a.CreatedBy.Email != "ann@contoso.com" || a.CreatedBy.Kind != "user" || a.CreatedBy.External {
		t.Errorf("createdBy: %+v", a.CreatedBy)
	}
	if !a.LastModifiedBy.External {
		t.Errorf("lastModifiedBy %+v: a #EXT# account is external", a.LastModifiedBy)
	}
	if b.IsFolder || b.Shared == nil || !b.Shared.Empty || !b.SharedChanged {
		t.Errorf("null folder, empty shared facet, boolean annotation: %+v shared %+v", b, b.Shared)
	}
	if !cc.Deleted || cc.Name != "" {
		t.Errorf("deleted: %+v", cc)
	}
	if d.Deleted || d.Shared != nil || d.SharedChanged {
		t.Errorf("null facets and a False annotation: %+v", d)
	}
}
