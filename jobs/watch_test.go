package jobs

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/graphsimtest"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/watch"
)

// watched is a server as `overshare serve` wires it for change notifications: the simulator
// calls the receiver over TLS, the receiver queues jobs, the jobs sync and keep subscriptions.
type watched struct {
	st   *store.Store
	sim  *graphsim.Server
	svc  *Service
	hook *httptest.Server
	obs  *countingObserver
	in   *models.Integration
}

// countingObserver counts the receiver's results, as package metrics does.
type countingObserver struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *countingObserver) Notification(result string) {
	o.mu.Lock()
	o.n[result]++
	o.mu.Unlock()
}

func (o *countingObserver) count(result string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[result]
}

func startWatched(t *testing.T, st *store.Store, debounce time.Duration) *watched {
	t.Helper()
	w := &watched{st: st, obs: &countingObserver{n: map[string]int{}}}
	var recv http.Handler = http.NotFoundHandler()
	var mu sync.RWMutex
	w.hook = httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.RLock()
		h := recv
		mu.RUnlock()
		h.ServeHTTP(rw, r)
	}))
	w.hook.StartTLS()
	t.Cleanup(w.hook.Close)
	pool := x509.NewCertPool()
	pool.AddCert(w.hook.Certificate())
	w.sim = startSim(t, graphsim.Options{Tenant: smallTenant(41), NotificationRootCAs: pool})
	info := w.sim.Info()
	ws := watch.New(watch.Config{Store: st, PublicURL: w.hook.URL, Logger: quiet(),
		GraphDefaults: graphsimtest.Endpoints(info)})
	ctx := context.Background()
	svc, err := New(ctx, Config{Store: st, Syncer: newSyncer(st, info), Logger: quiet(), Workers: 2,
		PeriodicInterval: time.Hour, StartTimeout: 2 * time.Minute, Watch: ws, NotifyDebounce: debounce})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = svc.Stop(ctx)
	})
	w.svc = svc
	mu.Lock()
	recv = watch.NewReceiver(watch.ReceiverConfig{Store: st, Enqueue: svc, Observer: w.obs, Logger: quiet()})
	mu.Unlock()
	w.in = createIntegration(t, st, info, info.ClientSecret)
	runID, err := svc.StartSync(ctx, w.in.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if r := waitRun(t, st, runID); r.Status != models.SyncSucceeded {
		t.Fatalf("first sync: %s %s", r.Status, r.Error)
	}
	// The sync queues the upkeep that subscribes to every readable drive.
	w.waitSubscriptions(t, func(subs []models.GraphSubscription) bool { return len(subs) == w.readableDrives(t) })
	// The upkeep records the mode once every drive is subscribed.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		in, err := st.Integration(ctx, w.in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if in.WatchMode == models.WatchNotifications && strings.Contains(in.WatchReason, w.hook.URL+watch.NotificationPath) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("watch mode %q: %q", in.WatchMode, in.WatchReason)
		}
	}
	return w
}

func (w *watched) readableDrives(t *testing.T) int {
	t.Helper()
	ds, err := w.st.Drives(context.Background(), w.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range ds {
		if d.Access == models.DriveReadable && !models.IsUnknownDriveID(d.ID) {
			n++
		}
	}
	return n
}

func (w *watched) waitSubscriptions(t *testing.T, cond func([]models.GraphSubscription) bool) []models.GraphSubscription {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		subs, err := w.st.Subscriptions(context.Background(), w.in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cond(subs) {
			return subs
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriptions never reached the expected state: %d of them", len(subs))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// notifiedRuns returns the runs change notifications started.
func (w *watched) notifiedRuns(t *testing.T) []models.SyncRun {
	t.Helper()
	runs, err := w.st.SyncRuns(context.Background(), w.in.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []models.SyncRun
	for _, r := range runs {
		if r.Trigger == models.TriggerNotification {
			out = append(out, r)
		}
	}
	return out
}

func (w *watched) post(t *testing.T, path string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := w.hook.Client().Post(w.hook.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (w *watched) clientState(t *testing.T, sub models.GraphSubscription) string {
	t.Helper()
	cs, err := w.st.SubscriptionClientState(&sub)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestNotifiedSync: a sharing change in the tenant reaches the database through a
// notification and a sync of that drive alone, well before any scheduled sync.
func TestNotifiedSync(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := startWatched(t, st, 300*time.Millisecond)
		w.shareNewFile(t)
		deadline := time.Now().Add(time.Minute)
		for {
			runs := w.notifiedRuns(t)
			if len(runs) > 0 && runs[0].Done() {
				if runs[0].Status != models.SyncSucceeded {
					t.Fatalf("notified run: %s %s", runs[0].Status, runs[0].Error)
				}
				if runs[0].DrivesTotal >= int64(w.readableDrives(t)) {
					t.Fatalf("a notified run synced %d drives, all of them", runs[0].DrivesTotal)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no notified sync ran")
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Changes may land in more than one round; wait until the database agrees.
		deadline = time.Now().Add(time.Minute)
		for !summaryMatches(t, st, w.in.ID, w.sim) {
			if time.Now().After(deadline) {
				assertSummary(t, st, w.in.ID, w.sim)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if w.obs.count(watch.ResultAccepted) == 0 {
			t.Fatal("no notification was accepted")
		}
	})
}

// TestNotificationBurst: 500 notifications for one drive become one delta round of it.
func TestNotificationBurst(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := startWatched(t, st, 3*time.Second)
		subs, _ := st.Subscriptions(context.Background(), w.in.ID)
		sub := subs[0]
		cs := w.clientState(t, sub)
		before := len(w.notifiedRuns(t))
		deltaBefore := w.sim.Stats().ByEndpoint["GET /drives/{id}/root/delta"]
		var wg sync.WaitGroup
		statuses := make(chan int, 500)
		for g := range 10 {
			wg.Go(func() {
				for range 50 {
					statuses <- w.post(t, watch.NotificationPath, map[string]any{"value": []map[string]any{{
						"subscriptionId": sub.ID, "clientState": cs, "changeType": "updated",
						"resource": "drives/" + sub.DriveID + "/root", "tenantId": w.sim.Info().TenantID, "n": g}}})
				}
			})
		}
		wg.Wait()
		close(statuses)
		for s := range statuses {
			if s != http.StatusAccepted {
				t.Fatalf("a notification was answered %d, want 202", s)
			}
		}
		var runs []models.SyncRun
		deadline := time.Now().Add(time.Minute)
		for {
			runs = w.notifiedRuns(t)
			if len(runs) > before && runs[0].Done() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the burst started no sync")
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(4 * time.Second) // a second round would have started by now
		runs = w.notifiedRuns(t)
		if got := len(runs) - before; got != 1 {
			t.Fatalf("500 notifications made %d notified runs, want 1", got)
		}
		if runs[0].DrivesTotal != 1 {
			t.Fatalf("the run synced %d drives, want the notified one", runs[0].DrivesTotal)
		}
		if got := w.sim.Stats().ByEndpoint["GET /drives/{id}/root/delta"] - deltaBefore; got != 1 {
			t.Fatalf("the burst cost %d delta requests, want one round of one page", got)
		}
		if n := w.obs.count(watch.ResultAccepted); n < 500 {
			t.Fatalf("%d notifications counted accepted, want 500", n)
		}
	})
}

// TestReceiverRefuses: what is not Graph's, or not well-formed, changes nothing.
func TestReceiverRefuses(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := startWatched(t, st, 300*time.Millisecond)
		ctx := context.Background()
		subs, _ := st.Subscriptions(ctx, w.in.ID)
		sub := subs[0]

		// The handshake echoes the token as text, at once.
		resp, err := w.hook.Client().Post(w.hook.URL+watch.NotificationPath+"?validationToken="+
			"Validation%3A+Testing+client+application+reachability", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "Validation: Testing client application reachability" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("handshake: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}

		note := func(id, state string) map[string]any {
			return map[string]any{"value": []map[string]any{{"subscriptionId": id, "clientState": state, "changeType": "updated"}}}
		}
		if s := w.post(t, watch.NotificationPath, note(sub.ID, "not-the-state")); s != http.StatusAccepted {
			t.Fatalf("wrong clientState answered %d, want 202 (the sender learns nothing)", s)
		}
		if s := w.post(t, watch.NotificationPath, note("00000000-0000-0000-0000-000000000000", "x")); s != http.StatusAccepted {
			t.Fatalf("unknown subscription answered %d", s)
		}
		for _, bad := range []string{`{`, `[]`, `{"value": []}`, `{"value": "x"}`, "\x00\xff"} {
			resp, err := w.hook.Client().Post(w.hook.URL+watch.NotificationPath, "application/json", strings.NewReader(bad))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("body %q answered %d, want 400", bad, resp.StatusCode)
			}
		}
		big := `{"value": [` + strings.Repeat(`{"subscriptionId": "x"},`, 60000) + `{}]}`
		resp, err = w.hook.Client().Post(w.hook.URL+watch.NotificationPath, "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("a %d-byte body answered %d, want 413", len(big), resp.StatusCode)
		}
		time.Sleep(time.Second)
		pending, err := st.PendingDrives(ctx, w.in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != 0 || len(w.notifiedRuns(t)) != 0 {
			t.Fatalf("refused notifications marked %d drives and started %d syncs", len(pending), len(w.notifiedRuns(t)))
		}
		if w.obs.count(watch.ResultBadClientState) != 1 || w.obs.count(watch.ResultUnknown) != 1 {
			t.Fatalf("counted %v", w.obs.n)
		}

		// Over its rate an integration is answered 429 with Retry-After: Graph retries later.
		limited := watch.NewReceiver(watch.ReceiverConfig{Store: st, Enqueue: w.svc, Logger: quiet(), Rate: 1, Burst: 2})
		ok := note(sub.ID, w.clientState(t, sub))
		var codes []int
		for range 3 {
			b, _ := json.Marshal(ok)
			rec := httptest.NewRecorder()
			limited.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, watch.NotificationPath, bytes.NewReader(b)))
			codes = append(codes, rec.Code)
			if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
		if fmt.Sprint(codes) != "[202 202 429]" {
			t.Fatalf("three notifications at once over a rate of 1/s, burst 2: %v", codes)
		}
	})
}

// TestSubscriptionUpkeep: reauthorization, a subscription Graph lost without a word, a
// restart, pause and delete.
func TestSubscriptionUpkeep(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := startWatched(t, st, 300*time.Millisecond)
		ctx := context.Background()
		subs, _ := st.Subscriptions(ctx, w.in.ID)
		first, second := subs[0], subs[1]

		// reauthorizationRequired reaches the lifecycle URL; the upkeep renews at once.
		if err := w.sim.SubscriptionEvent(first.ID, "reauthorizationRequired"); err != nil {
			t.Fatal(err)
		}
		w.waitSubscriptions(t, func(s []models.GraphSubscription) bool {
			for _, x := range s {
				if x.ID == first.ID && x.RenewedAt.After(first.RenewedAt) {
					return true
				}
			}
			return false
		})
		// Renewed, deliveries flow again: a change in that drive is synced.
		if w.obs.count(watch.ResultLifecycle) != 1 {
			t.Fatalf("lifecycle notifications counted: %d", w.obs.count(watch.ResultLifecycle))
		}

		// Graph drops a subscription without a word; the next upkeep subscribes again.
		if err := w.sim.SubscriptionEvent(second.ID, "drop"); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.Upkeep(ctx, w.in.ID, nil); err != nil {
			t.Fatal(err)
		}
		w.waitSubscriptions(t, func(s []models.GraphSubscription) bool {
			for _, x := range s {
				if x.DriveID == second.DriveID && x.ID != second.ID {
					return true
				}
			}
			return false
		})

		// Listed but gone: the renewal answers 410, and the upkeep subscribes again.
		third := subs[2]
		if err := w.sim.SubscriptionEvent(third.ID, "gone"); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.Upkeep(ctx, w.in.ID, []string{third.ID}); err != nil {
			t.Fatal(err)
		}
		w.waitSubscriptions(t, func(s []models.GraphSubscription) bool {
			for _, x := range s {
				if x.DriveID == third.DriveID && x.ID != third.ID {
					return true
				}
			}
			return false
		})

		// A restart keeps them: a new service's upkeep creates nothing.
		before := w.sim.Stats().ByEndpoint["POST /subscriptions"]
		ctx2, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := w.svc.Stop(ctx2); err != nil {
			t.Fatal(err)
		}
		info := w.sim.Info()
		ws := watch.New(watch.Config{Store: st, PublicURL: w.hook.URL, Logger: quiet(),
			GraphDefaults: graphsimtest.Endpoints(info)})
		if err := ws.Keep(ctx, w.in.ID); err != nil {
			t.Fatal(err)
		}
		if got := w.sim.Stats().ByEndpoint["POST /subscriptions"] - before; got != 0 {
			t.Fatalf("after a restart the upkeep created %d subscriptions, want 0", got)
		}

		// The public URL moved: every subscription follows it.
		moved := watch.New(watch.Config{Store: st, PublicURL: w.hook.URL + "/moved", Logger: quiet(),
			GraphDefaults: graphsimtest.Endpoints(info)})
		if err := moved.Keep(ctx, w.in.ID); err != nil {
			t.Fatal(err)
		}
		urls := subscriptionURLs(t, w.sim)
		kept, _ := st.Subscriptions(ctx, w.in.ID)
		for _, s := range kept {
			if urls[s.ID] != w.hook.URL+"/moved"+watch.NotificationPath {
				t.Fatalf("subscription of drive %s still notifies %q", s.DriveID, urls[s.ID])
			}
		}
		if len(urls) != len(kept) {
			t.Fatalf("Graph holds %d subscriptions, the database %d: old ones left behind", len(urls), len(kept))
		}

		// Pause removes them in Graph and says why it polls.
		if err := st.SetIntegrationStatus(ctx, w.in.ID, models.IntegrationPaused, ""); err != nil {
			t.Fatal(err)
		}
		if err := ws.Keep(ctx, w.in.ID); err != nil {
			t.Fatal(err)
		}
		if left, _ := st.Subscriptions(ctx, w.in.ID); len(left) != 0 {
			t.Fatalf("%d subscriptions left after pause", len(left))
		}
		if n := len(subscriptionURLs(t, w.sim)); n != 0 {
			t.Fatalf("Graph still holds %d subscriptions after pause", n)
		}
		in, _ := st.Integration(ctx, w.in.ID)
		if in.WatchMode != models.WatchPolling || !strings.Contains(in.WatchReason, "Paused") {
			t.Fatalf("paused integration says %q: %q", in.WatchMode, in.WatchReason)
		}
	})
}

// TestUnreachableReceiverPolls: Graph cannot validate the URL, and the integration says so.
func TestUnreachableReceiverPolls(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		sim := startSim(t, graphsim.Options{Tenant: smallTenant(42)})
		info := sim.Info()
		in := createIntegration(t, st, info, info.ClientSecret)
		sy := newSyncer(st, info)
		if _, err := sy.Run(context.Background(), in.ID, true); err != nil {
			t.Fatal(err)
		}
		gd := graphsimtest.Endpoints(info)
		for _, c := range []struct{ url, want string }{
			{"", "OVERSHARE_PUBLIC_URL is not set"},
			{"http://overshare.example.com", "not an https URL"},
			{"https://127.0.0.1:1", "could not reach"},
		} {
			ws := watch.New(watch.Config{Store: st, PublicURL: c.url, GraphDefaults: gd, Logger: quiet()})
			if err := ws.Keep(context.Background(), in.ID); err != nil {
				t.Fatalf("%q: %v", c.url, err)
			}
			got, _ := st.Integration(context.Background(), in.ID)
			if got.WatchMode != models.WatchPolling || !strings.Contains(strings.ToLower(got.WatchReason), strings.ToLower(c.want)) {
				t.Fatalf("public URL %q: mode %q, reason %q; want it to say %q", c.url, got.WatchMode, got.WatchReason, c.want)
			}
		}
	})
}

func subscriptionURLs(t *testing.T, sim *graphsim.Server) map[string]string {
	t.Helper()
	info := sim.Info()
	gc, err := msgraph.New(context.Background(), graphsimtest.Client(info))
	if err != nil {
		t.Fatal(err)
	}
	urls, err := gc.SubscriptionURLs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return urls
}

// shareNewFile creates a file at the root of a watched drive and shares it with anyone.
func (w *watched) shareNewFile(t *testing.T) {
	t.Helper()
	subs, _ := w.st.Subscriptions(context.Background(), w.in.ID)
	drives, _ := w.st.Drives(context.Background(), w.in.ID)
	var root string
	for _, d := range drives {
		if d.ID == subs[0].DriveID {
			root = d.RootID
		}
	}
	tn := w.sim.Tenant()
	res, err := tn.Apply(tenant.Change{Op: "create", DriveID: subs[0].DriveID, ParentID: root, Name: "notified.docx"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.Apply(tenant.Change{Op: "share", DriveID: subs[0].DriveID, ItemID: res.ItemID, LinkType: "view", Scope: "anonymous"}); err != nil {
		t.Fatal(err)
	}
}

// summaryMatches is assertSummary as a question.
func summaryMatches(t *testing.T, st *store.Store, integID string, srv *graphsim.Server) bool {
	t.Helper()
	c, err := st.CountsForIntegration(context.Background(), integID)
	if err != nil {
		t.Fatal(err)
	}
	sum := srv.Tenant().ReadableSummary()
	return fmt.Sprint(c.Users, c.Drives, c.Items, c.SharedItems, c.Permissions) ==
		fmt.Sprint(sum.Users, sum.Drives, sum.Items, sum.SharedItems, sum.Permissions)
}
