package tenant

import (
	"fmt"
	"time"
)

// The tenant's settings for links that Microsoft 365 applies on its own
// (docs/graph-behaviour.md, "Links: expiry, passwords and tenant policy"):
// the expiry policy for anonymous links and whether hasPassword is reported.

// LinkSettings are the link settings that can change while the simulator runs.
type LinkSettings struct {
	Policy          LinkPolicy `json:"policy"`
	ReportPasswords bool       `json:"reportPasswords"`
}

// LinkSettings returns the current link settings.
func (t *Tenant) LinkSettings() LinkSettings {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return LinkSettings{Policy: t.cfg.LinkPolicy, ReportPasswords: t.cfg.ReportLinkPasswords}
}

// SetLinkSettings changes the link settings. Existing links keep their expiry;
// the policy applies to the next change.
func (t *Tenant) SetLinkSettings(s LinkSettings) {
	t.mu.Lock()
	t.cfg.LinkPolicy, t.cfg.ReportLinkPasswords = s.Policy, s.ReportPasswords
	t.mu.Unlock()
}

// policyExpiry applies the expiry policy to an anonymous link's expiry
// (unix seconds, 0 = none) set at now: beyond the maximum it is shortened to
// the maximum without a word, as Graph does; none at all is refused when
// refuseClear (a PATCH or change clearing it), else given the maximum (a new
// link). Caller holds t.mu.
func (t *Tenant) policyExpiry(expires int64, now time.Time, refuseClear bool) (int64, error) {
	days := t.cfg.LinkPolicy.maxDays()
	if days == 0 {
		return expires, nil
	}
	limit := now.UTC().Truncate(time.Second).Add(time.Duration(days) * 24 * time.Hour).Unix()
	switch {
	case expires == 0 && refuseClear:
		return 0, fmt.Errorf("%w: the expiration date of this link cannot be removed: your organization's policy requires anyone links to expire within %d days", ErrInvalid, days)
	case expires == 0, expires > limit:
		return limit, nil
	}
	return expires, nil
}

// generatedExpiry draws the expiry of a generated anonymous link around the
// generation time: some passed in the last weeks and are still listed, the
// others come within the policy's maximum (30 days when it is off). It makes
// one draw from rng.
func (t *Tenant) generatedExpiry(draw int, created uint32) int64 {
	ahead := t.cfg.LinkPolicy.maxDays()
	if ahead == 0 {
		ahead = DefaultAnyoneLinkMaxDays
	}
	// draw is in [0, 70): 40 days back to ahead days forward, half a day off
	// the exact day so that no expiry falls on the generation instant.
	day := draw*(40+ahead)/70 - 40
	exp := t.cfg.Now.Add(time.Duration(day)*24*time.Hour + 12*time.Hour).Unix()
	if c := fromStamp(created).Add(24 * time.Hour).Unix(); exp < c {
		exp = c // never before the link existed
	}
	return exp
}
