package tenant

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// testNow pins generation so that two tenants built apart in time are equal.
var testNow = time.Date(2026, 6, 15, 9, 30, 0, 0, time.UTC)

func small(seed int64) *Tenant {
	return New(Config{Seed: seed, Users: 8, FilesPerUser: 40, ShareRatio: 0.2, Lenient: classic, Now: testNow})
}

// classic switches off the field behaviours of delta (field.go) for the
// tests that pin the journal's exact semantics: each item at most once per
// round, sharedChanged on folders too, no 410 after folder changes, full
// pages of deletions. field_test.go tests the default, harsh behaviour.
var classic = Lenient{NoRepeats: true, FolderSharedChanged: true, NoFolderResyncs: true, FullDeletedPages: true}

type exported struct {
	users  []ExportUser
	drives []ExportDrive
	items  map[string]ExportItem         // by item id
	perms  map[string][]ExportPermission // own permissions by item id
	nperm  int
}

func export(t *testing.T, tn *Tenant) exported {
	t.Helper()
	var buf bytes.Buffer
	if err := tn.Export(&buf); err != nil {
		t.Fatalf("export: %v", err)
	}
	ex := exported{items: map[string]ExportItem{}, perms: map[string][]ExportPermission{}}
	order := []string{"user", "drive", "item", "permission"}
	stage := 0
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var head struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		k := slices.Index(order, head.Type)
		if k < stage {
			t.Fatalf("export: %s after %s", head.Type, order[stage])
		}
		stage = k
		switch head.Type {
		case "user":
			var u ExportUser
			mustUnmarshal(t, sc.Bytes(), &u)
			ex.users = append(ex.users, u)
		case "drive":
			var d ExportDrive
			mustUnmarshal(t, sc.Bytes(), &d)
			ex.drives = append(ex.drives, d)
		case "item":
			var it ExportItem
			mustUnmarshal(t, sc.Bytes(), &it)
			if _, dup := ex.items[it.ID]; dup {
				t.Fatalf("export: item %s twice", it.ID)
			}
			ex.items[it.ID] = it
		case "permission":
			var p ExportPermission
			mustUnmarshal(t, sc.Bytes(), &p)
			ex.perms[p.ItemID] = append(ex.perms[p.ItemID], p)
			ex.nperm++
		default:
			t.Fatalf("export: unknown type %q", head.Type)
		}
	}
	return ex
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
}

// enumerate follows a delta round from token to its deltaLink.
func enumerate(t *testing.T, tn *Tenant, driveID, token string, opt DeltaOptions) ([]Item, string) {
	t.Helper()
	var all []Item
	for pages := 0; ; pages++ {
		if pages > 1_000_000 {
			t.Fatal("delta round never ends")
		}
		p, err := tn.Delta(driveID, "root", token, opt)
		if err != nil {
			t.Fatalf("delta %s: %v", driveID, err)
		}
		all = append(all, p.Items...)
		if (p.NextToken == "") == (p.DeltaToken == "") {
			t.Fatalf("page has next %q and delta %q", p.NextToken, p.DeltaToken)
		}
		if p.DeltaToken != "" {
			return all, p.DeltaToken
		}
		token = p.NextToken
	}
}

// state is a comparable view of every live item and its own permissions,
// taken through the tenant's internals so that a test can tell which items
// a change touched.
type state map[string]view

// view: perms is the item's own sharing (isSharing kinds), all every own
// entry (copies, limited access and existingAccess links included).
type view struct{ item, perms, all string }

// project is the part of an item a delta replica can know: everything but
// the path-derived fields (a folder rename does not return descendants)
// and the delta-only annotations.
func project(it Item) string {
	it.Path, it.WebURL, it.Shared, it.SharedChanged = "", "", nil, false
	return fmt.Sprintf("%+v", it)
}

func snapshot(tn *Tenant) state {
	tn.mu.RLock()
	defer tn.mu.RUnlock()
	s := state{}
	for _, d := range tn.drives {
		for i := range int32(len(d.items)) {
			if !d.live(i) {
				continue
			}
			it := tn.itemValue(d, i)
			var perms, all string
			for p := d.items[i].perms; p >= 0; p = d.perms[p].next {
				b, _ := json.Marshal(ExportPermissionOf(d.id, it.ID, tn.permValue(d, p, nil)))
				all += "|" + string(b)
				if isSharing(d.perms[p].kind) {
					perms += "|" + string(b)
				}
			}
			s[it.ID] = view{project(it), perms, all}
		}
	}
	return s
}

// diff returns the ids whose state differs (created, deleted or changed)
// and those whose own sharing differs.
func diff(a, b state) (changed, sharing map[string]bool) {
	changed, sharing = map[string]bool{}, map[string]bool{}
	for id, x := range a {
		y, ok := b[id]
		if !ok || x != y {
			changed[id] = true
		}
		if ok && x.all != y.all {
			sharing[id] = true
		}
	}
	for id, y := range b {
		if _, ok := a[id]; !ok {
			changed[id] = true
			if y.perms != "" {
				sharing[id] = true
			}
		}
	}
	return changed, sharing
}

func driveItems(ex exported, driveID string) map[string]ExportItem {
	out := map[string]ExportItem{}
	for id, it := range ex.items {
		if it.DriveID == driveID {
			out[id] = it
		}
	}
	return out
}

func newRand(seed int64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 1)) }
