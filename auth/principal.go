package auth

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Role is one of Overshare's two roles. The values match the GraphQL enum.
type Role string

const (
	RoleAdmin  Role = "ADMIN"
	RoleViewer Role = "VIEWER"
)

// Principal is the person or script a verified token speaks for.
type Principal struct {
	Subject string
	Name    string
	Email   string
	// Roles holds ADMIN and/or VIEWER; ADMIN always comes with VIEWER. Empty for a valid token
	// that carries neither role: such a caller is authenticated but may see nothing.
	Roles     []Role
	ExpiresAt time.Time
}

// HasRole reports whether the principal holds role.
func (p *Principal) HasRole(role Role) bool {
	return p != nil && slices.Contains(p.Roles, role)
}

// mapRoles turns claim values into roles. ADMIN implies VIEWER because everything a viewer may
// see is a subset of what an admin sees; the GraphQL rules can then name the least role needed.
func mapRoles(values []string, cfg Config) []Role {
	var admin, viewer bool
	for _, v := range values {
		if slices.Contains(cfg.AdminValues, v) {
			admin = true
		}
		if slices.Contains(cfg.ViewerValues, v) {
			viewer = true
		}
	}
	var roles []Role
	if admin {
		roles = append(roles, RoleAdmin)
	}
	if admin || viewer {
		roles = append(roles, RoleViewer)
	}
	return roles
}

// claimValues finds the claim at a dotted path ("realm_access.roles") in a token's JSON payload
// and returns its string values. A single string counts as a one-element list (some providers
// send one group that way); anything else — numbers, objects, a missing claim — yields nothing,
// so a malformed claim can never grant a role.
func claimValues(payload []byte, path string) []string {
	var node any
	if err := json.Unmarshal(payload, &node); err != nil {
		return nil
	}
	for _, key := range strings.Split(path, ".") {
		obj, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		if node, ok = obj[key]; !ok {
			return nil
		}
	}
	switch v := node.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, item := range v {
			if s, ok := item.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
