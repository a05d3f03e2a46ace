package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/store"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines are the JSON log records written so far.
func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// TestRequestIDInAnswersAndLogs: every answer names its request id; a proxy's sane id is
// kept and an unsafe one (which could forge or bloat a log line) replaced; each request's log
// lines carry its id, and no request's line goes without one.
func TestRequestIDInAnswersAndLogs(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		logs := &lockedBuffer{}
		e := newEnv(t, st, func(c *server.Config) {
			c.Logger = slog.New(server.LogHandler(slog.NewJSONHandler(logs, nil)))
		})
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		send := func(id, query string) string {
			body, _ := json.Marshal(map[string]any{"query": query})
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+admin)
			if id != "" {
				req.Header.Set(server.RequestIDHeader, id)
			}
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.Header.Get(server.RequestIDHeader)
		}
		if got := send("proxy-id_1.2", `{ viewer { subject } }`); got != "proxy-id_1.2" {
			t.Errorf("a sane id from the proxy came back as %q", got)
		}
		made := regexp.MustCompile(`^[0-9a-f]{24}$`)
		for _, bad := range []string{"", "two words", strings.Repeat("x", 65), `"},"admin":true`} {
			if got := send(bad, `{ viewer { subject } }`); !made.MatchString(got) {
				t.Errorf("id %q answered as %q, want one the server made", bad, got)
			}
		}
		failed := send("the-failing-one", `{ node(id: "`+strings.Repeat("A", 40)+`") { id } }`)
		byID := map[string][]string{}
		for _, l := range logs.lines(t) {
			id, _ := l["request_id"].(string)
			msg, _ := l["msg"].(string)
			byID[id] = append(byID[id], msg)
		}
		if msgs := byID["proxy-id_1.2"]; len(msgs) != 1 || msgs[0] != "http request" {
			t.Errorf("log lines of the first request: %q", msgs)
		}
		if msgs := byID[failed]; len(msgs) == 0 {
			t.Errorf("no log line carries the failing request's id; lines by id: %v", byID)
		}
		if msgs := byID[""]; len(msgs) > 0 {
			t.Errorf("log lines without a request id: %q", msgs)
		}
	})
}
