package tenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Property tests over many seeds. Each seed builds a small tenant, applies
// random changes (also while delta rounds are being paged) and checks the
// delta feed against the tenant's own truth (Export and internals).

var propertySeeds = int64(map[bool]int{false: 25, true: 6}[raceEnabled])

// (a) After any sequence of random changes, a full delta enumeration equals
// the export, and the export's permissions are the items' own permissions.
func TestPropertyFullEnumerationEqualsExport(t *testing.T) {
	for seed := int64(1); seed <= propertySeeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := newRand(seed)
			// Inherited entries carry inheritedFrom, so own ones can be told apart.
			tn := New(Config{Seed: seed, Users: 3 + rng.IntN(8), FilesPerUser: rng.IntN(80), ShareRatio: rng.Float64() * 0.4,
				InheritedFrom: InheritedFromFull})
			tn.ApplyRandomChanges(seed, rng.IntN(400))
			ex := export(t, tn)
			total := 0
			for _, d := range ex.drives {
				items, _ := enumerate(t, tn, d.ID, "", DeltaOptions{Top: 1 + rng.IntN(300)})
				want := driveItems(ex, d.ID)
				seen := map[string]bool{}
				for _, it := range items {
					if seen[it.ID] || it.Deleted {
						t.Fatalf("full enumeration: %s repeated or deleted", it.ID)
					}
					seen[it.ID] = true
					if got := ExportItemOf(it); got != want[it.ID] {
						t.Fatalf("delta  %+v\nexport %+v", got, want[it.ID])
					}
				}
				if len(seen) != len(want) {
					t.Fatalf("drive %s: delta %d items, export %d", d.ID, len(seen), len(want))
				}
				for id := range want {
					ps, err := tn.Permissions(d.ID, id)
					if err != nil {
						t.Fatal(err)
					}
					var own []ExportPermission
					for _, p := range ps {
						if p.InheritedFrom == nil {
							own = append(own, ExportPermissionOf(d.ID, id, p))
						}
					}
					if !slices.EqualFunc(own, ex.perms[id], func(a, b ExportPermission) bool {
						ja, _ := json.Marshal(a)
						jb, _ := json.Marshal(b)
						return string(ja) == string(jb)
					}) {
						t.Fatalf("item %s: own permissions %+v\nexport %+v", id, own, ex.perms[id])
					}
					total += len(own)
				}
			}
			if total != ex.nperm {
				t.Fatalf("export has %d permissions, items list %d own", ex.nperm, total)
			}
		})
	}
}

// changeLog records, change by change, which items each random change
// touched, found by comparing the state before and after it.
type changeLog struct {
	t       *testing.T
	tn      *Tenant
	seed    int64
	last    state
	changed []map[string]bool
	sharing []map[string]bool
	unique  map[string]bool // items that ever had sharing of their own
}

func newChangeLog(t *testing.T, tn *Tenant, seed int64) *changeLog {
	l := &changeLog{t: t, tn: tn, seed: seed * 1_000_000, last: snapshot(tn), unique: map[string]bool{}}
	l.noteUnique()
	return l
}

func (l *changeLog) noteUnique() {
	for id, v := range l.last {
		if v.perms != "" {
			l.unique[id] = true
		}
	}
}

func (l *changeLog) apply(n int) {
	for range n {
		l.seed++
		if l.tn.ApplyRandomChanges(l.seed, 1) != 1 {
			continue
		}
		now := snapshot(l.tn)
		ch, sh := diff(l.last, now)
		if len(ch) == 0 {
			l.t.Fatalf("change %d changed nothing visible", l.seed)
		}
		l.changed = append(l.changed, ch)
		l.sharing = append(l.sharing, sh)
		l.last = now
		l.noteUnique()
	}
}

// since returns the union of the ids touched by changes from..to.
func since(log []map[string]bool, from, to int) map[string]bool {
	out := map[string]bool{}
	for _, m := range log[from:to] {
		maps.Copy(out, m)
	}
	return out
}

type replica struct {
	token string
	start int // index in the change log when the round of token started
	items map[string]Item
}

// round runs one delta round for drive d, applying random changes between
// pages, and checks what it returns. It applies the round to r.
func round(t *testing.T, tn *Tenant, l *changeLog, rng *rand.Rand, driveID string, r *replica, concurrent bool) {
	t.Helper()
	opt := DeltaOptions{HierarchicalSharing: true, ShowSharingChanges: true, Top: 1 + rng.IntN(60)}
	start := len(l.changed)
	atStart := l.last
	incremental := r.token != ""
	var got []Item
	token := r.token
	for {
		p, err := tn.Delta(driveID, "root", token, opt)
		if err != nil {
			t.Fatalf("delta: %v", err)
		}
		got = append(got, p.Items...)
		if concurrent && rng.IntN(3) == 0 {
			l.apply(1 + rng.IntN(3))
		}
		if p.DeltaToken != "" {
			token = p.DeltaToken
			break
		}
		token = p.NextToken
	}
	during := since(l.changed, start, len(l.changed))
	if incremental {
		allowed := since(l.changed, r.start, len(l.changed))
		sharedBefore := since(l.sharing, r.start, start)
		sharedAny := since(l.sharing, r.start, len(l.sharing))
		for _, it := range got {
			if !allowed[it.ID] {
				t.Fatalf("incremental round returned %s, which did not change since the token", it.ID)
			}
			if it.Deleted {
				continue
			}
			if it.SharedChanged && !sharedAny[it.ID] {
				t.Fatalf("item %s has sharedChanged but its sharing did not change", it.ID)
			}
			if !it.SharedChanged && sharedBefore[it.ID] {
				t.Fatalf("item %s: sharing changed since the token, no sharedChanged", it.ID)
			}
		}
	} else {
		for _, it := range got {
			if it.SharedChanged {
				t.Fatalf("sharedChanged on a full enumeration (%s)", it.ID)
			}
		}
	}
	// Hierarchical sharing: a facet exactly on permission-hierarchy roots
	// and the drive root; empty when the item has no sharing of its own.
	for _, it := range got {
		if it.Deleted || during[it.ID] {
			continue
		}
		v := atStart[it.ID]
		switch {
		case it.Root && (it.Shared == nil || !it.Shared.Empty):
			t.Fatalf("root %s facet %+v, want empty", it.ID, it.Shared)
		case it.Root:
		case !l.unique[it.ID] && it.Shared != nil:
			t.Fatalf("item %s only inherits but has facet %+v", it.ID, it.Shared)
		case l.unique[it.ID] && it.Shared == nil:
			t.Fatalf("item %s is a permission root but has no facet", it.ID)
		case it.Shared != nil && it.Shared.Empty != (v.perms == ""):
			t.Fatalf("item %s facet %+v, own sharing %q", it.ID, it.Shared, v.perms)
		}
	}
	for _, it := range got {
		if it.Deleted {
			delete(r.items, it.ID)
		} else {
			r.items[it.ID] = it
		}
	}
	// The replica now equals the state when the round started, except for
	// items changed while it was paged (the next round brings those).
	ids := map[string]bool{}
	for id := range r.items {
		ids[id] = true
	}
	for id, v := range atStart {
		if strings.Contains(v.item, "DriveID:"+driveID+" ") {
			ids[id] = true
		}
	}
	for id := range ids {
		if during[id] {
			continue
		}
		it, have := r.items[id]
		v, live := atStart[id]
		switch {
		case have && !live:
			t.Fatalf("replica keeps %s, which is gone", id)
		case !have && live:
			t.Fatalf("replica lacks %s", id)
		case project(it) != v.item:
			t.Fatalf("replica %s\n%s\nwant\n%s", id, project(it), v.item)
		}
	}
	r.token, r.start = token, start
}

// (b) A replica kept by incremental rounds from stored tokens, with random
// changes between and during rounds, always matches the tenant; rounds
// return only changed items; (c) hierarchical shared facets and
// sharedChanged are exact; (d) after invalidation every old token answers
// resync and the fresh enumeration matches the export.
func TestPropertyReplica(t *testing.T) {
	for seed := int64(1); seed <= propertySeeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := newRand(seed)
			tn := New(Config{Seed: seed, Users: 3 + rng.IntN(5), FilesPerUser: 5 + rng.IntN(40), ShareRatio: 0.1 + rng.Float64()*0.3, Lenient: classic})
			l := newChangeLog(t, tn, seed)
			drives := tn.Drives()
			reps := make([]*replica, len(drives))
			for k, d := range drives {
				reps[k] = &replica{items: map[string]Item{}}
				round(t, tn, l, rng, d.ID, reps[k], true)
			}
			for range 8 {
				l.apply(rng.IntN(12))
				for k, d := range drives {
					round(t, tn, l, rng, d.ID, reps[k], rng.IntN(2) == 0)
				}
			}
			// Quiet now: one more round brings every replica up to date.
			ex := export(t, tn)
			for k, d := range drives {
				round(t, tn, l, rng, d.ID, reps[k], false)
				want := driveItems(ex, d.ID)
				if len(reps[k].items) != len(want) {
					t.Fatalf("drive %d: replica %d items, export %d", k, len(reps[k].items), len(want))
				}
				for id, it := range reps[k].items {
					w := want[id]
					if it.Name != w.Name || it.ParentID != w.ParentID || it.Size != w.Size || replicaPath(reps[k].items, id) != w.Path {
						t.Fatalf("replica item %+v, export %+v", it, w)
					}
				}
			}
			// (d) Invalidation.
			half, err := tn.Delta(drives[0].ID, "root", "", DeltaOptions{Top: 2})
			if err != nil {
				t.Fatal(err)
			}
			tn.InvalidateDelta()
			l.apply(rng.IntN(5))
			ex = export(t, tn)
			for k, d := range drives {
				for _, tok := range []string{reps[k].token, half.NextToken} {
					if k > 0 && tok == half.NextToken {
						continue
					}
					_, err := tn.Delta(d.ID, "root", tok, DeltaOptions{})
					var re *ResyncError
					if !errors.As(err, &re) {
						t.Fatalf("old token after invalidation: %v", err)
					}
					items, _ := enumerate(t, tn, d.ID, re.FreshToken, DeltaOptions{Top: 1 + rng.IntN(50)})
					want := driveItems(ex, d.ID)
					if len(items) != len(want) {
						t.Fatalf("fresh enumeration %d items, export %d", len(items), len(want))
					}
					for _, it := range items {
						if ExportItemOf(it) != want[it.ID] {
							t.Fatalf("fresh enumeration %+v\nexport %+v", ExportItemOf(it), want[it.ID])
						}
					}
				}
			}
		})
	}
}

// replicaPath derives an item's path from the replica alone, as a sync
// engine must (delta does not return descendants of a renamed folder).
func replicaPath(items map[string]Item, id string) string {
	it := items[id]
	if it.Root {
		return "/"
	}
	p := replicaPath(items, it.ParentID)
	if p == "/" {
		return "/" + it.Name
	}
	return p + "/" + it.Name
}

// Delta pages, permission lists and exports run while changes are applied;
// run with -race. Afterwards every drive's replica catches up exactly.
func TestConcurrentDeltaAndApply(t *testing.T) {
	tn := New(Config{Seed: 99, Users: 6, FilesPerUser: 60, ShareRatio: 0.2, Lenient: classic})
	drives := tn.Drives()
	reps := make([]map[string]Item, len(drives))
	tokens := make([]string, len(drives))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		defer close(stop)
		for k := range 300 {
			tn.ApplyRandomChanges(int64(k), 1)
		}
	})
	for k, d := range drives {
		reps[k] = map[string]Item{}
		wg.Go(func() {
			catchUp := func() {
				token := tokens[k]
				var got []Item
				for {
					p, err := tn.Delta(d.ID, "root", token, DeltaOptions{Top: 17, HierarchicalSharing: true})
					if err != nil {
						t.Errorf("delta: %v", err)
						return
					}
					got = append(got, p.Items...)
					if p.DeltaToken != "" {
						tokens[k] = p.DeltaToken
						break
					}
					token = p.NextToken
				}
				for _, it := range got {
					if it.Deleted {
						delete(reps[k], it.ID)
					} else {
						reps[k][it.ID] = it
						if _, err := tn.Permissions(d.ID, it.ID); err != nil && !errors.Is(err, ErrNotFound) {
							t.Errorf("permissions: %v", err)
						}
					}
				}
			}
			for {
				select {
				case <-stop:
					catchUp()
					return
				default:
					catchUp()
				}
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				_ = tn.Summary()
				_ = tn.Export(discard{})
			}
		}
	})
	wg.Wait()
	ex := export(t, tn)
	for k, d := range drives {
		want := driveItems(ex, d.ID)
		if len(reps[k]) != len(want) {
			t.Fatalf("drive %d: replica %d items, export %d", k, len(reps[k]), len(want))
		}
		for id, it := range reps[k] {
			if w := want[id]; it.Name != w.Name || it.ParentID != w.ParentID || it.Size != w.Size {
				t.Fatalf("replica %+v\nexport %+v", it, w)
			}
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
