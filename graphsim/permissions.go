package graphsim

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/overshare/overshare/graphsim/tenant"
)

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
