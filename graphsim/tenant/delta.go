package tenant

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// Delta tokens. A round walks a drive's journal from a cursor up to the
// sequence the drive had when the round started (snap) and returns every
// item whose latest journal entry lies in that range and whose sequence is
// above base. Because a changed item's older entries go stale, a journal
// entry is returned at most once per round. But an item can still come more
// than once, as on Graph (docs/graph-behaviour.md, "Delta in the field"):
//   - when the walk reaches snap and the drive changed meanwhile, the round
//     is extended to the drive's new sequence (at most maxExtensions times),
//     so an item changed while the round was paged comes again later in the
//     same round, in its new state; deletions made meanwhile are reported
//     even in a full enumeration;
//   - on incremental rounds every changed item is followed by its ancestors,
//     up to the root, even when they were sent before.
// The deltaLink's base is the round's last snap: nothing is lost, and
// repeats across rounds are allowed. Lenient.NoRepeats turns both off.

// maxExtensions bounds how often one round takes in changes made while it
// was paged, so that a drive under constant change still ends its rounds.
const maxExtensions = 2

// deletedPageItems is how many entries a page holding deleted items carries,
// whatever $top asks (onedrive-api-docs#1464, #1285).
const deletedPageItems = 7

const (
	tokNext  = 1 // a nextLink: {base, snap, cursor}
	tokDelta = 2 // a deltaLink: changes after base
)

type deltaToken struct {
	kind   uint8
	ext    uint8 // extensions so far (a nextLink's round)
	drive  uint32
	epoch  uint32
	base   uint32
	snap   uint32
	cursor uint32
}

const tokenLen = 1 + 5*4 + 4

func (t *Tenant) encodeToken(k deltaToken) string {
	var b [tokenLen]byte
	b[0] = k.kind | k.ext<<4
	binary.BigEndian.PutUint32(b[1:], k.drive)
	binary.BigEndian.PutUint32(b[5:], k.epoch)
	binary.BigEndian.PutUint32(b[9:], k.base)
	binary.BigEndian.PutUint32(b[13:], k.snap)
	binary.BigEndian.PutUint32(b[17:], k.cursor)
	binary.BigEndian.PutUint32(b[21:], t.tokenSum(b[:21]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// tokenSum is a keyed checksum: it catches mangled or made-up tokens (it is
// not meant to resist forgery; the simulator has nothing to protect).
func (t *Tenant) tokenSum(b []byte) uint32 {
	h := t.ids.key ^ 0x746f6b656e
	for _, c := range b {
		h = mix(h ^ uint64(c))
	}
	return uint32(h)
}

func (t *Tenant) decodeToken(s string) (deltaToken, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != tokenLen || binary.BigEndian.Uint32(b[21:]) != t.tokenSum(b[:21]) {
		return deltaToken{}, fmt.Errorf("%w: invalid delta token", ErrInvalid)
	}
	k := deltaToken{
		kind:   b[0] & 0x0f,
		ext:    b[0] >> 4,
		drive:  binary.BigEndian.Uint32(b[1:]),
		epoch:  binary.BigEndian.Uint32(b[5:]),
		base:   binary.BigEndian.Uint32(b[9:]),
		snap:   binary.BigEndian.Uint32(b[13:]),
		cursor: binary.BigEndian.Uint32(b[17:]),
	}
	if k.kind != tokNext && k.kind != tokDelta {
		return deltaToken{}, fmt.Errorf("%w: invalid delta token", ErrInvalid)
	}
	return k, nil
}

const (
	defaultPage = 200
	maxPage     = 1000
)

// Delta serves one page of a delta round on a drive's root. See api.go.
// ShowRemovedAsDeleted and TraversePermissionGaps change nothing here: the
// simulator's caller is an app that sees every item, so there are no
// permission gaps to traverse and deletions always come as deleted items.
func (t *Tenant) Delta(driveID, itemID, token string, opt DeltaOptions) (DeltaPage, error) {
	d, ok := t.drive(driveID)
	if !ok {
		return DeltaPage{}, fmt.Errorf("drive %s: %w", driveID, ErrNotFound)
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	i, ok := t.resolveItem(d, itemID)
	if !ok || !d.live(i) {
		return DeltaPage{}, fmt.Errorf("item %s: %w", itemID, ErrNotFound)
	}
	if i != 0 {
		return DeltaPage{}, ErrDeltaNotSupported
	}
	top := opt.Top
	if top <= 0 {
		top = defaultPage
	}
	top = min(top, maxPage)
	seq := d.seq()
	var k deltaToken
	switch token {
	case "":
		k = deltaToken{kind: tokNext, drive: uint32(d.idx), epoch: d.epoch, snap: seq}
	case "latest":
		return DeltaPage{Items: []Item{}, DeltaToken: t.encodeToken(deltaToken{
			kind: tokDelta, drive: uint32(d.idx), epoch: d.epoch, base: seq, snap: seq, cursor: seq,
		})}, nil
	default:
		var err error
		if k, err = t.decodeToken(token); err != nil {
			return DeltaPage{}, err
		}
		if k.drive != uint32(d.idx) || k.base > seq || k.snap > seq || k.cursor > k.snap && k.kind == tokNext {
			return DeltaPage{}, fmt.Errorf("%w: delta token does not belong to this drive", ErrInvalid)
		}
		if k.epoch != d.epoch {
			return DeltaPage{}, &ResyncError{Variant: d.resync, FreshToken: t.encodeToken(deltaToken{
				kind: tokNext, drive: uint32(d.idx), epoch: d.epoch, snap: seq,
			})}
		}
		if k.kind == tokDelta && k.base < d.folderResync {
			return DeltaPage{}, &ResyncError{Variant: d.folderVariant, FreshToken: t.encodeToken(deltaToken{
				kind: tokNext, drive: uint32(d.idx), epoch: d.epoch, snap: seq,
			})}
		}
		if k.kind == tokDelta {
			k = deltaToken{kind: tokNext, drive: k.drive, epoch: k.epoch, base: k.base, snap: seq, cursor: k.base}
		}
	}
	lax := t.cfg.Lenient
	page := DeltaPage{Items: make([]Item, 0, min(top, int(k.snap-k.cursor)))}
	pos, more := t.advance(d, &k, k.cursor, lax)
	for entries, deleted := 0, 0; more && entries < top; entries++ {
		if deleted > 0 && len(page.Items) >= deletedPageItems && !lax.FullDeletedPages {
			break
		}
		i := d.journal[pos]
		if d.items[i].flags&flagDeleted != 0 {
			page.Items = append(page.Items, t.tombstoneValue(d, i))
			deleted++
		} else {
			page.Items = append(page.Items, t.deltaItem(d, i, k.base, opt, lax))
			if k.base > 0 && !lax.NoRepeats {
				for a := d.items[i].parent; a >= 0; a = d.items[a].parent {
					page.Items = append(page.Items, t.deltaItem(d, a, k.base, opt, lax))
				}
			}
		}
		pos, more = t.advance(d, &k, pos+1, lax)
	}
	if !more {
		page.DeltaToken = t.encodeToken(deltaToken{kind: tokDelta, drive: k.drive, epoch: k.epoch, base: k.snap, snap: k.snap, cursor: k.snap})
	} else {
		k.cursor = pos
		page.NextToken = t.encodeToken(k)
	}
	return page, nil
}

// advance moves pos to the next journal entry the round returns, extending
// the round over changes made since its snap (see the top of this file). It
// reports false when the round has nothing more. Caller holds t.mu.
func (t *Tenant) advance(d *drive, k *deltaToken, pos uint32, lax Lenient) (uint32, bool) {
	for {
		for ; pos < k.snap; pos++ {
			n := &d.items[d.journal[pos]]
			if n.seq == pos+1 && n.flags&flagSilent == 0 && (n.flags&flagDeleted == 0 || k.base > 0) {
				return pos, true
			}
		}
		if lax.NoRepeats || k.ext >= maxExtensions || d.seq() <= k.snap {
			return pos, false
		}
		if k.base == 0 {
			// Deletions made while a full enumeration was paged are
			// reported: the items may have been returned already.
			k.base = k.snap
		}
		k.snap, k.ext = d.seq(), k.ext+1
	}
}

// deltaItem is live item i as a delta round reports it. Caller holds t.mu.
func (t *Tenant) deltaItem(d *drive, i int32, base uint32, opt DeltaOptions, lax Lenient) Item {
	it := t.itemValue(d, i)
	if opt.ScopedDown {
		return it // no sharing information at all for an app without Sites.FullControl.All
	}
	it.Shared = t.sharedFacet(d, i, opt.HierarchicalSharing)
	it.SharedChanged = opt.ShowSharingChanges && base > 0 && d.items[i].sharingSeq > base &&
		(!it.Folder || lax.FolderSharedChanged)
	return it
}

// InvalidateDelta makes every token issued so far answer *ResyncError.
func (t *Tenant) InvalidateDelta() { t.InvalidateDeltaAs(ResyncApply) }

// scopeRank orders sharing kinds by reach: anonymous > organization (links,
// and grants to Everyone except external users) > specific people, direct
// and application grants. The owner's grant, limited access and
// existingAccess links are not sharing.
func scopeRank(kind uint8) int {
	switch kind {
	case permAnon:
		return 3
	case permOrg, permEveryone:
		return 2
	case permUsers, permDirectUser, permDirectGroup, permApp:
		return 1
	}
	return 0
}

func scopeName(rank int) string {
	switch rank {
	case 3:
		return "anonymous"
	case 2:
		return "organization"
	}
	return "users"
}

// sharedFacet computes the shared facet delta reports for live item i.
// Caller holds t.mu.
func (t *Tenant) sharedFacet(d *drive, i int32, hierarchical bool) *SharedFacet {
	rank, when := 0, uint32(0)
	scan := func(j int32) {
		for p := d.items[j].perms; p >= 0; p = d.perms[p].next {
			pr := &d.perms[p]
			if r := scopeRank(pr.kind); r > 0 {
				rank = max(rank, r)
				when = max(when, pr.created)
			}
		}
	}
	scan(i)
	if hierarchical {
		if rank == 0 {
			if i == 0 || d.items[i].flags&flagUnique != 0 {
				return &SharedFacet{Empty: true}
			}
			return nil
		}
	} else {
		if h := d.holder(i); h != i {
			scan(h)
		}
		if rank == 0 {
			return nil
		}
	}
	owner := t.identity(d.owner)
	return &SharedFacet{Scope: scopeName(rank), Owner: &owner, SharedDateTime: fromStamp(when)}
}
