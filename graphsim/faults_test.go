package graphsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/overshare/overshare/graphsim"
)

func TestFaultKinds(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	path := s.info.GraphBaseURL + "/users?$top=2"
	get := func(t *testing.T) (*http.Response, []byte, error) {
		req, _ := http.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+s.token(t))
		resp, err := s.hc.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	tests := []struct {
		kind  string
		check func(t *testing.T, resp *http.Response, body []byte, err error)
	}{
		{"429", func(t *testing.T, resp *http.Response, body []byte, err error) {
			mustGraphError(t, resp, body, 429)
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}},
		{"503", func(t *testing.T, resp *http.Response, body []byte, err error) {
			mustGraphError(t, resp, body, 503)
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		}},
		{"504", func(t *testing.T, resp *http.Response, body []byte, err error) { mustGraphError(t, resp, body, 504) }},
		{"401", func(t *testing.T, resp *http.Response, body []byte, err error) {
			if e := mustGraphError(t, resp, body, 401); e.Error.Code != "InvalidAuthenticationToken" {
				t.Fatalf("401 code %s", e.Error.Code)
			}
		}},
		{"slow", func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 200 || !json.Valid(body) {
				t.Fatalf("slow answer: %v %v", err, resp)
			}
		}},
		{"truncated", func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("truncated answer: %v %v", err, resp)
			}
			if json.Valid(body) || strconv.Itoa(len(body)) != resp.Header.Get("Content-Length") {
				t.Fatalf("truncated answer is whole JSON, or its length %d disagrees with Content-Length %s", len(body), resp.Header.Get("Content-Length"))
			}
		}},
		{"reset", func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err == nil {
				t.Fatalf("reset: the whole answer arrived (%d bytes)", len(body))
			}
		}},
		{"repeat", func(t *testing.T, resp *http.Response, body []byte, err error) {
			var p struct {
				NextLink string `json:"@odata.nextLink"`
			}
			if err != nil || json.Unmarshal(body, &p) != nil || p.NextLink != path {
				t.Fatalf("repeat: nextLink %q, want the request's own URL %q (err %v)", p.NextLink, path, err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			s.token(t) // sign in before faults are on
			s.SetFaults(1, []string{tc.kind})
			defer s.SetFaults(0, nil)
			resp, body, err := get(t)
			tc.check(t, resp, body, err)
		})
	}

	t.Run("not on sign-in or the control API", func(t *testing.T) {
		if st := s.control(t, "POST", "/faults", map[string]any{"rate": 1.0}, nil); st != 200 {
			t.Fatalf("POST /faults: %d", st)
		}
		defer s.SetFaults(0, nil)
		if tok := s.freshToken(t); tok == "" {
			t.Fatal("no token while faults are on")
		}
		var st graphsim.Stats
		if code := s.control(t, "GET", "/stats", nil, &st); code != 200 {
			t.Fatalf("control API under faults: %d", code)
		}
	})
	t.Run("repeat only on paged endpoints", func(t *testing.T) {
		s.SetFaults(1, []string{"repeat"})
		defer s.SetFaults(0, nil)
		resp, body := s.graph(t, "GET", "/subscribedSkus", nil)
		if resp.StatusCode != 200 || strings.Contains(string(body), "nextLink") {
			t.Fatalf("repeat fault on a non-paged endpoint: %d %s", resp.StatusCode, body)
		}
	})
}

// The same seed and the same request sequence give the same faults.
func TestFaultsAreDeterministic(t *testing.T) {
	run := func() string {
		s := startSim(t, graphsim.Options{FaultRate: 0.5, FaultKinds: []string{"429", "503", "504", "401"}})
		var out []string
		for range 30 {
			resp, _ := s.graph(t, "GET", "/subscribedSkus", nil)
			out = append(out, strconv.Itoa(resp.StatusCode))
		}
		return strings.Join(out, ",")
	}
	a, b := run(), run()
	if a != b {
		t.Fatalf("fault sequences differ:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "200") || !strings.Contains(a, "429") && !strings.Contains(a, "503") {
		t.Fatalf("rate 0.5 gave %s", a)
	}
}

// Every kind comes up in each round of len(kinds) faults, so a test's few
// dozen faults always include each of them.
func TestFaultsDealEveryKind(t *testing.T) {
	s := startSim(t, graphsim.Options{FaultRate: 1, FaultKinds: []string{"429", "503", "504", "401"}})
	seen := map[int]int{}
	for range 8 {
		resp, _ := s.graph(t, "GET", "/subscribedSkus", nil)
		seen[resp.StatusCode]++
	}
	for _, code := range []int{429, 503, 504, 401} {
		if seen[code] != 2 {
			t.Errorf("%d answers %d in 8 faults of 4 kinds, want 2 (all: %v)", seen[code], code, seen)
		}
	}
}
