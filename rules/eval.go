package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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

// Evaluate runs every rule the tuning leaves on over one item and returns
// its matches, ordered by rule then permission. A rule that fails to run (it
// exceeded the cost limit, a pattern is not a regular expression) fails the
// evaluation with the rule named, rather than being taken for "no match".
func (p *Pack) Evaluate(in *Input, tuning Tuning) ([]Match, error) {
	var out []Match
	act := activation{in: in}
	for _, r := range p.Rules {
		sev, on := tuning.severity(r)
		if !on {
			continue
		}
		if !r.PerPermission {
			act.perm = nil
			ok, err := r.eval(&act)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, newMatch(r, sev, in.Item.ID, ""))
			}
			continue
		}
		for i := range in.Permissions {
			act.perm = &in.Permissions[i]
			ok, err := r.eval(&act)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, newMatch(r, sev, in.Item.ID, act.perm.ID))
			}
		}
	}
	return out, nil
}

func (r *Rule) eval(act *activation) (bool, error) {
	v, _, err := r.program.Eval(act)
	if err != nil {
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
