package msgraph

import (
	"net/http"
	"net/url"
	"strings"

	json "github.com/goccy/go-json"
)

// requestCost is what a request costs and whether it may be replayed.
type requestCost struct {
	endpoint   string
	ru         int
	idempotent bool
	parts      []partCost // $batch parts
}

type partCost struct {
	endpoint string
	ru       int
}

// costOf prices a request in SharePoint resource units (docs/graph-behaviour.md):
// delta with a token 1, delta without 2, getting a drive or an item 1, other
// lists and writes 2, every permission operation 5, directory calls 0. A
// $batch costs the sum of its parts; the envelope is free.
func (c *Client) costOf(method string, u *url.URL, body []byte) requestCost {
	path := c.relPath(u)
	if path == "/$batch" || path == "/%24batch" {
		rc := requestCost{endpoint: "batch", idempotent: true}
		var b struct {
			Requests []struct {
				Method string `json:"method"`
				URL    string `json:"url"`
			} `json:"requests"`
		}
		if json.Unmarshal(body, &b) == nil {
			for _, r := range b.Requests {
				pu, err := url.Parse(r.URL)
				if err != nil {
					continue
				}
				pc := partCostOf(strings.ToUpper(r.Method), pu.EscapedPath(), pu.RawQuery)
				rc.parts = append(rc.parts, pc)
				rc.ru += pc.ru
				if !strings.EqualFold(r.Method, "GET") {
					rc.idempotent = false
				}
			}
		}
		return rc
	}
	pc := partCostOf(method, path, u.RawQuery)
	return requestCost{endpoint: pc.endpoint, ru: pc.ru, idempotent: method != http.MethodPost && method != http.MethodPatch}
}

// relPath is u's path below the Graph base URL.
func (c *Client) relPath(u *url.URL) string {
	path := u.EscapedPath()
	if bp := strings.TrimRight(c.graphBase.EscapedPath(), "/"); bp != "" && strings.HasPrefix(path, bp+"/") {
		path = strings.TrimPrefix(path, bp)
	}
	return path
}

func partCostOf(method, path, query string) partCost {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	last := segs[len(segs)-1]
	switch {
	case segs[0] == "users" || segs[0] == "subscribedSkus" || segs[0] == "organization" ||
		segs[0] == "domains" || segs[0] == "groups" || segs[0] == "subscriptions":
		if len(segs) == 3 && segs[0] == "users" && segs[2] == "drive" {
			return partCost{"drive", 1}
		}
		if len(segs) > 2 && segs[0] == "users" && segs[2] == "drive" {
			break // a drive path reached through the user: priced below
		}
		return partCost{"directory", 0}
	}
	switch {
	case strings.HasPrefix(last, "delta"):
		q, _ := url.ParseQuery(query)
		if q.Get("token") != "" || strings.Contains(last, "token=") || strings.Contains(last, "token%3D") {
			return partCost{"delta", 1}
		}
		return partCost{"delta", 2}
	case last == "permissions":
		return partCost{"permissions", 5}
	case len(segs) >= 2 && segs[len(segs)-2] == "permissions":
		return partCost{"permission", 5}
	case segs[0] == "drives" && len(segs) == 2:
		return partCost{"drive", 1}
	case method == http.MethodGet && last == "children":
		return partCost{"other", 2}
	case method == http.MethodGet:
		return partCost{"other", 1}
	}
	return partCost{"other", 2}
}
