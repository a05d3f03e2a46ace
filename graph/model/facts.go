package model

import (
	"time"

	"github.com/overshare/overshare/models"
)

// TenantFacts is the API's TenantFacts: what the last sync read about the
// tenant, ready to encode (no field needs a resolver).
type TenantFacts struct {
	ExternalSource     ExternalSource
	ExternalSourceNote string
	Domains            []*TenantDomain
	LicenceNamesRead   bool
	SubscribedSkus     []*License
	SyncedAt           *time.Time
}

// TenantDomain is one of the tenant's domains.
type TenantDomain struct {
	Name      string
	IsDefault bool
	IsInitial bool
	Type      *string
}

// Notes for the dashboard: which source decided who is external, and what
// to do for exact answers.
const (
	NoteVerifiedDomains = "Verified domains from Microsoft Graph."
	NoteGuessed         = "Guessed from members' addresses: grant Organization.Read.All for exact answers."
	NoteUnknown         = "Not known until the first sync reads the tenant."
)

// NewTenantFacts is the API's view of what the last sync read about the
// tenant; f is nil before a first sync.
func NewTenantFacts(f *models.TenantFacts) *TenantFacts {
	if f == nil {
		return &TenantFacts{ExternalSource: ExternalSourceUnknown, ExternalSourceNote: NoteUnknown,
			Domains: []*TenantDomain{}, SubscribedSkus: []*License{}}
	}
	out := &TenantFacts{ExternalSource: ExternalSourceGuessed, ExternalSourceNote: NoteGuessed,
		LicenceNamesRead: f.SkusRead, SyncedAt: &f.SyncedAt,
		Domains: make([]*TenantDomain, len(f.Domains)), SubscribedSkus: make([]*License, len(f.Skus))}
	if f.DomainSource == models.DomainsVerified {
		out.ExternalSource, out.ExternalSourceNote = ExternalSourceVerifiedDomains, NoteVerifiedDomains
	}
	for i, d := range f.Domains {
		out.Domains[i] = &TenantDomain{Name: d.Name, IsDefault: d.IsDefault, IsInitial: d.IsInitial, Type: OrNull(d.Type)}
	}
	for i, k := range f.Skus {
		out.SubscribedSkus[i] = &License{SkuID: k.SkuID, SkuPartNumber: OrNull(k.SkuPartNumber)}
	}
	return out
}
