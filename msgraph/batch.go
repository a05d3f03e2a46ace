package msgraph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

const batchSize = 20 // Graph's limit per $batch

// batchPart is one request to send inside a $batch.
type batchPart struct {
	key string
	ri  *abs.RequestInformation
}

// batchAnswer is one part's final answer.
type batchAnswer struct {
	status int
	resp   msgraphcore.BatchResponse
	id     string
}

// decodePart parses a part's body; a failed part's error carries the part's
// status (the SDK leaves it 0), so it classifies like a direct call.
func decodePart[T serialization.Parsable](a batchAnswer, factory serialization.ParsableFactory) (T, error) {
	v, err := msgraphcore.GetBatchResponseById[T](a.resp, a.id, factory)
	var api abs.ApiErrorable
	if err != nil && errors.As(err, &api) {
		api.SetStatusCode(a.status)
	}
	return v, err
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
			resp, err := br.Send(ctx, c.adapter)
			if err != nil {
				return c.classify(o, err)
			}
			for id, p := range byID {
				item := resp.GetResponseById(id)
				if item == nil || item.GetStatus() == nil {
					retry = append(retry, p) // a part without an answer: ask again
					continue
				}
				st := int(*item.GetStatus())
				throttled := st == 429 || st == 503
				method := p.ri.Method.String()
				pc := partCostOf(method, c.partPath(p.ri), "")
				c.report(RequestInfo{Method: method, Endpoint: pc.endpoint, Status: st, ResourceUnits: pc.ru, Throttled: throttled, Batched: true})
				if (throttled || st == 504) && round < maxThrottleRetries {
					if throttled {
						c.stats.throttled.Add(1)
					}
					saw429 = saw429 || st == 429
					d, ok := parseRetryAfter(headerValue(item.GetHeaders(), "Retry-After"), time.Now())
					if !ok {
						d = backoff(round + 1)
					}
					wait = max(wait, d)
					retry = append(retry, p)
					continue
				}
				if err := handle(p.key, batchAnswer{status: st, resp: resp, id: id}); err != nil {
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
