package rules

import (
	"fmt"
	"sync"
)

// A built-in rule before it is compiled.
type builtin struct {
	id, title string
	severity  Severity
	why       string
	fixes     []Fix
	text      string
}

// The built-in pack. Every rule ignores inherited permissions: they are the
// parent's sharing, found once on the parent. Cheap and selective tests come
// first, because && stops at the first false.
var builtins = []builtin{{
	id: "anyone-link-edit", title: "Anyone link that can edit", severity: Critical,
	why:   "Whoever holds the link, forwarded or leaked, can change or delete the content without signing in.",
	fixes: []Fix{FixDowngrade, FixStopSharing, FixAccept},
	text:  `permission.scope == "anonymous" && !permission.inherited && permission.canEdit`,
}, {
	id: "anyone-link-lifetime", title: "Anyone link without expiry or living too long", severity: Medium,
	why: "A link without an end stays usable long after the reason to share is gone; " +
		"the baseline limits anyone links to a number of days (settings.maxLinkDays).",
	fixes: []Fix{FixSetExpiry, FixStopSharing, FixAccept},
	text: `permission.scope == "anonymous" && !permission.inherited &&
  (!permission.hasExpiry || permission.expiresAt > now + days(settings.maxLinkDays))`,
}, {
	id: "organization-link-edit", title: "Organisation-wide edit link", severity: Medium,
	why:   "Everyone in the organisation, including people who should not, can change the content.",
	fixes: []Fix{FixDowngrade, FixStopSharing, FixAccept},
	text:  `permission.scope == "organization" && !permission.inherited && permission.canEdit`,
}, {
	id: "domain-not-allowed", title: "Shared with a domain outside the allowed domains", severity: High,
	why:   "The content reaches an organisation that is not on the integration's list of allowed domains.",
	fixes: []Fix{FixStopSharing, FixAccept},
	text: `!permission.inherited && size(settings.allowedDomains) > 0 &&
  permission.domains.exists(d, !(d in settings.allowedDomains))`,
}, {
	id: "guest-edit", title: "Guest with edit rights", severity: High,
	why:   "A guest account, managed by another organisation, can change or delete the content.",
	fixes: []Fix{FixDowngrade, FixStopSharing, FixAccept},
	text:  `permission.guest && !permission.inherited && permission.canEdit`,
}, {
	id: "disabled-account", title: "Sharing kept alive by a disabled account", severity: Medium,
	why: "The owner or the person it is shared with has left (account disabled), " +
		"yet the sharing still works and nobody is left to review it.",
	fixes: []Fix{FixStopSharing, FixAccept},
	text: `!permission.inherited && (!owner.enabled || !permission.enabled) &&
  !("owner" in permission.roles)`,
}, {
	id: "large-folder-exposed", title: "Folder with many items shared anonymously or externally", severity: High,
	why: "Everything below the folder, now and added later, is shared: " +
		"the blast radius is settings.folderItemsBelow items or more.",
	fixes: []Fix{FixStopSharing, FixAccept},
	text: `item.isFolder && item.itemsBelow >= settings.folderItemsBelow && !permission.inherited &&
  (permission.scope == "anonymous" || permission.external)`,
}, {
	id: "sensitive-name-exposed", title: "Sensitive file shared beyond the organisation", severity: High,
	why: "Its name suggests passwords, keys, payroll, contracts or identity documents " +
		"(settings.sensitivePatterns), and it is shared with anyone or with people outside.",
	fixes: []Fix{FixStopSharing, FixAccept},
	text: `(permission.scope == "anonymous" || permission.external) && !permission.inherited &&
  item.name.matchesAny(settings.sensitivePatterns)`,
}, {
	id: "stale-anyone-link", title: "Anyone link on a stale item", severity: Low,
	why: "Nobody has changed the item for settings.staleDays days, " +
		"so the link most likely outlived its purpose.",
	fixes: []Fix{FixStopSharing, FixSetExpiry, FixAccept},
	text: `permission.scope == "anonymous" && !permission.inherited &&
  int(item.modifiedAt) > 0 && item.modifiedAt < now - days(settings.staleDays)`,
}}

// Builtins returns the built-in pack, compiled once per process.
var Builtins = sync.OnceValues(compileBuiltins)

func compileBuiltins() ([]*Rule, error) {
	out := make([]*Rule, 0, len(builtins))
	for _, b := range builtins {
		r, err := Compile(b.text)
		if err != nil {
			return nil, fmt.Errorf("built-in rule %s: %w", b.id, err)
		}
		r.ID, r.Title, r.Severity, r.Why, r.Fixes = b.id, b.title, b.severity, b.why, b.fixes
		out = append(out, r)
	}
	return out, nil
}
