package msgraph

import (
	"strings"
	"time"
)

// Permission lists read in $batch are decoded here rather than through the
// SDK's models, for the reason delta pages are (see deltawire.go): they are
// the sync's second largest body of JSON. The mapping is the same as
// mapPermission's, which reads the SDK's models for the other paths.

type wirePermissionPage struct {
	Value    []wirePermission `json:"value"`
	NextLink string           `json:"@odata.nextLink"`
}

type wirePermission struct {
	ID                 string     `json:"id"`
	Roles              []string   `json:"roles"`
	HasPassword        *bool      `json:"hasPassword"`
	ExpirationDateTime *time.Time `json:"expirationDateTime"`
	Link               *struct {
		Type             string `json:"type"`
		Scope            string `json:"scope"`
		WebURL           string `json:"webUrl"`
		PreventsDownload *bool  `json:"preventsDownload"`
	} `json:"link"`
	Invitation *struct {
		Email string `json:"email"`
	} `json:"invitation"`
	GrantedToV2           *wireSPIdentitySet  `json:"grantedToV2"`
	GrantedTo             *wireIdentitySet    `json:"grantedTo"`
	GrantedToIdentitiesV2 []wireSPIdentitySet `json:"grantedToIdentitiesV2"`
	GrantedToIdentities   []wireIdentitySet   `json:"grantedToIdentities"`
	InheritedFrom         *struct {
		ID string `json:"id"`
	} `json:"inheritedFrom"`
}

type wireIdentity struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	Email             string `json:"email"`
	UserPrincipalName string `json:"userPrincipalName"`
	LoginName         string `json:"loginName"`
}

// wireSPIdentitySet is Graph's sharePointIdentitySet.
type wireSPIdentitySet struct {
	Application *wireIdentity `json:"application"`
	User        *wireIdentity `json:"user"`
	Group       *wireIdentity `json:"group"`
	SiteUser    *wireIdentity `json:"siteUser"`
	SiteGroup   *wireIdentity `json:"siteGroup"`
}

func (c *Client) wireToPermission(p *wirePermission) Permission {
	out := Permission{ID: p.ID, Roles: p.Roles}
	if p.HasPassword != nil {
		out.HasPassword = *p.HasPassword
	}
	if t := p.ExpirationDateTime; !noExpiry(t) {
		u := t.UTC()
		out.ExpiresAt = &u
	}
	if l := p.Link; l != nil {
		out.Link = &Link{Type: l.Type, Scope: l.Scope, WebURL: l.WebURL, PreventsDownload: l.PreventsDownload != nil && *l.PreventsDownload}
	}
	invited := false
	if inv := p.Invitation; inv != nil {
		out.InvitationEmail = inv.Email
		invited = true
	}
	if g := p.GrantedToV2; g != nil {
		out.GrantedTo = c.wireSPIdentity(g, invited)
	} else if g := p.GrantedTo; g != nil {
		if id := c.wireIdentity(g); id.ID != "" || id.Email != "" {
			out.GrantedTo = &id
		}
	}
	for i := range p.GrantedToIdentitiesV2 {
		if id := c.wireSPIdentity(&p.GrantedToIdentitiesV2[i], invited); id != nil {
			out.GrantedToIdentities = append(out.GrantedToIdentities, *id)
		}
	}
	if len(p.GrantedToIdentitiesV2) == 0 {
		for i := range p.GrantedToIdentities {
			if id := c.wireIdentity(&p.GrantedToIdentities[i]); id.ID != "" || id.Email != "" {
				out.GrantedToIdentities = append(out.GrantedToIdentities, id)
			}
		}
	}
	if inh := p.InheritedFrom; inh != nil {
		out.Inherited = true
		out.InheritedFromID = inh.ID
	}
	return out
}

// wireSPIdentity maps a sharePointIdentitySet: its application, user or
// group, else its site principal (Everyone except external users is a site
// user with a claims login and no directory object).
func (c *Client) wireSPIdentity(s *wireSPIdentitySet, invited bool) *Identity {
	person := func(i *wireIdentity, kind string, invited bool) *Identity {
		return &Identity{ID: i.ID, DisplayName: i.DisplayName, Email: i.Email, Kind: kind,
			External: c.isExternal(i.Email, i.UserPrincipalName, invited)}
	}
	switch {
	case s.Application != nil:
		return &Identity{ID: s.Application.ID, DisplayName: s.Application.DisplayName, Kind: KindApplication}
	case s.User != nil:
		return person(s.User, KindUser, invited)
	case s.Group != nil:
		return person(s.Group, KindGroup, false)
	case s.SiteUser != nil && strings.Contains(s.SiteUser.LoginName, everyoneClaim):
		return everyone(s.SiteUser.DisplayName)
	case s.SiteUser != nil:
		return person(s.SiteUser, KindUser, invited)
	case s.SiteGroup != nil:
		return person(s.SiteGroup, KindGroup, false)
	}
	return nil
}

// everyone is the claims principal "Everyone except external users": every
// member of the organisation, no directory object.
func everyone(name string) *Identity {
	if name == "" {
		name = "Everyone except external users"
	}
	return &Identity{DisplayName: name, Kind: KindOrganization}
}
