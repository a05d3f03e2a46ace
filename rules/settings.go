package rules

import "strings"

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
