package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/common/types"
)

// Input is everything the rules see of one item.
type Input struct {
	Item        Item
	Permissions []Permission
	Owner       Owner
	Drive       Drive
	Settings    Settings // with Defaults applied
	Now         time.Time
}

// Match is one rule matching one item, or one permission of it.
type Match struct {
	// Key is stable across evaluations: the same rule, item and permission
	// give the same key, so a finding can be found again and resolved.
	Key          string
	RuleID       string
	Severity     Severity // after the integration's tuning
	ItemID       string
	PermissionID string // "" for a rule about the item
}

// Pack is a set of compiled rules evaluated together.
type Pack struct {
	Rules []*Rule
}

// NewPack is the built-in pack followed by an integration's custom rules.
// Rule ids key matches, so each must be set and used once; a custom rule
// cannot take a built-in's id.
func NewPack(custom ...*Rule) (*Pack, error) {
	builtin, err := Builtins()
	if err != nil {
		return nil, err
	}
	p := &Pack{Rules: append(slices.Clip(builtin), custom...)}
	seen := map[string]bool{}
	for _, r := range p.Rules {
		switch {
		case r.ID == "":
			return nil, fmt.Errorf("a custom rule has no id: %q", r.Text)
		case seen[r.ID]:
			return nil, fmt.Errorf("two rules have the id %q", r.ID)
		}
		seen[r.ID] = true
	}
	return p, nil
}

// Evaluate runs every rule the tuning leaves on over one item and returns
// its matches, ordered by rule then permission. Links that expired by in.Now
// are skipped: they give no access, though Microsoft 365 lists them until
// someone removes them (DESIGN.md, "Exposure is time-aware"), so their
// matches resolve when they expire, without a sync. A rule that fails to
// run (it exceeded the cost limit, a pattern is not a regular expression)
// fails the evaluation with the rule named, rather than passing for "no
// match". Evaluate is safe for concurrent use.
func (p *Pack) Evaluate(in *Input, tuning Tuning) ([]Match, error) {
	env, err := environment()
	if err != nil {
		return nil, err
	}
	var out []Match
	act := newActivation(env.CELTypeAdapter(), in)
	bounded := withinBounds(in)
	for _, r := range p.Rules {
		sev, on := tuning.severity(r)
		if !on {
			continue
		}
		if out, err = r.matches(act, bounded, in, sev, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// matches appends the rule's matches on the item: one for a rule about the
// item, one per matching live permission for a rule about permissions.
func (r *Rule) matches(act *activation, bounded bool, in *Input, sev Severity, out []Match) ([]Match, error) {
	if !r.PerPermission {
		act.perm = nil
		ok, err := r.eval(act, bounded)
		if ok {
			out = append(out, newMatch(r, sev, in.Item.ID, ""))
		}
		return out, err
	}
	for i := range in.Permissions {
		if in.Permissions[i].expired(in.Now) {
			continue
		}
		act.perm = act.perms[i]
		ok, err := r.eval(act, bounded)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, newMatch(r, sev, in.Item.ID, in.Permissions[i].ID))
		}
	}
	return out, nil
}

// eval runs the rule. Within the bounds its cost was estimated for, the
// estimate is a guarantee and the rule runs without counting its cost
// (counting doubled the time of an evaluation); beyond them it runs counted
// and stops at the cost limit.
func (r *Rule) eval(act *activation, bounded bool) (bool, error) {
	prg := r.counted
	if bounded {
		prg = r.program
	}
	v, _, err := prg.Eval(act)
	if err != nil {
		if strings.Contains(err.Error(), "cost limit exceeded") {
			return false, fmt.Errorf("rule %s stopped at the cost limit of %d: the item or the settings "+
				"hold longer lists or texts than rules are checked for (%d entries, %d characters): %w",
				r.name(), CostLimit, maxListLen, maxStringLen, err)
		}
		return false, fmt.Errorf("rule %s: %w", r.name(), err)
	}
	return v == types.True, nil
}

func (r *Rule) name() string {
	if r.ID != "" {
		return r.ID
	}
	return "(unsaved)"
}

func newMatch(r *Rule, sev Severity, itemID, permID string) Match {
	return Match{Key: MatchKey(r.ID, itemID, permID), RuleID: r.ID, Severity: sev,
		ItemID: itemID, PermissionID: permID}
}

// MatchKey is the key of a (rule, item, permission) within an integration:
// the first 128 bits of a SHA-256, hex, with NUL between the parts so that no
// two different triples share their input.
func MatchKey(ruleID, itemID, permissionID string) string {
	h := sha256.New()
	h.Write([]byte(ruleID))
	h.Write([]byte{0})
	h.Write([]byte(itemID))
	h.Write([]byte{0})
	h.Write([]byte(permissionID))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (p *Permission) expired(now time.Time) bool {
	return p.HasExpiry && !p.ExpiresAt.After(now)
}
