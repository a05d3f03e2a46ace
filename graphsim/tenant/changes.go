package tenant

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Every change journals the items it touches (bumping their sequence, which
// is what delta reads), keeps folder sizes and the quota in step, and marks
// the parent folder changed when its children change, as Graph does.

// Apply performs one explicit change.
func (t *Tenant) Apply(c Change) (ChangeResult, error) {
	d, ok := t.drive(c.DriveID)
	if !ok {
		return ChangeResult{}, fmt.Errorf("drive %s: %w", c.DriveID, ErrNotFound)
	}
	t.mu.Lock()
	res, err := t.applyLocked(d, c, time.Now())
	t.mu.Unlock()
	if err != nil {
		return ChangeResult{}, fmt.Errorf("%s: %w", c.Op, err)
	}
	t.notify(d.id)
	return res, nil
}

func validName(s string) error {
	switch {
	case s == "" || strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: name must not be empty", ErrInvalid)
	case len(s) > 255:
		return fmt.Errorf("%w: name is longer than 255 bytes", ErrInvalid)
	case strings.ContainsAny(s, "\"*:<>?/\\|"):
		return fmt.Errorf("%w: name contains a character that is not allowed", ErrInvalid)
	case strings.HasSuffix(s, ".") || strings.HasSuffix(s, " ") || strings.HasPrefix(s, " "):
		return fmt.Errorf("%w: name must not start with a space or end with a space or a dot", ErrInvalid)
	}
	return nil
}

// folderOf resolves a live folder ("" means the root).
func (t *Tenant) folderOf(d *drive, id string) (int32, error) {
	if id == "" {
		return 0, nil
	}
	i, ok := t.resolveItem(d, id)
	if !ok || !d.live(i) {
		return 0, fmt.Errorf("parent %s: %w", id, ErrNotFound)
	}
	if d.items[i].flags&flagFolder == 0 {
		return 0, fmt.Errorf("%w: parent %s is not a folder", ErrInvalid, id)
	}
	return i, nil
}

// childrenChanged records that folder p gained or lost children: p is
// modified and journaled, and a size change is carried to every ancestor
// (each journaled, since its size facet changed).
func (d *drive) childrenChanged(p int32, delta int64, now uint32, who int32) {
	d.items[p].modified, d.items[p].modifiedBy = now, who
	for a := p; a >= 0; a = d.items[a].parent {
		d.items[a].size += delta
		d.touch(a)
		if delta == 0 {
			break
		}
	}
}

// moved records that an item of the given size left folder from for folder
// to. Both folders change; sizes change only below their lowest common
// ancestor, so folders whose state did not change are not journaled.
func (d *drive) moved(size int64, from, to int32, now uint32, who int32) {
	for _, p := range []int32{from, to} {
		d.items[p].modified, d.items[p].modifiedBy = now, who
		d.touch(p)
	}
	if size == 0 {
		return
	}
	var onTo []int32
	for a := to; a >= 0; a = d.items[a].parent {
		onTo = append(onTo, a)
	}
	lca := int32(0)
	for a := from; a >= 0; a = d.items[a].parent {
		if slices.Contains(onTo, a) {
			lca = a
			break
		}
		d.items[a].size -= size
		d.touch(a)
	}
	for a := to; a != lca; a = d.items[a].parent {
		d.items[a].size += size
		d.touch(a)
	}
}

func (t *Tenant) applyLocked(d *drive, c Change, at time.Time) (ChangeResult, error) {
	now, who := toStamp(at), d.owner
	switch c.Op {
	case "create":
		return t.applyCreate(d, c, at, now, who)
	case "rename":
		return t.applyRename(d, c, at, now, who)
	case "move":
		return t.applyMove(d, c, at, now, who)
	case "delete":
		return t.applyDelete(d, c, at, now, who)
	case "share":
		return t.applyShare(d, c, at, now, who)
	case "unshare":
		return t.applyUnshare(d, c, at, now, who)
	case "inherit":
		return t.applyInherit(d, c, at, now, who)
	case "changeLink":
		return t.applyChangeLink(d, c, at, now, who)
	}
	return ChangeResult{}, fmt.Errorf("%w: unknown op %q", ErrInvalid, c.Op)
}

// liveItem resolves a change's item, which must exist and not be deleted.
func (t *Tenant) liveItem(d *drive, id string) (int32, error) {
	i, ok := t.resolveItem(d, id)
	if !ok || !d.live(i) {
		return 0, fmt.Errorf("item %s: %w", id, ErrNotFound)
	}
	return i, nil
}

// nonRootItem is liveItem for changes the root folder refuses (what names the change).
func (t *Tenant) nonRootItem(d *drive, id, what string) (int32, error) {
	i, err := t.liveItem(d, id)
	if err == nil && i == 0 {
		err = fmt.Errorf("%w: cannot %s the root folder", ErrInvalid, what)
	}
	return i, err
}

// applyCreate creates a file or folder.
func (t *Tenant) applyCreate(d *drive, c Change, at time.Time, now uint32, who int32) (ChangeResult, error) {
	parent, err := t.folderOf(d, c.ParentID)
	if err != nil {
		return ChangeResult{}, err
	}
	if err := validName(c.Name); err != nil {
		return ChangeResult{}, err
	}
	if d.childNamed(parent, c.Name) >= 0 {
		return ChangeResult{}, fmt.Errorf("%w: nameAlreadyExists: an item named %q already exists in the folder", ErrInvalid, c.Name)
	}
	if c.Size < 0 {
		return ChangeResult{}, fmt.Errorf("%w: size must not be negative", ErrInvalid)
	}
	i := int32(len(d.items))
	d.items = append(d.items, node{parent: -1, firstChild: -1, nextSibling: -1, perms: -1,
		created: now, modified: now, createdBy: who, modifiedBy: who})
	d.setName(i, c.Name)
	d.link(i, parent)
	if c.Folder {
		d.items[i].flags |= flagFolder
	} else {
		size := c.Size
		if size == 0 {
			size = 1024 + int64(mix(t.ids.key^uint64(d.seq())<<20^uint64(d.idx))%4_000_000)
		}
		d.items[i].size = size
	}
	d.touch(i)
	d.childrenChanged(parent, d.items[i].size, now, who)
	d.modified = at.UTC().Truncate(time.Second)
	return ChangeResult{ItemID: t.ids.itemID(d.idx, i)}, nil
}

// applyRename renames an item.
func (t *Tenant) applyRename(d *drive, c Change, at time.Time, now uint32, who int32) (ChangeResult, error) {
	i, err := t.nonRootItem(d, c.ItemID, "rename")
	if err != nil {
		return ChangeResult{}, err
	}
	if err := validName(c.Name); err != nil {
		return ChangeResult{}, err
	}
	if o := d.childNamed(d.items[i].parent, c.Name); o >= 0 && o != i {
		return ChangeResult{}, fmt.Errorf("%w: nameAlreadyExists: an item named %q already exists in the folder", ErrInvalid, c.Name)
	}
	if !d.nameEquals(i, c.Name) {
		d.setName(i, c.Name)
	}
	d.items[i].modified, d.items[i].modifiedBy = now, who
	d.touch(i)
	d.modified = at.UTC().Truncate(time.Second)
	return ChangeResult{ItemID: c.ItemID}, nil
}

// applyMove moves an item to another folder (and renames it when asked).
func (t *Tenant) applyMove(d *drive, c Change, at time.Time, now uint32, who int32) (ChangeResult, error) {
	i, err := t.nonRootItem(d, c.ItemID, "move")
	if err != nil {
		return ChangeResult{}, err
	}
	parent, err := t.folderOf(d, c.ParentID)
	if err != nil {
		return ChangeResult{}, err
	}
	if parent == i || d.isAncestor(i, parent) {
		return ChangeResult{}, fmt.Errorf("%w: cannot move a folder into itself", ErrInvalid)
	}
	name := d.name(i)
	if c.Name != "" {
		if err := validName(c.Name); err != nil {
			return ChangeResult{}, err
		}
		name = c.Name
	}
	if parent == d.items[i].parent && name == d.name(i) {
		return ChangeResult{}, fmt.Errorf("%w: the item is already in that folder", ErrInvalid)
	}
	if o := d.childNamed(parent, name); o >= 0 && o != i {
		return ChangeResult{}, fmt.Errorf("%w: nameAlreadyExists: an item named %q already exists in the folder", ErrInvalid, name)
	}
	if name != d.name(i) {
		d.setName(i, name)
	}
	old := d.items[i].parent
	d.unlink(i)
	d.link(i, parent)
	d.moved(d.items[i].size, old, parent, now, who)
	d.touch(i)
	d.modified = at.UTC().Truncate(time.Second)
	return ChangeResult{ItemID: c.ItemID}, nil
}

// applyDelete deletes an item and everything below it, each journaled.
func (t *Tenant) applyDelete(d *drive, c Change, at time.Time, now uint32, who int32) (ChangeResult, error) {
	i, err := t.nonRootItem(d, c.ItemID, "delete")
	if err != nil {
		return ChangeResult{}, err
	}
	// Tombstone the subtree, deepest first, each journaled so that an
	// incremental round reports every deleted item.
	var sub []int32
	var walk func(int32)
	walk = func(j int32) {
		for c := d.items[j].firstChild; c >= 0; c = d.items[c].nextSibling {
			walk(c)
		}
		sub = append(sub, j)
	}
	walk(i)
	size := d.items[i].size
	parent := d.items[i].parent
	d.unlink(i)
	for _, j := range sub {
		for d.items[j].perms >= 0 {
			d.removePerm(d.items[j].perms)
		}
		d.items[j].flags |= flagDeleted
		d.touch(j)
	}
	d.deleted += size
	d.childrenChanged(parent, -size, now, who)
	d.modified = at.UTC().Truncate(time.Second)
	return ChangeResult{ItemID: c.ItemID}, nil
}

// applyShare adds a sharing permission.
func (t *Tenant) applyShare(d *drive, c Change, at time.Time, now uint32, who int32) (ChangeResult, error) {
	i, err := t.nonRootItem(d, c.ItemID, "share")
	if err != nil {
		return ChangeResult{}, err
	}
	p, err := t.permFromChange(c, i, now)
	if err != nil {
		return ChangeResult{}, err
	}
	k, changed := d.addPerm(p)
	if !changed {
		return ChangeResult{}, fmt.Errorf("%w: the item already has this sharing", ErrInvalid)
	}
	d.sharingChanged(i)
	return ChangeResult{ItemID: c.ItemID, PermissionID: t.permIDOf(d, k)}, nil
}

// applyUnshare removes one permission, or all of the item's own sharing.
func (t *Tenant) applyUnshare(d *drive, c Change, at time.Time, now uint32, who int32) (ChangeResult, error) {
	i, err := t.liveItem(d, c.ItemID)
	if err != nil {
		return ChangeResult{}, err
	}
	if c.PermissionID != "" {
		_, err := t.deletePermLocked(d, c.ItemID, c.PermissionID)
		return ChangeResult{ItemID: c.ItemID, PermissionID: c.PermissionID}, err
	}
	removed := 0
	for p := d.items[i].perms; p >= 0; {
		next := d.perms[p].next
		if k := d.perms[p].kind; k != permOwner && k != permLimited {
			d.removePerm(p)
			removed++
		}
		p = next
	}
	if removed == 0 {
		return ChangeResult{}, fmt.Errorf("%w: the item has no sharing of its own", ErrInvalid)
	}
	d.sharingChanged(i)
	return ChangeResult{ItemID: c.ItemID}, nil
}

// applyInherit makes an item inherit its sharing again.
func (t *Tenant) applyInherit(d *drive, c Change, at time.Time, now uint32, who int32) (ChangeResult, error) {
	i, err := t.nonRootItem(d, c.ItemID, "reset the sharing of")
	if err != nil {
		return ChangeResult{}, err
	}
	if d.items[i].flags&flagUnique == 0 {
		return ChangeResult{}, fmt.Errorf("%w: the item already inherits its sharing", ErrInvalid)
	}
	d.inherit(i)
	d.sharingChanged(i)
	return ChangeResult{ItemID: c.ItemID}, nil
}

// applyChangeLink changes a link's type or expiry.
func (t *Tenant) applyChangeLink(d *drive, c Change, at time.Time, now uint32, who int32) (ChangeResult, error) {
	i, err := t.liveItem(d, c.ItemID)
	if err != nil {
		return ChangeResult{}, err
	}
	p, err := t.findPerm(d, i, c.PermissionID)
	if err != nil {
		return ChangeResult{}, err
	}
	pr := &d.perms[p]
	if pr.kind != permAnon && pr.kind != permOrg && pr.kind != permUsers {
		return ChangeResult{}, fmt.Errorf("%w: permission %s is not a sharing link", ErrInvalid, c.PermissionID)
	}
	if c.LinkType == "" && c.ExpiresAt == nil {
		return ChangeResult{}, fmt.Errorf("%w: changeLink needs linkType or expiresAt", ErrInvalid)
	}
	if c.LinkType != "" {
		lt, ok := linkTypeIndex(c.LinkType)
		if !ok {
			return ChangeResult{}, fmt.Errorf("%w: unknown link type %q", ErrInvalid, c.LinkType)
		}
		pr.linkType = lt
		pr.flags &^= pflagPreventsDownload
		if c.LinkType == "blocksDownload" {
			pr.flags |= pflagPreventsDownload
		}
	}
	if c.ExpiresAt != nil {
		expires := int64(0)
		if !c.ExpiresAt.IsZero() && c.ExpiresAt.Year() > 1 {
			expires = c.ExpiresAt.Truncate(time.Second).Unix()
		}
		if pr.kind == permAnon {
			if expires, err = t.policyExpiry(expires, at, true); err != nil {
				return ChangeResult{}, err
			}
		}
		pr.expires = expires
	}
	d.sharingChanged(i)
	return ChangeResult{ItemID: c.ItemID, PermissionID: c.PermissionID}, nil
}

func linkTypeIndex(s string) (uint8, bool) {
	for k, v := range linkTypes {
		if v == s {
			return uint8(k), true
		}
	}
	return 0, false
}

// permFromChange validates a share change and builds the permission.
func (t *Tenant) permFromChange(c Change, i int32, now uint32) (perm, error) {
	p := perm{item: i, next: -1, grantee: -1, created: now}
	linkType := c.LinkType
	if linkType == "" {
		linkType = "view"
	}
	lt, ok := linkTypeIndex(linkType)
	if !ok {
		return perm{}, fmt.Errorf("%w: unknown link type %q", ErrInvalid, c.LinkType)
	}
	user := func() (int32, error) {
		u, ok := t.userByID[strings.ToLower(c.GranteeID)]
		if !ok {
			return 0, fmt.Errorf("%w: grantee %q is not a user of the tenant", ErrInvalid, c.GranteeID)
		}
		return u, nil
	}
	if p, ok, err := t.fieldKindFromChange(c, p); ok || err != nil {
		return p, err
	}
	if c.ExpiresAt != nil && c.Scope != "anonymous" {
		return perm{}, fmt.Errorf("%w: only anonymous links can expire", ErrInvalid)
	}
	if c.HasPassword && c.Scope != "anonymous" {
		return perm{}, fmt.Errorf("%w: only anonymous links can have a password", ErrInvalid)
	}
	switch c.Scope {
	case "anonymous", "organization", "users":
		p.kind = map[string]uint8{"anonymous": permAnon, "organization": permOrg, "users": permUsers}[c.Scope]
		p.linkType = lt
		if linkType == "blocksDownload" {
			p.flags |= pflagPreventsDownload
		}
		if c.HasPassword {
			p.flags |= pflagPassword
		}
		if c.ExpiresAt != nil && !c.ExpiresAt.IsZero() {
			p.expires = c.ExpiresAt.Truncate(time.Second).Unix()
		}
		if p.kind == permAnon {
			p.expires, _ = t.policyExpiry(p.expires, fromStamp(now), false) // a new link is never refused
		}
		if c.Scope == "users" {
			u, err := user()
			if err != nil {
				return perm{}, err
			}
			p.grantee = u
		}
	case "direct":
		if g, ok := t.groupByID[strings.ToLower(c.GranteeID)]; ok {
			p.kind, p.grantee = permDirectGroup, g
		} else {
			u, err := user()
			if err != nil {
				return perm{}, err
			}
			p.kind, p.grantee = permDirectUser, u
		}
		switch {
		case c.Role == "write" || c.Role == "" && c.LinkType == "edit":
			p.flags |= pflagWrite
		case c.Role == "" || c.Role == "read":
		default:
			return perm{}, fmt.Errorf("%w: role must be read or write", ErrInvalid)
		}
	default:
		return perm{}, fmt.Errorf("%w: scope must be anonymous, organization, users or direct", ErrInvalid)
	}
	return p, nil
}

// fieldKindFromChange builds a share of a kind seen in the field; false when
// c.Scope is none of them.
func (t *Tenant) fieldKindFromChange(c Change, p perm) (perm, bool, error) {
	switch c.Scope {
	case ExistingAccessScope:
		p.kind = permExistingAccess
	case "everyone":
		p.kind = permEveryone
	case "application":
		k := slices.IndexFunc(t.apps, func(a Identity) bool { return strings.EqualFold(a.ID, c.GranteeID) })
		if k < 0 {
			return perm{}, true, fmt.Errorf("%w: grantee %q is not an application of the tenant", ErrInvalid, c.GranteeID)
		}
		p.kind, p.grantee = permApp, int32(k)
	case "limitedAccess":
		u, ok := t.userByID[strings.ToLower(c.GranteeID)]
		if !ok {
			return perm{}, true, fmt.Errorf("%w: grantee %q is not a user of the tenant", ErrInvalid, c.GranteeID)
		}
		p.kind, p.grantee = permLimited, u
	default:
		return p, false, nil
	}
	switch c.Role {
	case "write":
		p.flags |= pflagWrite
	case "", "read":
	default:
		return perm{}, true, fmt.Errorf("%w: role must be read or write", ErrInvalid)
	}
	return p, true, nil
}
