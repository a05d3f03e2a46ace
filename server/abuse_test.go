package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	coderws "github.com/coder/websocket"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/server"
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

// Issue 19's findings 1 and 2: a query that repeats one response key for two fields made the
// validator report every conflicting pair (1,660 fields: a 168 MB answer, 1.18 GB of RSS) and
// identical fields by the thousand cost a second of CPU each, before authentication and before
// the field limit. Now an anonymous request is refused before it is parsed, and a signed-in
// one (a VIEWER here) is refused before validation with one error, on POST and on the
// websocket alike; whatever reaches the validator gets at most 20 errors back.
func TestHostileQueriesCostLittle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		viewer := e.idp.Token(t, devidp.DemoViewerScriptClientID)
		repeat := func(n int, f func(i int) string) string {
			var b strings.Builder
			for i := 0; i < n; i++ {
				b.WriteString(f(i))
				b.WriteByte(' ')
			}
			return b.String()
		}
		conflict := "{ viewer { " + repeat(1660, func(i int) string { return []string{"a:subject", "a:name"}[i%2] }) + "} }"
		identical := "{ viewer { " + repeat(4990, func(int) string { return "subject" }) + "} }"
		small := "{ viewer { " + repeat(400, func(i int) string { return []string{"a:subject", "a:name"}[i%2] }) + "} }"

		// Anonymous: 401 before parsing, whatever the query.
		for name, q := range map[string]string{"conflicting aliases": conflict, "identical fields": identical} {
			r := e.do("", q, nil)
			if r.status != http.StatusUnauthorized || !slices.Equal(r.codes(), []string{"UNAUTHENTICATED"}) || r.size > 512 {
				t.Errorf("anonymous %s: %d, %d bytes, %+v", name, r.status, r.size, r.codes())
			}
		}
		r := e.do("not.a.token", small, nil)
		if r.status != http.StatusUnauthorized || !slices.Equal(r.codes(), []string{"UNAUTHENTICATED"}) {
			t.Errorf("a forged token: %d %+v", r.status, r.Errors)
		}

		// Signed in: one error saying what is wrong, a small answer.
		cases := []struct{ name, query, says string }{
			{"1,660 fields under one alias", conflict, "more than 500 fields"},
			{"4,990 identical fields", identical, "more than 500 fields"},
			{"400 fields under one alias", small, `response key "a" names two different fields`},
			{"through fragments", `{ viewer { ...A ...B } } fragment A on Viewer { a: subject } fragment B on Viewer { a: name }`, `response key "a"`},
			{"through inline fragments", `{ viewer { ... on Viewer { a: subject } ... { a: name } } }`, `response key "a"`},
			{"nested under repeated keys", `{ v: viewer { a: subject } v: viewer { a: name } }`, `response key "a"`},
			{"arguments differ", `{ x: syncRuns(integrationId: "a", first: 1) { totalCount } x: syncRuns(integrationId: "b", first: 1) { totalCount } }`, `response key "x"`},
			{"a fragment cycle", `{ viewer { ...A } } fragment A on Viewer { subject ...A }`, "Cannot spread fragment"},
		}
		for _, c := range cases {
			r := e.do(viewer, c.query, nil)
			if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, c.says) || r.size > 1024 {
				t.Errorf("%s: %d, %d bytes, %+v", c.name, r.status, r.size, r.Errors)
			}
		}
		// The same key for the same field, and one key per type of a fragment, are fine.
		e.must(viewer, `{ viewer { a: subject a: subject ... on Viewer { a: subject } } }`, nil, nil)

		// What reaches the validator answers at most 20 errors: 300 unknown fields.
		r = e.do(viewer, "{ viewer { "+repeat(300, func(i int) string { return fmt.Sprintf("f%d", i) })+"} }", nil)
		if len(r.Errors) != 20 || !strings.Contains(r.Errors[19].Message, "more errors left out") {
			t.Errorf("300 unknown fields: %d errors, last %+v", len(r.Errors), r.Errors[len(r.Errors)-1])
		}

		// The websocket path: refused before validation too.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c := initWS(t, ctx, e, viewer)
		send(t, ctx, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": small}})
		m, err := next(ctx, c)
		if err != nil || m.Type != "next" && m.Type != "error" || !strings.Contains(string(m.Payload), `response key \"a\"`) || len(m.Payload) > 1024 {
			t.Errorf("over the websocket: %+v %v", m, err)
		}
		e.alive(viewer)
	})
}

// Issue 19's smaller findings: a stalled body times out, a subscription over POST is refused
// at once, introspection is refused in words (never INTERNAL, never an ERROR line), a long
// search is refused, a body that is not JSON is refused without echoing it, and the dashboard
// is served with a Content-Security-Policy.
func TestQuietBoundedAnswers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		var logs syncBuffer
		e := newEnv(t, st, func(c *server.Config) {
			c.BodyReadTimeout = 500 * time.Millisecond
			c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			c.Frontend = fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>Overshare</title>")}}
		})
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)

		// A body that stops half-way: answered 408 within the timeout, not held.
		u, _ := url.Parse(e.srv.URL)
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"query\":", u.Host, admin)
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("stalled body: %v %v", resp, err)
		}

		checks := []struct{ name, query, says string }{
			{"subscription over POST", `subscription { syncProgress(integrationId: "x") { phase } }`, "needs the websocket"},
			{"introspection", `{ __schema { types { name } } }`, "introspection is turned off"},
			{"a 512 KB search", `query($s: String) { users(integrationId: "` + integrationID + `", filter: {search: $s}) { totalCount } }`, "limited to 200 characters"},
		}
		for _, c := range checks {
			done := make(chan gqlResponse, 1)
			go func() { done <- e.do(admin, c.query, map[string]any{"s": strings.Repeat("x", 512<<10)}) }()
			select {
			case r := <-done:
				if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) || !strings.Contains(r.Errors[0].Message, c.says) {
					t.Errorf("%s: %d %+v", c.name, r.status, r.Errors)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("%s: no answer after 10 s", c.name)
			}
		}
		r := e.post(admin, []byte(`{"query": 42, "secret-looking": "hunter2"}`), nil)
		if r.status != http.StatusBadRequest || len(r.Errors) != 1 || strings.Contains(r.Errors[0].Message, "hunter2") || strings.Contains(r.Errors[0].Message, "string") {
			t.Errorf("a body that is not a GraphQL request: %d %+v", r.status, r.Errors)
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("client mistakes logged as errors:\n%s", logs.String())
		}

		resp, err = e.srv.Client().Get(e.srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		iss, _ := url.Parse(e.idp.Issuer())
		for _, want := range []string{"script-src 'self';", "connect-src 'self' " + iss.Scheme + "://" + iss.Host + ";", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
			}
		}
		e.alive(admin)
	})
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
