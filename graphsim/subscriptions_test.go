package graphsim_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

type notification struct {
	SubscriptionID                 string `json:"subscriptionId"`
	ClientState                    string `json:"clientState"`
	ChangeType                     string `json:"changeType"`
	Resource                       string `json:"resource"`
	SubscriptionExpirationDateTime string `json:"subscriptionExpirationDateTime"`
	TenantID                       string `json:"tenantId"`
}

// receiver is a webhook endpoint: /hook answers the validation handshake
// and records notifications; /mute answers 200 without echoing the token.
func receiver(t *testing.T) (*httptest.Server, chan notification) {
	got := make(chan notification, 64)
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			if r.URL.Path == "/hook" {
				w.Write([]byte(tok))
			}
			return
		}
		var body struct {
			Value []notification `json:"value"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("notification body: %v", err)
		}
		for _, n := range body.Value {
			got <- n
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(ts.Close)
	return ts, got
}

func TestSubscriptions(t *testing.T) {
	ts, got := receiver(t)
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	s := startSim(t, graphsim.Options{NotificationRootCAs: pool})
	client, _ := s.graphClient(t)
	ctx := context.Background()
	ex := s.export(t)
	drive := ex.drives[0]

	newSub := func(url, resource, changeType string, expires time.Time) models.Subscriptionable {
		sub := models.NewSubscription()
		sub.SetChangeType(&changeType)
		sub.SetNotificationUrl(&url)
		sub.SetResource(&resource)
		sub.SetExpirationDateTime(&expires)
		state := "opaque-client-state"
		sub.SetClientState(&state)
		return sub
	}
	day := time.Now().Add(24 * time.Hour)

	created, err := client.Subscriptions().Post(ctx, newSub(ts.URL+"/hook", "drives/"+drive.ID+"/root", "updated", day), nil)
	if err != nil {
		t.Fatalf("create subscription: %v", err)
	}
	id := *created.GetId()
	if *created.GetResource() != "drives/"+drive.ID+"/root" || *created.GetClientState() != "opaque-client-state" {
		t.Fatalf("created subscription %v", created)
	}

	// A change on the drive is notified, with the client state.
	ops := []tenant.Change{{Op: "create", DriveID: drive.ID, ParentID: drive.RootID, Name: "notify-me.txt"}}
	if st := s.control(t, "POST", "/changes", map[string]any{"ops": ops}, nil); st != 200 {
		t.Fatalf("change: %d", st)
	}
	select {
	case n := <-got:
		if n.SubscriptionID != id || n.ClientState != "opaque-client-state" || n.ChangeType != "updated" ||
			n.Resource != "drives/"+drive.ID+"/root" || n.TenantID != s.info.TenantID || n.SubscriptionExpirationDateTime == "" {
			t.Fatalf("notification %+v", n)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no notification for a change on the subscribed drive")
	}

	// Renew, then delete.
	renewed := models.NewSubscription()
	later := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	renewed.SetExpirationDateTime(&later)
	r, err := client.Subscriptions().BySubscriptionId(id).Patch(ctx, renewed, nil)
	if err != nil || !r.GetExpirationDateTime().Equal(later) {
		t.Fatalf("renew: %v %v", err, r)
	}
	if err := client.Subscriptions().BySubscriptionId(id).Delete(ctx, nil); err != nil {
		t.Fatalf("delete subscription: %v", err)
	}
	odataError(t, client.Subscriptions().BySubscriptionId(id).Delete(ctx, nil), 404, "ResourceNotFound")

	// Leading slash in the resource is accepted.
	if _, err := client.Subscriptions().Post(ctx, newSub(ts.URL+"/hook", "/drives/"+drive.ID+"/root", "updated", day), nil); err != nil {
		t.Fatalf("resource with a leading slash: %v", err)
	}

	for name, sub := range map[string]models.Subscriptionable{
		"http notificationUrl": newSub("http://127.0.0.1:1/hook", "drives/"+drive.ID+"/root", "updated", day),
		"created changeType":   newSub(ts.URL+"/hook", "drives/"+drive.ID+"/root", "created", day),
		"beyond 42300 minutes": newSub(ts.URL+"/hook", "drives/"+drive.ID+"/root", "updated", time.Now().Add(42301*time.Minute)),
		"in the past":          newSub(ts.URL+"/hook", "drives/"+drive.ID+"/root", "updated", time.Now().Add(-time.Minute)),
		"no validation echo":   newSub(ts.URL+"/mute", "drives/"+drive.ID+"/root", "updated", day),
		"not a drive root":     newSub(ts.URL+"/hook", "users/"+ex.users[0].ID+"/messages", "updated", day),
		"unreachable endpoint": newSub("https://127.0.0.1:1/hook", "drives/"+drive.ID+"/root", "updated", day),
	} {
		if _, err := client.Subscriptions().Post(ctx, sub, nil); err == nil {
			t.Fatalf("%s: subscription created", name)
		} else {
			odataError(t, err, 400, "InvalidRequest")
		}
	}
}

// TestSubscriptionLifecycle: Graph's harsher sides. Both URLs are validated; a lifecycle
// event reaches the lifecycle URL; after reauthorizationRequired nothing is delivered until
// the app reauthorizes; a receiver that keeps failing loses the notification; a dropped or
// expired subscription answers 404 to its renewal.
func TestSubscriptionLifecycle(t *testing.T) {
	var mu sync.Mutex
	var failing bool
	lifecycle := make(chan map[string]any, 8)
	got := make(chan notification, 64)
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			if r.URL.Path != "/mute" {
				w.Write([]byte(tok))
			}
			return
		}
		mu.Lock()
		fail := failing
		mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var body struct {
			Value []json.RawMessage `json:"value"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		for _, raw := range body.Value {
			if r.URL.Path == "/lifecycle" {
				var m map[string]any
				json.Unmarshal(raw, &m)
				lifecycle <- m
				continue
			}
			var n notification
			json.Unmarshal(raw, &n)
			got <- n
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(ts.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	s := startSim(t, graphsim.Options{NotificationRootCAs: pool, DeliveryRetryWindow: 2 * time.Second})
	client, _ := s.graphClient(t)
	ctx := context.Background()
	drive := s.export(t).drives[0]
	sub := func(lifecycleURL string) models.Subscriptionable {
		x := models.NewSubscription()
		ct, res, nu, st := "updated", "drives/"+drive.ID+"/root", ts.URL+"/hook", "state"
		exp := time.Now().Add(time.Hour)
		x.SetChangeType(&ct)
		x.SetResource(&res)
		x.SetNotificationUrl(&nu)
		x.SetClientState(&st)
		x.SetExpirationDateTime(&exp)
		x.SetLifecycleNotificationUrl(&lifecycleURL)
		return x
	}
	if _, err := client.Subscriptions().Post(ctx, sub(ts.URL+"/mute"), nil); err == nil {
		t.Fatal("a lifecycle URL that fails validation was accepted")
	}
	created, err := client.Subscriptions().Post(ctx, sub(ts.URL+"/lifecycle"), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := *created.GetId()
	change := func(name string) {
		t.Helper()
		if _, err := s.Tenant().Apply(tenant.Change{Op: "create", DriveID: drive.ID, ParentID: drive.RootID, Name: name}); err != nil {
			t.Fatal(err)
		}
	}

	// reauthorizationRequired: announced, then nothing is delivered until reauthorized.
	if err := s.SubscriptionEvent(id, "reauthorizationRequired"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-lifecycle:
		if m["lifecycleEvent"] != "reauthorizationRequired" || m["subscriptionId"] != id || m["clientState"] != "state" {
			t.Fatalf("lifecycle notification %v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no lifecycle notification")
	}
	change("held-back.txt")
	select {
	case n := <-got:
		t.Fatalf("delivered while reauthorization was required: %+v", n)
	case <-time.After(time.Second):
	}
	if err := client.Subscriptions().BySubscriptionId(id).Reauthorize().Post(ctx, nil); err != nil {
		t.Fatal(err)
	}
	change("after-reauthorize.txt")
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification after reauthorizing")
	}

	// A receiver that keeps failing loses the notification once the retries run out.
	mu.Lock()
	failing = true
	mu.Unlock()
	dropped := s.Stats().NotificationsDropped
	change("lost.txt")
	deadline := time.Now().Add(15 * time.Second)
	for s.Stats().NotificationsDropped == dropped {
		if time.Now().After(deadline) {
			t.Fatal("a notification the receiver refused was never dropped")
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	failing = false
	mu.Unlock()

	// A silent drop: the renewal answers 404.
	if err := s.SubscriptionEvent(id, "drop"); err != nil {
		t.Fatal(err)
	}
	renew := models.NewSubscription()
	later := time.Now().Add(2 * time.Hour)
	renew.SetExpirationDateTime(&later)
	_, err = client.Subscriptions().BySubscriptionId(id).Patch(ctx, renew, nil)
	odataError(t, err, 404, "ResourceNotFound")
}
