package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// BenchmarkWatch (make bench-watch): `overshare demo` against its simulator, watched by
// change notifications and, side by side, found by polling alone (a 60-second sync interval,
// the shortest the API allows). The same kind of change is made through the simulator's
// control API, a new file shared with anyone, one a second; each one's latency is the time
// until the API lists it among the anonymously shared items. Printed: latency p50, p95 and
// max, and Graph requests and resource units per change (all of the run's, syncs included);
// and the same latency to the sharingChanged event a websocket subscriber receives.
func BenchmarkWatch(b *testing.B) {
	changes := 50
	if v := os.Getenv("BENCH_WATCH_CHANGES"); v != "" {
		fmt.Sscan(v, &changes)
	}
	type row struct {
		mode                string
		lat, events         []time.Duration
		requests, ru, found int
	}
	var rows []row
	for _, mode := range []string{"notifications", "polling"} {
		lat, events, st := watchRound(b, mode == "notifications", changes)
		rows = append(rows, row{mode: mode, lat: lat, events: events, requests: st.Requests, ru: st.RU, found: len(lat)})
	}
	b.StopTimer()
	fmt.Printf("\n%-14s %8s %9s %9s %9s %14s %10s %7s %9s %9s\n", "mode", "changes", "API p50", "p95", "max", "requests/chg", "RU/chg", "events", "event p50", "p95")
	for _, r := range rows {
		fmt.Printf("%-14s %4d/%-3d %9s %9s %9s %14.1f %10.1f %7d %9s %9s\n", r.mode, r.found, changes,
			pct(r.lat, 0.50), pct(r.lat, 0.95), pct(r.lat, 1), float64(r.requests)/float64(changes), float64(r.ru)/float64(changes),
			len(r.events), pct(r.events, 0.50), pct(r.events, 0.95))
	}
	fmt.Println("target: notifications p95 <= 5s")
}

func pct(d []time.Duration, p float64) string {
	if len(d) == 0 {
		return "-"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return s[i].Round(10 * time.Millisecond).String()
}

type simStats struct {
	Requests int `json:"requests"`
	RU       int `json:"ru"`
}

// watchRound runs one demo and returns each change's latency and the simulator's counts.
func watchRound(b *testing.B, notify bool, changes int) ([]time.Duration, []time.Duration, simStats) {
	dir := b.TempDir()
	p, df := startDemo(b, dir, fmt.Sprintf("--notifications=%t", notify), "--schedule-interval", "1s")
	defer p.stop(b)
	tok := token(b, df, "admin")
	sim := simClient(b, df)

	var integ struct {
		Integrations []struct {
			ID, WatchMode string
			LastSyncAt    *time.Time
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		query(b, df, tok, `{ integrations { id watchMode lastSyncAt } }`, nil, &integ)
		in := integ.Integrations[0]
		if in.LastSyncAt != nil && (!notify || in.WatchMode == "NOTIFICATIONS") {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the demo never became ready: %+v", in)
		}
		time.Sleep(200 * time.Millisecond)
	}
	id := integ.Integrations[0].ID
	if !notify {
		query(b, df, tok, `mutation($id: ID!) { updateIntegration(input: {id: $id, syncIntervalSeconds: 60}) { id } }`,
			map[string]any{"id": id}, &struct{}{})
	}
	drives := sim.drives(b)
	sim.post(b, "/stats/reset", nil, nil)

	var mu sync.Mutex
	made := map[string]time.Time{}
	var events []time.Duration
	evCtx, stopEvents := context.WithCancel(context.Background())
	defer stopEvents()
	subscribed := make(chan struct{})
	go sharingEvents(evCtx, b, df, tok, id, subscribed, func(name string) {
		mu.Lock()
		defer mu.Unlock()
		if at, ok := made[name]; ok {
			events = append(events, time.Since(at))
			delete(made, name) // one event per change: the ADDED one
		}
	})
	<-subscribed
	lat := []time.Duration{}
	found := map[string]bool{}
	sent := map[string]time.Time{}
	poll := func() {
		var page struct {
			DriveItems struct {
				Edges []struct{ Node struct{ Name string } }
			}
		}
		query(b, df, tok, `query($id: ID!) { driveItems(integrationId: $id, first: 200,
			filter: {sharedScope: [ANONYMOUS], search: "watchbench-"}) { edges { node { name } } } }`,
			map[string]any{"id": id}, &page)
		mu.Lock()
		defer mu.Unlock()
		for _, e := range page.DriveItems.Edges {
			if at, ok := sent[e.Node.Name]; ok && !found[e.Node.Name] {
				found[e.Node.Name] = true
				lat = append(lat, time.Since(at))
			}
		}
	}
	b.ResetTimer()
	next := time.Now()
	for i := range changes {
		for time.Now().Before(next) {
			poll()
			time.Sleep(50 * time.Millisecond)
		}
		next = next.Add(time.Second)
		d := drives[rand.IntN(len(drives))]
		name := fmt.Sprintf("watchbench-%d-%d.docx", i, time.Now().UnixNano())
		mu.Lock()
		made[name], sent[name] = time.Now(), time.Now()
		mu.Unlock()
		sim.change(b, d, name)
	}
	end := time.Now().Add(3 * time.Minute)
	for len(found) < changes && time.Now().Before(end) {
		poll()
		time.Sleep(50 * time.Millisecond)
	}
	var st simStats
	sim.get(b, "/stats", &st)
	if len(found) < changes {
		b.Errorf("%s: %d of %d changes never reached the API", map[bool]string{true: "notifications", false: "polling"}[notify], changes-len(found), changes)
	}
	time.Sleep(time.Second) // the last events
	mu.Lock()
	defer mu.Unlock()
	return lat, slices.Clone(events), st
}

// sharingEvents subscribes to sharingChanged over the graphql-transport-ws websocket and
// hands each ADDED event's item name to seen until ctx ends.
func sharingEvents(ctx context.Context, b *testing.B, df demoFile, tok, integrationID string, subscribed chan<- struct{}, seen func(name string)) {
	u := "ws" + strings.TrimPrefix(df.GraphQLURL, "http")
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		b.Errorf("websocket: %v", err)
		close(subscribed)
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	send := func(m any) { bs, _ := json.Marshal(m); _ = c.Write(ctx, websocket.MessageText, bs) }
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}})
	send(map[string]any{"type": "subscribe", "id": "1", "payload": map[string]any{
		"query":     `subscription($id: ID!) { sharingChanged(integrationId: $id) { kind itemName } }`,
		"variables": map[string]any{"id": integrationID}}})
	close(subscribed)
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		var m struct {
			Type    string
			Payload struct {
				Data struct {
					SharingChanged struct{ Kind, ItemName string }
				}
			}
		}
		if json.Unmarshal(data, &m) == nil && m.Type == "next" && m.Payload.Data.SharingChanged.Kind == "ADDED" {
			seen(m.Payload.Data.SharingChanged.ItemName)
		}
	}
}

// simControl is the simulator's control API, as the demo prints it.
type simControl struct {
	url, secret string
	hc          *http.Client
}

func simClient(t testing.TB, df demoFile) *simControl {
	pemData, err := os.ReadFile(df.SimulatorCAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	return &simControl{url: strings.TrimRight(df.SimulatorControlURL, "/"), secret: df.SimulatorSecret,
		hc: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
}

func (c *simControl) post(t testing.TB, path string, body, into any) {
	t.Helper()
	bs, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.url+path, bytes.NewReader(bs))
	c.do(t, req, into)
}

func (c *simControl) get(t testing.TB, path string, into any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url+path, nil)
	c.do(t, req, into)
}

func (c *simControl) do(t testing.TB, req *http.Request, into any) {
	t.Helper()
	req.Header.Set("Authorization", "Bearer "+c.secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d", req.Method, req.URL.Path, resp.StatusCode)
	}
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
}

type simDrive struct{ id, root string }

// drives lists the tenant's drives and their roots from the simulator's export.
func (c *simControl) drives(t testing.TB) []simDrive {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url+"/export", nil)
	req.Header.Set("Authorization", "Bearer "+c.secret)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	var out []simDrive
	for dec.More() {
		var rec struct {
			Type   string `json:"type"`
			ID     string `json:"id"`
			RootID string `json:"rootId"`
			Lock   string `json:"lock"`
		}
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		// Readable drives: a read-only lock reads fine but refuses the share.
		if rec.Type == "drive" && rec.RootID != "" && (rec.Lock == "" || rec.Lock == "none") {
			out = append(out, simDrive{id: rec.ID, root: rec.RootID})
		}
	}
	if len(out) == 0 {
		t.Fatal("the simulator exported no drives")
	}
	return out
}

// change creates a file at the drive's root and shares it with anyone.
func (c *simControl) change(t testing.TB, d simDrive, name string) {
	t.Helper()
	var res struct {
		Results []struct {
			ItemID string `json:"itemId"`
			Error  string `json:"error"`
		} `json:"results"`
	}
	c.post(t, "/changes", map[string]any{"ops": []map[string]any{{"op": "create", "driveId": d.id, "parentId": d.root, "name": name}}}, &res)
	if len(res.Results) != 1 || res.Results[0].Error != "" {
		t.Fatalf("create %s: %+v", name, res)
	}
	c.post(t, "/changes", map[string]any{"ops": []map[string]any{{"op": "share", "driveId": d.id, "itemId": res.Results[0].ItemID,
		"linkType": "view", "scope": "anonymous"}}}, &res)
	if len(res.Results) != 1 || res.Results[0].Error != "" {
		t.Fatalf("share %s: %+v", name, res)
	}
}
