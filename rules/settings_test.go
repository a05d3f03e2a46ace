package rules

import (
	"strings"
	"testing"
)

func TestSettingsValidateInWords(t *testing.T) {
	if err := (Settings{AllowedDomains: []string{"contoso.com", "@Fabrikam.com"}}).Defaults().Validate(); err != nil {
		t.Errorf("the defaults with two domains: %v", err)
	}
	long := make([]string, maxListLen+1)
	for i := range long {
		long[i] = "example.com"
	}
	cases := []struct {
		name string
		s    Settings
		want string
	}{
		{"broken pattern", Settings{SensitivePatterns: []string{"payroll(("}}, `pattern "payroll((" is not a regular expression`},
		{"address instead of domain", Settings{AllowedDomains: []string{"ann@contoso.com"}}, `"ann@contoso.com" is not a domain`},
		{"too many domains", Settings{AllowedDomains: long}, "allowedDomains holds 65 entries; at most 64 are allowed"},
		{"negative days", Settings{MaxLinkDays: -1}, "cannot be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Validate() = %v, want it to say %q", err, c.want)
			}
		})
	}
}

func TestParseSeverity(t *testing.T) {
	if s, err := ParseSeverity(" high "); err != nil || s != High {
		t.Errorf("ParseSeverity(high) = %q, %v", s, err)
	}
	if _, err := ParseSeverity("urgent"); err == nil || !strings.Contains(err.Error(), "LOW, MEDIUM, HIGH or CRITICAL") {
		t.Errorf("ParseSeverity(urgent) = %v", err)
	}
}
