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
