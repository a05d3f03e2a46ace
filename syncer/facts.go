package syncer

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
)

// factsMaxAge is how long an incremental sync trusts the stored tenant
// facts: domains and subscriptions change rarely, and two directory calls on
// every 15-minute sync would be a fifth of a small incremental sync's
// requests.
const factsMaxAge = 24 * time.Hour

// tenantFacts decides the run's External rule and licence names before
// anything is mapped, so that every permission of the run is judged by the
// same rule. It reads them from Graph on a full sync, when none are stored
// or they are older than factsMaxAge, or when the token's permissions no
// longer match what was read; otherwise it applies the stored ones and
// returns nil (nothing to save).
func (r *run) tenantFacts(ctx context.Context) (*models.TenantFacts, error) {
	canOrg, err := r.gc.CanReadOrganization(ctx)
	if err != nil {
		return nil, err
	}
	canSkus, err := r.gc.CanReadSkus(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := r.st.TenantFacts(ctx, []string{r.integ.ID})
	if err != nil {
		return nil, err
	}
	if f := stored[r.integ.ID]; f != nil && !r.full && time.Since(f.SyncedAt) < factsMaxAge &&
		canOrg == (f.DomainSource == models.DomainsVerified) && canSkus == f.SkusRead {
		if f.DomainSource == models.DomainsVerified {
			ApplyTenantDomains(r.gc, f)
		}
		return nil, nil
	}
	return r.readTenantFacts(ctx, canOrg, canSkus)
}

// readTenantFacts reads the verified domains and licence names the token
// allows. Both are optional: an app without Organization.Read.All (the
// token says so, or Graph refuses) keeps the guess from members' addresses
// and licences known by id, and the saved facts say which was used.
func (r *run) readTenantFacts(ctx context.Context, canOrg, canSkus bool) (*models.TenantFacts, error) {
	f := &models.TenantFacts{IntegrationID: r.integ.ID, DomainSource: models.DomainsGuessed}
	if canOrg {
		domains, err := r.gc.VerifiedDomains(ctx)
		switch {
		case msgraph.KindOf(err) == msgraph.MissingPermission:
			r.log.Warn("the organization's verified domains were refused; external is guessed from members' addresses", "error", Message(err))
		case err != nil:
			return nil, fmt.Errorf("read the tenant's verified domains: %w", err)
		case len(domains) == 0:
			// Every tenant has at least its initial domain; an empty answer
			// would make every address external.
			r.log.Warn("the organization lists no verified domains; external is guessed from members' addresses")
		default:
			r.gc.SetVerifiedDomains(domains)
			f.DomainSource = models.DomainsVerified
			for _, d := range domains {
				f.Domains = append(f.Domains, models.TenantDomain{Name: d.Name, IsDefault: d.IsDefault, IsInitial: d.IsInitial, Type: d.Type})
			}
		}
	}
	if canSkus {
		skus, err := r.gc.SubscribedSkus(ctx)
		switch {
		case msgraph.KindOf(err) == msgraph.MissingPermission:
			r.log.Warn("the tenant's subscriptions were refused; licences are shown by id", "error", Message(err))
		case err != nil:
			return nil, fmt.Errorf("read the tenant's subscriptions: %w", err)
		default:
			f.SkusRead = true
			for _, k := range skus {
				f.Skus = append(f.Skus, models.Sku{SkuID: k.SkuID, SkuPartNumber: k.SkuPartNumber})
			}
		}
	}
	return f, nil
}

// saveTenantFacts stores the facts once the users are listed: a guess is
// only complete then.
func (r *run) saveTenantFacts(ctx context.Context, f *models.TenantFacts) error {
	if f == nil {
		return nil // the stored facts were used
	}
	if f.DomainSource == models.DomainsGuessed {
		names := r.gc.TenantDomains()
		sort.Strings(names)
		f.Domains = f.Domains[:0]
		for _, n := range names {
			f.Domains = append(f.Domains, models.TenantDomain{Name: n})
		}
	}
	f.SyncedAt = time.Now().UTC()
	return r.st.SaveTenantFacts(ctx, *f)
}

// ApplyTenantDomains gives a Graph client the domains the integration's last
// sync used, so that a client that lists no users (stop sharing's re-read)
// judges External as the sync did. Nothing is applied before a first sync.
func ApplyTenantDomains(gc *msgraph.Client, f *models.TenantFacts) {
	if f == nil {
		return
	}
	if f.DomainSource == models.DomainsVerified && len(f.Domains) > 0 {
		domains := make([]msgraph.Domain, len(f.Domains))
		for i, d := range f.Domains {
			domains[i] = msgraph.Domain{Name: d.Name, IsDefault: d.IsDefault, IsInitial: d.IsInitial, Type: d.Type}
		}
		gc.SetVerifiedDomains(domains)
		return
	}
	names := make([]string, len(f.Domains))
	for i, d := range f.Domains {
		names[i] = d.Name
	}
	gc.SetTenantDomains(names)
}
