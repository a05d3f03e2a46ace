package graphsim_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/overshare/overshare/graphsim"
)

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      any               `json:"body,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
}

type batchAnswer struct {
	Responses []struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"` // strings: decoding fails otherwise
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

func (s *sim) batch(t testing.TB, items []batchItem, gz bool) (*http.Response, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"requests": items})
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
	}
	req, _ := http.NewRequest("POST", s.info.GraphBaseURL+"/$batch", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token(t))
	req.Header.Set("Content-Type", "application/json")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	return s.send(t, req)
}

func (s *sim) batchOK(t testing.TB, items []batchItem, gz bool) batchAnswer {
	t.Helper()
	resp, body := s.batch(t, items, gz)
	if resp.StatusCode != 200 {
		t.Fatalf("$batch: %d %s", resp.StatusCode, body)
	}
	var a batchAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("$batch answer %s: %v", body, err)
	}
	if len(a.Responses) != len(items) {
		t.Fatalf("$batch: %d responses for %d requests", len(a.Responses), len(items))
	}
	return a
}

func permItems(ex export, n int) []batchItem {
	var items []batchItem
	for i := 0; len(items) < n; i++ {
		it := ex.items[i%len(ex.items)]
		items = append(items, batchItem{ID: strconv.Itoa(len(items) + 1), Method: "GET",
			URL: "/drives/" + it.DriveID + "/items/" + it.ID + "/permissions", Headers: map[string]string{"accept": "application/json"}})
	}
	return items
}

func TestBatchOverHTTP(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	ex := s.export(t).readable()

	t.Run("20 requests, gzip or not", func(t *testing.T) {
		for _, gz := range []bool{false, true} {
			items := permItems(ex, 20)
			a := s.batchOK(t, items, gz)
			inOrder := true
			for i, r := range a.Responses {
				if r.Status != 200 || r.Headers["Content-Type"] == "" || len(r.Body) == 0 {
					t.Fatalf("item %s: status %d headers %v", r.ID, r.Status, r.Headers)
				}
				inOrder = inOrder && r.ID == items[i].ID
			}
			if inOrder {
				t.Fatalf("20 responses came back in request order; Graph's come back in any order")
			}
		}
	})
	t.Run("malformed batches", func(t *testing.T) {
		dup := permItems(ex, 2)
		dup[1].ID = "1"
		dupCase := []batchItem{{ID: "a", Method: "GET", URL: "/users"}, {ID: "A", Method: "GET", URL: "/users"}}
		for name, items := range map[string][]batchItem{
			"21 requests":        permItems(ex, 21),
			"duplicate ids":      dup,
			"ids differ in case": dupCase,
			"unknown dependency": {{ID: "1", Method: "GET", URL: "/users", DependsOn: []string{"9"}}},
			"body without type":  {{ID: "1", Method: "PATCH", URL: "/users", Body: map[string]any{"x": 1}}},
			"no requests":        {},
			"cycle":              {{ID: "1", Method: "GET", URL: "/users", DependsOn: []string{"2"}}, {ID: "2", Method: "GET", URL: "/users", DependsOn: []string{"1"}}},
			"unsupported method": {{ID: "1", Method: "TRACE", URL: "/users"}},
		} {
			resp, body := s.batch(t, items, false)
			if e := mustGraphError(t, resp, body, 400); e.Error.Code != "BadRequest" {
				t.Fatalf("%s: code %s", name, e.Error.Code)
			}
		}
	})
	t.Run("dependsOn", func(t *testing.T) {
		ok := permItems(ex, 1)[0]
		items := []batchItem{
			{ID: "missing", Method: "GET", URL: "/drives/b!nope"},
			{ID: "after-missing", Method: "GET", URL: "/users", DependsOn: []string{"missing"}},
			ok,
			{ID: "after-ok", Method: "GET", URL: "/users?$top=1", DependsOn: []string{ok.ID}},
		}
		got := map[string]int{}
		for _, r := range s.batchOK(t, items, false).Responses {
			got[r.ID] = r.Status
		}
		want := map[string]int{"missing": 404, "after-missing": 424, ok.ID: 200, "after-ok": 200}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	})
	t.Run("stats count items one by one", func(t *testing.T) {
		s.control(t, "POST", "/stats/reset", nil, nil)
		s.batchOK(t, permItems(ex, 7), true)
		st := s.Stats()
		if st.ByEndpoint["POST /$batch"] != 1 || st.ByEndpoint["GET /drives/{id}/items/{id}/permissions"] != 7 ||
			st.BatchedRequests != 7 || st.Requests != 8 || st.RU != 35 {
			t.Fatalf("stats after a batch of 7 permission reads: %+v", st)
		}
	})
}

func TestBatchThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	var encodings []string
	tr := s.transport()
	spy := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/$batch") {
			encodings = append(encodings, r.Header.Get("Content-Encoding"))
		}
		return tr.RoundTrip(r)
	})
	client, adapter := s.graphClientWith(t, s.credential(t, s.info.TenantID, s.info.ClientID, s.info.ClientSecret), spy)
	ctx := context.Background()
	ex := s.export(t).readable()
	batch := msgraphcore.NewBatchRequest(adapter)
	var ids []string
	for i := 0; i < 19; i++ {
		it := ex.items[i]
		ri, err := client.Drives().ByDriveId(it.DriveID).Items().ByDriveItemId(it.ID).Permissions().ToGetRequestInformation(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		step, err := batch.AddBatchRequestStep(*ri)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *step.GetId())
	}
	ri, _ := client.Drives().ByDriveId(ex.items[0].DriveID).Items().ByDriveItemId("01NOSUCHITEMXXXXXXXXXXXXXXXXXXXXXX").Permissions().ToGetRequestInformation(ctx, nil)
	missing, err := batch.AddBatchRequestStep(*ri)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := batch.Send(ctx, adapter)
	if err != nil {
		t.Fatalf("send batch: %v", err)
	}
	if strings.Join(encodings, ",") != "gzip" {
		t.Fatalf("the SDK sent the batch with Content-Encoding %q; the simulator should have taken the gzip body at once", encodings)
	}
	codes := resp.GetStatusCodes()
	for _, id := range ids {
		if codes[id] != 200 {
			t.Fatalf("item %s: status %d", id, codes[id])
		}
		perms, err := msgraphcore.GetBatchResponseById[models.PermissionCollectionResponseable](resp, id, models.CreatePermissionCollectionResponseFromDiscriminatorValue)
		if err != nil || perms == nil {
			t.Fatalf("item %s: %v", id, err)
		}
	}
	if codes[*missing.GetId()] != 404 {
		t.Fatalf("unknown item: status %d", codes[*missing.GetId()])
	}
	// The SDK does not copy the item status into the error; the code is there.
	_, err = msgraphcore.GetBatchResponseById[models.PermissionCollectionResponseable](resp, *missing.GetId(), models.CreatePermissionCollectionResponseFromDiscriminatorValue)
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || *oe.GetErrorEscaped().GetCode() != "itemNotFound" {
		t.Fatalf("unknown item: error %v, want an ODataError itemNotFound", err)
	}
}

// Each request in a batch is charged on its own: with 12 RU a minute, two
// permission reads (5 RU each) pass and the rest come back 429 inside the
// 200 envelope, each with its own Retry-After.
func TestBatchThrottledItems(t *testing.T) {
	s := startSim(t, graphsim.Options{RUPerMinute: 12})
	ex := s.export(t).readable()
	a := s.batchOK(t, permItems(ex, 5), false)
	ok, throttled := 0, 0
	for _, r := range a.Responses {
		switch r.Status {
		case 200:
			ok++
		case 429:
			throttled++
			ra, err := strconv.ParseFloat(r.Headers["Retry-After"], 64)
			if err != nil || ra <= 0 {
				t.Fatalf("throttled item %s: Retry-After %q", r.ID, r.Headers["Retry-After"])
			}
		default:
			t.Fatalf("item %s: status %d", r.ID, r.Status)
		}
	}
	st := s.Stats()
	if ok != 2 || throttled != 3 || st.Throttled != 3 || st.RU != 25 {
		t.Fatalf("ok=%d throttled=%d stats=%+v; want 2 ok, 3 throttled, 25 RU charged", ok, throttled, st)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
