package msgraph

import (
	"context"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// userFields are exactly the user properties Overshare stores; several
// (accountEnabled, userType, assignedLicenses, createdDateTime) are not in
// Graph's default set, so $select is required anyway.
var userFields = []string{
	"id", "displayName", "givenName", "surname", "userPrincipalName", "mail", "jobTitle",
	"department", "userType", "accountEnabled", "createdDateTime", "assignedLicenses",
}

const usersPageSize = 999 // Graph's maximum for /users

// ListUsers pages through every directory user (999 a page, with the
// manager's id), calling fn once per page. Member users' UPN and mail
// domains are remembered as the tenant's own domains (see isExternal).
func (c *Client) ListUsers(ctx context.Context, fn func([]User) error) error {
	return c.listUsers(ctx, usersPageSize, userFields, true, fn)
}

func (c *Client) listUsers(ctx context.Context, top int32, fields []string, manager bool, fn func([]User) error) error {
	qp := &users.UsersRequestBuilderGetQueryParameters{Top: &top, Select: fields}
	if manager {
		qp.Expand = []string{"manager($select=id)"}
	}
	ri, err := c.sdk.Users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: qp})
	if err != nil {
		return fmt.Errorf("users request: %w", err)
	}
	ri.PathParameters["baseurl"] = c.adapter.GetBaseUrl()
	u, err := ri.GetUri()
	if err != nil {
		return fmt.Errorf("users URL: %w", err)
	}
	link, repeats := u.String(), 0
	for {
		page, err := c.sdk.Users().WithUrl(link).Get(ctx, nil)
		if err != nil {
			return c.classify(opUsers, err)
		}
		next := deref(page.GetOdataNextLink())
		if next != "" && sameLink(next, link) {
			// A nextLink pointing back at this page: ask again rather than
			// loop or hand out the page twice.
			if repeats++; repeats > maxRepeats {
				return &Error{Kind: Unknown, Message: "Microsoft Graph served the same page of users repeatedly; giving up."}
			}
			c.stats.retries.Add(1)
			c.log.Debug("users page repeated, requesting it again", "attempt", repeats)
			continue
		}
		repeats = 0
		out := make([]User, 0, len(page.GetValue()))
		for _, u := range page.GetValue() {
			out = append(out, c.mapUser(u))
		}
		if err := fn(out); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		link = next
	}
}

func (c *Client) mapUser(u models.Userable) User {
	out := User{
		ID:                deref(u.GetId()),
		DisplayName:       deref(u.GetDisplayName()),
		GivenName:         deref(u.GetGivenName()),
		Surname:           deref(u.GetSurname()),
		UserPrincipalName: deref(u.GetUserPrincipalName()),
		Mail:              deref(u.GetMail()),
		JobTitle:          deref(u.GetJobTitle()),
		Department:        deref(u.GetDepartment()),
		UserType:          deref(u.GetUserType()),
		AccountEnabled:    deref(u.GetAccountEnabled()),
	}
	if t := u.GetCreatedDateTime(); t != nil {
		out.CreatedAt = t.UTC()
	}
	if m := u.GetManager(); m != nil {
		out.ManagerID = deref(m.GetId())
	}
	for _, l := range u.GetAssignedLicenses() {
		lic := License{}
		if id := l.GetSkuId(); id != nil {
			lic.SkuID = id.String()
		}
		for _, p := range l.GetDisabledPlans() {
			lic.DisabledPlans = append(lic.DisabledPlans, p.String())
		}
		out.Licenses = append(out.Licenses, lic)
	}
	if strings.EqualFold(out.UserType, "Member") && !strings.Contains(strings.ToUpper(out.UserPrincipalName), "#EXT#") {
		c.SetTenantDomains([]string{domainOf(out.UserPrincipalName), domainOf(out.Mail)})
	}
	return out
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

// isExternal is the one rule for Identity.External; the store keeps what it
// answered (permissions' granted_to_external and identities' external).
//
// With the tenant's verified domains (SetVerifiedDomains, read from GET
// /organization) a person is outside the organisation exactly when their
// e-mail domain is not one of them, so an alias domain is inside; with no
// address, a guest account ("#EXT#" in the UPN) or an invitation still marks
// an outsider.
//
// Without them (no Organization.Read.All) the rule guesses, as before: a
// person is outside when
//   - the grant carries an invitation (Graph invites only outsiders), or
//   - their user principal name or e-mail contains "#EXT#" (guest
//     accounts), or
//   - their e-mail domain is not one of the domains learned from member
//     users' UPNs and mail (ListUsers) or given by SetTenantDomains; an
//     alias domain no member uses counts as outside.
//
// With no tenant domains known yet, the domain test is skipped rather than
// calling everyone external.
func (c *Client) isExternal(email, upn string, invited bool) bool {
	guestAccount := strings.Contains(strings.ToUpper(email+upn), "#EXT#")
	d := domainOf(email)
	c.domainsMu.RLock()
	defer c.domainsMu.RUnlock()
	if c.verified && len(c.domains) > 0 {
		if d != "" && !guestAccount {
			return !c.domains[d]
		}
		return invited || guestAccount
	}
	if invited || guestAccount {
		return true
	}
	if d == "" {
		return false
	}
	return len(c.domains) > 0 && !c.domains[d]
}
