package graphsim

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/overshare/overshare/graphsim/tenant"
)

// --- delta -------------------------------------------------------------------

// preferences reads every Prefer header line (the SDK may send one line per
// value) and splits each on commas.
func preferences(r *http.Request) map[string]bool {
	p := map[string]bool{}
	for _, line := range r.Header.Values("Prefer") {
		for _, v := range strings.Split(line, ",") {
			if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
				p[v] = true
			}
		}
	}
	return p
}

var deltaPreferences = []string{"hierarchicalsharing", "deltashowremovedasdeleted", "deltatraversepermissiongaps", "deltashowsharingchanges"}

func queryToken(q url.Values) string {
	for _, k := range []string{"token", "$deltatoken", "$skiptoken"} {
		if v := q.Get(k); v != "" {
			return v
		}
	}
	return ""
}

func (s *Server) deltaRoute(driveID, itemID, pathToken string, q url.Values) *route {
	token := pathToken
	if token == "" {
		token = queryToken(q)
	}
	rootForm := itemID == "root"
	if !rootForm {
		if d, ok := s.tenant.Drive(driveID); ok && d.RootID == itemID {
			rootForm = true
		}
	}
	endpoint := "GET /drives/{id}/items/{id}/delta"
	if rootForm {
		endpoint = "GET /drives/{id}/root/delta"
	}
	// A delta without a token enumerates (2 RU); with a token it reads
	// changes (1 RU).
	cost := 2
	if token != "" {
		cost = 1
	}
	return &route{endpoint: endpoint, cost: cost, access: accessFilesRead, paged: true,
		handle: func(w http.ResponseWriter, g *greq) *gerr {
			return s.delta(w, g, driveID, itemID, rootForm, token)
		}}
}

func (s *Server) delta(w http.ResponseWriter, g *greq, driveID, itemID string, rootForm bool, token string) *gerr {
	prefs := preferences(g.r)
	lax := s.tenant.Lenient()
	if e := s.checkPermissionPrefer(g, lax); e != nil {
		return e
	}
	opt := tenant.DeltaOptions{
		ScopedDown:             !g.claims.hasAny(accessRoles[accessFullControl]...),
		HierarchicalSharing:    prefs["hierarchicalsharing"],
		ShowRemovedAsDeleted:   prefs["deltashowremovedasdeleted"],
		TraversePermissionGaps: prefs["deltatraversepermissiongaps"],
		ShowSharingChanges:     prefs["deltashowsharingchanges"],
	}
	if v := g.query.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errInvalidRequest("Invalid value '" + v + "' for query parameter $top.")
		}
		opt.Top = n
	}
	var applied []string
	for _, p := range deltaPreferences {
		if prefs[p] {
			applied = append(applied, p)
		}
	}
	if len(applied) > 0 {
		w.Header().Set("Preference-Applied", strings.Join(applied, ","))
	}
	sel := parseSelect(g.query.Get("$select"))
	link := func(tok string) string {
		var b strings.Builder
		b.WriteString(g.origin)
		b.WriteString("/v1.0/drives/")
		b.WriteString(driveID)
		if rootForm {
			b.WriteString("/root/delta?token=")
		} else {
			b.WriteString("/items/" + itemID + "/delta?token=")
		}
		b.WriteString(url.QueryEscape(tok))
		if v := g.query.Get("$select"); v != "" {
			b.WriteString("&$select=" + url.QueryEscape(v))
		}
		if v := g.query.Get("$top"); v != "" {
			b.WriteString("&$top=" + url.QueryEscape(v))
		}
		return b.String()
	}

	page, err := s.tenant.Delta(driveID, itemID, token, opt)
	var resync *tenant.ResyncError
	switch {
	case errors.As(err, &resync):
		return resyncErr(resync, link(resync.FreshToken))
	case errors.Is(err, tenant.ErrNotFound):
		return errItemNotFound()
	case errors.Is(err, tenant.ErrDeltaNotSupported):
		return errInvalidRequest("Delta is only supported on the root of a OneDrive for Business drive.")
	case errors.Is(err, tenant.ErrInvalid):
		return errInvalidRequest(userMessage(err, "Invalid delta token."))
	case err != nil:
		return newErr(500, "generalException", "An unexpected error occurred.")
	}

	next, deltaLink := "", ""
	switch {
	case g.repeat:
		next = g.selfURL()
	case page.NextToken != "":
		next = link(page.NextToken)
	default:
		deltaLink = link(page.DeltaToken)
	}
	writeRawJSON(w, 200, appendDeltaPage(make([]byte, 0, 1024+len(page.Items)*1024), g.origin, page.Items, sel, tombShapeOf(lax), next, deltaLink))
	return nil
}

// resyncErr is Graph's 410 for an expired delta token, worded as the
// variant says: the documented shape (Location and an inner code), or the
// ones seen in the field (docs/graph-behaviour.md, "Delta in the field").
func resyncErr(r *tenant.ResyncError, location string) *gerr {
	e := newErr(410, "resyncRequired", "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.")
	e.innerCode = "resyncChangesApplyDifferences"
	e.headers = map[string]string{"Location": location}
	switch r.Variant {
	case tenant.ResyncUpload:
		e.innerCode = "resyncChangesUploadDifferences"
	case tenant.ResyncNoInnerCode:
		e.innerCode = ""
	case tenant.ResyncNoLocation:
		e.headers = nil
	}
	return e
}

// appendDeltaPage writes a delta page; it is what json.Marshal of
// deltaPageJSON gives, built by hand for speed.
func appendDeltaPage(b []byte, origin string, items []tenant.Item, sel selection, tomb tombShape, next, deltaLink string) []byte {
	b = append(b, `{"@odata.context":`...)
	b = appendString(b, origin+"/v1.0/$metadata#Collection(driveItem)")
	b = append(b, `,"value":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, it, sel, tomb)
	}
	b = append(b, ']')
	if next != "" {
		b = append(b, `,"@odata.nextLink":`...)
		b = appendString(b, next)
	}
	if deltaLink != "" {
		b = append(b, `,"@odata.deltaLink":`...)
		b = appendString(b, deltaLink)
	}
	return append(b, '}')
}

type deltaPageJSON struct {
	Context   string     `json:"@odata.context"`
	Value     []itemJSON `json:"value"`
	NextLink  string     `json:"@odata.nextLink,omitempty"`
	DeltaLink string     `json:"@odata.deltaLink,omitempty"`
}

// userMessage is the text of an ErrInvalid-wrapping error without the
// sentinel's own words, for the client.
func userMessage(err error, fallback string) string {
	msg := strings.TrimSpace(strings.TrimPrefix(err.Error(), tenant.ErrInvalid.Error()+":"))
	if msg == "" || msg == tenant.ErrInvalid.Error() {
		return fallback
	}
	return msg
}
