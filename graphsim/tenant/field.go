package tenant

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Field behaviours of delta and paging that Microsoft's documentation does
// not promise but real tenants show (docs/graph-behaviour.md, "Delta in the
// field", "Deletions that never reach delta", "Paging"). Each is on unless
// its Lenient switch is set.

// Lenient switches field behaviours off for focused tests. The zero value is
// the realistic default; every field makes the simulator kinder.
type Lenient struct {
	// NoRepeats returns an item at most once per delta round: no ancestors
	// re-sent after changed items, and items changed while a round is paged
	// wait for the next round instead of coming again in this one.
	NoRepeats bool `json:"noRepeats"`
	// FolderSharedChanged sets @microsoft.graph.sharedChanged on folders too.
	FolderSharedChanged bool `json:"folderSharedChanged"`
	// NoFolderResyncs: a change to a folder's sharing never makes the
	// drive's next delta call answer 410.
	NoFolderResyncs bool `json:"noFolderResyncs"`
	// FullDeletedPages fills pages holding deleted items up to $top instead
	// of about 7 items.
	FullDeletedPages bool `json:"fullDeletedPages"`
	// PlainTombstones: deleted items carry neither a file facet nor size 0.
	PlainTombstones bool `json:"plainTombstones"`
	// SelectKeepsDeleted keeps the deleted facet when $select leaves it out.
	SelectKeepsDeleted bool `json:"selectKeepsDeleted"`
	// FullExpandPages honours $top on /users with $expand=manager instead of
	// capping pages at 100.
	FullExpandPages bool `json:"fullExpandPages"`
	// DenyWithoutFullControl answers delta and permission reads that ask for
	// hierarchical sharing with 403 when the token lacks
	// Sites.FullControl.All, instead of silently scoping sharing down.
	DenyWithoutFullControl bool `json:"denyWithoutFullControl"`
}

// LenientNames are the JSON names of Lenient's switches, for flags.
func LenientNames() []string {
	var out []string
	rt := reflect.TypeOf(Lenient{})
	for i := range rt.NumField() {
		out = append(out, rt.Field(i).Tag.Get("json"))
	}
	return out
}

// ParseLenient turns a comma-separated list of switch names (LenientNames,
// or "all") into a Lenient.
func ParseLenient(list string) (Lenient, error) {
	var l Lenient
	rv := reflect.ValueOf(&l).Elem()
	names := LenientNames()
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
		case n == "all":
			for i := range rv.NumField() {
				rv.Field(i).SetBool(true)
			}
		case slices.Contains(names, n):
			rv.Field(slices.Index(names, n)).SetBool(true)
		default:
			return Lenient{}, fmt.Errorf("%w: unknown lenient switch %q (known: %s, all)", ErrInvalid, n, strings.Join(names, ", "))
		}
	}
	return l, nil
}

// Lenient returns the switches in force.
func (t *Tenant) Lenient() Lenient {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.cfg.Lenient
}

// SetLenient changes the switches; rounds in progress see the change on
// their next page.
func (t *Tenant) SetLenient(l Lenient) {
	t.mu.Lock()
	t.cfg.Lenient = l
	t.mu.Unlock()
}

// ResyncVariant is how a 410 resyncRequired is worded. Graph documents a
// Location header and an inner code; the field shows answers without either.
type ResyncVariant uint8

const (
	// ResyncApply: Location plus inner code resyncChangesApplyDifferences.
	ResyncApply ResyncVariant = iota
	// ResyncUpload: Location plus inner code resyncChangesUploadDifferences.
	ResyncUpload
	// ResyncNoInnerCode: Location, no inner code (onedrive-api-docs#1594).
	ResyncNoInnerCode
	// ResyncNoLocation: the inner code, but no Location header: the client
	// must start a fresh enumeration on its own.
	ResyncNoLocation
)

var resyncNames = []string{"apply", "upload", "noInnerCode", "noLocation"}

func (v ResyncVariant) String() string {
	if int(v) < len(resyncNames) {
		return resyncNames[v]
	}
	return fmt.Sprintf("variant(%d)", v)
}

// ParseResyncVariant reads a variant name ("" is ResyncApply).
func ParseResyncVariant(s string) (ResyncVariant, error) {
	if s == "" {
		return ResyncApply, nil
	}
	if i := slices.Index(resyncNames, s); i >= 0 {
		return ResyncVariant(i), nil
	}
	return 0, fmt.Errorf("%w: resync variant must be one of %s", ErrInvalid, strings.Join(resyncNames, ", "))
}

// InvalidateDeltaAs makes every token issued so far answer a 410 worded as v.
func (t *Tenant) InvalidateDeltaAs(v ResyncVariant) {
	t.mu.Lock()
	for _, d := range t.drives {
		d.invalidate(v)
	}
	t.mu.Unlock()
}

func (d *drive) invalidate(v ResyncVariant) {
	d.epoch++
	d.resync = v
}

// folderSharingChanged runs when a folder's own sharing changed: one time in
// three, chosen from the seed and the change's sequence, the drive's delta
// links issued before the change answer 410, worded as one of the variants
// in turn (onedrive-api-docs#1594 saw 410 when coming back with a delta link
// after a folder permission change). Rounds under way, and the fresh
// enumeration the 410 starts, page on. Caller holds t.mu.
func (t *Tenant) folderSharingChanged(d *drive, i int32) {
	if t.cfg.Lenient.NoFolderResyncs {
		return
	}
	h := mix(t.ids.key ^ uint64(d.idx)<<32 ^ uint64(d.items[i].seq))
	if h%3 != 0 {
		return
	}
	d.folderResync = d.items[i].seq
	d.folderVariant = ResyncVariant(h / 3 % uint64(len(resyncNames)))
}

// RetentionDelete deletes an item and everything below it the way a
// retention policy does: no journal entry, so no delta round, incremental
// or in progress, ever reports the deletion (msgraph-sdk-dotnet#2847). Only
// a full enumeration, which no longer lists the items, shows they are gone.
// Folder sizes and the quota follow, silently too.
func (t *Tenant) RetentionDelete(driveID, itemID string) error {
	d, ok := t.drive(driveID)
	if !ok {
		return fmt.Errorf("drive %s: %w", driveID, ErrNotFound)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	i, ok := t.resolveItem(d, itemID)
	if !ok || !d.live(i) {
		return fmt.Errorf("item %s: %w", itemID, ErrNotFound)
	}
	if i == 0 {
		return fmt.Errorf("%w: cannot delete the root folder", ErrInvalid)
	}
	size := d.items[i].size
	d.unlink(i)
	var walk func(int32)
	walk = func(j int32) {
		for c := d.items[j].firstChild; c >= 0; c = d.items[c].nextSibling {
			walk(c)
		}
		for d.items[j].perms >= 0 {
			d.removePerm(d.items[j].perms)
		}
		d.items[j].flags |= flagDeleted | flagSilent
	}
	walk(i)
	for a := d.items[i].parent; a >= 0; a = d.items[a].parent {
		d.items[a].size -= size
	}
	return nil
}
