package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/store"
)

// Each abusive request is refused with a clear message, and the server goes on serving.
func TestAbusiveRequestsAreRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		item := globalID("DriveItem", integrationID, "b!drive000-i0000")

		deep := "displayName"
		for i := 0; i < 8; i++ {
			deep = "drive { owner { " + deep + " } }"
		}
		var aliases, typenames strings.Builder
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(&aliases, "a%d: viewer { subject } ", i)
		}
		for i := 0; i < 600; i++ {
			fmt.Fprintf(&typenames, "t%d: __typename ", i)
		}
		var bomb strings.Builder
		bomb.WriteString("query { ...F0 }\n")
		for i := 0; i < 30; i++ {
			fmt.Fprintf(&bomb, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
		}
		bomb.WriteString("fragment F30 on Query { viewer { subject } }\n")
		wide := `driveItems(integrationId: "it1", first: 500) { edges { node { id name path webUrl size
  permissions { id roles inherited link { type scope webUrl expiresAt hasPassword preventsDownload } grantedTo { displayName email external } }
  owner { displayName mail } drive { name quota { used total } } } } }`

		cases := []struct {
			name    string
			query   string
			message string // part of the answer's message
		}{
			{"deep", `{ node(id: "` + item + `") { ... on DriveItem { ` + deep + ` } } }`, "levels deep"},
			{"1,000 aliases", "{ " + aliases.String() + "}", "token limit"},
			{"600 fields", "{ " + typenames.String() + "}", "more than 500 fields"},
			{"fragment bomb", bomb.String(), "more than 500 fields"},
			{"first: 1000000", `{ driveItems(integrationId: "it1", first: 1000000) { edges { cursor } } }`, "at most 500"},
			{"too complex", "{ a: " + wide + " b: " + wide + " c: " + wide + " }", "too complex"},
		}
		for _, c := range cases {
			r := e.do(admin, c.query, nil)
			if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) || !strings.Contains(r.Errors[0].Message, c.message) {
				t.Errorf("%s: answered %d %+v", c.name, r.status, r.Errors)
			}
			if r.Data != nil && string(r.Data) != "null" && c.name != "first: 1000000" {
				t.Errorf("%s: data despite refusal: %.200s", c.name, r.Data)
			}
			e.alive(admin)
		}

		// One such page is what an export script asks for, and is served.
		var export map[string]any
		e.must(admin, "{ "+wide+" }", nil, &export)

		// A 2 MB body is refused before it is parsed.
		big := []byte(`{"query":"{ viewer { subject } }","variables":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`)
		r := e.post(admin, big, nil)
		if r.status != http.StatusRequestEntityTooLarge || !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) || !strings.Contains(r.Errors[0].Message, "limit") {
			t.Errorf("2 MB body: %d %+v", r.status, r.Errors)
		}
		// Also when the size is not announced (chunked).
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", struct{ *bytes.Reader }{bytes.NewReader(big)})
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked 2 MB body: %d", resp.StatusCode)
		}
		e.alive(admin)

		// A browser on another site may not call the API; the configured one may.
		r = e.post(admin, []byte(`{"query":"{ viewer { subject } }"}`), http.Header{"Origin": {"https://evil.example"}})
		if r.status != http.StatusForbidden || !slices.Equal(r.codes(), []string{"FORBIDDEN"}) {
			t.Errorf("foreign origin: %d %+v", r.status, r.Errors)
		}
		req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { subject } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Origin", "https://dashboard.example")
		resp, err = e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "https://dashboard.example" {
			t.Errorf("allowed origin: %d %v", resp.StatusCode, resp.Header)
		}

		// A websocket that never sends connection_init is closed with 4408.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c := dial(t, ctx, e, nil)
		_, _, err = c.Read(ctx)
		if coderws.CloseStatus(err) != 4408 {
			t.Errorf("websocket without connection_init: %v", err)
		}
		// And one from a foreign page never opens.
		_, resp, err = coderws.Dial(ctx, wsURL(e), &coderws.DialOptions{
			Subprotocols: []string{"graphql-transport-ws"},
			HTTPHeader:   http.Header{"Origin": {"https://evil.example"}},
		})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("foreign-origin websocket: %v %v", err, resp)
		}
		e.alive(admin)
	})
}

func wsURL(e *env) string { return "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/graphql" }

func dial(t *testing.T, ctx context.Context, e *env, header http.Header) *coderws.Conn {
	t.Helper()
	c, _, err := coderws.Dial(ctx, wsURL(e), &coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

type wsMsg struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func send(t *testing.T, ctx context.Context, c *coderws.Conn, m any) {
	t.Helper()
	b, _ := json.Marshal(m)
	if err := c.Write(ctx, coderws.MessageText, b); err != nil {
		t.Fatalf("write %s: %v", b, err)
	}
}

// next reads the next message that is not a ping or pong, or returns the close error.
func next(ctx context.Context, c *coderws.Conn) (wsMsg, error) {
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return wsMsg{}, err
		}
		var m wsMsg
		if err := json.Unmarshal(b, &m); err != nil {
			return m, err
		}
		if m.Type == "ping" {
			_ = c.Write(ctx, coderws.MessageText, []byte(`{"type":"pong"}`))
			continue
		}
		if m.Type != "pong" {
			return m, nil
		}
	}
}
