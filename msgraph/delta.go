package msgraph

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
)

// preferSharing asks delta to return sharing information only where a
// permission hierarchy starts or changed, removed items as deleted, items
// behind permission gaps, and the sharedChanged annotation (docs/graph-behaviour.md).
// Graph forgets preferences between pages, so every page sends them.
const preferSharing = "hierarchicalsharing, deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges"

// deltaFields are the stored item fields plus those the engine needs to
// interpret an entry (deleted, shared, parentReference, file, folder, root).
var deltaFields = []string{
	"id", "name", "deleted", "shared", "parentReference", "file", "folder", "root", "size", "webUrl",
	"createdBy", "lastModifiedBy", "createdDateTime", "lastModifiedDateTime",
}

// maxRepeats bounds the re-requests of a page whose nextLink points back at
// itself (seen on Graph: microsoft-graph-docs#2749, onedrive-api-docs#1431),
// and the run of consecutive pages with exactly the same entries.
const maxRepeats = 5

// pageMark remembers the last delta page served for a drive.
type pageMark struct {
	next string // the page's nextLink
	sig  uint64 // its entries (pageSignature)
	same int    // how many pages in a row before it had the same entries
}

// DeltaPage fetches one page of a drive's delta. link "" starts a fresh
// enumeration of the whole drive; otherwise link is a NextLink or DeltaLink
// from an earlier page (or the Location of a ResyncRequired error), followed
// as given. One page per call lets the caller commit the page's items before
// it stores the next link.
//
// A 410 comes back as *Error{Kind: ResyncRequired, Location: …}; Location is
// "" when Graph gave none (start a fresh enumeration with link ""). A page
// whose nextLink repeats the link just requested is requested again up to 5
// times before DeltaPage gives up with an error. A page with the same
// entries as the page before is handed out (Graph re-sends items and their
// ancestors), but 5 such pages in a row end the round with an error.
func (c *Client) DeltaPage(ctx context.Context, driveID, link string) (*DeltaPage, error) {
	b := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId("root").Delta()
	h := abs.NewRequestHeaders()
	h.Add("Prefer", preferSharing)
	cfg := &drives.ItemItemsItemDeltaRequestBuilderGetRequestConfiguration{Headers: h}
	if link == "" {
		top := int32(c.cfg.PageSize)
		ri, err := b.ToGetRequestInformation(ctx, &drives.ItemItemsItemDeltaRequestBuilderGetRequestConfiguration{
			QueryParameters: &drives.ItemItemsItemDeltaRequestBuilderGetQueryParameters{Select: deltaFields, Top: &top},
		})
		if err != nil {
			return nil, fmt.Errorf("delta request for drive %s: %w", driveID, err)
		}
		ri.PathParameters["baseurl"] = c.adapter.GetBaseUrl()
		u, err := ri.GetUri()
		if err != nil {
			return nil, fmt.Errorf("delta URL for drive %s: %w", driveID, err)
		}
		link = u.String()
	} else {
		link = c.onGraphHost(link)
	}

	c.repeatMu.Lock()
	prev := c.lastPage[driveID]
	c.repeatMu.Unlock()

	for attempt := 0; ; attempt++ {
		ri, err := b.WithUrl(link).ToGetRequestInformation(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("delta request for drive %s: %w", driveID, err)
		}
		raw, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", odataErrors())
		if err != nil {
			return nil, c.classify(opDelta, err)
		}
		body, _ := raw.([]byte)
		page, err := c.decodeDeltaPage(driveID, body)
		if err != nil {
			return nil, &Error{Kind: Unknown, Message: fmt.Sprintf("Microsoft Graph answered a delta page of drive %s that could not be read: %v.", driveID, err), err: err}
		}
		if page.NextLink != "" && sameLink(page.NextLink, link) {
			// A nextLink pointing back at the request: ask again rather
			// than hand out the page twice.
			if attempt >= maxRepeats {
				return nil, &Error{Kind: Unknown, Message: fmt.Sprintf(
					"Microsoft Graph served the same delta page of drive %s %d times in a row; giving up on this round.", driveID, attempt+1)}
			}
			c.stats.retries.Add(1)
			c.log.Debug("delta page repeated, requesting it again", "drive", driveID, "attempt", attempt+1)
			continue
		}
		if page.NextLink == "" && page.DeltaLink == "" {
			return nil, fmt.Errorf("delta of drive %s: Graph answered a page with neither nextLink nor deltaLink", driveID)
		}
		// The same entries as the page before are legitimate (an item and
		// its ancestors sent again); a long run of them is a loop.
		mark := pageMark{next: page.NextLink, sig: pageSignature(page.Items)}
		if mark.sig != 0 && mark.sig == prev.sig && prev.next != "" && sameLink(link, prev.next) {
			mark.same = prev.same + 1
		}
		if mark.same >= maxRepeats {
			return nil, &Error{Kind: Unknown, Message: fmt.Sprintf(
				"Microsoft Graph served the same delta entries of drive %s %d times in a row; giving up on this round.", driveID, mark.same+1)}
		}
		c.repeatMu.Lock()
		c.lastPage[driveID] = mark
		c.repeatMu.Unlock()
		return page, nil
	}
}

// onGraphHost points a stored link at the configured Graph host. Links carry
// the host that issued them; when Graph is reached at another address than
// when a drive's delta link was stored (a proxy, or the demo's simulator on a
// new port after a restart), following the stored host would fail for ever.
func (c *Client) onGraphHost(link string) string {
	u, err := url.Parse(link)
	if err != nil || u.Host == "" || strings.EqualFold(u.Host, c.graphHost) {
		return link
	}
	u.Scheme, u.Host = c.graphBase.Scheme, c.graphBase.Host
	return u.String()
}

// pageSignature identifies a page by all its entries (id and deleted
// flag, in order); pages of one item are not compared (0), since the same
// item may legitimately come in a row.
func pageSignature(items []DriveItem) uint64 {
	if len(items) < 2 {
		return 0
	}
	h := fnv.New64a()
	for i := range items {
		h.Write([]byte(items[i].ID))
		if items[i].Deleted {
			h.Write([]byte{1})
		}
		h.Write([]byte{0})
	}
	return h.Sum64() | 1
}

// sameLink compares two Graph URLs regardless of escaping and query order.
func sameLink(a, b string) bool {
	if a == b {
		return true
	}
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	if !strings.EqualFold(ua.Host, ub.Host) || ua.Path != ub.Path {
		return false
	}
	qa, qb := ua.Query(), ub.Query()
	if len(qa) != len(qb) {
		return false
	}
	for k, va := range qa {
		vb := qb[k]
		if len(va) != len(vb) {
			return false
		}
		for i := range va {
			if va[i] != vb[i] {
				return false
			}
		}
	}
	return true
}
