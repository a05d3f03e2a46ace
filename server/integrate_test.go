package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/graphsimtest"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/jobs"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

// checker is the credential check the way cmd/overshare wires it: a Graph client for the
// candidate credentials, asked to prove it can do its job.
type checker struct{ defaults msgraph.Config }

func (c checker) Check(ctx context.Context, tenantID, clientID string, cred store.Credential) error {
	cfg := c.defaults
	cfg.TenantID, cfg.ClientID, cfg.ClientSecret, cfg.Certificate = tenantID, clientID, cred.Secret, cred.Certificate
	cl, err := msgraph.New(ctx, cfg)
	if err != nil {
		return err
	}
	return cl.CheckCredentials(ctx)
}

// integrate checks credentials against the simulator first; a bad secret is refused in words and
// stores nothing; good ones start the first sync, whose progress a graphql-ws client watches
// until done, and whose rows the API then serves.
func TestIntegrateAndWatchTheSync(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		sim, err := graphsim.Start(ctx, graphsim.Options{Tenant: tenant.Config{Seed: 11, Users: 6, FilesPerUser: 30, ShareRatio: 0.1}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sim.Close() })
		info := sim.Info()
		defaults := graphsimtest.Endpoints(info)
		bus := events.NewLocal()
		svc, err := jobs.New(ctx, jobs.Config{Store: st, Bus: bus, Syncer: syncer.New(syncer.Config{Store: st, Bus: bus, GraphDefaults: defaults, Version: "test"})})
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, st, func(c *server.Config) {
			c.GraphQL.Events, c.GraphQL.Syncer, c.GraphQL.Credentials = bus, svc.Syncs(), checker{defaults}
		})
		// Started after newEnv, which registers gorm callbacks: the workers
		// must not be running statements while the callback chain changes.
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Stop(context.Background()) })
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		before, _ := st.Integrations(ctx)

		const integrate = `mutation($in: IntegrateInput!) { integrate(input: $in) { id name status secretHint } }`
		input := map[string]any{"name": "Contoso", "tenantId": info.TenantID, "clientId": info.ClientID, "clientSecret": "wrong-secret"}
		r := e.do(admin, integrate, map[string]any{"in": input})
		if !slices.Equal(r.codes(), []string{"GRAPH_ERROR"}) || !strings.Contains(strings.ToLower(r.Errors[0].Message), "secret") || strings.Contains(r.Errors[0].Message, "wrong-secret") {
			t.Fatalf("a wrong secret: %+v", r.Errors)
		}
		if after, _ := st.Integrations(ctx); len(after) != len(before) {
			t.Fatalf("a refused integration was stored")
		}

		input["clientSecret"] = info.ClientSecret
		var created struct {
			Integrate struct{ ID, Name, Status, SecretHint string }
		}
		e.must(admin, integrate, map[string]any{"in": input}, &created)
		in := created.Integrate
		if in.SecretHint != info.ClientSecret[len(info.ClientSecret)-4:] || strings.Contains(in.ID, info.ClientSecret) {
			t.Fatalf("integrate answered %+v", in)
		}

		// Watch: subscribe, then ask for a full sync (the first one's id comes back while it
		// runs); ask again if the run ended before the subscription was in place.
		c := initWS(t, ctx, e, admin)
		send(t, ctx, c, map[string]any{"type": "subscribe", "id": "p", "payload": map[string]any{
			"query": progressQuery, "variables": map[string]any{"id": in.ID}}})
		msgs := make(chan wsMsg, 1000)
		go func() {
			defer close(msgs)
			for {
				m, err := next(ctx, c)
				if err != nil {
					return
				}
				msgs <- m
			}
		}()
		var seen []progress
		for done := false; !done; {
			var run struct{ StartSync struct{ ID string } }
			e.must(admin, `mutation($id: ID!) { startSync(integrationId: $id, full: true) { id } }`, map[string]any{"id": in.ID}, &run)
			for waiting := true; waiting && !done; {
				select {
				case m, ok := <-msgs:
					if !ok {
						t.Fatal("the websocket closed")
					}
					if m.Type == "complete" {
						t.Fatal("complete before a done event")
					}
					var payload struct {
						Data   struct{ SyncProgress progress }
						Errors []gqlError
					}
					_ = json.Unmarshal(m.Payload, &payload)
					if m.Type != "next" || len(payload.Errors) > 0 {
						t.Fatalf("subscription message %+v", m)
					}
					seen = append(seen, payload.Data.SyncProgress)
					done = payload.Data.SyncProgress.Done
				case <-time.After(10 * time.Second):
					waiting = false // the run ended unseen: start another
				case <-ctx.Done():
					t.Fatal("no progress")
				}
			}
		}
		final := seen[len(seen)-1]
		if final.Error != nil || final.ItemsSeen == 0 || final.IntegrationID != in.ID {
			t.Fatalf("final progress %+v", final)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i].RunID == seen[i-1].RunID && seen[i].ItemsSeen < seen[i-1].ItemsSeen {
				t.Errorf("progress went backwards: %+v then %+v", seen[i-1], seen[i])
			}
		}
		if m := <-msgs; m.Type != "complete" {
			t.Errorf("after done: %+v", m)
		}

		// The synced tenant is served.
		var after struct {
			Integration struct {
				Status     string
				LastSyncAt *time.Time
				Counts     struct{ Items, Users, SharedItems int }
			}
			SyncRuns struct {
				Edges []struct{ Node struct{ Status string } }
			}
			DriveItems struct{ TotalCount int }
		}
		e.must(admin, `query($id: ID!) { integration(id: $id) { status lastSyncAt counts { items users sharedItems } }
  syncRuns(integrationId: $id) { edges { node { status } } } driveItems(integrationId: $id, filter: {sharedOnly: true}) { totalCount } }`,
			map[string]any{"id": in.ID}, &after)
		if after.Integration.Counts.Items == 0 || after.Integration.Counts.Users != 6 || after.DriveItems.TotalCount != after.Integration.Counts.SharedItems || after.Integration.LastSyncAt == nil {
			t.Errorf("after the sync: %+v", after)
		}
		if len(after.SyncRuns.Edges) == 0 || after.SyncRuns.Edges[len(after.SyncRuns.Edges)-1].Node.Status != "SUCCEEDED" {
			t.Errorf("runs: %+v", after.SyncRuns)
		}

		// Rotating the secret checks the new one first: a wrong one leaves the stored secret alone.
		const rotate = `mutation($id: ID!, $s: String!) { updateIntegration(input: {id: $id, clientSecret: $s}) { secretHint } }`
		r = e.do(admin, rotate, map[string]any{"id": in.ID, "s": "another-wrong-secret"})
		if !slices.Equal(r.codes(), []string{"GRAPH_ERROR"}) {
			t.Errorf("rotating to a wrong secret: %+v", r.Errors)
		}
		plain, err := integrationIDOf(in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if secret, err := st.IntegrationSecret(ctx, plain); err != nil || secret != info.ClientSecret {
			t.Errorf("after a refused rotation the stored secret changed (%v)", err)
		}
		var rotated struct{ UpdateIntegration struct{ SecretHint string } }
		e.must(admin, rotate, map[string]any{"id": in.ID, "s": info.ClientSecret}, &rotated)
		if rotated.UpdateIntegration.SecretHint != in.SecretHint {
			t.Errorf("rotation answered %+v", rotated)
		}
	})
}

// integrationIDOf decodes an Integration's global ID.
func integrationIDOf(id string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return "", err
	}
	typ, plain, _ := strings.Cut(string(raw), ":")
	if typ != "Integration" {
		return "", fmt.Errorf("%q is not an Integration ID", id)
	}
	return plain, nil
}
