package tenant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

const quotaTotal = 1 << 40 // 1 TB, the usual OneDrive for Business default

// New generates a tenant deterministically from cfg.Seed.
func New(cfg Config) *Tenant {
	cfg.Users = max(cfg.Users, 0)
	cfg.FilesPerUser = max(cfg.FilesPerUser, 0)
	cfg.ShareRatio = min(max(cfg.ShareRatio, 0), 1)
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	cfg.Now = cfg.Now.UTC().Truncate(time.Second)
	t := &Tenant{ids: idCodec{key: mix(uint64(cfg.Seed) ^ 0x6f76657273686172)}}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x74656e616e74))
	company := companyNames[rng.IntN(len(companyNames))]
	if cfg.Domain == "" {
		cfg.Domain = company + ".onmicrosoft.com"
	} else {
		company = strings.ToLower(strings.SplitN(cfg.Domain, ".", 2)[0])
	}
	if cfg.TenantID == "" {
		cfg.TenantID = t.ids.guid(9, 0)
	}
	t.cfg = cfg
	t.host = company + "-my.sharepoint.com"
	t.genDomains(company)
	t.genUsers(rng)
	t.genGroups()
	t.genApps()
	t.inheritedFrom = InheritedFromAbsent
	if cfg.InheritedFrom != "" {
		t.inheritedFrom = cfg.InheritedFrom
	}
	t.genDrives()
	for _, d := range t.drives {
		d.folderShared = t.folderSharingChanged
	}
	return t
}

func (t *Tenant) genUsers(rng *rand.Rand) {
	n := t.cfg.Users
	dom := t.cfg.Domain
	t.users = make([]User, n)
	t.userByID = make(map[string]int32, n)
	t.userByUPN = make(map[string]int32, n)
	t.userDrive = make([]int32, n)
	seen := make(map[string]bool, n)
	unique := func(local string) string {
		if !seen[local] {
			seen[local] = true
			return local
		}
		for k := 2; ; k++ {
			c := local + strconv.Itoa(k)
			if !seen[c] {
				seen[c] = true
				return c
			}
		}
	}
	consumed := make([]int, len(skuCatalog))
	var memberPos []int32 // members in hierarchy order
	const fanout = 10
	for i := range n {
		u := &t.users[i]
		u.ID = t.ids.guid(1, uint64(i))
		u.GivenName = firstNames[rng.IntN(len(firstNames))]
		u.Surname = lastNames[rng.IntN(len(lastNames))]
		u.DisplayName = u.GivenName + " " + u.Surname
		u.CreatedDateTime = t.cfg.Now.Add(-time.Duration(rng.Int64N(int64(6 * 365 * 24 * time.Hour)))).Truncate(time.Second)
		u.AccountEnabled = true
		local := strings.ToLower(u.GivenName + "." + u.Surname)
		if i > 0 && rng.Float64() < 0.08 {
			ext := externalDomains[rng.IntN(len(externalDomains))]
			local = unique(local + "@" + ext)
			u.Mail = local
			u.UserPrincipalName = strings.Replace(local, "@", "_", 1) + "#EXT#@" + dom
			u.UserType = "Guest"
			t.guests = append(t.guests, int32(i))
		} else {
			local = unique(local)
			u.UserPrincipalName = local + "@" + dom
			u.Mail = u.UserPrincipalName
			u.UserType = "Member"
			r := rng.Float64()
			disabled := i > 0 && r < 0.04
			unlicensed := i > 0 && !disabled && r < 0.09
			u.AccountEnabled = !disabled
			if !unlicensed {
				s := 0
				switch r2 := rng.Float64(); {
				case r2 < 0.25:
					s = 1
				case r2 < 0.40:
					s = 2
				}
				u.AssignedLicenses = []License{{SkuID: skuCatalog[s].id}}
				consumed[s]++
				u.HasDrive = true
			}
			m := len(memberPos)
			memberPos = append(memberPos, int32(i))
			switch {
			case m == 0:
				u.Department = "Executive"
				u.JobTitle = "Chief Executive Officer"
			case m <= fanout:
				u.Department = departments[(m-1)%len(departments)]
				u.JobTitle = "Head of " + u.Department
				u.ManagerID = t.users[memberPos[0]].ID
			default:
				mgr := &t.users[memberPos[(m-1)/fanout]]
				u.ManagerID = mgr.ID
				u.Department = mgr.Department
				titles := jobTitles[u.Department]
				u.JobTitle = titles[rng.IntN(len(titles))]
			}
			if u.AccountEnabled {
				t.members = append(t.members, int32(i))
			}
		}
		t.userByID[u.ID] = int32(i)
		t.userByUPN[strings.ToLower(u.UserPrincipalName)] = int32(i)
	}
	for k, s := range skuCatalog {
		t.skus = append(t.skus, Sku{
			SkuID:            s.id,
			SkuPartNumber:    s.part,
			CapabilityStatus: "Enabled",
			ConsumedUnits:    consumed[k],
			PrepaidEnabled:   consumed[k] + 5 + consumed[k]/10,
		})
	}
}

// genDomains makes the verified domains: Config.Domain (every user's) is the
// default; <company>.onmicrosoft.com is the initial one; and a third, an
// alias domain such as contoso.com that no user's address is on, only
// groups' (a Microsoft 365 group takes its address from the domain an
// address policy names, not from its members').
func (t *Tenant) genDomains(company string) {
	initial := company + ".onmicrosoft.com"
	t.domains = []Domain{{Name: t.cfg.Domain, IsDefault: true, IsInitial: t.cfg.Domain == initial, Type: "Managed"}}
	if t.cfg.Domain != initial {
		t.domains = append(t.domains, Domain{Name: initial, IsInitial: true, Type: "Managed"})
	}
	alias := company + ".com"
	if alias == t.cfg.Domain {
		alias = company + ".net"
	}
	t.domains = append(t.domains, Domain{Name: alias, Type: "Managed", Alias: true})
}

// aliasDomain is the verified domain no user's address is on.
func (t *Tenant) aliasDomain() string {
	for _, d := range t.domains {
		if d.Alias {
			return d.Name
		}
	}
	return t.cfg.Domain
}

func (t *Tenant) genGroups() {
	t.groupByID = map[string]int32{}
	for k, name := range groupNames {
		// An address policy put the groups made after the first on the
		// alias domain (Exchange Online's email address policies for
		// Microsoft 365 groups choose the domain of new groups' addresses).
		dom := t.cfg.Domain
		if k > 0 {
			dom = t.aliasDomain()
		}
		g := Identity{
			ID:          t.ids.guid(3, uint64(k)),
			DisplayName: name,
			Email:       strings.ToLower(strings.ReplaceAll(name, " ", "")) + "@" + dom,
		}
		t.groups = append(t.groups, g)
		t.groupByID[g.ID] = int32(k)
	}
}

// appNames are applications that commonly hold grants on files
// (Sites.Selected apps, sync and signing services).
var appNames = []string{"Contoso Records Sync", "DocuSign for SharePoint", "Backup Service"}

func (t *Tenant) genApps() {
	for k, name := range appNames {
		t.apps = append(t.apps, Identity{ID: t.ids.guid(4, uint64(k)), DisplayName: name})
	}
}

func (t *Tenant) genDrives() {
	t.driveByID = map[string]int32{}
	for u := range t.users {
		t.userDrive[u] = -1
		if !t.users[u].HasDrive {
			continue
		}
		d := &drive{idx: int32(len(t.drives)), owner: int32(u)}
		d.id = t.ids.driveID(d.idx)
		t.userDrive[u] = d.idx
		t.driveByID[d.id] = d.idx
		t.drives = append(t.drives, d)
	}
	t.pickDriveStates()
	// Drives are independent (each has its own random stream), so they can
	// be generated in parallel without losing determinism.
	work := make(chan *drive)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for d := range work {
				t.genDrive(d)
			}
		})
	}
	for _, d := range t.drives {
		work <- d
	}
	close(work)
	wg.Wait()
}

// driveGen is the scratch state of generating one drive.
type driveGen struct {
	t     *Tenant
	d     *drive
	rng   *rand.Rand
	taken map[uint64]struct{} // hash(parent, lower(name)) of names in use
	depth []uint8
	top   []int16 // index into topFolders of the item's top-level ancestor, -1 root
	buf   []byte
}

func nameKey(parent int32, name []byte) uint64 {
	h := uint64(14695981039346656037) ^ uint64(uint32(parent))
	for _, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// add appends an item under parent with the name in g.buf, made unique
// within the folder by a " (n)" suffix as OneDrive does.
func (g *driveGen) add(parent int32, folder bool, top int16) int32 {
	name := g.buf
	if _, dup := g.taken[nameKey(parent, name)]; dup {
		base, ext := name, []byte(nil)
		if !folder {
			if k := strings.LastIndexByte(string(name), '.'); k > 0 {
				base, ext = name[:k:k], name[k:]
			}
		}
		for n := 2; ; n++ {
			cand := append(append(append(append([]byte{}, base...), " ("...), strconv.Itoa(n)...), ')')
			cand = append(cand, ext...)
			if _, dup := g.taken[nameKey(parent, cand)]; !dup {
				name = cand
				break
			}
		}
	}
	g.taken[nameKey(parent, name)] = struct{}{}
	d := g.d
	i := int32(len(d.items))
	d.items = append(d.items, node{parent: -1, firstChild: -1, nextSibling: -1, perms: -1})
	d.items[i].nameOff = uint32(len(d.names))
	d.items[i].nameLen = uint16(len(name))
	d.names = append(d.names, name...)
	if folder {
		d.items[i].flags |= flagFolder
	}
	if parent >= 0 {
		d.link(i, parent)
		g.depth = append(g.depth, g.depth[parent]+1)
	} else {
		g.depth = append(g.depth, 0)
	}
	g.top = append(g.top, top)
	return i
}

func (g *driveGen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (t *Tenant) genDrive(d *drive) {
	rng := rand.New(rand.NewPCG(uint64(t.cfg.Seed), 0x6472697665<<20^uint64(d.idx)))
	owner := &t.users[d.owner]
	local := strings.NewReplacer(".", "_", "@", "_").Replace(strings.ToLower(owner.UserPrincipalName))
	d.webURL = "https://" + t.host + "/personal/" + local + "/Documents"
	d.created = t.cfg.Now.AddDate(-3, 0, 0).Add(time.Duration(rng.Int64N(int64(120 * 24 * time.Hour)))).Truncate(time.Second)
	d.total = quotaTotal

	// Files per drive vary log-normally around FilesPerUser (mean kept).
	files := 0
	if t.cfg.FilesPerUser > 0 && !t.drv.late[d.idx] { // a OneDrive not provisioned yet starts empty
		const sigma = 0.8
		files = int(math.Round(float64(t.cfg.FilesPerUser) * math.Exp(rng.NormFloat64()*sigma-sigma*sigma/2)))
	}
	folders := 0
	if files > 0 {
		folders = files/10 + 3 + rng.IntN(4)
	}
	d.items = make([]node, 0, 1+folders+files)
	d.names = make([]byte, 0, 4+folders*10+files*24)
	g := &driveGen{t: t, d: d, rng: rng, taken: make(map[uint64]struct{}, folders+files)}

	g.buf = append(g.buf[:0], "root"...)
	g.add(-1, true, -1)
	// Top-level folders, then subfolders beneath random folders.
	tops := rng.Perm(len(topFolders))[:min(folders, 3+rng.IntN(6))]
	for _, k := range tops {
		g.buf = append(g.buf[:0], topFolders[k]...)
		g.add(0, true, int16(k))
	}
	for range folders - len(tops) {
		var parent int32
		for try := 0; ; try++ {
			parent = int32(1 + rng.IntN(len(d.items)-1))
			if d.items[parent].flags&flagFolder != 0 && g.depth[parent] < 5 || try > 8 {
				break
			}
		}
		if d.items[parent].flags&flagFolder == 0 {
			parent = 0
		}
		g.buf = append(g.buf[:0], g.folderName(parent)...)
		g.add(parent, true, g.top[parent])
	}
	// Files: a weighted choice of folders, the root included.
	nf := len(d.items)
	slots := make([]int32, 0, nf*3)
	for i := range int32(nf) {
		for range 1 + rng.IntN(4) {
			slots = append(slots, i)
		}
	}
	for range files {
		parent := slots[rng.IntN(len(slots))]
		ext := g.fileName(parent)
		i := g.add(parent, false, g.top[parent])
		size := int64(ext.median * math.Exp(rng.NormFloat64()*1.3))
		if rng.IntN(50) == 0 {
			size = 0
		}
		d.items[i].size = size
	}
	// Timestamps and authors.
	now := t.cfg.Now.Unix()
	span := now - d.created.Unix()
	for i := range d.items {
		n := &d.items[i]
		c := d.created.Unix()
		if i > 0 {
			c += rng.Int64N(span)
		}
		m := c
		if rng.Float64() < 0.65 {
			m = c + rng.Int64N(now-c+1)
		}
		n.created, n.modified = toStamp(time.Unix(c, 0)), toStamp(time.Unix(m, 0))
		n.createdBy, n.modifiedBy = d.owner, d.owner
		if i > 0 && rng.Float64() < 0.15 {
			n.createdBy = t.colleague(rng, d.owner)
		}
		if i > 0 && rng.Float64() < 0.2 {
			n.modifiedBy = t.colleague(rng, d.owner)
		} else if rng.Float64() < 0.7 {
			n.modifiedBy = n.createdBy
		}
		if n.modified > toStamp(d.modified) {
			d.modified = fromStamp(n.modified)
		}
	}
	if d.modified.Before(d.created) {
		d.modified = d.created
	}
	g.scaleToQuota()
	// Folder sizes: children always come after their parent here.
	for i := len(d.items) - 1; i > 0; i-- {
		d.items[d.items[i].parent].size += d.items[i].size
	}
	d.deleted = int64(float64(d.items[0].size) * rng.Float64() * 0.05)
	d.journal = make([]int32, len(d.items), len(d.items)+len(d.items)/8+16)
	for i := range d.items {
		d.journal[i] = int32(i)
		d.items[i].seq = uint32(i + 1)
	}
	// The owner's grant on the root, then sharing.
	d.addPerm(perm{item: 0, next: -1, grantee: d.owner, kind: permOwner, created: toStamp(d.created)})
	if t.cfg.ShareRatio > 0 {
		for i := int32(1); i < int32(len(d.items)); i++ {
			vendor := g.top[i] >= 0 && topFolders[g.top[i]] == "Shared with vendors" && d.items[i].parent == 0
			if !vendor && rng.Float64() >= t.cfg.ShareRatio {
				continue
			}
			n := 1
			if r := rng.Float64(); r < 0.05 {
				n = 3
			} else if r < 0.25 {
				n = 2
			}
			for k := range n {
				p := t.randomPerm(rng, d, i)
				if vendor && k == 0 && len(t.guests) > 0 {
					p.kind, p.linkType, p.flags = permUsers, 1, 0
					p.grantee = t.guests[rng.IntN(len(t.guests))]
				}
				d.addPerm(p)
				t.limitedAccess(d, &p)
			}
			if !t.cfg.PlainPermissions && rng.Float64() < 0.04 {
				d.addPerm(perm{item: i, next: -1, grantee: -1, kind: permExistingAccess, created: d.items[i].created})
			}
			d.items[i].sharingSeq = d.items[i].seq
		}
	}
}

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

func (g *driveGen) folderName(parent int32) string {
	pn := g.d.name(parent)
	switch {
	case parent == 0:
		return g.pick(genericFolders)
	case pn == "Projects":
		return g.pick(projectNames)
	case pn == "Finance" || pn == "Archive" || pn == "Reports" || pn == "Meeting notes" || pn == "Contracts":
		return g.pick(years)
	case len(pn) == 4 && pn[0] == '2':
		if g.rng.IntN(2) == 0 {
			return g.pick(quarters)
		}
		return g.pick(months)
	}
	return g.pick(genericFolders)
}

func pickExt(rng *rand.Rand, list []extInfo) extInfo {
	total := 0
	for _, e := range list {
		total += e.weight
	}
	r := rng.IntN(total)
	for _, e := range list {
		if r < e.weight {
			return e
		}
		r -= e.weight
	}
	return list[0]
}

// fileName writes a plausible file name for a file in parent into g.buf
// and returns the extension's info.
func (g *driveGen) fileName(parent int32) extInfo {
	rng := g.rng
	top := ""
	if k := g.top[parent]; k >= 0 {
		top = topFolders[k]
	}
	b := g.buf[:0]
	date := func() {
		b = fmt.Appendf(b, "%s-%02d-%02d", years[rng.IntN(len(years))], 1+rng.IntN(12), 1+rng.IntN(28))
	}
	var e extInfo
	switch {
	case top == "Pictures" || (top == "Microsoft Teams Chat Files" && rng.IntN(3) == 0):
		e = pickExt(rng, mediaExts)
		if e.ext == "png" {
			b = append(b, "Screenshot "...)
			date()
			b = fmt.Appendf(b, " %06d", rng.IntN(240000))
		} else {
			b = fmt.Appendf(b, "IMG_%04d", rng.IntN(10000))
		}
	case top == "Recordings":
		e = mediaExts[3]
		if rng.IntN(2) == 0 {
			b = append(b, "Meeting Recording "...)
		} else {
			b = append(b, "Call with "...)
			b = append(b, g.pick(firstNames)...)
			b = append(b, ' ')
		}
		date()
	default:
		e = pickExt(rng, docExts)
		switch r := rng.IntN(10); {
		case r < 4:
			b = append(b, g.pick(docTopics)...)
			b = append(b, ' ')
			b = append(b, g.pick(years)...)
		case r < 6:
			b = append(b, g.pick(docTopics)...)
			b = append(b, " - "...)
			b = append(b, g.pick(projectNames)...)
		case r < 7 && e.ext == "pdf":
			b = append(b, "Scan_"...)
			date()
		case r < 8:
			b = append(b, g.pick(docTopics)...)
			b = append(b, ' ')
			b = append(b, g.pick(months)[3:]...)
		default:
			b = append(b, g.pick(docTopics)...)
		}
		b = append(b, g.pick(docQualifiers)...)
	}
	b = append(b, '.')
	b = append(b, e.ext...)
	g.buf = b
	return e
}

// scaleToQuota makes a few drives nearly or completely full so that every
// quota state occurs in a tenant of a few dozen drives.
func (g *driveGen) scaleToQuota() {
	d := g.d
	var target float64
	switch r := g.rng.Float64(); {
	case r < 0.02:
		target = 1.0 + g.rng.Float64()*0.05 // exceeded
	case r < 0.04:
		target = 0.991 + g.rng.Float64()*0.008 // critical
	case r < 0.09:
		target = 0.90 + g.rng.Float64()*0.09 // nearing
	default:
		return
	}
	var sum int64
	for i := range d.items {
		if d.items[i].flags&flagFolder == 0 {
			sum += d.items[i].size
		}
	}
	if sum == 0 {
		return
	}
	f := target * float64(d.total) / float64(sum)
	for i := range d.items {
		if d.items[i].flags&flagFolder == 0 {
			d.items[i].size = int64(float64(d.items[i].size) * f)
		}
	}
}
