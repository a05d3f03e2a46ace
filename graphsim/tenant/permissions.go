package tenant

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// SharePoint's model (docs/graph-behaviour.md, "Permissions: SharePoint's
// model"): the drive root and every item that ever got sharing of its own
// (flagUnique) hold their own list at node.perms; any other item lists the
// entries of its nearest unique ancestor, as inherited. When an item first
// gets sharing of its own, that ancestor's entries are copied onto it
// (ensureUnique) and later changes of the ancestor no longer reach it.

func roleOf(p *perm) string {
	switch p.kind {
	case permOwner:
		return "owner"
	case permLimited:
		return LimitedAccessRole
	case permExistingAccess:
		return "read"
	case permAnon, permOrg, permUsers:
		if linkTypes[p.linkType] == "edit" {
			return "write"
		}
		return "read"
	}
	if p.flags&pflagWrite != 0 {
		return "write"
	}
	return "read"
}

// isLink reports a sharing link kind (existingAccess included).
func isLink(kind uint8) bool {
	return kind == permAnon || kind == permOrg || kind == permUsers || kind == permExistingAccess
}

// isSharing reports whether a kind gives someone access the owner chose to
// give: not the owner's grant, not limited access, not existingAccess.
func isSharing(kind uint8) bool {
	switch kind {
	case permAnon, permOrg, permUsers, permDirectUser, permDirectGroup, permEveryone, permApp:
		return true
	}
	return false
}

func linkScope(kind uint8) string {
	switch kind {
	case permAnon:
		return "anonymous"
	case permOrg:
		return "organization"
	case permUsers:
		return "users"
	case permExistingAccess:
		return ExistingAccessScope
	}
	return ""
}

// linkKind is the letter SharePoint puts in sharing URLs (":w:" for Word...).
func linkKind(name string, folder bool) string {
	if folder {
		return "f"
	}
	ext := ""
	if k := strings.LastIndexByte(name, '.'); k >= 0 {
		ext = strings.ToLower(name[k+1:])
	}
	switch ext {
	case "docx", "doc":
		return "w"
	case "xlsx", "xls", "csv":
		return "x"
	case "pptx", "ppt":
		return "p"
	case "pdf":
		return "b"
	case "jpg", "png", "heic":
		return "i"
	case "mp4":
		return "v"
	case "one":
		return "o"
	}
	return "u"
}

func (t *Tenant) isGuest(u int32) bool {
	return u >= 0 && int(u) < len(t.users) && t.users[u].UserType == "Guest"
}

// loginOf is the claims login name of the principal of a grant, "" for links.
func (t *Tenant) loginOf(pr *perm) string {
	switch pr.kind {
	case permOwner, permDirectUser, permLimited:
		return "i:0#.f|membership|" + strings.ToLower(t.users[pr.grantee].UserPrincipalName)
	case permDirectGroup:
		return "c:0o.c|federateddirectoryclaimprovider|" + t.groups[pr.grantee].ID
	case permEveryone:
		return "c:0-.f|rolemanager|spo-grid-all-users/" + t.cfg.TenantID
	case permApp:
		return "i:0i.t|ms.sp.ext|" + t.apps[pr.grantee].ID + "@" + t.cfg.TenantID
	}
	return ""
}

// permIDOf is the id Graph gives perm p of drive d (see ids.go).
func (t *Tenant) permIDOf(d *drive, p int32) string {
	pr := &d.perms[p]
	switch {
	case pr.kind == permExistingAccess:
		return existingAccessID
	case isLink(pr.kind):
		return t.ids.linkID(d.idx, pr.origin)
	}
	return principalID(t.loginOf(pr))
}

// permValue builds the Permission for own permission p of drive d. Caller
// holds t.mu.
func (t *Tenant) permValue(d *drive, p int32, from *ItemReference) Permission {
	pr := &d.perms[p]
	out := Permission{
		ID:            t.permIDOf(d, p),
		Roles:         []string{roleOf(pr)},
		HasPassword:   pr.flags&pflagPassword != 0 && t.cfg.ReportLinkPasswords,
		PasswordSet:   pr.flags&pflagPassword != 0,
		InheritedFrom: from,
		LoginName:     t.loginOf(pr),
	}
	if pr.expires != 0 {
		out.ExpirationDateTime = time.Unix(pr.expires, 0).UTC()
	}
	personal := strings.TrimSuffix(strings.TrimPrefix(d.webURL, "https://"+t.host+"/"), "/Documents")
	switch pr.kind {
	case permExistingAccess:
		// A link to the item for those who already have access.
		web := "https://" + t.host + "/:" + string(rune(pr.urlKind)) + ":/g/" + personal + "/E" + t.ids.opaque(8, d.idx, pr.origin, 45)
		out.Link = &Link{Type: "view", Scope: ExistingAccessScope, WebURL: web}
	case permAnon, permOrg, permUsers:
		web := "https://" + t.host + "/:" + string(rune(pr.urlKind)) +
			":/g/" + personal + "/E" + t.ids.opaque(7, d.idx, pr.origin, 45)
		out.Link = &Link{
			Type:             linkTypes[pr.linkType],
			Scope:            linkScope(pr.kind),
			WebURL:           web,
			PreventsDownload: pr.flags&pflagPreventsDownload != 0,
		}
		out.ShareID = "u!" + base64.RawURLEncoding.EncodeToString([]byte(web))
		if pr.kind == permUsers {
			out.GrantedToIdentities = []Identity{t.identity(pr.grantee)}
			out.Guest = t.isGuest(pr.grantee)
		}
	case permOwner, permDirectUser, permLimited:
		id := t.identity(pr.grantee)
		out.GrantedToUser = &id
		out.Guest = t.isGuest(pr.grantee)
	case permDirectGroup:
		g := t.groups[pr.grantee]
		out.GrantedToGroup = &g
	case permEveryone:
		out.EveryoneExceptExternal = true
	case permApp:
		a := t.apps[pr.grantee]
		out.GrantedToApplication = &a
	}
	if out.Guest && pr.kind != permLimited {
		out.Invitation = &Invitation{Email: t.users[pr.grantee].Mail, SignInRequired: true}
	}
	return out
}

// holder is the item whose own list item i shows: i itself when it has
// unique permissions, else its nearest unique ancestor.
func (d *drive) holder(i int32) int32 {
	for i > 0 && d.items[i].flags&flagUnique == 0 {
		i = d.items[i].parent
	}
	return max(i, 0)
}

func (t *Tenant) itemRef(d *drive, i int32) *ItemReference {
	p := "/drives/" + d.id + "/root:"
	if i != 0 {
		p += d.path(i)
	}
	return &ItemReference{DriveID: d.id, ID: t.ids.itemID(d.idx, i), Path: p}
}

// inheritedRef is the inheritedFrom an entry inherited from holder h carries
// in the current mode (nil: absent).
func (t *Tenant) inheritedRef(d *drive, h int32, pr *perm) *ItemReference {
	switch t.inheritedFrom {
	case InheritedFromEmpty:
		return &ItemReference{}
	case InheritedFromLinks:
		if isLink(pr.kind) {
			return t.itemRef(d, h)
		}
	case InheritedFromFull:
		return t.itemRef(d, h)
	}
	return nil
}

// Permissions lists an item's permissions: its own when it has unique
// permissions, else its nearest unique ancestor's, as inherited.
func (t *Tenant) Permissions(driveID, itemID string) ([]Permission, error) {
	d, ok := t.drive(driveID)
	if !ok {
		return nil, fmt.Errorf("drive %s: %w", driveID, ErrNotFound)
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	i, ok := t.resolveItem(d, itemID)
	if !ok || !d.live(i) {
		return nil, fmt.Errorf("item %s: %w", itemID, ErrNotFound)
	}
	h := d.holder(i)
	out := []Permission{}
	for p := d.items[h].perms; p >= 0; p = d.perms[p].next {
		var ref *ItemReference
		if h != i {
			ref = t.inheritedRef(d, h, &d.perms[p])
		}
		out = append(out, t.permValue(d, p, ref))
	}
	return out, nil
}

// SetInheritedFrom switches how inherited entries carry inheritedFrom (the
// Config.InheritedFrom values).
func (t *Tenant) SetInheritedFrom(mode string) error {
	if mode == "" {
		mode = InheritedFromAbsent
	}
	switch mode {
	case InheritedFromAbsent, InheritedFromEmpty, InheritedFromLinks, InheritedFromFull:
	default:
		return fmt.Errorf("%w: inheritedFrom must be absent, empty, links or full, not %q", ErrInvalid, mode)
	}
	t.mu.Lock()
	t.inheritedFrom = mode
	t.mu.Unlock()
	return nil
}

// InheritedFrom returns the current inheritedFrom mode.
func (t *Tenant) InheritedFrom() string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.inheritedFrom
}

// Applications returns the applications that hold grants in the tenant.
func (t *Tenant) Applications() []Identity { return append([]Identity(nil), t.apps...) }

// findPerm resolves permID as item i lists it: its own permission, one it
// inherits (ErrInherited), or unknown (ErrNotFound).
func (t *Tenant) findPerm(d *drive, i int32, permID string) (int32, error) {
	h := d.holder(i)
	for p := d.items[h].perms; p >= 0; p = d.perms[p].next {
		if t.permIDOf(d, p) != permID {
			continue
		}
		if h != i {
			return 0, fmt.Errorf("permission %s is inherited: %w", permID, ErrInherited)
		}
		return p, nil
	}
	return 0, fmt.Errorf("permission %s: %w", permID, ErrNotFound)
}

// removePerm unlinks own permission p from its item. Caller holds t.mu for
// writing and journals the item.
func (d *drive) removePerm(p int32) {
	pr := &d.perms[p]
	n := &d.items[pr.item]
	if n.perms == p {
		n.perms = pr.next
	} else {
		for q := n.perms; q >= 0; q = d.perms[q].next {
			if d.perms[q].next == p {
				d.perms[q].next = pr.next
				break
			}
		}
	}
	pr.kind, pr.next = permRemoved, -1
}

// sharingChanged journals item i as changed in its own sharing.
func (d *drive) sharingChanged(i int32) {
	d.touch(i)
	d.items[i].sharingSeq = d.items[i].seq
	if d.items[i].flags&flagFolder != 0 && d.folderShared != nil {
		d.folderShared(d, i)
	}
}

// DeletePermission removes a permission set on the item itself. As Graph
// does, it answers success but keeps the owner's grant and limited access
// (SharePoint manages those), and answers not found for the id of an
// existingAccess link (there is no permission behind it).
func (t *Tenant) DeletePermission(driveID, itemID, permID string) error {
	d, ok := t.drive(driveID)
	if !ok {
		return fmt.Errorf("drive %s: %w", driveID, ErrNotFound)
	}
	t.mu.Lock()
	changed, err := t.deletePermLocked(d, itemID, permID)
	t.mu.Unlock()
	if err != nil {
		return err
	}
	if changed {
		t.notify(d.id)
	}
	return nil
}

func (t *Tenant) deletePermLocked(d *drive, itemID, permID string) (bool, error) {
	i, ok := t.resolveItem(d, itemID)
	if !ok || !d.live(i) {
		return false, fmt.Errorf("item %s: %w", itemID, ErrNotFound)
	}
	p, err := t.findPerm(d, i, permID)
	if err != nil {
		return false, err
	}
	switch d.perms[p].kind {
	case permOwner, permLimited:
		return false, nil
	case permExistingAccess:
		return false, fmt.Errorf("permission %s: %w", permID, ErrNotFound)
	}
	d.removePerm(p)
	d.sharingChanged(i)
	return true, nil
}

// ensureUnique breaks item i's inheritance the way sharing does in
// SharePoint: the entries of its nearest unique ancestor are copied onto it
// (links keep their id and URL; an existingAccess link grants nothing and is
// not copied). It reports whether it broke inheritance. Caller holds t.mu
// for writing.
func (d *drive) ensureUnique(i int32) bool {
	if i == 0 || d.items[i].flags&flagUnique != 0 {
		return false
	}
	h := d.holder(i)
	d.items[i].flags |= flagUnique
	for q := d.items[h].perms; q >= 0; q = d.perms[q].next {
		if d.perms[q].kind == permExistingAccess {
			continue
		}
		c := d.perms[q]
		c.item = i
		d.appendPerm(c)
	}
	return true
}

// inherit makes item i inherit again: its own entries are dropped.
func (d *drive) inherit(i int32) {
	for d.items[i].perms >= 0 {
		d.removePerm(d.items[i].perms)
	}
	d.items[i].flags &^= flagUnique
}

// UpdatePermission changes roles on a direct user grant or the expiry of an
// anonymous link, and rejects everything else as Graph does.
func (t *Tenant) UpdatePermission(driveID, itemID, permID string, patch PermissionPatch) (Permission, error) {
	d, ok := t.drive(driveID)
	if !ok {
		return Permission{}, fmt.Errorf("drive %s: %w", driveID, ErrNotFound)
	}
	t.mu.Lock()
	out, changed, err := t.updatePermLocked(d, itemID, permID, patch, time.Now())
	t.mu.Unlock()
	if err != nil {
		return Permission{}, err
	}
	if changed {
		t.notify(d.id)
	}
	return out, nil
}

func (t *Tenant) updatePermLocked(d *drive, itemID, permID string, patch PermissionPatch, now time.Time) (Permission, bool, error) {
	i, ok := t.resolveItem(d, itemID)
	if !ok || !d.live(i) {
		return Permission{}, false, fmt.Errorf("item %s: %w", itemID, ErrNotFound)
	}
	p, err := t.findPerm(d, i, permID)
	if err != nil {
		return Permission{}, false, err
	}
	pr := &d.perms[p]
	if len(patch.Other) > 0 {
		return Permission{}, false, fmt.Errorf("%w: property '%s' cannot be updated on a permission", ErrInvalid, patch.Other[0])
	}
	write := pr.flags&pflagWrite != 0
	if patch.Roles != nil {
		if pr.kind != permDirectUser {
			return Permission{}, false, fmt.Errorf("%w: roles can only be updated on permissions granted directly to a user", ErrInvalid)
		}
		if len(patch.Roles) != 1 || (patch.Roles[0] != "read" && patch.Roles[0] != "write") {
			return Permission{}, false, fmt.Errorf("%w: roles must be exactly one of 'read' or 'write'", ErrInvalid)
		}
		write = patch.Roles[0] == "write"
	}
	expires := pr.expires
	if patch.ExpirationDateTime != nil {
		if pr.kind != permAnon {
			return Permission{}, false, fmt.Errorf("%w: expirationDateTime can only be updated on anonymous sharing links", ErrInvalid)
		}
		expires = 0
		if e := *patch.ExpirationDateTime; !e.IsZero() && e.Year() > 1 {
			expires = e.Truncate(time.Second).Unix()
		}
		if expires, err = t.policyExpiry(expires, now, true); err != nil {
			return Permission{}, false, err
		}
	}
	if patch.Roles == nil && patch.ExpirationDateTime == nil {
		return t.permValue(d, p, nil), false, nil
	}
	if write {
		pr.flags |= pflagWrite
	} else {
		pr.flags &^= pflagWrite
	}
	pr.expires = expires
	d.sharingChanged(i)
	return t.permValue(d, p, nil), true, nil
}
