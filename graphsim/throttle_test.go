package graphsim_test

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/overshare/overshare/graphsim"
)

// Property: over random mixes of requests, plain and batched, the RU the
// simulator charges equal the documented costs (docs/graph-behaviour.md): drive 1,
// delta with a token 1, without 2, permissions 5, directory and
// subscriptions 0, the $batch envelope 0.
func TestRUChargedEqualsDocumentedCosts(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	ex := s.export(t)
	drive := ex.drives[0]
	var withDrive string
	for _, u := range ex.users {
		if u.HasDrive {
			withDrive = u.ID
		}
	}
	_, body := s.graph(t, "GET", "/drives/"+drive.ID+"/root/delta?token=latest", nil)
	var latest struct {
		DeltaLink string `json:"@odata.deltaLink"`
	}
	json.Unmarshal(body, &latest)
	item := ex.items[len(ex.items)-1]

	type req struct {
		method, path string
		cost         int
	}
	kinds := []req{
		{"GET", "/users?$top=3", 0},
		{"GET", "/users/" + ex.users[0].ID, 0},
		{"GET", "/subscribedSkus", 0},
		{"GET", "/organization", 0},
		{"GET", "/users/" + withDrive + "/drive", 1},
		{"GET", "/drives/" + drive.ID, 1},
		{"GET", "/drives/" + drive.ID + "/root/delta?$top=5", 2},
		{"GET", "/drives/" + drive.ID + "/items/root/delta()", 2},
		{"GET", latest.DeltaLink, 1},
		{"GET", "/drives/" + drive.ID + "/root/delta(token='latest')", 1},
		{"GET", "/drives/" + item.DriveID + "/items/" + item.ID + "/permissions", 5},
		{"DELETE", "/drives/" + item.DriveID + "/items/" + item.ID + "/permissions/nope", 5},
		{"GET", "/subscriptions", 0},
		{"GET", "/drives/b!nope", 1}, // a 404 still reached SharePoint
		{"GET", "/drives/" + item.DriveID + "/items/" + item.ID, 1},
		{"GET", "/users/" + withDrive + "/drive/root/delta", 2},
	}
	for seed := uint64(1); seed <= 5; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		s.control(t, "POST", "/stats/reset", nil, nil)
		want := 0
		for n := 0; n < 40; n++ {
			if rng.IntN(4) == 0 { // a batch of up to 20
				var items []batchItem
				for i := 0; i < 1+rng.IntN(20); i++ {
					k := kinds[rng.IntN(len(kinds))]
					if k.path[0] != '/' {
						continue // absolute links are not batch URLs
					}
					items = append(items, batchItem{ID: strconv.Itoa(i), Method: k.method, URL: k.path})
					want += k.cost
				}
				if len(items) > 0 {
					s.batchOK(t, items, rng.IntN(2) == 0)
				}
				continue
			}
			k := kinds[rng.IntN(len(kinds))]
			s.graph(t, k.method, k.path, nil)
			want += k.cost
		}
		if got := s.Stats().RU; got != int64(want) {
			t.Fatalf("seed %d: charged %d RU, documented costs sum to %d", seed, got, want)
		}
	}
}

// From 80% of the minute's budget the RateLimit headers appear; once it is
// spent the answer is 429 with a fractional Retry-After, and throttled
// requests are still charged. (The budget refills at a third of a unit per
// second; the margins below hold unless the requests take over ten seconds.)
func TestThrottlingHeaders(t *testing.T) {
	s := startSim(t, graphsim.Options{RUPerMinute: 20})
	ex := s.export(t)
	drive, item := ex.drives[0], ex.items[0]
	enumerate := "/drives/" + drive.ID + "/root/delta?$top=1" // 2 RU
	for i := 1; i <= 10; i++ {
		resp, _ := s.graph(t, "GET", enumerate, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d within a 20 RU budget: %d", i, resp.StatusCode)
		}
		h := resp.Header.Get("RateLimit-Limit")
		switch {
		case i <= 7 && h != "": // at most 70% used
			t.Fatalf("RateLimit headers at %d RU of 20", 2*i)
		case i == 10 && (h != "20" || resp.Header.Get("RateLimit-Remaining") == "" || resp.Header.Get("RateLimit-Reset") == ""):
			t.Fatalf("budget spent: RateLimit headers missing: %v", resp.Header)
		}
	}
	resp, body := s.graph(t, "GET", "/drives/"+item.DriveID+"/items/"+item.ID+"/permissions", nil) // 5 RU
	mustGraphError(t, resp, body, 429)
	ra, err := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64)
	if err != nil || ra <= 0 || ra > 60 {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	st := s.Stats()
	if st.Throttled != 1 || st.RU != 25 || st.ByStatus["429"] != 1 {
		t.Fatalf("stats %+v: want 1 throttled and 25 RU charged", st)
	}
}
