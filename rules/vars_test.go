package rules

import (
	"slices"
	"testing"
	"time"

	"github.com/overshare/overshare/models"
)

func TestPermissionFromRows(t *testing.T) {
	anon, users := models.LinkScopeAnonymous, models.LinkScopeUsers
	expiry := testNow.Add(48 * time.Hour)
	cases := []struct {
		name    string
		row     models.Permission
		grantee *models.User
		check   func(Permission) bool
	}{
		{"anyone edit link", models.Permission{LinkScope: &anon, LinkType: "edit", Roles: "write"}, nil,
			func(p Permission) bool { return p.Scope == ScopeAnonymous && p.CanEdit && !p.HasExpiry && p.Enabled }},
		{"link with expiry", models.Permission{LinkScope: &anon, LinkType: "view", Roles: "read", ExpiresAt: &expiry}, nil,
			func(p Permission) bool { return !p.CanEdit && p.HasExpiry && p.ExpiresAt.Equal(expiry) }},
		{"grant to a person is direct", models.Permission{Roles: "read", GrantedToEmail: "Ann@Contoso.com", GrantedToKind: "user"}, nil,
			func(p Permission) bool {
				return p.Scope == ScopeDirect && p.GranteeEmail == "ann@contoso.com" && p.GranteeDomain == "contoso.com"
			}},
		{"everyone except external users", models.Permission{Roles: "read", GrantedToKind: models.GranteeOrganization}, nil,
			func(p Permission) bool { return p.Scope == ScopeOrganization }},
		{"users link names every domain", models.Permission{LinkScope: &users, Roles: "read",
			GrantedToIdentities: models.Identities{{Email: "a@contoso.com"}, {Email: "b@Gmail.com", External: true}, {Email: "c@contoso.com"}}}, nil,
			func(p Permission) bool {
				return p.Scope == ScopeUsers && p.External && slices.Equal(p.Domains, []string{"contoso.com", "gmail.com"})
			}},
		{"disabled guest", models.Permission{Roles: "write", GrantedToEmail: "x@fabrikam.com", GrantedToKind: "user"},
			&models.User{UserType: models.UserTypeGuest, AccountEnabled: false},
			func(p Permission) bool { return p.Guest && p.External && !p.Enabled && p.CanEdit }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := PermissionFrom(&c.row, c.grantee); !c.check(got) {
				t.Errorf("PermissionFrom gave %+v", got)
			}
		})
	}
}

func TestItemAndOwnerFromRows(t *testing.T) {
	mod := testNow.Add(-time.Hour)
	it := ItemFrom(&models.DriveItem{ID: "i", Name: "Team", Path: "/Team", IsFolder: true, LastModifiedDateTime: &mod}, 120, 5000)
	if it.ItemsBelow != 120 || it.SizeBelow != 5000 || !it.ModifiedAt.Equal(mod) || !it.CreatedAt.IsZero() {
		t.Errorf("ItemFrom gave %+v", it)
	}
	if o := OwnerFrom(nil); !o.Enabled {
		t.Errorf("an unknown owner must not look disabled: %+v", o)
	}
	if o := OwnerFrom(&models.User{UserPrincipalName: "Bob@Contoso.com", Department: "Finance"}); o.Email != "bob@contoso.com" || o.Enabled {
		t.Errorf("OwnerFrom gave %+v", o)
	}
}
