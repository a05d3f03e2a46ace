package tenant

import (
	"strings"
	"sync"
	"time"
)

// Times are stored as seconds since timeBase in uint32 to keep items small.
var timeBase = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func toStamp(t time.Time) uint32 {
	s := t.Unix() - timeBase.Unix()
	if s < 0 {
		return 0
	}
	return uint32(s)
}

func fromStamp(s uint32) time.Time { return time.Unix(timeBase.Unix()+int64(s), 0).UTC() }

const (
	flagFolder  = 1 << iota
	flagDeleted // tombstone: kept so incremental rounds can report it
	flagUnique  // root of a permission hierarchy: got sharing of its own once (the drive root always is)
	flagSilent  // deleted without a journal entry (RetentionDelete): never reported
)

// node is the compact state of one driveItem. Everything derivable (id,
// path, webUrl, MIME type, child count) is computed when an Item is built.
type node struct {
	size        int64 // files: bytes; folders: total of live descendants
	parent      int32 // -1 for the root
	firstChild  int32 // -1 when none; children are a singly linked list
	nextSibling int32
	nameOff     uint32 // into drive.names
	created     uint32 // stamps, see toStamp
	modified    uint32
	createdBy   int32 // user index
	modifiedBy  int32
	seq         uint32 // journal sequence of the last change of any kind
	sharingSeq  uint32 // journal sequence of the last change of own sharing
	perms       int32  // head of the own-permission list in drive.perms, -1 none
	nameLen     uint16
	flags       uint8
}

const (
	permRemoved uint8 = iota
	permOwner
	permAnon
	permOrg
	permUsers
	permDirectUser
	permDirectGroup
	// Kinds seen in the field (docs/graph-behaviour.md, "Permissions: SharePoint's model").
	permLimited        // a user's "sp.limited access" grant: no access to the item itself
	permEveryone       // the claims principal "Everyone except external users" (grantee unused)
	permApp            // an application grant (grantee: index into Tenant.apps)
	permExistingAccess // an "existingAccess" link: grants nothing new
)

const (
	pflagPassword = 1 << iota
	pflagPreventsDownload
	pflagWrite // direct grants: roles ["write"] instead of ["read"]
)

var linkTypes = []string{"view", "edit", "blocksDownload", "review"}

// perm is one permission set on an item (own, not inherited). Breaking
// inheritance copies the nearest unique ancestor's perms onto the item; a
// copied link keeps its origin, so it keeps the link's id and URL.
type perm struct {
	expires  int64 // unix seconds, 0 = no expiry
	item     int32
	next     int32 // next own permission of the same item, -1 none
	origin   int32 // links: the perm where the link was created (itself unless copied)
	grantee  int32 // user index (owner, users, direct user, limited), group index or app index
	created  uint32
	kind     uint8
	linkType uint8 // index into linkTypes
	flags    uint8
	urlKind  byte // the letter in the link URL (":w:"), fixed when shared
}

type drive struct {
	idx      int32
	id       string
	owner    int32 // user index
	webURL   string
	created  time.Time
	modified time.Time
	total    int64
	deleted  int64 // bytes in the recycle bin
	epoch    uint32
	resync   ResyncVariant // how a token of an older epoch is refused
	// folderResync: delta links whose base is below it answer 410, worded
	// as folderVariant (see Tenant.folderSharingChanged); 0 none.
	folderResync  uint32
	folderVariant ResyncVariant
	items         []node
	names         []byte
	// journal[k] is the item changed at sequence k+1; an entry is stale when
	// that item has changed again since (items[journal[k]].seq != k+1).
	journal []int32
	perms   []perm
	// folderShared runs after a folder's own sharing changed (see
	// Tenant.folderSharingChanged); nil in tests that build drives by hand.
	folderShared func(d *drive, i int32)
}

func (d *drive) seq() uint32 { return uint32(len(d.journal)) }

func (d *drive) touch(i int32) {
	d.journal = append(d.journal, i)
	d.items[i].seq = uint32(len(d.journal))
}

func (d *drive) name(i int32) string {
	n := &d.items[i]
	return string(d.names[n.nameOff : n.nameOff+uint32(n.nameLen)])
}

func (d *drive) nameEquals(i int32, s string) bool {
	n := &d.items[i]
	return string(d.names[n.nameOff:n.nameOff+uint32(n.nameLen)]) == s
}

func (d *drive) setName(i int32, s string) {
	d.items[i].nameOff = uint32(len(d.names))
	d.items[i].nameLen = uint16(len(s))
	d.names = append(d.names, s...)
}

func (d *drive) live(i int32) bool {
	return i >= 0 && int(i) < len(d.items) && d.items[i].flags&flagDeleted == 0
}

// childNamed finds a live child of parent by name, case-insensitively as
// OneDrive compares names. -1 when absent.
func (d *drive) childNamed(parent int32, s string) int32 {
	for c := d.items[parent].firstChild; c >= 0; c = d.items[c].nextSibling {
		if strings.EqualFold(d.name(c), s) {
			return c
		}
	}
	return -1
}

func (d *drive) childCount(i int32) int {
	n := 0
	for c := d.items[i].firstChild; c >= 0; c = d.items[c].nextSibling {
		n++
	}
	return n
}

func (d *drive) link(i, parent int32) {
	d.items[i].parent = parent
	d.items[i].nextSibling = d.items[parent].firstChild
	d.items[parent].firstChild = i
}

func (d *drive) unlink(i int32) {
	p := d.items[i].parent
	if d.items[p].firstChild == i {
		d.items[p].firstChild = d.items[i].nextSibling
	} else {
		for c := d.items[p].firstChild; c >= 0; c = d.items[c].nextSibling {
			if d.items[c].nextSibling == i {
				d.items[c].nextSibling = d.items[i].nextSibling
				break
			}
		}
	}
	d.items[i].nextSibling = -1
}

// isAncestor reports whether a is a strict ancestor of i.
func (d *drive) isAncestor(a, i int32) bool {
	for p := d.items[i].parent; p >= 0; p = d.items[p].parent {
		if p == a {
			return true
		}
	}
	return false
}

// path returns "/" for the root and "/A/B/name" otherwise.
func (d *drive) path(i int32) string {
	if d.items[i].parent < 0 {
		return "/"
	}
	var stack [32]int32
	chain := stack[:0]
	for p := i; d.items[p].parent >= 0; p = d.items[p].parent {
		chain = append(chain, p)
	}
	var b strings.Builder
	for k := len(chain) - 1; k >= 0; k-- {
		n := &d.items[chain[k]]
		b.WriteByte('/')
		b.Write(d.names[n.nameOff : n.nameOff+uint32(n.nameLen)])
	}
	return b.String()
}

// Tenant is one simulated tenant. One RWMutex guards everything; reads
// (lookups, delta pages, permission lists) share it.
type Tenant struct {
	mu        sync.RWMutex
	cfg       Config // cfg.LinkPolicy and cfg.ReportLinkPasswords change under mu
	ids       idCodec
	host      string // "contoso-my.sharepoint.com"
	users     []User
	userByID  map[string]int32
	userByUPN map[string]int32
	userDrive []int32 // user index → drive index, -1 none
	members   []int32 // user indices of enabled members (colleagues, grantees)
	guests    []int32
	groups    []Identity
	groupByID map[string]int32
	apps      []Identity // applications that get grants (Sites.Selected and the like)
	// inheritedFrom is how listed inherited entries carry inheritedFrom
	// (InheritedFrom* constants); guarded by mu.
	inheritedFrom string
	skus          []Sku
	domains       []Domain
	drives        []*drive
	driveByID     map[string]int32
	drv           driveStates // locks and provisioning, see access.go

	listenMu  sync.Mutex
	listeners []func(driveID string)
}

// Config returns the configuration the tenant was generated from, with
// derived values (TenantID, Domain, Now) filled in and the link settings as
// they are now.
func (t *Tenant) Config() Config {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.cfg
}

// UserCount returns the number of directory users.
func (t *Tenant) UserCount() int { return len(t.users) }

// UsersPage returns up to n users starting at index start, in a stable order.
func (t *Tenant) UsersPage(start, n int) []User {
	if start < 0 || start >= len(t.users) || n <= 0 {
		return nil
	}
	end := min(start+n, len(t.users))
	out := make([]User, end-start)
	t.mu.RLock() // HasDrive changes when a OneDrive is provisioned
	copy(out, t.users[start:end])
	t.mu.RUnlock()
	return out
}

// User finds a user by id or userPrincipalName (case-insensitive).
func (t *Tenant) User(idOrUPN string) (User, bool) {
	i, ok := t.userIndex(idOrUPN)
	if !ok {
		return User{}, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.users[i], true
}

// Domains returns the organization's verified domains: the users' domain
// (the default), the initial onmicrosoft.com domain (the same one unless
// Config.Domain names another) and an alias domain of some groups' addresses.
func (t *Tenant) Domains() []Domain { return append([]Domain(nil), t.domains...) }

// Skus returns the subscribed SKUs with consumed units matching the users'
// assigned licences.
func (t *Tenant) Skus() []Sku { return append([]Sku(nil), t.skus...) }

func (t *Tenant) identity(u int32) Identity {
	if u < 0 || int(u) >= len(t.users) {
		return Identity{}
	}
	x := &t.users[u]
	return Identity{ID: x.ID, DisplayName: x.DisplayName, Email: x.Mail}
}

// DriveOfUser returns the user's OneDrive; false when the user has none.
func (t *Tenant) DriveOfUser(userID string) (Drive, bool) {
	i, ok := t.userByID[strings.ToLower(userID)]
	if !ok {
		i, ok = t.userByUPN[strings.ToLower(userID)]
	}
	if !ok || t.userDrive[i] < 0 {
		return Drive{}, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !t.provisioned(t.userDrive[i]) {
		return Drive{}, false
	}
	return t.driveValue(t.drives[t.userDrive[i]]), true
}

// Drive returns a provisioned drive by id.
func (t *Tenant) Drive(id string) (Drive, bool) {
	d, ok := t.drive(id)
	if !ok {
		return Drive{}, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !t.provisioned(d.idx) {
		return Drive{}, false
	}
	return t.driveValue(d), true
}

// Drives returns every provisioned drive, in a stable order.
func (t *Tenant) Drives() []Drive {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]Drive, 0, len(t.drives))
	for _, d := range t.drives {
		if t.provisioned(d.idx) {
			out = append(out, t.driveValue(d))
		}
	}
	return out
}

// drive resolves a drive id; the set of drives never changes after New, so
// no lock is needed.
func (t *Tenant) drive(id string) (*drive, bool) {
	i, ok := t.driveByID[id]
	if !ok {
		return nil, false
	}
	return t.drives[i], true
}

func quotaState(total, used int64) string {
	left := total - used
	switch {
	case used >= total:
		return "exceeded"
	case left*100 < total:
		return "critical"
	case left*10 < total:
		return "nearing"
	}
	return "normal"
}

func (t *Tenant) driveValue(d *drive) Drive {
	used := d.items[0].size
	return Drive{
		ID:                   d.id,
		Name:                 "OneDrive",
		DriveType:            "business",
		WebURL:               d.webURL,
		Owner:                t.identity(d.owner),
		OwnerUserID:          t.users[d.owner].ID,
		CreatedDateTime:      d.created,
		LastModifiedDateTime: d.modified,
		Quota: Quota{
			Total:     d.total,
			Used:      used,
			Remaining: max(d.total-used, 0),
			Deleted:   d.deleted,
			State:     quotaState(d.total, used),
		},
		RootID: t.ids.itemID(d.idx, 0),
	}
}

// resolveItem maps "root" or an item id of drive d to its index.
func (t *Tenant) resolveItem(d *drive, itemID string) (int32, bool) {
	if strings.EqualFold(itemID, "root") {
		return 0, true
	}
	di, i, ok := t.ids.parseItemID(itemID)
	if !ok || di != d.idx || int(i) >= len(d.items) || i < 0 {
		return 0, false
	}
	return i, true
}

// Item returns a live item; "root" is an alias of the root id.
func (t *Tenant) Item(driveID, itemID string) (Item, bool) {
	d, ok := t.drive(driveID)
	if !ok {
		return Item{}, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	i, ok := t.resolveItem(d, itemID)
	if !ok || !d.live(i) {
		return Item{}, false
	}
	return t.itemValue(d, i), true
}

// OnDriveChange registers fn to be called with a drive id after every
// committed change to that drive, outside the tenant's lock.
func (t *Tenant) OnDriveChange(fn func(driveID string)) {
	t.listenMu.Lock()
	t.listeners = append(t.listeners, fn)
	t.listenMu.Unlock()
}

func (t *Tenant) notify(driveIDs ...string) {
	t.listenMu.Lock()
	fns := append([]func(string){}, t.listeners...)
	t.listenMu.Unlock()
	for _, id := range driveIDs {
		for _, fn := range fns {
			fn(id)
		}
	}
}
