package graphsim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim/tenant"
)

// BenchmarkDeltaHandler is the server side of delta serving alone: the
// handler answers 1,000-item pages into memory, without TLS or a client
// parsing the JSON (BenchmarkDeltaServing measures the whole round trip).
func BenchmarkDeltaHandler(b *testing.B) {
	s, err := Start(context.Background(), Options{Tenant: tenant.Config{Seed: 11, Users: 25, FilesPerUser: 2000, ShareRatio: 0.1}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tok := s.signToken(tokenClaims{Aud: graphAudience, Tid: s.tenantID, Exp: time.Now().Add(time.Hour).Unix(), Roles: defaultRoles})
	h := s.rootHandler()
	drives := s.tenant.Drives()
	// A fresh round returns every live item once, roots included.
	perRound := s.tenant.Summary().Items + len(drives)
	items, bytes := 0, 0
	start := time.Now()
	for b.Loop() {
		items += perRound
		for _, d := range drives {
			link := s.baseURL + "/v1.0/drives/" + d.ID + "/root/delta?$top=1000"
			for link != "" {
				req := httptest.NewRequest(http.MethodGet, link, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Prefer", "hierarchicalsharing, deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("delta: %d %s", rec.Code, rec.Body.String())
				}
				body := rec.Body.Bytes()
				bytes += len(body)
				var p struct {
					NextLink string `json:"@odata.nextLink"`
				}
				// The link is at the end of the page; find it without parsing the items.
				if i := strings.LastIndex(rec.Body.String(), `"@odata.nextLink":`); i >= 0 {
					_ = json.Unmarshal([]byte("{"+strings.TrimSuffix(rec.Body.String()[i:], "}")+"}"), &p)
				}
				link = p.NextLink
			}
		}
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(items)/secs, "items/s")
	b.ReportMetric(float64(bytes)/float64(items), "bytes/item")
}
