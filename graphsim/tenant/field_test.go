package tenant

import (
	"errors"
	"fmt"
	"testing"
)

var allSharing = DeltaOptions{HierarchicalSharing: true, ShowSharingChanges: true, ShowRemovedAsDeleted: true, TraversePermissionGaps: true}

// harshReplica keeps one drive by delta the way a careful client must under
// the default behaviours: the last occurrence of an id wins across the
// round, and a 410 means a fresh enumeration (from Location, or from
// scratch without one) followed by mark and sweep.
type harshReplica struct {
	items   map[string]Item
	token   string
	repeats int // ids that came more than once in one round
	resyncs int
}

// round runs one round; between pages it applies changes through between,
// so that items change while the round is paged.
func (r *harshReplica) round(t *testing.T, tn *Tenant, driveID string, top int, between func()) {
	t.Helper()
	token, full := r.token, r.token == ""
	var got []Item
	for pages := 0; ; pages++ {
		if pages > 100_000 {
			t.Fatal("delta round never ends")
		}
		opt := allSharing
		opt.Top = top
		p, err := tn.Delta(driveID, "root", token, opt)
		var re *ResyncError
		if errors.As(err, &re) {
			r.resyncs++
			token, full, got = re.FreshToken, true, nil
			if re.Variant == ResyncNoLocation {
				token = ""
			}
			continue
		}
		if err != nil {
			t.Fatalf("delta: %v", err)
		}
		deleted := 0
		for _, it := range p.Items {
			if it.Deleted {
				deleted++
			}
			if it.SharedChanged && it.Folder {
				t.Fatalf("folder %s carries sharedChanged", it.ID)
			}
		}
		if deleted > deletedPageItems {
			t.Fatalf("a page with %d deleted items carries %d items", deleted, len(p.Items))
		}
		got = append(got, p.Items...)
		if p.DeltaToken != "" {
			r.token = p.DeltaToken
			break
		}
		token = p.NextToken
		if between != nil {
			between()
		}
	}
	seen := map[string]bool{}
	for _, it := range got {
		if seen[it.ID] {
			r.repeats++
		}
		seen[it.ID] = true
	}
	if full {
		r.items = map[string]Item{}
	}
	for _, it := range got { // in order: the last occurrence wins
		if it.Deleted {
			delete(r.items, it.ID)
		} else {
			r.items[it.ID] = it
		}
	}
}

func (r *harshReplica) mustEqual(t *testing.T, ex exported, driveID string, except map[string]bool) {
	t.Helper()
	want := driveItems(ex, driveID)
	for id, w := range want {
		it, ok := r.items[id]
		if !ok {
			t.Fatalf("replica lacks %s (%s)", id, w.Path)
		}
		if it.Name != w.Name || it.ParentID != w.ParentID || it.Size != w.Size && !except["sizes"] {
			t.Fatalf("replica %+v\nexport %+v", ExportItemOf(it), w)
		}
	}
	for id := range r.items {
		if _, ok := want[id]; !ok && !except[id] {
			t.Fatalf("replica keeps %s, which is gone", id)
		}
	}
}

// Under the default behaviours, a replica that takes the last occurrence and
// resyncs on 410 stays exact through changes between and during rounds;
// items deleted by retention stay in it until a full enumeration, which
// removes them. Repeats and resyncs do happen.
func TestHarshReplicaCatchesUp(t *testing.T) {
	repeats, resyncs := 0, 0
	for seed := int64(1); seed <= propertySeeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := newRand(seed)
			tn := New(Config{Seed: seed, Users: 3 + rng.IntN(4), FilesPerUser: 10 + rng.IntN(40), ShareRatio: 0.3})
			drives := tn.Drives()
			reps := make([]*harshReplica, len(drives))
			for k, d := range drives {
				reps[k] = &harshReplica{items: map[string]Item{}}
				reps[k].round(t, tn, d.ID, 1+rng.IntN(30), func() { tn.ApplyRandomChanges(rng.Int64(), rng.IntN(3)) })
			}
			silent := map[string]bool{}
			for range 6 {
				tn.ApplyRandomChanges(rng.Int64(), rng.IntN(15))
				d := drives[rng.IntN(len(drives))]
				for _, it := range reps[0].items {
					if !it.Root && it.DriveID == d.ID && rng.IntN(20) == 0 {
						if err := tn.RetentionDelete(d.ID, it.ID); err == nil {
							silent[it.ID] = true
						}
						break
					}
				}
				for k, d := range drives {
					reps[k].round(t, tn, d.ID, 1+rng.IntN(30), func() { tn.ApplyRandomChanges(rng.Int64(), rng.IntN(2)) })
				}
			}
			// Quiet: one more incremental round; only retention deletions
			// (and the sizes they changed) are missing.
			ex := export(t, tn)
			silent["sizes"] = true
			for k, d := range drives {
				reps[k].round(t, tn, d.ID, 50, nil)
				for id := range reps[k].items {
					if _, live := ex.items[id]; !live {
						silent[id] = true // below a folder deleted by retention
					}
				}
				reps[k].mustEqual(t, ex, d.ID, silent)
				repeats += reps[k].repeats
				resyncs += reps[k].resyncs
			}
			// A full enumeration heals them.
			for k, d := range drives {
				reps[k].token = ""
				reps[k].round(t, tn, d.ID, 50, nil)
				reps[k].mustEqual(t, ex, d.ID, nil)
			}
		})
	}
	if repeats == 0 || resyncs == 0 {
		t.Fatalf("over all seeds: %d repeated ids, %d resyncs; the default behaviours did not show", repeats, resyncs)
	}
}

// An item changed while a full enumeration is paged comes again later in the
// same round, in its new state; NoRepeats keeps it for the next round.
func TestChangedWhilePagedComesAgain(t *testing.T) {
	for _, lax := range []Lenient{{}, {NoRepeats: true}} {
		tn := New(Config{Seed: 7, Users: 2, FilesPerUser: 300, Lenient: lax})
		d := tn.Drives()[0]
		first, err := tn.Delta(d.ID, "root", "", DeltaOptions{Top: 25})
		if err != nil || first.NextToken == "" {
			t.Fatalf("first page: %v, or the drive fits one page", err)
		}
		var victim Item
		for _, it := range first.Items {
			if !it.Root && !it.Folder {
				victim = it
			}
		}
		if _, err := tn.Apply(Change{Op: "rename", DriveID: d.ID, ItemID: victim.ID, Name: "Renamed while paged.docx"}); err != nil {
			t.Fatal(err)
		}
		rest, next := enumerate(t, tn, d.ID, first.NextToken, DeltaOptions{Top: 5})
		var last *Item
		for k := range rest {
			if rest[k].ID == victim.ID {
				last = &rest[k]
			}
		}
		switch {
		case !lax.NoRepeats && (last == nil || last.Name != "Renamed while paged.docx"):
			t.Fatalf("the renamed item did not come again in its new state: %+v", last)
		case lax.NoRepeats && last != nil:
			t.Fatalf("NoRepeats: the renamed item came twice")
		}
		again, _ := enumerate(t, tn, d.ID, next, DeltaOptions{})
		if !lax.NoRepeats && len(again) != 0 {
			t.Fatalf("the next round repeats %d items already sent in their last state", len(again))
		}
	}
}

// Pages of deletions carry about 7 entries, whatever $top says.
func TestDeletedPagesAreShort(t *testing.T) {
	tn := New(Config{Seed: 11, Users: 2, FilesPerUser: 20})
	d := tn.Drives()[0]
	f, _ := tn.Apply(Change{Op: "create", DriveID: d.ID, Name: "Bulk", Folder: true})
	for k := range 30 {
		if _, err := tn.Apply(Change{Op: "create", DriveID: d.ID, ParentID: f.ItemID, Name: fmt.Sprint(k, ".txt")}); err != nil {
			t.Fatal(err)
		}
	}
	_, token := enumerate(t, tn, d.ID, "", DeltaOptions{})
	if _, err := tn.Apply(Change{Op: "delete", DriveID: d.ID, ItemID: f.ItemID}); err != nil {
		t.Fatal(err)
	}
	pages, deleted := 0, 0
	for token != "" {
		p, err := tn.Delta(d.ID, "root", token, DeltaOptions{Top: 1000})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range p.Items {
			if it.Deleted {
				deleted++
			}
		}
		if len(p.Items) > deletedPageItems+1 { // the root after the drive's last live change
			t.Fatalf("page of %d items", len(p.Items))
		}
		token = p.NextToken
	}
	if deleted != 31 || pages < 31/deletedPageItems {
		t.Fatalf("%d deleted items in %d pages", deleted, pages)
	}
}

// On incremental rounds a changed item is followed by its ancestors.
func TestAncestorsResent(t *testing.T) {
	tn := New(Config{Seed: 8, Users: 2, FilesPerUser: 40})
	d := tn.Drives()[0]
	_, token := enumerate(t, tn, d.ID, "", DeltaOptions{})
	folder, err := tn.Apply(Change{Op: "create", DriveID: d.ID, Name: "Deep", Folder: true})
	if err != nil {
		t.Fatal(err)
	}
	_, token = enumerate(t, tn, d.ID, token, DeltaOptions{})
	a, _ := tn.Apply(Change{Op: "create", DriveID: d.ID, ParentID: folder.ItemID, Name: "a.txt"})
	b, _ := tn.Apply(Change{Op: "create", DriveID: d.ID, ParentID: folder.ItemID, Name: "b.txt"})
	items, _ := enumerate(t, tn, d.ID, token, DeltaOptions{Top: 1})
	count := map[string]int{}
	for _, it := range items {
		count[it.ID]++
	}
	if count[a.ItemID] != 1 || count[b.ItemID] != 1 || count[folder.ItemID] < 2 || count[d.RootID] < 2 {
		t.Fatalf("round %v: want each file once, the folder and the root after each", count)
	}
}

// A folder's own sharing change never carries sharedChanged; a file's does.
// Some folder changes expire the drive's tokens, worded in each variant.
func TestFolderSharingChange(t *testing.T) {
	variants := map[ResyncVariant]bool{}
	quiet := 0
	for seed := int64(1); seed <= 40 && (len(variants) < len(resyncNames) || quiet == 0); seed++ {
		tn := New(Config{Seed: seed, Users: 2, FilesPerUser: 20})
		d := tn.Drives()[0]
		_, token := enumerate(t, tn, d.ID, "", allSharing)
		f, err := tn.Apply(Change{Op: "create", DriveID: d.ID, Name: fmt.Sprint("Shared ", seed), Folder: true})
		if err != nil {
			t.Fatal(err)
		}
		_, token = enumerate(t, tn, d.ID, token, allSharing)
		if _, err := tn.Apply(Change{Op: "share", DriveID: d.ID, ItemID: f.ItemID, Scope: "organization"}); err != nil {
			t.Fatal(err)
		}
		p, err := tn.Delta(d.ID, "root", token, allSharing)
		var re *ResyncError
		if errors.As(err, &re) {
			variants[re.Variant] = true
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		quiet++
		for _, it := range p.Items {
			if it.ID == f.ItemID && (it.SharedChanged || it.Shared == nil || it.Shared.Scope != "organization") {
				t.Fatalf("shared folder in delta: %+v", it)
			}
		}
	}
	if len(variants) < len(resyncNames) || quiet == 0 {
		t.Fatalf("variants seen %v, quiet rounds %d", variants, quiet)
	}
}

// Without Sites.FullControl.All delta carries no sharing information.
func TestScopedDown(t *testing.T) {
	tn := New(Config{Seed: 9, Users: 3, FilesPerUser: 30, ShareRatio: 0.5})
	d := tn.Drives()[0]
	opt := allSharing
	opt.ScopedDown = true
	items, token := enumerate(t, tn, d.ID, "", opt)
	var file Item
	for _, it := range items {
		if it.Shared != nil || it.SharedChanged {
			t.Fatalf("scoped-down delta shows sharing: %+v", it)
		}
		if !it.Folder {
			file = it
		}
	}
	if _, err := tn.Apply(Change{Op: "share", DriveID: d.ID, ItemID: file.ID, Scope: "anonymous"}); err != nil {
		t.Fatal(err)
	}
	items, _ = enumerate(t, tn, d.ID, token, opt)
	for _, it := range items {
		if it.ID == file.ID && (it.Shared != nil || it.SharedChanged) {
			t.Fatalf("scoped-down delta shows the new link: %+v", it)
		}
	}
}

// Retention deletions leave no trace in delta, incremental or in progress.
func TestRetentionDeleteNeverReported(t *testing.T) {
	tn := New(Config{Seed: 10, Users: 2, FilesPerUser: 30})
	d := tn.Drives()[0]
	half, err := tn.Delta(d.ID, "root", "", DeltaOptions{Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, token := enumerate(t, tn, d.ID, "", DeltaOptions{})
	all, _ := enumerate(t, tn, d.ID, "", DeltaOptions{})
	victim := all[len(all)-1].ID
	if err := tn.RetentionDelete(d.ID, victim); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{token, half.NextToken} {
		items, _ := enumerate(t, tn, d.ID, from, DeltaOptions{})
		for _, it := range items {
			if it.ID == victim {
				t.Fatalf("retention deletion reported: %+v", it)
			}
		}
	}
	items, _ := enumerate(t, tn, d.ID, "", DeltaOptions{})
	for _, it := range items {
		if it.ID == victim {
			t.Fatal("a full enumeration still lists the deleted item")
		}
	}
	if err := tn.RetentionDelete(d.ID, victim); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting it again: %v", err)
	}
}

func TestParseLenient(t *testing.T) {
	l, err := ParseLenient("noRepeats, fullExpandPages")
	if err != nil || !l.NoRepeats || !l.FullExpandPages || l.NoFolderResyncs {
		t.Fatalf("%+v %v", l, err)
	}
	if l, _ := ParseLenient("all"); !l.DenyWithoutFullControl || !l.PlainTombstones {
		t.Fatalf("all: %+v", l)
	}
	if _, err := ParseLenient("friendly"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown name: %v", err)
	}
}
