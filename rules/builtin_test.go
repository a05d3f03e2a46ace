package rules

import (
	"slices"
	"testing"
	"time"
)

var testNow = time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time { return testNow.AddDate(0, 0, -n) }

// anyone, org, person and guest are the permissions the cases start from.
func anyone(id string) Permission {
	return Permission{ID: id, Scope: ScopeAnonymous, Roles: []string{"read"}, LinkType: "view", Enabled: true}
}

func org(id string) Permission {
	return Permission{ID: id, Scope: ScopeOrganization, Roles: []string{"read"}, LinkType: "view", Enabled: true}
}

func person(id, email string) Permission {
	p := Permission{ID: id, Scope: ScopeDirect, Roles: []string{"read"}, GranteeEmail: email,
		GranteeKind: "user", Enabled: true}
	p.GranteeDomain = domainOf(email)
	p.Domains = []string{p.GranteeDomain}
	return p
}

func guest(id, email string) Permission {
	p := person(id, email)
	p.Guest, p.External = true, true
	return p
}

func edit(p Permission) Permission {
	p.Roles, p.CanEdit = []string{"write"}, true
	if p.LinkType != "" {
		p.LinkType = "edit"
	}
	return p
}

// linkFor is a users link given to these people, as PermissionFrom maps it.
func linkFor(id string, emails ...string) Permission {
	p := Permission{ID: id, Scope: ScopeUsers, Roles: []string{"read"}, LinkType: "view", Enabled: true}
	for _, e := range emails {
		p.Domains = append(p.Domains, domainOf(e))
	}
	return p
}

func expiring(p Permission, at time.Time) Permission {
	p.HasExpiry, p.ExpiresAt = true, at
	return p
}

func inherited(p Permission) Permission {
	p.Inherited = true
	return p
}

func input(item Item, perms ...Permission) Input {
	if item.Name == "" {
		item.Name = "Quarterly report.docx"
	}
	if item.ID == "" {
		item.ID = "item-1"
	}
	if item.ModifiedAt.IsZero() {
		item.ModifiedAt = daysAgo(10)
	}
	return Input{Item: item, Permissions: perms, Owner: Owner{Enabled: true, UserType: "Member"},
		Settings: Settings{}.Defaults(), Now: testNow}
}

type ruleCase struct {
	name  string
	in    Input
	match []string // ids of the permissions the rule matches
}

func TestBuiltinRules(t *testing.T) {
	folder := Item{Name: "Projects", IsFolder: true, ItemsBelow: 800, SizeBelow: 1 << 30}
	withDomains := func(in Input, domains ...string) Input {
		in.Settings.AllowedDomains = domains
		in.Settings = in.Settings.Defaults()
		return in
	}
	disabledOwner := input(Item{}, person("p1", "bob@contoso.com"))
	disabledOwner.Owner.Enabled = false
	disabledGrantee := person("p2", "ann@contoso.com")
	disabledGrantee.Enabled = false
	ownersGrant := person("own", "carol@contoso.com")
	ownersGrant.Roles = []string{"owner"}
	disabledOwnerOwnGrant := input(Item{}, ownersGrant)
	disabledOwnerOwnGrant.Owner.Enabled = false

	cases := map[string][]ruleCase{
		"anyone-link-edit": {
			{"anyone edit link", input(Item{}, edit(anyone("a"))), []string{"a"}},
			{"anyone view link", input(Item{}, anyone("a")), nil},
			{"organisation edit link", input(Item{}, edit(org("o"))), nil},
			{"inherited from the folder", input(Item{}, inherited(edit(anyone("a")))), nil},
		},
		"anyone-link-lifetime": {
			{"no expiry", input(Item{}, anyone("a")), []string{"a"}},
			{"expires in 90 days", input(Item{}, expiring(anyone("a"), testNow.AddDate(0, 0, 90))), []string{"a"}},
			{"expires in 7 days", input(Item{}, expiring(anyone("a"), testNow.AddDate(0, 0, 7))), nil},
			{"organisation link without expiry", input(Item{}, org("o")), nil},
		},
		"organization-link-edit": {
			{"organisation edit link", input(Item{}, edit(org("o"))), []string{"o"}},
			{"organisation view link", input(Item{}, org("o")), nil},
			{"anyone edit link", input(Item{}, edit(anyone("a"))), nil},
		},
		"domain-not-allowed": {
			{"outside domain", withDomains(input(Item{}, person("p", "x@fabrikam.com")), "contoso.com"), []string{"p"}},
			{"allowed domain", withDomains(input(Item{}, person("p", "x@contoso.com")), "contoso.com"), nil},
			{"no list set", input(Item{}, person("p", "x@fabrikam.com")), nil},
			{"allowed list in capitals", withDomains(input(Item{}, person("p", "x@contoso.com")), "@Contoso.COM"), nil},
			{"one of a link's people outside", withDomains(input(Item{}, linkFor("l", "a@contoso.com", "b@gmail.com")), "contoso.com"), []string{"l"}},
		},
		"guest-edit": {
			{"guest who can edit", input(Item{}, edit(guest("g", "x@fabrikam.com"))), []string{"g"}},
			{"guest who can view", input(Item{}, guest("g", "x@fabrikam.com")), nil},
			{"member who can edit", input(Item{}, edit(person("p", "x@contoso.com"))), nil},
		},
		"disabled-account": {
			{"owner disabled", disabledOwner, []string{"p1"}},
			{"grantee disabled", input(Item{}, disabledGrantee, person("p3", "dan@contoso.com")), []string{"p2"}},
			{"everyone enabled", input(Item{}, person("p1", "bob@contoso.com")), nil},
			{"the owner's own grant", disabledOwnerOwnGrant, nil},
		},
		"large-folder-exposed": {
			{"anyone link on a big folder", input(folder, anyone("a")), []string{"a"}},
			{"guest on a big folder", input(folder, guest("g", "x@fabrikam.com")), []string{"g"}},
			{"organisation link on a big folder", input(folder, org("o")), nil},
			{"anyone link on a small folder", input(Item{IsFolder: true, ItemsBelow: 20}, anyone("a")), nil},
		},
		"sensitive-name-exposed": {
			{"passwords shared with anyone", input(Item{Name: "Passwords.xlsx"}, anyone("a")), []string{"a"}},
			{"payroll with a guest", input(Item{Name: "PAYROLL 2026.xlsx"}, guest("g", "x@fabrikam.com")), []string{"g"}},
			{"private key with anyone", input(Item{Name: "server.KEY"}, anyone("a")), []string{"a"}},
			{"passport scan with anyone", input(Item{Name: "passport-scan.pdf"}, anyone("a")), []string{"a"}},
			{"contract inside the organisation", input(Item{Name: "Contract Acme.docx"}, org("o")), nil},
			{"holiday photo with anyone", input(Item{Name: "beach.jpg"}, anyone("a")), nil},
		},
		"stale-anyone-link": {
			{"untouched for a year", input(Item{ModifiedAt: daysAgo(365)}, anyone("a")), []string{"a"}},
			{"changed last week", input(Item{ModifiedAt: daysAgo(7)}, anyone("a")), nil},
			{"old but shared with a person", input(Item{ModifiedAt: daysAgo(365)}, person("p", "x@contoso.com")), nil},
		},
	}
	pack := builtinPack(t)
	for _, r := range pack.Rules {
		if len(cases[r.ID]) == 0 {
			t.Errorf("built-in rule %s has no cases", r.ID)
		}
	}
	for id, rcs := range cases {
		for _, c := range rcs {
			t.Run(id+"/"+c.name, func(t *testing.T) {
				got := matchedPermissions(t, pack, id, &c.in)
				if !slices.Equal(got, c.match) {
					t.Errorf("%s matches %v, want %v", id, got, c.match)
				}
			})
		}
	}
}

func builtinPack(t testing.TB) *Pack {
	t.Helper()
	rules, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	return &Pack{Rules: rules}
}

func matchedPermissions(t *testing.T, p *Pack, ruleID string, in *Input) []string {
	t.Helper()
	matches, err := p.Evaluate(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range matches {
		if m.RuleID == ruleID {
			out = append(out, m.PermissionID)
		}
	}
	return out
}
