package msgraph

import (
	"context"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/organization"
	"github.com/microsoftgraph/msgraph-sdk-go/subscribedskus"
)

// Tenant facts: the tenant's verified domains (GET /organization) and its
// subscriptions (GET /subscribedSkus). Both are optional for a sync: an app
// without the permission keeps working, with the domains guessed from the
// members' addresses and licences shown by id (docs/graph-behaviour.md,
// "Tenant facts").

// Domain is one of the tenant's verified domains.
type Domain struct {
	Name      string // lower case
	IsDefault bool
	IsInitial bool   // the <name>.onmicrosoft.com domain the tenant was created with
	Type      string // Managed | Federated
}

// Sku is one of the tenant's subscriptions: a licence's id and its name.
type Sku struct {
	SkuID         string // lower case
	SkuPartNumber string // e.g. SPE_E3
}

// organizationReaders are the application permissions that let an app read
// the organization object with its verifiedDomains (Learn, "Get
// organization", Permissions).
var organizationReaders = []string{"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}

// skuReaders are the application permissions that let an app list
// subscribedSkus (Learn, "List subscribedSkus": LicenseAssignment.Read.All
// least privileged; the organization readers include it). User.Read.All
// does not.
var skuReaders = append([]string{"LicenseAssignment.Read.All"}, organizationReaders...)

// OrganizationPermission is the permission Overshare asks for to read the
// tenant's verified domains and licence names.
const OrganizationPermission = "Organization.Read.All"

var (
	opOrganization = op{what: "read the organization's verified domains", permission: OrganizationPermission}
	opSkus         = op{what: "list the tenant's subscriptions (licence names)", permission: OrganizationPermission}
)

// CanReadOrganization reports whether the app's token holds a permission
// that reads the organization's verified domains. It reads the token when no
// call has yet.
func (c *Client) CanReadOrganization(ctx context.Context) (bool, error) {
	return c.holdsAny(ctx, organizationReaders)
}

// CanReadSkus reports whether the app's token holds a permission that lists
// subscribedSkus.
func (c *Client) CanReadSkus(ctx context.Context) (bool, error) {
	return c.holdsAny(ctx, skuReaders)
}

func (c *Client) holdsAny(ctx context.Context, names []string) (bool, error) {
	c.rolesMu.Lock()
	known := c.roles != nil
	c.rolesMu.Unlock()
	if !known {
		if _, err := c.GrantedPermissions(ctx); err != nil {
			return false, err
		}
	}
	c.rolesMu.Lock()
	defer c.rolesMu.Unlock()
	for _, n := range names {
		if c.roles[strings.ToLower(n)] {
			return true, nil
		}
	}
	return false, nil
}

// VerifiedDomains reads the tenant's verified domains from GET /organization
// (one organization object per tenant). Without a permission that reads it
// Graph answers 403 Authorization_RequestDenied: a MissingPermission error.
func (c *Client) VerifiedDomains(ctx context.Context) ([]Domain, error) {
	resp, err := c.sdk.Organization().Get(ctx, &organization.OrganizationRequestBuilderGetRequestConfiguration{
		QueryParameters: &organization.OrganizationRequestBuilderGetQueryParameters{Select: []string{"id", "verifiedDomains"}},
	})
	if err != nil {
		return nil, c.classify(opOrganization, err)
	}
	var out []Domain
	for _, o := range resp.GetValue() {
		for _, d := range o.GetVerifiedDomains() {
			name := strings.ToLower(strings.TrimSpace(deref(d.GetName())))
			if name == "" {
				continue
			}
			out = append(out, Domain{
				Name:      name,
				IsDefault: d.GetIsDefault() != nil && *d.GetIsDefault(),
				IsInitial: d.GetIsInitial() != nil && *d.GetIsInitial(),
				Type:      deref(d.GetTypeEscaped()),
			})
		}
	}
	return out, nil
}

// SubscribedSkus lists the tenant's subscriptions: the names of the licences
// users' assignedLicenses name by id only.
func (c *Client) SubscribedSkus(ctx context.Context) ([]Sku, error) {
	resp, err := c.sdk.SubscribedSkus().Get(ctx, &subscribedskus.SubscribedSkusRequestBuilderGetRequestConfiguration{
		QueryParameters: &subscribedskus.SubscribedSkusRequestBuilderGetQueryParameters{Select: []string{"skuId", "skuPartNumber"}},
	})
	if err != nil {
		return nil, c.classify(opSkus, err)
	}
	out := make([]Sku, 0, len(resp.GetValue()))
	for _, s := range resp.GetValue() {
		if s.GetSkuId() == nil {
			continue
		}
		out = append(out, Sku{SkuID: strings.ToLower(s.GetSkuId().String()), SkuPartNumber: deref(s.GetSkuPartNumber())})
	}
	return out, nil
}

// DomainSource says where the External rule's domains come from.
type DomainSource string

const (
	// DomainsGuessed: the domains of member users' addresses, learned by
	// ListUsers (or given by SetTenantDomains). An alias domain no member
	// uses as UPN or mail counts as external.
	DomainsGuessed DomainSource = "guessed"
	// DomainsVerified: the tenant's verified domains from GET /organization.
	DomainsVerified DomainSource = "verified"
)

// SetVerifiedDomains makes the tenant's verified domains the External rule's
// domains, replacing any learned from members; ListUsers then learns no more.
func (c *Client) SetVerifiedDomains(domains []Domain) {
	c.domainsMu.Lock()
	defer c.domainsMu.Unlock()
	c.domains = make(map[string]bool, len(domains))
	for _, d := range domains {
		if d.Name != "" {
			c.domains[strings.ToLower(d.Name)] = true
		}
	}
	c.verified = true
}

// DomainSource reports whether the External rule uses verified domains or
// guessed ones.
func (c *Client) DomainSource() DomainSource {
	c.domainsMu.RLock()
	defer c.domainsMu.RUnlock()
	if c.verified {
		return DomainsVerified
	}
	return DomainsGuessed
}
