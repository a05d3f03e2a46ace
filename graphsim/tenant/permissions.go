package tenant

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// An item's permissions are its own (the list at node.perms) followed by
// those of every ancestor that has own permissions, nearest first. The drive
// root's own list starts with the owner's grant, so every item lists it as
// inherited from the root. Inherited entries keep the ancestor's id.

func roleOf(p *perm) string {
	switch p.kind {
	case permOwner:
		return "owner"
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

func linkScope(kind uint8) string {
	switch kind {
	case permAnon:
		return "anonymous"
	case permOrg:
		return "organization"
	case permUsers:
		return "users"
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

// permValue builds the Permission for own permission p of drive d. Caller
// holds t.mu.
func (t *Tenant) permValue(d *drive, p int32, from *ItemReference) Permission {
	pr := &d.perms[p]
	out := Permission{
		ID:            t.ids.permID(d.idx, p),
		Roles:         []string{roleOf(pr)},
		HasPassword:   pr.flags&pflagPassword != 0 && t.cfg.ReportLinkPasswords,
		PasswordSet:   pr.flags&pflagPassword != 0,
		InheritedFrom: from,
	}
	if pr.expires != 0 {
		out.ExpirationDateTime = time.Unix(pr.expires, 0).UTC()
	}
	switch pr.kind {
	case permAnon, permOrg, permUsers:
		personal := strings.TrimSuffix(strings.TrimPrefix(d.webURL, "https://"+t.host+"/"), "/Documents")
		web := "https://" + t.host + "/:" + string(rune(pr.urlKind)) +
			":/g/" + personal + "/E" + t.ids.opaque(7, d.idx, p, 45)
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
	case permOwner, permDirectUser:
		id := t.identity(pr.grantee)
		out.GrantedToUser = &id
		out.Guest = t.isGuest(pr.grantee)
	case permDirectGroup:
		g := t.groups[pr.grantee]
		out.GrantedToGroup = &g
	}
	if out.Guest {
		out.Invitation = &Invitation{Email: t.users[pr.grantee].Mail, SignInRequired: true}
	}
	return out
}

func (t *Tenant) itemRef(d *drive, i int32) *ItemReference {
	p := "/drives/" + d.id + "/root:"
	if i != 0 {
		p += d.path(i)
	}
	return &ItemReference{DriveID: d.id, ID: t.ids.itemID(d.idx, i), Path: p}
}

// Permissions lists an item's own and inherited permissions.
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
	out := []Permission{}
	for p := d.items[i].perms; p >= 0; p = d.perms[p].next {
		out = append(out, t.permValue(d, p, nil))
	}
	for a := d.items[i].parent; a >= 0; a = d.items[a].parent {
		if d.items[a].perms < 0 {
			continue
		}
		var ref *ItemReference
		if !t.cfg.OmitInheritedFrom {
			ref = t.itemRef(d, a)
		}
		for p := d.items[a].perms; p >= 0; p = d.perms[p].next {
			out = append(out, t.permValue(d, p, ref))
		}
	}
	return out, nil
}

// findPerm resolves permID as seen from item i: its own permission, one it
// inherits (ErrInherited), or unknown (ErrNotFound).
func (t *Tenant) findPerm(d *drive, i int32, permID string) (int32, error) {
	dd, p, ok := t.ids.parsePermID(permID)
	if !ok || dd != d.idx || p < 0 || int(p) >= len(d.perms) || d.perms[p].kind == permRemoved {
		return 0, fmt.Errorf("permission %s: %w", permID, ErrNotFound)
	}
	owner := d.perms[p].item
	switch {
	case owner == i:
		return p, nil
	case d.live(owner) && d.isAncestor(owner, i):
		return 0, fmt.Errorf("permission %s is inherited from a parent folder and can only be removed there: %w", permID, ErrInherited)
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

// DeletePermission removes a permission set on the item itself.
func (t *Tenant) DeletePermission(driveID, itemID, permID string) error {
	d, ok := t.drive(driveID)
	if !ok {
		return fmt.Errorf("drive %s: %w", driveID, ErrNotFound)
	}
	t.mu.Lock()
	err := t.deletePermLocked(d, itemID, permID)
	t.mu.Unlock()
	if err != nil {
		return err
	}
	t.notify(d.id)
	return nil
}

func (t *Tenant) deletePermLocked(d *drive, itemID, permID string) error {
	i, ok := t.resolveItem(d, itemID)
	if !ok || !d.live(i) {
		return fmt.Errorf("item %s: %w", itemID, ErrNotFound)
	}
	p, err := t.findPerm(d, i, permID)
	if err != nil {
		return err
	}
	if d.perms[p].kind == permOwner {
		return fmt.Errorf("%w: cannot remove owner permission", ErrInvalid)
	}
	d.removePerm(p)
	d.sharingChanged(i)
	return nil
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
