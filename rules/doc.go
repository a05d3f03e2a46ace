// Package rules decides which sharing is risky. A rule is a CEL expression
// (cel.dev/cel-go) that is true for a risky item or permission; the built-in
// pack and an admin's custom rules are compiled by the same Compile and run by
// the same Evaluate, so there is one engine and one way to write a rule.
//
// A rule sees these variables (docs/rules.md lists every field; a test keeps
// that list and the structs of vars.go equal):
//
//   - item: the drive item (name, path, size, isFolder, modifiedAt, createdAt,
//     itemsBelow, sizeBelow — the blast radius of a folder).
//   - permission: one permission of the item (scope anonymous | organization |
//     users | direct, roles, canEdit, linkType, hasExpiry, expiresAt,
//     hasPassword, inherited, grantee, guest, external, enabled …).
//   - owner: the drive owner (enabled, userType, department …).
//   - drive: the OneDrive the item lives in.
//   - settings: the integration's settings (allowedDomains, maxLinkDays,
//     staleDays, folderItemsBelow, sensitivePatterns).
//   - now: the time of the evaluation, one value for a whole run so that
//     incremental and full evaluation agree.
//
// Two functions are added to CEL: days(int) is a duration of that many days,
// and s.matchesAny(list) is true when any of the list's regular expressions
// (RE2, case-insensitive) matches s; compiled patterns are cached.
//
// A rule that names permission is evaluated once per permission and yields
// one match per matching permission; a rule that does not is evaluated once
// per item. Every rule has a cost limit: its worst case is estimated when it
// is compiled, assuming lists of at most 64 entries and texts of at most
// 1,024 bytes, and refused above the limit; an input within those bounds
// runs uncounted (the estimate holds), one beyond them runs counted and
// stops at the limit. No rule can run away either way.
//
// The package maps models' rows to its own plain structs (one small function
// per struct) and imports nothing else of the module: storing findings,
// the API and the evaluation jobs live elsewhere (issue 17, planned).
package rules
