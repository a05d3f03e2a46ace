package models

import (
	"database/sql/driver"
	"encoding/json"
	"strings"
	"time"
)

// DomainSource says how the sync decided who is external (the one rule is
// msgraph's isExternal; the permissions store what it answered).
type DomainSource string

const (
	// DomainsVerified: the tenant's verified domains, read from Microsoft
	// Graph's /organization (the app holds Organization.Read.All).
	DomainsVerified DomainSource = "verified"
	// DomainsGuessed: the domains of member users' addresses, because the
	// app may not read the organization; an alias domain no member uses
	// counts as external.
	DomainsGuessed DomainSource = "guessed"
)

// TenantDomain is one of the tenant's domains: a verified domain with
// Graph's flags, or (when guessed) a domain of members' addresses.
type TenantDomain struct {
	Name      string `json:"name"`
	IsDefault bool   `json:"isDefault,omitempty"`
	IsInitial bool   `json:"isInitial,omitempty"`
	Type      string `json:"type,omitempty"` // Managed | Federated; "" when guessed
}

// TenantDomains is a list of TenantDomain stored as a JSON text array.
type TenantDomains []TenantDomain

// Value stores the list as JSON text; an empty list is "[]", never NULL.
func (l TenantDomains) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]TenantDomain(l))
	return string(b), err
}

// Scan reads a JSON text array.
func (l *TenantDomains) Scan(src any) error { return scanJSON(src, (*[]TenantDomain)(l)) }

// Sku is one of the tenant's subscriptions: a licence's id and name.
type Sku struct {
	SkuID         string `json:"skuId"`
	SkuPartNumber string `json:"skuPartNumber"`
}

// Skus is a list of Sku stored as a JSON text array.
type Skus []Sku

// Value stores the list as JSON text; an empty list is "[]", never NULL.
func (l Skus) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]Sku(l))
	return string(b), err
}

// Scan reads a JSON text array.
func (l *Skus) Scan(src any) error { return scanJSON(src, (*[]Sku)(l)) }

// TenantFacts is what the last sync read about the tenant itself: one row
// per integration, written whole by each sync's directory phase. A tenant
// has a handful of domains and subscriptions, so they are JSON lists rather
// than tables of their own.
type TenantFacts struct {
	IntegrationID string        `gorm:"column:integration_id;primaryKey"`
	DomainSource  DomainSource  `gorm:"column:domain_source"`
	Domains       TenantDomains `gorm:"column:domains"`
	// SkusRead is false when the app may not list subscriptions: the
	// licences are then known by id only.
	SkusRead bool      `gorm:"column:skus_read"`
	Skus     Skus      `gorm:"column:skus"`
	SyncedAt time.Time `gorm:"column:synced_at"`
}

func (TenantFacts) TableName() string { return "tenant_facts" }

// SkuName returns the part number of a SKU id; "" when unknown.
func (f *TenantFacts) SkuName(skuID string) string {
	for _, s := range f.Skus {
		if strings.EqualFold(s.SkuID, skuID) {
			return s.SkuPartNumber
		}
	}
	return ""
}
