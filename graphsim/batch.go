package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
)

const maxBatchItems = 20

type batchRequestJSON struct {
	Requests []batchItemJSON `json:"requests"`
}

type batchItemJSON struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]any    `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
	extra     map[string]string // parsed header values
}

type batchResponseItemJSON struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

func errBatchFormat(msg string) *gerr { return newErr(400, "BadRequest", msg) }

// batch runs a JSON batch: each item goes through the same routing,
// permission checks, RU charging and stats as a request of its own, in
// dependsOn order; the answers come back in a shuffled order, as Graph's may.
func (s *Server) batch(w http.ResponseWriter, g *greq) *gerr {
	body, e := readBody(g.r, 4<<20)
	if e != nil {
		return e
	}
	var req batchRequestJSON
	if err := json.Unmarshal(body, &req); err != nil || req.Requests == nil {
		return errBatchFormat("Invalid batch payload format.")
	}
	if len(req.Requests) == 0 {
		return errBatchFormat("Invalid batch payload format: the batch contains no requests.")
	}
	if len(req.Requests) > maxBatchItems {
		return errBatchFormat(fmt.Sprintf("The number of requests in the batch (%d) exceeds the maximum of %d.", len(req.Requests), maxBatchItems))
	}
	index := map[string]int{}
	for i := range req.Requests {
		it := &req.Requests[i]
		key := strings.ToLower(it.ID)
		if strings.TrimSpace(it.ID) == "" {
			return errBatchFormat("Invalid batch payload format: every request needs an id.")
		}
		if _, dup := index[key]; dup {
			return errBatchFormat("Batch request ids must be unique; '" + it.ID + "' is used more than once.")
		}
		index[key] = i
		switch strings.ToUpper(it.Method) {
		case "GET", "POST", "PATCH", "PUT", "DELETE":
		default:
			return errBatchFormat("Invalid batch payload format: method '" + it.Method + "' of request '" + it.ID + "' is not supported.")
		}
		if strings.TrimSpace(it.URL) == "" {
			return errBatchFormat("Invalid batch payload format: request '" + it.ID + "' has no url.")
		}
		it.extra = map[string]string{}
		for k, v := range it.Headers {
			switch v := v.(type) {
			case string:
				it.extra[k] = v
			case nil:
			default:
				b, _ := json.Marshal(v)
				it.extra[k] = string(b)
			}
		}
		if hasBody(it.Body) && headerValue(it.extra, "Content-Type") == "" {
			return errBatchFormat("Invalid batch payload format: request '" + it.ID + "' has a body but no Content-Type header.")
		}
	}
	order, err := batchOrder(req.Requests, index)
	if err != nil {
		return errBatchFormat(err.Error())
	}

	status := make([]int, len(req.Requests))
	out := make([]batchResponseItemJSON, 0, len(req.Requests))
	for _, i := range order {
		it := req.Requests[i]
		failedDep := ""
		for _, d := range it.DependsOn {
			if st := status[index[strings.ToLower(d)]]; st >= 400 {
				failedDep = d
				break
			}
		}
		var res batchResponseItemJSON
		if failedDep != "" {
			res = s.failedDependency(g, it, failedDep)
		} else {
			res = s.runBatchItem(g, it)
		}
		status[i] = res.Status
		out = append(out, res)
	}
	s.rngMu.Lock()
	s.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	s.rngMu.Unlock()
	writeJSON(w, 200, map[string]any{"responses": out})
	return nil
}

func hasBody(b json.RawMessage) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// batchOrder sorts items so that each runs after what it depends on,
// keeping the given order otherwise; unknown ids and cycles are errors.
func batchOrder(items []batchItemJSON, index map[string]int) ([]int, error) {
	for _, it := range items {
		for _, d := range it.DependsOn {
			if _, ok := index[strings.ToLower(d)]; !ok {
				return nil, fmt.Errorf("Invalid batch payload format: request '%s' depends on unknown request '%s'.", it.ID, d)
			}
		}
	}
	done := make([]bool, len(items))
	var order []int
	for len(order) < len(items) {
		progressed := false
		for i, it := range items {
			if done[i] {
				continue
			}
			ready := true
			for _, d := range it.DependsOn {
				if !done[index[strings.ToLower(d)]] {
					ready = false
					break
				}
			}
			if ready {
				done[i] = true
				order = append(order, i)
				progressed = true
			}
		}
		if !progressed {
			return nil, fmt.Errorf("Invalid batch payload format: the dependsOn relations form a cycle.")
		}
	}
	return order, nil
}

func (s *Server) failedDependency(g *greq, it batchItemJSON, dep string) batchResponseItemJSON {
	buf := newBufWriter()
	setRequestIDs(buf.header, g.r)
	writeGraphError(buf, newErr(424, "FailedDependency", "The request '"+it.ID+"' depends on request '"+dep+"', which failed."))
	endpoint := "unknown"
	if r, err := s.innerRequest(g, it); err == nil {
		if rt, _ := s.resolve(r); rt != nil {
			endpoint = rt.endpoint
		}
	}
	s.stats.request(endpoint, 424, true)
	return toBatchResponse(it.ID, buf)
}

// innerRequest turns a batch item into the request it stands for.
func (s *Server) innerRequest(g *greq, it batchItemJSON) (*http.Request, error) {
	rel := it.URL
	for _, prefix := range []string{g.origin + "/v1.0", "https://graph.microsoft.com/v1.0"} {
		if strings.HasPrefix(strings.ToLower(rel), strings.ToLower(prefix)) {
			rel = rel[len(prefix):]
		}
	}
	if !strings.HasPrefix(rel, "/") {
		rel = "/" + rel
	}
	var body io.Reader = http.NoBody
	if hasBody(it.Body) {
		body = bytes.NewReader(it.Body)
	}
	r, err := http.NewRequestWithContext(g.r.Context(), strings.ToUpper(it.Method), g.origin+"/v1.0"+rel, body)
	if err != nil {
		return nil, err
	}
	r.Host = g.r.Host
	for k, v := range it.extra {
		r.Header.Set(k, v)
	}
	r.Header.Set("Authorization", g.r.Header.Get("Authorization"))
	return r, nil
}

// runBatchItem builds an http.Request for one item and sends it through the
// shared pipeline (no faults: those are injected on the envelope).
func (s *Server) runBatchItem(g *greq, it batchItemJSON) (res batchResponseItemJSON) {
	buf := newBufWriter()
	endpoint := "unknown"
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("batch item panic", "panic", v, "stack", string(debug.Stack()))
			buf = newBufWriter()
			setRequestIDs(buf.header, g.r)
			writeGraphError(buf, newErr(500, "generalException", "An unexpected error occurred."))
		}
		s.stats.request(endpoint, buf.status, true)
		res = toBatchResponse(it.ID, buf)
	}()

	r, err := s.innerRequest(g, it)
	if err != nil {
		setRequestIDs(buf.header, g.r)
		writeGraphError(buf, newErr(400, "BadRequest", "Invalid request URL '"+it.URL+"'."))
		return
	}
	setRequestIDs(buf.header, r)

	rt, rerr := s.resolve(r)
	if rt != nil {
		endpoint = rt.endpoint
	}
	switch {
	case rerr != nil:
		writeGraphError(buf, rerr)
	case rt.endpoint == "POST /$batch":
		writeGraphError(buf, newErr(400, "BadRequest", "Nested batch requests are not supported."))
	default:
		inner := &greq{r: r, query: r.URL.Query(), claims: g.claims, batched: true, origin: g.origin}
		s.execute(buf, inner, rt)
	}
	return
}

func toBatchResponse(id string, buf *bufWriter) batchResponseItemJSON {
	res := batchResponseItemJSON{ID: id, Status: buf.status, Headers: map[string]string{}}
	if res.Status == 0 {
		res.Status = http.StatusOK
	}
	for k, v := range buf.header {
		if strings.EqualFold(k, "Content-Length") || len(v) == 0 {
			continue
		}
		res.Headers[k] = strings.Join(v, ", ")
	}
	if b := buf.body.Bytes(); len(b) > 0 {
		if json.Valid(b) {
			res.Body = b
		} else {
			q, _ := json.Marshal(string(b))
			res.Body = q
		}
	}
	if res.Status == http.StatusNoContent {
		res.Body = nil
	}
	return res
}
