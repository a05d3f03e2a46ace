package rules

import (
	"cel.dev/cel-go/common/cost"
)

// Upper bounds of what the variables hold, for the cost estimate: without
// them cel-go assumes any list or string may be endless and every loop over
// a list would be refused.
const (
	maxStringLen = 1_024 // paths and names (OneDrive allows 400 characters)
	maxListLen   = 64    // roles, domains of a link, settings' lists
)

// sizes tells cel-go's estimator how big the variables' fields can be.
type sizes struct{}

func (sizes) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if len(n.Path()) < 2 {
		return nil
	}
	switch n.Type().String() {
	case "string":
		return &cost.SizeEstimate{Min: 0, Max: maxStringLen}
	case "list(string)":
		return &cost.SizeEstimate{Min: 0, Max: maxListLen}
	}
	return nil
}

// EstimateCallCost prices matchesAny like the standard matches, once per
// pattern of the list.
func (sizes) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	if function != "matchesAny" {
		return nil
	}
	perPattern := uint64(maxStringLen) / 10
	return &cost.CallEstimate{CostEstimate: cost.Estimate{Min: 1, Max: maxListLen * perPattern}}
}

// withinBounds reports whether every string and list of the input is within
// the sizes the cost estimate assumed, so that the estimate holds.
func withinBounds(in *Input) bool {
	s := &in.Settings
	if !listFits(s.AllowedDomains) || !listFits(s.SensitivePatterns) ||
		!stringsFit(in.Item.ID, in.Item.DriveID, in.Item.Name, in.Item.Path, in.Item.MimeType,
			in.Owner.ID, in.Owner.Email, in.Owner.UserType, in.Owner.Department,
			in.Drive.ID, in.Drive.Name, in.Drive.DriveType) {
		return false
	}
	for i := range in.Permissions {
		p := &in.Permissions[i]
		if !listFits(p.Roles) || !listFits(p.Domains) ||
			!stringsFit(p.ID, p.Scope, p.LinkType, p.GranteeEmail, p.GranteeDomain, p.GranteeKind) {
			return false
		}
	}
	return true
}

func listFits(l []string) bool { return len(l) <= maxListLen && stringsFit(l...) }

func stringsFit(ss ...string) bool {
	for _, s := range ss {
		if len(s) > maxStringLen {
			return false
		}
	}
	return true
}
