package tenant

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// ApplyRandomChanges applies count random valid changes across the drives
// (fewer only if the tenant has nothing to change) and returns how many it
// applied. Each change takes the lock on its own so that readers, such as a
// delta round being paged, interleave with them; listeners hear about each
// changed drive once, at the end.
func (t *Tenant) ApplyRandomChanges(seed int64, count int) int {
	if len(t.drives) == 0 {
		return 0
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6368616e6765))
	applied := 0
	var changed []string
	seen := map[int32]bool{}
	for tries := 0; applied < count && tries < 20*count+100; tries++ {
		d := t.drives[rng.IntN(len(t.drives))]
		t.mu.Lock()
		if !t.provisioned(d.idx) { // nobody can change a OneDrive that does not exist yet
			t.mu.Unlock()
			continue
		}
		c, ok := t.randomChange(rng, d)
		if ok {
			if _, err := t.applyLocked(d, c, time.Now()); err == nil {
				applied++
				if !seen[d.idx] {
					seen[d.idx] = true
					changed = append(changed, d.id)
				}
			}
		}
		t.mu.Unlock()
	}
	t.notify(changed...)
	return applied
}

func (d *drive) randomLive(rng *rand.Rand, folder bool) int32 {
	for range 30 {
		i := int32(1 + rng.IntN(max(len(d.items)-1, 1)))
		if int(i) < len(d.items) && d.live(i) && (!folder || d.items[i].flags&flagFolder != 0) {
			return i
		}
	}
	return -1
}

func (d *drive) freeName(parent int32, base, ext string) string {
	name := base + ext
	for n := 2; d.childNamed(parent, name) >= 0; n++ {
		name = base + " (" + strconv.Itoa(n) + ")" + ext
	}
	return name
}

// randomChange draws one change for drive d in a realistic mix. Caller
// holds t.mu for writing.
func (t *Tenant) randomChange(rng *rand.Rand, d *drive) (Change, bool) {
	c := Change{DriveID: d.id}
	id := func(i int32) string { return t.ids.itemID(d.idx, i) }
	r := rng.IntN(100)
	switch {
	case r < 25: // create
		parent := int32(0)
		if rng.IntN(10) >= 3 {
			if f := d.randomLive(rng, true); f >= 0 {
				parent = f
			}
		}
		c.Op, c.ParentID = "create", id(parent)
		if rng.IntN(6) == 0 {
			c.Folder = true
			c.Name = d.freeName(parent, genericFolders[rng.IntN(len(genericFolders))], "")
		} else {
			e := pickExt(rng, docExts)
			c.Name = d.freeName(parent, docTopics[rng.IntN(len(docTopics))]+" "+strconv.Itoa(1+rng.IntN(999)), "."+e.ext)
			c.Size = 1 + int64(e.median*rng.ExpFloat64())
		}
	case r < 37: // rename
		i := d.randomLive(rng, false)
		if i < 0 {
			return c, false
		}
		c.Op, c.ItemID = "rename", id(i)
		old := d.name(i)
		ext := ""
		if k := strings.LastIndexByte(old, '.'); k > 0 && d.items[i].flags&flagFolder == 0 {
			ext = old[k:]
		}
		c.Name = d.freeName(d.items[i].parent, docTopics[rng.IntN(len(docTopics))]+docQualifiers[rng.IntN(len(docQualifiers))], ext)
	case r < 47: // move
		i := d.randomLive(rng, false)
		if i < 0 {
			return c, false
		}
		p := int32(0)
		if rng.IntN(4) > 0 {
			p = d.randomLive(rng, true)
		}
		if p < 0 || p == i || d.isAncestor(i, p) || p == d.items[i].parent {
			return c, false
		}
		c.Op, c.ItemID, c.ParentID = "move", id(i), id(p)
		if d.childNamed(p, d.name(i)) >= 0 {
			name := d.name(i)
			ext := ""
			if k := strings.LastIndexByte(name, '.'); k > 0 && d.items[i].flags&flagFolder == 0 {
				name, ext = name[:k], name[k:]
			}
			c.Name = d.freeName(p, name, ext)
		}
	case r < 55: // delete: mostly files, since a top folder takes much with it
		i := d.randomLive(rng, false)
		if i < 0 || d.items[i].flags&flagFolder != 0 && rng.IntN(4) > 0 {
			return c, false
		}
		c.Op, c.ItemID = "delete", id(i)
	case r < 77: // share
		i := d.randomLive(rng, false)
		if i < 0 {
			return c, false
		}
		p := t.randomPerm(rng, d, i)
		c.Op, c.ItemID = "share", id(i)
		c.LinkType = linkTypes[p.linkType]
		switch p.kind {
		case permAnon:
			c.Scope = "anonymous"
			c.HasPassword = p.flags&pflagPassword != 0
			if p.expires != 0 {
				e := time.Now().Add(time.Duration(1+rng.IntN(90)) * 24 * time.Hour)
				c.ExpiresAt = &e
			}
		case permOrg:
			c.Scope = "organization"
		case permUsers:
			c.Scope, c.GranteeID = "users", t.users[p.grantee].ID
		case permDirectUser:
			c.Scope, c.GranteeID, c.LinkType = "direct", t.users[p.grantee].ID, ""
		case permDirectGroup:
			c.Scope, c.GranteeID, c.LinkType = "direct", t.groups[p.grantee].ID, ""
		case permEveryone:
			c.Scope, c.LinkType, c.Role = "everyone", "", roleOf(&p)
		case permApp:
			c.Scope, c.GranteeID, c.LinkType, c.Role = "application", t.apps[p.grantee].ID, "", roleOf(&p)
		}
		if c.Scope == "direct" {
			c.Role = roleOf(&p)
		}
	default: // unshare or change a link: pick an existing sharing permission
		for range 30 {
			k := int32(rng.IntN(len(d.perms)))
			pr := &d.perms[k]
			if !isSharing(pr.kind) || !d.live(pr.item) {
				continue
			}
			c.ItemID, c.PermissionID = id(pr.item), t.permIDOf(d, k)
			if r < 90 {
				c.Op = "unshare"
				if rng.IntN(2) == 0 {
					c.PermissionID = ""
				}
				return c, true
			}
			if pr.kind != permAnon && pr.kind != permOrg && pr.kind != permUsers {
				continue
			}
			c.Op = "changeLink"
			if pr.kind == permAnon && rng.IntN(2) == 0 {
				e := time.Time{}
				if pr.expires == 0 {
					e = time.Now().Add(time.Duration(1+rng.IntN(60)) * 24 * time.Hour)
				}
				c.ExpiresAt = &e
			} else if linkTypes[pr.linkType] == "edit" {
				c.LinkType = "view"
			} else {
				c.LinkType = "edit"
			}
			return c, true
		}
		return c, false
	}
	return c, true
}
