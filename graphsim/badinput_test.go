package graphsim_test

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/overshare/overshare/graphsim"
)

// Bad input gets Graph's error shapes and never a panic (a 500).
func TestBadInput(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	ex := s.export(t)
	it := ex.items[1]
	perm := "/drives/" + it.DriveID + "/items/" + it.ID + "/permissions/x"
	huge := bytes.Repeat([]byte("a"), 5<<20)
	tests := []struct {
		name, method, path string
		body               []byte
		header             []string
		status             int
	}{
		{"unknown segment", "GET", "/nope", nil, nil, 400},
		{"empty path", "GET", "/", nil, nil, 400},
		{"too deep", "GET", "/users/x/drive/y/z", nil, nil, 400},
		{"method", "POST", "/users", nil, nil, 405},
		{"me is delegated only", "GET", "/me", nil, nil, 400},
		{"unknown user property", "GET", "/users?$select=shoeSize", nil, nil, 400},
		{"unknown expand", "GET", "/users?$expand=friends", nil, nil, 400},
		{"bad skiptoken", "GET", "/users?$skiptoken=garbage", nil, nil, 400},
		{"negative top", "GET", "/users?$top=-1", nil, nil, 400},
		{"batch not JSON", "POST", "/$batch", []byte("{"), nil, 400},
		{"batch array", "POST", "/$batch", []byte("[]"), nil, 400},
		{"batch requests not a list", "POST", "/$batch", []byte(`{"requests":{}}`), nil, 400},
		{"batch huge", "POST", "/$batch", huge, nil, 413},
		{"batch claims gzip", "POST", "/$batch", []byte(`{"requests":[]}`), []string{"Content-Encoding", "gzip"}, 400},
		{"patch not JSON", "PATCH", perm, []byte("not json"), nil, 400},
		{"patch null", "PATCH", perm, []byte("null"), nil, 400},
		{"patch array", "PATCH", perm, []byte("[1]"), nil, 400},
		{"patch roles not a list", "PATCH", perm, []byte(`{"roles":"write"}`), nil, 400},
		{"patch bad date", "PATCH", perm, []byte(`{"expirationDateTime":"tomorrow"}`), nil, 400},
		{"subscription not JSON", "POST", "/subscriptions", []byte("{"), nil, 400},
		{"subscription empty", "POST", "/subscriptions", []byte("{}"), nil, 400},
		{"subscription patch unknown", "PATCH", "/subscriptions/nope", []byte(`{"expirationDateTime":"2000-01-01T00:00:00Z"}`), nil, 400},
		{"delta odd token form", "GET", "/drives/" + it.DriveID + "/root/delta(token='", nil, nil, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := s.graph(t, tc.method, tc.path, tc.body, tc.header...)
			mustGraphError(t, resp, body, tc.status)
		})
	}

	t.Run("random requests", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		parts := []string{"users", "drives", it.DriveID, "items", it.ID, "root", "delta", "delta()", "permissions", "$batch",
			"subscriptions", "drive", "%21", "%", "..", "", "delta(token='x')", "?$top=0", "?$select=", "?token=", "()"}
		methods := []string{"GET", "POST", "PATCH", "DELETE", "PUT"}
		bodies := [][]byte{nil, []byte("{"), []byte(`{"requests":[{"id":"1","method":"GET","url":"::"}]}`), []byte(`{"roles":[]}`), []byte("\x00\xff")}
		for range 300 {
			var p strings.Builder
			for range 1 + rng.IntN(6) {
				p.WriteString("/" + parts[rng.IntN(len(parts))])
			}
			req, err := http.NewRequest(methods[rng.IntN(len(methods))], s.info.GraphBaseURL+p.String(), bytes.NewReader(bodies[rng.IntN(len(bodies))]))
			if err != nil {
				continue // not even a URL
			}
			req.Header.Set("Authorization", "Bearer "+s.token(t))
			req.Header.Set("Content-Type", "application/json")
			resp, body := s.send(t, req)
			if resp.StatusCode >= 500 {
				t.Fatalf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, body)
			}
			if resp.StatusCode >= 400 {
				mustGraphError(t, resp, body, resp.StatusCode)
			}
		}
	})

	t.Run("outside Graph", func(t *testing.T) {
		for _, path := range []string{"/", "/favicon.ico", "/x/oauth2/v2.0/token", "/_sim"} {
			req, _ := http.NewRequest("GET", s.info.AuthorityHost+strings.TrimPrefix(path, "/"), nil)
			resp, body := s.send(t, req)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || !bytes.Contains(body, []byte(`"error"`)) {
				t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
			}
		}
	})

	if st := s.Stats(); st.ByStatus["500"] != 0 {
		t.Fatalf("%d answers were 500: %+v", st.ByStatus["500"], st)
	}
}
