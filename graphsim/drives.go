package graphsim

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/overshare/overshare/graphsim/tenant"
)

const noExpiry = "0001-01-01T00:00:00Z"

func graphTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

type identityJSON struct {
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Email       string `json:"email,omitempty"`
}

type siteUserJSON struct {
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Email       string `json:"email,omitempty"`
	LoginName   string `json:"loginName,omitempty"`
}

type identitySetJSON struct {
	Application *identityJSON `json:"application,omitempty"`
	User        *identityJSON `json:"user,omitempty"`
	Group       *identityJSON `json:"group,omitempty"`
	SiteUser    *siteUserJSON `json:"siteUser,omitempty"`
	SiteGroup   *siteUserJSON `json:"siteGroup,omitempty"`
}

func userSet(id tenant.Identity) *identitySetJSON {
	if id.ID == "" && id.DisplayName == "" {
		return nil
	}
	return &identitySetJSON{User: &identityJSON{ID: id.ID, DisplayName: id.DisplayName, Email: id.Email}}
}

// --- drives -----------------------------------------------------------------

type quotaJSON struct {
	Deleted   int64  `json:"deleted"`
	Remaining int64  `json:"remaining"`
	State     string `json:"state"`
	Total     int64  `json:"total"`
	Used      int64  `json:"used"`
}

type driveJSON struct {
	Context              string           `json:"@odata.context,omitempty"`
	ID                   string           `json:"id"`
	Name                 string           `json:"name"`
	Description          string           `json:"description"`
	DriveType            string           `json:"driveType"`
	WebURL               string           `json:"webUrl"`
	CreatedDateTime      string           `json:"createdDateTime,omitempty"`
	LastModifiedDateTime string           `json:"lastModifiedDateTime,omitempty"`
	CreatedBy            *identitySetJSON `json:"createdBy,omitempty"`
	Owner                *identitySetJSON `json:"owner,omitempty"`
	Quota                quotaJSON        `json:"quota"`
}

func (s *Server) driveJSON(g *greq, d tenant.Drive) driveJSON {
	return driveJSON{
		Context:              g.origin + "/v1.0/$metadata#drives/$entity",
		ID:                   d.ID,
		Name:                 d.Name,
		DriveType:            d.DriveType,
		WebURL:               d.WebURL,
		CreatedDateTime:      graphTime(d.CreatedDateTime),
		LastModifiedDateTime: graphTime(d.LastModifiedDateTime),
		CreatedBy:            &identitySetJSON{User: &identityJSON{DisplayName: "System Account"}},
		Owner:                userSet(d.Owner),
		Quota: quotaJSON{Deleted: d.Quota.Deleted, Remaining: d.Quota.Remaining, State: d.Quota.State,
			Total: d.Quota.Total, Used: d.Quota.Used},
	}
}

func (s *Server) getDrive(w http.ResponseWriter, g *greq, id string) *gerr {
	d, ok := s.tenant.Drive(id)
	if !ok {
		return newErr(404, "itemNotFound", "The requested drive was not found.")
	}
	writeJSON(w, 200, s.driveJSON(g, d))
	return nil
}

func (s *Server) getUserDrive(w http.ResponseWriter, g *greq, userID string) *gerr {
	u, ok := s.tenant.User(userID)
	if !ok {
		return userNotFound(userID)
	}
	d, ok := s.tenant.DriveOfUser(u.ID)
	if !ok || !u.HasDrive {
		return newErr(404, "ResourceNotFound", "User's mysite not found.")
	}
	writeJSON(w, 200, s.driveJSON(g, d))
	return nil
}

// --- drive items -------------------------------------------------------------

type parentRefJSON struct {
	DriveType string `json:"driveType,omitempty"`
	DriveID   string `json:"driveId,omitempty"`
	ID        string `json:"id,omitempty"`
}

type fileJSON struct {
	MimeType string `json:"mimeType,omitempty"`
}

type folderJSON struct {
	ChildCount int `json:"childCount"`
}

type sharedJSON struct {
	Owner          *identitySetJSON `json:"owner,omitempty"`
	Scope          string           `json:"scope,omitempty"`
	SharedDateTime string           `json:"sharedDateTime,omitempty"`
}

type deletedJSON struct {
	State string `json:"state"`
}

type emptyJSON struct{}

// itemJSON is a driveItem in Graph's JSON; nil fields are absent, which is
// how $select projection and the OneDrive for Business deleted shape work.
type itemJSON struct {
	SharedChanged        string           `json:"@microsoft.graph.sharedChanged,omitempty"`
	ID                   string           `json:"id"`
	Name                 *string          `json:"name,omitempty"`
	ETag                 string           `json:"eTag,omitempty"`
	Size                 *int64           `json:"size,omitempty"`
	WebURL               string           `json:"webUrl,omitempty"`
	CreatedDateTime      string           `json:"createdDateTime,omitempty"`
	LastModifiedDateTime string           `json:"lastModifiedDateTime,omitempty"`
	CreatedBy            *identitySetJSON `json:"createdBy,omitempty"`
	LastModifiedBy       *identitySetJSON `json:"lastModifiedBy,omitempty"`
	ParentReference      *parentRefJSON   `json:"parentReference,omitempty"`
	File                 *fileJSON        `json:"file,omitempty"`
	Folder               *folderJSON      `json:"folder,omitempty"`
	Root                 *emptyJSON       `json:"root,omitempty"`
	Shared               *sharedJSON      `json:"shared,omitempty"`
	Deleted              *deletedJSON     `json:"deleted,omitempty"`
}

// selection is a parsed $select (lower-cased names); nil selects everything.
type selection map[string]bool

func parseSelect(v string) selection {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	sel := selection{}
	for _, f := range strings.Split(v, ",") {
		if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
			sel[f] = true
		}
	}
	return sel
}

func (sel selection) has(name string) bool { return sel == nil || sel[strings.ToLower(name)] }

func toItemJSON(it tenant.Item, sel selection, tomb tombShape) itemJSON {
	j := itemJSON{ID: it.ID}
	if it.SharedChanged {
		j.SharedChanged = "True"
	}
	if sel.has("parentReference") || it.Deleted {
		j.ParentReference = &parentRefJSON{DriveType: "business", DriveID: it.DriveID, ID: it.ParentID}
	}
	if it.Deleted {
		// OneDrive for Business drops the name (and cTag) of deleted items,
		// and reports every one as a file of size 0.
		if !tomb.plain && sel.has("size") {
			zero := int64(0)
			j.Size = &zero
		}
		if !tomb.plain && sel.has("file") {
			j.File = &fileJSON{}
		}
		if sel.has("deleted") || tomb.keepDeleted {
			j.Deleted = &deletedJSON{State: "deleted"}
		}
		return j
	}
	if sel.has("name") {
		name := it.Name
		j.Name = &name
	}
	if sel.has("eTag") {
		j.ETag = itemETag(it)
	}
	if sel.has("size") {
		size := it.Size
		j.Size = &size
	}
	if sel.has("webUrl") {
		j.WebURL = it.WebURL
	}
	if sel.has("createdDateTime") {
		j.CreatedDateTime = graphTime(it.CreatedDateTime)
	}
	if sel.has("lastModifiedDateTime") {
		j.LastModifiedDateTime = graphTime(it.LastModifiedDateTime)
	}
	if sel.has("createdBy") {
		j.CreatedBy = userSet(it.CreatedBy)
	}
	if sel.has("lastModifiedBy") {
		j.LastModifiedBy = userSet(it.LastModifiedBy)
	}
	if it.Root && sel.has("root") {
		j.Root = &emptyJSON{}
	}
	if it.Folder && sel.has("folder") {
		j.Folder = &folderJSON{ChildCount: it.ChildCount}
	}
	if !it.Folder && sel.has("file") {
		j.File = &fileJSON{MimeType: it.MimeType}
	}
	if it.Shared != nil && sel.has("shared") {
		sh := &sharedJSON{}
		if !it.Shared.Empty {
			sh.Scope = it.Shared.Scope
			if it.Shared.Owner != nil {
				sh.Owner = userSet(*it.Shared.Owner)
			}
			sh.SharedDateTime = graphTime(it.Shared.SharedDateTime)
		}
		j.Shared = sh
	}
	if it.Root {
		j.ParentReference = &parentRefJSON{DriveType: "business", DriveID: it.DriveID}
		if !sel.has("parentReference") {
			j.ParentReference = nil
		}
	}
	return j
}

func (s *Server) getItem(w http.ResponseWriter, g *greq, driveID, itemID string) *gerr {
	it, ok := s.tenant.Item(driveID, itemID)
	if !ok || it.Deleted {
		return errItemNotFound()
	}
	j := toItemJSON(it, parseSelect(g.query.Get("$select")), tombShape{})
	writeJSON(w, 200, struct {
		Context string `json:"@odata.context"`
		itemJSON
	}{g.origin + "/v1.0/$metadata#drives('" + driveID + "')/items/$entity", j})
	return nil
}

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

// --- permissions ---------------------------------------------------------------

type linkJSON struct {
	Type             string `json:"type,omitempty"`
	Scope            string `json:"scope,omitempty"`
	WebURL           string `json:"webUrl,omitempty"`
	PreventsDownload bool   `json:"preventsDownload"`
}

type invitationJSON struct {
	Email          string `json:"email,omitempty"`
	SignInRequired bool   `json:"signInRequired"`
}

type itemRefJSON struct {
	DriveID string `json:"driveId,omitempty"`
	ID      string `json:"id,omitempty"`
	Path    string `json:"path,omitempty"`
}

type permissionJSON struct {
	ID                    string            `json:"id"`
	Roles                 []string          `json:"roles"`
	ShareID               string            `json:"shareId,omitempty"`
	ExpirationDateTime    string            `json:"expirationDateTime,omitempty"`
	HasPassword           *bool             `json:"hasPassword,omitempty"`
	Link                  *linkJSON         `json:"link,omitempty"`
	GrantedToV2           *identitySetJSON  `json:"grantedToV2,omitempty"`
	GrantedTo             *identitySetJSON  `json:"grantedTo,omitempty"`
	GrantedToIdentitiesV2 []identitySetJSON `json:"grantedToIdentitiesV2,omitempty"`
	Invitation            *invitationJSON   `json:"invitation,omitempty"`
	InheritedFrom         *itemRefJSON      `json:"inheritedFrom,omitempty"`
}

// grantee is a grant's sharePointIdentitySet as SharePoint gives it: the
// directory object (user, group or application) with its site principal and
// claims login.
func (s *Server) grantee(p tenant.Permission) *identitySetJSON {
	site := func(id, name, email string) *siteUserJSON {
		return &siteUserJSON{ID: strconv.Itoa(siteUserID(id)), DisplayName: name, Email: email, LoginName: p.LoginName}
	}
	switch {
	case p.GrantedToUser != nil:
		id := p.GrantedToUser
		return &identitySetJSON{User: &identityJSON{ID: id.ID, DisplayName: id.DisplayName, Email: id.Email},
			SiteUser: site(id.ID, id.DisplayName, id.Email)}
	case p.GrantedToGroup != nil:
		id := p.GrantedToGroup
		return &identitySetJSON{Group: &identityJSON{ID: id.ID, DisplayName: id.DisplayName, Email: id.Email},
			SiteGroup: site(id.ID, id.DisplayName, id.Email)}
	case p.GrantedToApplication != nil:
		id := p.GrantedToApplication
		return &identitySetJSON{Application: &identityJSON{ID: id.ID, DisplayName: id.DisplayName},
			SiteUser: site(id.ID, id.DisplayName, "")}
	case p.EveryoneExceptExternal:
		// A claims principal: no directory object, only the site principal.
		return &identitySetJSON{SiteUser: site(p.LoginName, tenant.EveryoneExceptExternalUsers, "")}
	}
	return nil
}

// person is the sharePointIdentitySet of someone a link was given to.
func (s *Server) person(id tenant.Identity) identitySetJSON {
	return identitySetJSON{User: &identityJSON{ID: id.ID, DisplayName: id.DisplayName, Email: id.Email},
		SiteUser: &siteUserJSON{ID: strconv.Itoa(siteUserID(id.ID)), DisplayName: id.DisplayName, Email: id.Email}}
}

// siteUserID is a small stable number, like SharePoint's per-site user ids.
func siteUserID(id string) int {
	h := 0
	for _, c := range id {
		h = (h*31 + int(c)) % 9973
	}
	return 7 + h
}

func (s *Server) permissionJSON(p tenant.Permission) permissionJSON {
	j := permissionJSON{ID: p.ID, Roles: p.Roles, ShareID: p.ShareID}
	if j.Roles == nil {
		j.Roles = []string{}
	}
	j.ExpirationDateTime = noExpiry
	if !p.ExpirationDateTime.IsZero() {
		j.ExpirationDateTime = graphTime(p.ExpirationDateTime)
	}
	if p.Link != nil {
		j.Link = &linkJSON{Type: p.Link.Type, Scope: p.Link.Scope, WebURL: p.Link.WebURL, PreventsDownload: p.Link.PreventsDownload}
		hp := p.HasPassword
		j.HasPassword = &hp
		for _, id := range p.GrantedToIdentities {
			j.GrantedToIdentitiesV2 = append(j.GrantedToIdentitiesV2, s.person(id))
		}
	} else if g := s.grantee(p); g != nil {
		j.GrantedToV2 = g
		if p.EveryoneExceptExternal {
			// The deprecated identitySet names the claims principal by
			// display name only.
			j.GrantedTo = &identitySetJSON{User: &identityJSON{DisplayName: tenant.EveryoneExceptExternalUsers}}
		}
	}
	if p.Invitation != nil {
		j.Invitation = &invitationJSON{Email: p.Invitation.Email, SignInRequired: p.Invitation.SignInRequired}
	}
	if p.InheritedFrom != nil {
		// A zero reference is printed as Graph prints it in the field: {}.
		j.InheritedFrom = &itemRefJSON{DriveID: p.InheritedFrom.DriveID, ID: p.InheritedFrom.ID, Path: p.InheritedFrom.Path}
	}
	return j
}

func permissionError(err error) *gerr {
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		return newErr(404, "itemNotFound", "Item not found")
	case errors.Is(err, tenant.ErrInherited):
		// Graph documents only that inherited entries cannot be removed; the
		// answer is SharePoint's refusal of a change to an inheriting item.
		return newErr(403, "notAllowed", "Operation not allowed")
	case errors.Is(err, tenant.ErrInvalid):
		return errInvalidRequest(userMessage(err, "Invalid request"))
	}
	return newErr(500, "generalException", "An unexpected error occurred.")
}

// checkPermissionPrefer refuses hierarchical sharing to a token without
// Sites.FullControl.All only under Lenient.DenyWithoutFullControl: Graph
// itself does not refuse, it scopes sharing down (docs/graph-behaviour.md).
func (s *Server) checkPermissionPrefer(g *greq, lax tenant.Lenient) *gerr {
	if lax.DenyWithoutFullControl && preferences(g.r)["hierarchicalsharing"] && !g.claims.hasAny(accessRoles[accessFullControl]...) {
		return newErr(403, "accessDenied", "Access denied. Reading sharing hierarchies requires Sites.FullControl.All.")
	}
	return nil
}

func (s *Server) listPermissions(w http.ResponseWriter, g *greq, driveID, itemID string) *gerr {
	if e := s.checkPermissionPrefer(g, s.tenant.Lenient()); e != nil {
		return e
	}
	perms, err := s.tenant.Permissions(driveID, itemID)
	if err != nil {
		return permissionError(err)
	}
	out := struct {
		Context string           `json:"@odata.context"`
		Value   []permissionJSON `json:"value"`
	}{g.origin + "/v1.0/$metadata#drives('" + driveID + "')/items('" + itemID + "')/permissions", make([]permissionJSON, len(perms))}
	for i, p := range perms {
		out.Value[i] = s.permissionJSON(p)
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) getPermission(w http.ResponseWriter, g *greq, driveID, itemID, permID string) *gerr {
	if e := s.checkPermissionPrefer(g, s.tenant.Lenient()); e != nil {
		return e
	}
	perms, err := s.tenant.Permissions(driveID, itemID)
	if err != nil {
		return permissionError(err)
	}
	i := slices.IndexFunc(perms, func(p tenant.Permission) bool { return p.ID == permID })
	if i < 0 {
		return permissionError(tenant.ErrNotFound)
	}
	writeJSON(w, 200, s.permissionJSON(perms[i]))
	return nil
}

func (s *Server) deletePermission(w http.ResponseWriter, g *greq, driveID, itemID, permID string) *gerr {
	if err := s.tenant.DeletePermission(driveID, itemID, permID); err != nil {
		return permissionError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) patchPermission(w http.ResponseWriter, g *greq, driveID, itemID, permID string) *gerr {
	body, e := readBody(g.r, 1<<20)
	if e != nil {
		return e
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return errPayload()
	}
	var patch tenant.PermissionPatch
	for k, v := range fields {
		switch strings.ToLower(k) {
		case "roles":
			if err := json.Unmarshal(v, &patch.Roles); err != nil || patch.Roles == nil {
				return errInvalidRequest("Invalid value for property 'roles'.")
			}
		case "expirationdatetime":
			var ts *string
			if err := json.Unmarshal(v, &ts); err != nil {
				return errInvalidRequest("Invalid value for property 'expirationDateTime'.")
			}
			t := time.Time{}
			if ts != nil {
				parsed, err := time.Parse(time.RFC3339, *ts)
				if err != nil {
					return errInvalidRequest("Cannot convert the literal '" + *ts + "' to the expected type 'Edm.DateTimeOffset'.")
				}
				t = parsed.UTC()
			}
			patch.ExpirationDateTime = &t
		case "@odata.type":
		default:
			patch.Other = append(patch.Other, k)
		}
	}
	slices.Sort(patch.Other)
	p, err := s.tenant.UpdatePermission(driveID, itemID, permID, patch)
	if err != nil {
		return permissionError(err)
	}
	writeJSON(w, 200, s.permissionJSON(p))
	return nil
}

func errPayload() *gerr {
	return newErr(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
}

// readBody reads a request body of at most limit bytes, gunzipping it when
// Content-Encoding says so (the SDK's compression handler gzips every body).
func readBody(r *http.Request, limit int64) ([]byte, *gerr) {
	var rd io.Reader = io.LimitReader(r.Body, limit+1)
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, newErr(400, "BadRequest", "The request body is not valid gzip.")
		}
		defer zr.Close()
		rd = io.LimitReader(zr, limit+1)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, newErr(400, "BadRequest", "The request body could not be read.")
	}
	if int64(len(b)) > limit {
		return nil, newErr(413, "RequestEntityTooLarge", "The request body is too large.")
	}
	return b, nil
}
