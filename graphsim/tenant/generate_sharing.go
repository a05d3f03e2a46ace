package tenant

import (
	"math/rand/v2"
)

// colleague picks an enabled member other than owner (owner if alone).
func (t *Tenant) colleague(rng *rand.Rand, owner int32) int32 {
	if len(t.members) < 2 {
		return owner
	}
	for {
		c := t.members[rng.IntN(len(t.members))]
		if c != owner {
			return c
		}
	}
}

func (t *Tenant) randomGuest(rng *rand.Rand, owner int32) int32 {
	if len(t.guests) == 0 {
		return t.colleague(rng, owner)
	}
	return t.guests[rng.IntN(len(t.guests))]
}

// randomPerm draws one sharing permission for item i in a realistic mix.
func (t *Tenant) randomPerm(rng *rand.Rand, d *drive, i int32) perm {
	n := &d.items[i]
	created := int64(n.created) + rng.Int64N(max(int64(toStamp(t.cfg.Now))-int64(n.created), 1))
	p := perm{item: i, next: -1, created: uint32(created), grantee: -1}
	edit := func(pr float64) uint8 {
		if rng.Float64() < pr {
			return 1
		}
		return 0
	}
	switch r := rng.Float64(); {
	case r < 0.30:
		p.kind = permAnon
		p.linkType = edit(0.35)
		if rng.Float64() < 0.3 {
			p.expires = t.generatedExpiry(rng.IntN(70), p.created)
		}
		if rng.Float64() < 0.15 {
			p.flags |= pflagPassword
		}
	case r < 0.55:
		p.kind = permOrg
		p.linkType = edit(0.3)
	case r < 0.70:
		p.kind = permUsers
		p.linkType = edit(0.3)
		if rng.Float64() < 0.6 {
			p.grantee = t.colleague(rng, d.owner)
		} else {
			p.grantee = t.randomGuest(rng, d.owner)
		}
	case r < 0.93:
		p.kind = permDirectUser
		if rng.Float64() < 0.4 {
			p.flags |= pflagWrite
		}
		if rng.Float64() < 0.7 {
			p.grantee = t.colleague(rng, d.owner)
		} else {
			p.grantee = t.randomGuest(rng, d.owner)
		}
	default:
		p.kind = permDirectGroup
		p.grantee = int32(rng.IntN(len(t.groups)))
		if rng.Float64() < 0.3 {
			p.flags |= pflagWrite
		}
		// Kinds of the field, in their rough share of what sharing reports
		// show (see docs/graph-behaviour.md).
		switch {
		case t.cfg.PlainPermissions:
		case r >= 0.975 && len(t.apps) > 0:
			p.kind, p.grantee = permApp, p.grantee%int32(len(t.apps))
		case r >= 0.95:
			p.kind, p.grantee = permEveryone, -1
		}
	}
	if (p.kind == permOrg || p.kind == permUsers) && p.linkType == 0 && rng.Float64() < 0.05 {
		p.linkType = 2 // blocksDownload
		p.flags |= pflagPreventsDownload
	}
	return p
}

// appendPerm appends p at the end of its item's own list (listing order is
// creation order) and returns its index.
func (d *drive) appendPerm(p perm) int32 {
	k := int32(len(d.perms))
	p.next = -1
	d.perms = append(d.perms, p)
	n := &d.items[p.item]
	if n.perms < 0 {
		n.perms = k
	} else {
		last := n.perms
		for d.perms[last].next >= 0 {
			last = d.perms[last].next
		}
		d.perms[last].next = k
	}
	return k
}

// principalClass groups the kinds that name one principal: SharePoint keeps
// one role assignment per principal and item. 0 for links.
func principalClass(kind uint8) uint8 {
	switch kind {
	case permOwner, permDirectUser, permLimited:
		return permDirectUser
	case permDirectGroup, permEveryone, permApp:
		return kind
	}
	return 0
}

// addPerm gives item p.item the permission p and returns its index and
// whether the item's list changed. The item's inheritance is broken first
// (ensureUnique). A grant to a principal the item already lists merges into
// that entry (write wins; a real grant replaces limited access; the owner
// stays the owner); a link is new.
func (d *drive) addPerm(p perm) (int32, bool) {
	i := p.item
	copied := d.ensureUnique(i)
	if c := principalClass(p.kind); c != 0 {
		for q := d.items[i].perms; q >= 0; q = d.perms[q].next {
			e := &d.perms[q]
			if principalClass(e.kind) != c || (c != permEveryone && e.grantee != p.grantee) {
				continue
			}
			was := *e
			switch {
			case e.kind == permOwner || p.kind == permLimited:
			case e.kind == permLimited:
				e.kind, e.flags, e.created = p.kind, p.flags, p.created
			default:
				e.flags |= p.flags & pflagWrite
			}
			return q, copied || *e != was
		}
	}
	p.urlKind = linkKind(d.name(i), d.items[i].flags&flagFolder != 0)[0]
	k := d.appendPerm(p)
	d.perms[k].origin = k
	return k, true
}

// limitedAccess gives the user a grant of p "sp.limited access" on the drive
// root, as SharePoint does when something below is shared with a person;
// true when the root's list changed. Generation only: a change made later
// would reach the root's list without delta marking the root (folders get
// no sharedChanged), and limited access is not sharing.
func (t *Tenant) limitedAccess(d *drive, p *perm) bool {
	if t.cfg.PlainPermissions || p.item == 0 || (p.kind != permDirectUser && p.kind != permUsers) || p.grantee < 0 {
		return false
	}
	_, changed := d.addPerm(perm{item: 0, kind: permLimited, grantee: p.grantee, created: p.created, next: -1})
	return changed
}
