package msgraph

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeDeltaPage: a delta page is what the network brings. Decoding never panics, and
// a page that decodes has one item per element of its value.
func FuzzDecodeDeltaPage(f *testing.F) {
	f.Add([]byte(`{"@odata.nextLink":"https://graph/next","value":[{"id":"R","root":{},"folder":{"childCount":2}},
	 {"id":"A","name":"a","file":{"mimeType":"text/plain"},"parentReference":{"id":"R","path":"/drive/root:"},
	  "shared":{"scope":"anonymous","owner":{"user":{"id":"u"}}},"@microsoft.graph.sharedChanged":"True"},
	 {"id":"C","deleted":{"state":"deleted"}},{"id":"D","shared":{},"@microsoft.graph.sharedChanged":true}]}`))
	f.Add([]byte(`{"@odata.deltaLink":"https://graph/delta?token=x","value":[]}`))
	f.Add([]byte(`{"value":[{"id":"X","createdDateTime":"not a date","createdBy":{"user":null}}]}`))
	f.Add([]byte(`null`))
	c := &Client{}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := c.decodeDeltaPage("d", body)
		if err != nil {
			return
		}
		var w struct {
			Value []json.RawMessage `json:"value"`
		}
		if json.Unmarshal(body, &w) == nil && len(w.Value) != len(p.Items) {
			t.Fatalf("%d items from %d values", len(p.Items), len(w.Value))
		}
	})
}

// FuzzDecodePermissions: a permission list from a $batch part decodes without panicking,
// whatever shape its identities take.
func FuzzDecodePermissions(f *testing.F) {
	f.Add([]byte(`{"value":[{"id":"p1","roles":["read"],"link":{"type":"view","scope":"anonymous","webUrl":"https://x"},
	 "expirationDateTime":"2026-12-31T00:00:00Z","hasPassword":false},
	 {"id":"p2","roles":["write"],"grantedToV2":{"user":{"id":"u","displayName":"Ann","email":"a@x"},
	  "siteUser":{"loginName":"c:0-.f|rolemanager|spo-grid-all-users/t"}},"inheritedFrom":{}},
	 {"id":"p3","roles":["sp.limited access"],"grantedToIdentitiesV2":[{"user":{"id":"g"}},null],
	  "invitation":{"email":"g@y"}},{"id":"p4","grantedToV2":{"application":{"id":"a"}}}]}`))
	f.Add([]byte(`{"value":[{"id":"x","roles":null,"link":null,"grantedToV2":null,"inheritedFrom":null}],"@odata.nextLink":"n"}`))
	c := &Client{}
	f.Fuzz(func(t *testing.T, body []byte) {
		var col wirePermissionPage
		if json.Unmarshal(body, &col) != nil {
			return
		}
		for i := range col.Value {
			_ = c.wireToPermission(&col.Value[i])
		}
	})
}
