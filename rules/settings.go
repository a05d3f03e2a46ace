package rules

import (
	"errors"
	"fmt"
	"strings"
)

// Settings is the variable settings: one integration's choices. Zero values
// are filled by Defaults.
type Settings struct {
	// AllowedDomains are the domains sharing may reach (lower-case); empty
	// turns the rule about other domains off.
	AllowedDomains []string `cel:"allowedDomains"`
	// MaxLinkDays is the longest an anyone link may live.
	MaxLinkDays int64 `cel:"maxLinkDays"`
	// StaleDays is how long unmodified an item shared with anyone is stale.
	StaleDays int64 `cel:"staleDays"`
	// FolderItemsBelow is how many items below a folder make its sharing a
	// large blast radius.
	FolderItemsBelow int64 `cel:"folderItemsBelow"`
	// SensitivePatterns are RE2 expressions, matched case-insensitively
	// against item names.
	SensitivePatterns []string `cel:"sensitivePatterns"`
}

// DefaultSensitivePatterns name files that should not leave the
// organisation: passwords, keys, payroll, contracts, identity documents.
var DefaultSensitivePatterns = []string{
	`passw(or)?d|credential|secret`,
	`\.(pem|key|pfx|p12|kdbx|ppk)$|id_rsa|api[-_ ]?key`,
	`payroll|salar(y|ies)|payslip|lohn|gehalt`,
	`contract|agreement|\bnda\b|vertrag`,
	`passport|driver'?s?[-_ ]licen[cs]e|\bssn\b|social security|id[-_ ]card|ausweis`,
}

// Defaults returns s with every unset setting at its default.
func (s Settings) Defaults() Settings {
	if s.MaxLinkDays <= 0 {
		s.MaxLinkDays = 30
	}
	if s.StaleDays <= 0 {
		s.StaleDays = 180
	}
	if s.FolderItemsBelow <= 0 {
		s.FolderItemsBelow = 500
	}
	if s.SensitivePatterns == nil {
		s.SensitivePatterns = DefaultSensitivePatterns
	}
	domains := make([]string, len(s.AllowedDomains))
	for i, d := range s.AllowedDomains {
		domains[i] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
	}
	s.AllowedDomains = domains
	return s
}

// Tuning is an integration's choices about rules, by rule id: a rule missing
// from it runs at its own severity.
type Tuning map[string]RuleTuning

// ParseSeverity reads a severity as people and the API write it.
func ParseSeverity(s string) (Severity, error) {
	switch sev := Severity(strings.ToUpper(strings.TrimSpace(s))); sev {
	case Low, Medium, High, Critical:
		return sev, nil
	}
	return "", fmt.Errorf("%q is not a severity: use LOW, MEDIUM, HIGH or CRITICAL", s)
}

// RuleTuning turns one rule off or re-rates it.
type RuleTuning struct {
	Off      bool
	Severity Severity // "" keeps the rule's own
}

func (t Tuning) severity(r *Rule) (Severity, bool) {
	rt, ok := t[r.ID]
	if !ok {
		return r.Severity, true
	}
	if rt.Off {
		return "", false
	}
	if rt.Severity != "" {
		return rt.Severity, true
	}
	return r.Severity, true
}

// Validate says, in words, what is wrong with settings an admin saves: a
// pattern that is not a regular expression would otherwise fail every
// evaluation, and a list longer than rules are checked for would make every
// evaluation pay for cost counting.
func (s Settings) Validate() error {
	var errs []error
	if s.MaxLinkDays < 0 || s.StaleDays < 0 || s.FolderItemsBelow < 0 {
		errs = append(errs, errors.New("maxLinkDays, staleDays and folderItemsBelow cannot be negative"))
	}
	for _, l := range []struct {
		name string
		list []string
	}{{"allowedDomains", s.AllowedDomains}, {"sensitivePatterns", s.SensitivePatterns}} {
		if len(l.list) > maxListLen {
			errs = append(errs, fmt.Errorf("%s holds %d entries; at most %d are allowed", l.name, len(l.list), maxListLen))
		}
	}
	for _, d := range s.AllowedDomains {
		if d = strings.TrimPrefix(strings.TrimSpace(d), "@"); d == "" || strings.ContainsAny(d, "@ /") {
			errs = append(errs, fmt.Errorf("allowedDomains: %q is not a domain, e.g. contoso.com", d))
		}
	}
	for _, p := range s.SensitivePatterns {
		if _, err := compilePattern(p); err != nil {
			errs = append(errs, fmt.Errorf("sensitivePatterns: %w", err))
		}
	}
	return errors.Join(errs...)
}
