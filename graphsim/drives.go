package graphsim

import (
	"net/http"
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
