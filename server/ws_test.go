package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/auth/devidp/devidptest"
	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/store"
)

const progressQuery = `subscription($id: ID!) { syncProgress(integrationId: $id) { runId integrationId phase drivesDone drivesTotal itemsSeen done error } }`

func initWS(t *testing.T, ctx context.Context, e *env, token string) *coderws.Conn {
	t.Helper()
	c := dial(t, ctx, e, nil)
	send(t, ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	m, err := next(ctx, c)
	if err != nil || m.Type != "connection_ack" {
		t.Fatalf("connection_init: %+v %v", m, err)
	}
	return c
}

func subscribe(t *testing.T, ctx context.Context, c *coderws.Conn, id string) {
	t.Helper()
	send(t, ctx, c, map[string]any{"type": "subscribe", "id": id, "payload": map[string]any{
		"query": progressQuery, "variables": map[string]any{"id": integrationID}}})
}

type progress struct {
	RunID, IntegrationID, Phase string
	DrivesDone, ItemsSeen       int
	Done                        bool
	Error                       *string
}

// A subscription streams what the sync engine publishes on the bus, until the run is done.
func TestSyncProgressSubscription(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c := initWS(t, ctx, e, e.idp.Login(t, "admin").AccessToken)
		subscribe(t, ctx, c, "1")

		// The bus keeps only the latest value for a watcher, so the publisher repeats the first
		// snapshot until the subscription has registered and delivered it.
		got := make(chan wsMsg, 100)
		errc := make(chan error, 1)
		go func() {
			for {
				m, err := next(ctx, c)
				if err != nil {
					errc <- err
					return
				}
				got <- m
				if m.Type == "complete" {
					return
				}
			}
		}()
		publish := func(p events.Progress) {
			p.RunID, p.IntegrationID, p.DrivesTotal = "run-1", integrationID, 6
			if err := e.bus.Publish(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		var first wsMsg
	wait:
		for {
			publish(events.Progress{Phase: "items", DrivesDone: 1, ItemsSeen: 10})
			select {
			case first = <-got:
				break wait
			case err := <-errc:
				t.Fatalf("subscription ended: %v", err)
			case <-time.After(50 * time.Millisecond):
			}
		}
		for i := 2; i <= 6; i++ {
			publish(events.Progress{Phase: "items", DrivesDone: i, ItemsSeen: 10 * i})
		}
		publish(events.Progress{Phase: "done", DrivesDone: 6, ItemsSeen: 366, Done: true})

		msgs := []wsMsg{first}
		for msgs[len(msgs)-1].Type != "complete" {
			select {
			case m := <-got:
				msgs = append(msgs, m)
			case err := <-errc:
				t.Fatalf("subscription ended without complete: %v", err)
			case <-ctx.Done():
				t.Fatal("no complete message")
			}
		}
		last := -1
		var final progress
		for _, m := range msgs[:len(msgs)-1] {
			if m.Type != "next" || m.ID != "1" {
				t.Fatalf("unexpected message %+v", m)
			}
			var payload struct {
				Data struct{ SyncProgress progress }
			}
			_ = json.Unmarshal(m.Payload, &payload)
			p := payload.Data.SyncProgress
			if p.ItemsSeen < last {
				t.Errorf("progress went backwards: %d after %d", p.ItemsSeen, last)
			}
			last, final = p.ItemsSeen, p
		}
		if !final.Done || final.ItemsSeen != 366 || final.RunID != globalID("SyncRun", "run-1") || final.IntegrationID != globalID("Integration", integrationID) {
			t.Errorf("last progress = %+v", final)
		}
		// The connection stays usable for another subscription.
		subscribe(t, ctx, c, "2")
	})
}

// The protocol's rules are enforced with its close codes.
func TestWebsocketProtocol(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		viewer := e.idp.Token(t, devidp.DemoViewerScriptClientID)

		closedWith := func(name string, c *coderws.Conn, code int, reason string) {
			t.Helper()
			for {
				_, _, err := c.Read(ctx)
				if err == nil {
					continue
				}
				var ce coderws.CloseError
				if !asClose(err, &ce) || int(ce.Code) != code || !strings.Contains(ce.Reason, reason) {
					t.Errorf("%s: closed with %v, want %d %q", name, err, code, reason)
				}
				return
			}
		}
		for _, c := range []struct {
			name, payload string
			code          int
			reason        string
		}{
			{"no token", `{"type":"connection_init"}`, 4403, "Authorization"},
			{"bad token", `{"type":"connection_init","payload":{"Authorization":"Bearer ` + unsigned(admin) + `"}}`, 4403, "invalid token"},
			{"role-less token", `{"type":"connection_init","payload":{"Authorization":"Bearer ` + e.idp.Token(t, devidptest.NoRolesClient) + `"}}`, 4403, "no Overshare role"},
			{"subscribe before init", `{"type":"subscribe","id":"1","payload":{"query":"{viewer{subject}}"}}`, 4401, "Unauthorized"},
			{"not JSON", `hello`, 4400, "Invalid message"},
			{"unknown type", `{"type":"start","id":"1"}`, 4400, "Invalid message"},
		} {
			conn := dial(t, ctx, e, nil)
			if err := conn.Write(ctx, coderws.MessageText, []byte(c.payload)); err != nil {
				t.Fatal(err)
			}
			closedWith(c.name, conn, c.code, c.reason)
		}

		conn := initWS(t, ctx, e, admin)
		send(t, ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + admin}})
		closedWith("second connection_init", conn, 4429, "Too many")

		conn = initWS(t, ctx, e, admin)
		subscribe(t, ctx, conn, "same")
		subscribe(t, ctx, conn, "same")
		closedWith("duplicate id", conn, 4409, "already exists")

		// A viewer's connection opens, but the admin-only subscription answers FORBIDDEN.
		conn = initWS(t, ctx, e, viewer)
		subscribe(t, ctx, conn, "v")
		m, err := next(ctx, conn)
		if err != nil || m.Type != "next" || m.ID != "v" || !strings.Contains(string(m.Payload), `"code":"FORBIDDEN"`) || !strings.Contains(string(m.Payload), `"data":null`) {
			t.Errorf("viewer subscription: %+v %v", m, err)
		}
		if m, err = next(ctx, conn); err != nil || m.Type != "complete" || m.ID != "v" {
			t.Errorf("viewer subscription did not complete: %+v %v", m, err)
		}
		// Queries work over the socket too.
		send(t, ctx, conn, map[string]any{"type": "subscribe", "id": "q", "payload": map[string]any{"query": "{ viewer { roles } }"}})
		m, err = next(ctx, conn)
		if err != nil || m.Type != "next" || !strings.Contains(string(m.Payload), "VIEWER") {
			t.Errorf("query over websocket: %+v %v", m, err)
		}
		e.alive(admin)
	})
}

func asClose(err error, ce *coderws.CloseError) bool { return errors.As(err, ce) }

// An open subscription ends with 4401 when the token it was opened with expires.
func TestWebsocketClosedWhenTokenExpires(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		token := e.idp.Token(t, devidptest.ShortLived) // two seconds
		c := initWS(t, ctx, e, token)
		subscribe(t, ctx, c, "1")
		for {
			m, err := next(ctx, c)
			if err == nil {
				if m.Type == "error" || m.Type == "complete" {
					t.Fatalf("subscription ended before the token expired: %+v", m)
				}
				continue
			}
			var ce coderws.CloseError
			if !asClose(err, &ce) || ce.Code != 4401 || !strings.Contains(ce.Reason, "expired") {
				t.Fatalf("closed with %v, want 4401 token expired", err)
			}
			break
		}
		// And the same expired token cannot open another.
		conn := dial(t, ctx, e, nil)
		send(t, ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
		_, _, err := conn.Read(ctx)
		if coderws.CloseStatus(err) != 4403 {
			t.Errorf("expired token at init: %v", err)
		}
	})
}

// Shutdown closes websockets first (1001), then stops serving.
func TestGracefulShutdownClosesWebsockets(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		sctx, stop := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- e.api.Serve(sctx, ln) }()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, _, err := coderws.Dial(ctx, "ws://"+ln.Addr().String()+"/graphql", &coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		send(t, ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + e.idp.Token(t, devidp.DemoAdminScriptClientID)}})
		if m, err := next(ctx, c); err != nil || m.Type != "connection_ack" {
			t.Fatalf("init: %+v %v", m, err)
		}
		subscribe(t, ctx, c, "1")
		stop()
		if _, err := next(ctx, c); coderws.CloseStatus(err) != coderws.StatusGoingAway {
			t.Errorf("websocket at shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
			t.Error("still accepting connections after shutdown")
		}
	})
}

// Issue 19: 50,000 subscriptions on one socket made 115k goroutines (1.4 GB). A socket runs at
// most MaxSubscriptionsPerSocket subscriptions (one over is answered with an error and the
// socket goes on), and a principal holds at most MaxSocketsPerPrincipal sockets (4429).
func TestWebsocketCaps(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, func(c *server.Config) { c.MaxSubscriptionsPerSocket, c.MaxSocketsPerPrincipal = 3, 2 })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		c := initWS(t, ctx, e, admin)
		for _, id := range []string{"1", "2", "3", "4"} {
			subscribe(t, ctx, c, id)
		}
		m, err := next(ctx, c)
		for err == nil && m.ID != "4" {
			m, err = next(ctx, c) // the first snapshots of 1-3 may come first
		}
		if err != nil || m.Type != "error" || !strings.Contains(string(m.Payload), "already runs 3 subscriptions") {
			t.Fatalf("the fourth subscribe: %+v %v", m, err)
		}
		// Completing one frees a place on the same socket.
		send(t, ctx, c, map[string]any{"type": "complete", "id": "2"})
		subscribe(t, ctx, c, "5")
		subscribe(t, ctx, c, "6")
		for err == nil && m.ID != "6" {
			m, err = next(ctx, c)
		}
		if err != nil || m.Type != "error" {
			t.Fatalf("after a complete, the sixth: %+v %v", m, err)
		}

		// Sockets: a second is fine, a third for the same principal is closed 4429; another
		// principal is not affected.
		initWS(t, ctx, e, admin)
		third := dial(t, ctx, e, nil)
		send(t, ctx, third, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + admin}})
		if _, err := next(ctx, third); coderws.CloseStatus(err) != 4429 {
			t.Errorf("a third socket of one principal: %v, want close 4429", err)
		}
		initWS(t, ctx, e, e.idp.Token(t, devidp.DemoViewerScriptClientID))
	})
}

// Issue 19: a complete right after subscribe drew a next carrying INTERNAL (the cancelled
// resolver's error). After the client's complete the server sends nothing more for that id.
func TestCompleteRightAfterSubscribe(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c := initWS(t, ctx, e, e.idp.Token(t, devidp.DemoAdminScriptClientID))
		for i := 0; i < 20; i++ {
			id := fmt.Sprint("s", i)
			subscribe(t, ctx, c, id)
			send(t, ctx, c, map[string]any{"type": "complete", "id": id})
		}
		// A query over the socket answers; nothing about the completed ids comes before it.
		send(t, ctx, c, map[string]any{"type": "subscribe", "id": "q", "payload": map[string]any{"query": "{ viewer { subject } }"}})
		for {
			m, err := next(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if m.ID == "q" {
				break
			}
			t.Errorf("after its complete, %s got %s %s", m.ID, m.Type, m.Payload)
		}
	})
}
