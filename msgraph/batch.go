package msgraph

import (
	"context"
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

const batchSize = 20 // Graph's limit per $batch

// batchPart is one request to send inside a $batch.
type batchPart struct {
	key string
	ri  *abs.RequestInformation
}

// batchAnswer is one part's final answer.
type batchAnswer struct {
	status  int
	headers map[string]string
	body    []byte // the part's JSON body; empty when it has none
}

// decodePart parses a part's body into the SDK's model; a failed part is
// Graph's error carrying the part's status and headers, so it classifies
// like a direct call.
func decodePart[T serialization.Parsable](a batchAnswer, factory serialization.ParsableFactory) (T, error) {
	var zero T
	if a.status >= 400 {
		return zero, a.err()
	}
	node, err := jsonserialization.NewJsonParseNode(a.body)
	if err != nil {
		return zero, fmt.Errorf("parse $batch part: %w", err)
	}
	v, err := node.GetObjectValue(factory)
	if err != nil {
		return zero, fmt.Errorf("parse $batch part: %w", err)
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("parse $batch part: unexpected %T", v)
	}
	return t, nil
}

// err is a failed part as the SDK raises a failed request: Graph's
// ODataError (or, without a readable body, an ApiError) with the part's
// status and headers.
func (a batchAnswer) err() error {
	h := abs.NewResponseHeaders()
	for k, v := range a.headers {
		h.Add(k, v)
	}
	if len(a.body) > 0 {
		if node, err := jsonserialization.NewJsonParseNode(a.body); err == nil {
			if v, err := node.GetObjectValue(odataerrors.CreateODataErrorFromDiscriminatorValue); err == nil {
				if oe, ok := v.(*odataerrors.ODataError); ok {
					oe.ResponseStatusCode = a.status
					oe.ResponseHeaders = h
					return oe
				}
			}
		}
	}
	return &abs.ApiError{Message: fmt.Sprintf("Microsoft Graph answered %d inside a $batch", a.status), ResponseStatusCode: a.status, ResponseHeaders: h}
}

// wireBatch is a $batch answer as Graph sends it.
type wireBatch struct {
	Responses []struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

// sendBatch sends one $batch built with the SDK's BatchRequest through the
// SDK's adapter (authentication, middleware, error mapping) and decodes the
// answer itself: the SDK parses the envelope into a generic tree, then
// serialises each part again to parse it into a model, which costs more
// CPU than the rest of the sync's permission reading together.
func (c *Client) sendBatch(ctx context.Context, br msgraphcore.BatchRequest) (map[string]batchAnswer, error) {
	ri := abs.NewRequestInformation()
	ri.Method = abs.POST
	ri.UrlTemplate = "{+baseurl}/$batch"
	ri.PathParameters["baseurl"] = c.adapter.GetBaseUrl()
	if err := ri.SetContentFromParsable(ctx, c.adapter, "application/json", br); err != nil {
		return nil, fmt.Errorf("build $batch: %w", err)
	}
	ri.Headers.Add("Content-Type", "application/json")
	raw, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", odataErrors())
	if err != nil {
		return nil, err
	}
	body, _ := raw.([]byte)
	var w wireBatch
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("Microsoft Graph answered a $batch that could not be read: %w", err)
	}
	out := make(map[string]batchAnswer, len(w.Responses))
	for _, r := range w.Responses {
		a := batchAnswer{status: r.Status, headers: r.Headers}
		if b := []byte(r.Body); len(b) > 0 && string(b) != "null" {
			a.body = b
		}
		out[r.ID] = a
	}
	return out, nil
}

// runBatch sends parts 20 to a $batch and calls handle once per part with its
// final answer. Parts answered 429, 503 or 504 are not retried by any SDK
// handler (the envelope is 200), so they are resubmitted here after the
// largest Retry-After among them; the other parts are kept.
func (c *Client) runBatch(ctx context.Context, o op, parts []batchPart, handle func(key string, a batchAnswer) error) error {
	pending := parts
	for round := 0; len(pending) > 0; round++ {
		var retry []batchPart
		var wait time.Duration
		var saw429 bool
		for start := 0; start < len(pending); start += batchSize {
			chunk := pending[start:min(start+batchSize, len(pending))]
			br := msgraphcore.NewBatchRequest(c.adapter)
			byID := make(map[string]batchPart, len(chunk))
			for _, p := range chunk {
				item, err := br.AddBatchRequestStep(*p.ri)
				if err != nil {
					return fmt.Errorf("build $batch: %w", err)
				}
				byID[deref(item.GetId())] = p
			}
			answers, err := c.sendBatch(ctx, br)
			if err != nil {
				return c.classify(o, err)
			}
			for id, p := range byID {
				a, ok := answers[id]
				if !ok || a.status == 0 {
					retry = append(retry, p) // a part without an answer: ask again
					continue
				}
				st := a.status
				throttled := st == 429 || st == 503
				method := p.ri.Method.String()
				pc := partCostOf(method, c.partPath(p.ri), "")
				c.report(RequestInfo{Method: method, Endpoint: pc.endpoint, Status: st, ResourceUnits: pc.ru, Throttled: throttled, Batched: true})
				if (throttled || st == 504) && round < maxThrottleRetries {
					if throttled {
						c.stats.throttled.Add(1)
					}
					saw429 = saw429 || st == 429
					d, ok := parseRetryAfter(headerValue(a.headers, "Retry-After"), time.Now())
					if !ok {
						d = backoff(round + 1)
					}
					wait = max(wait, d)
					retry = append(retry, p)
					continue
				}
				if err := handle(p.key, a); err != nil {
					return err
				}
			}
		}
		if len(retry) == 0 {
			return nil
		}
		if wait == 0 {
			wait = backoff(round + 1)
		}
		if saw429 {
			c.pacer.block(time.Now().Add(wait))
		}
		c.log.Debug("graph throttled parts of a batch, resubmitting", "parts", len(retry), "wait", wait)
		if err := c.sleep(ctx, wait, true); err != nil {
			return err
		}
		pending = retry
	}
	return nil
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// partPath is the part's path relative to the Graph base URL, for pricing.
func (c *Client) partPath(ri *abs.RequestInformation) string {
	u, err := ri.GetUri()
	if err != nil {
		return "/"
	}
	return c.relPath(u)
}
