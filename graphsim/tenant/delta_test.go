package tenant

import (
	"errors"
	"testing"
)

func TestDeltaErrors(t *testing.T) {
	tn := small(1)
	ex := export(t, tn)
	d0, d1 := ex.drives[0], ex.drives[1]
	var folder string
	for _, it := range ex.items {
		if it.DriveID == d0.ID && it.Folder && !it.Root {
			folder = it.ID
		}
	}
	_, tok1 := enumerate(t, tn, d1.ID, "", DeltaOptions{})
	first, err := tn.Delta(d0.ID, "root", "", DeltaOptions{Top: 1})
	if err != nil {
		t.Fatal(err)
	}
	mangled := []byte(first.NextToken)
	mangled[5] ^= 2
	tests := []struct {
		name, drive, item, token string
		want                     error
	}{
		{"unknown drive", "b!nope", "root", "", ErrNotFound},
		{"unknown item", d0.ID, "01AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "", ErrNotFound},
		{"folder other than the root", d0.ID, folder, "", ErrDeltaNotSupported},
		{"root of another drive", d0.ID, d1.RootID, "", ErrNotFound},
		{"garbage token", d0.ID, "root", "not-a-token", ErrInvalid},
		{"mangled token", d0.ID, "root", string(mangled), ErrInvalid},
		{"token of another drive", d0.ID, "root", tok1, ErrInvalid},
		{"root by id", d0.ID, d0.RootID, "", nil},
		{"root alias", d0.ID, "root", first.NextToken, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tn.Delta(tc.drive, tc.item, tc.token, DeltaOptions{})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Delta = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDeltaPaging(t *testing.T) {
	tn := New(Config{Seed: 2, Users: 2, FilesPerUser: 2500, ShareRatio: 0.05, Lenient: classic})
	ex := export(t, tn)
	for _, d := range ex.drives {
		want := driveItems(ex, d.ID)
		for _, top := range []int{0, 7, 5000} {
			token := ""
			seen := map[string]bool{}
			for {
				p, err := tn.Delta(d.ID, "root", token, DeltaOptions{Top: top})
				if err != nil {
					t.Fatal(err)
				}
				limit := map[int]int{0: 200, 7: 7, 5000: 1000}[top]
				if len(p.Items) > limit || p.NextToken != "" && len(p.Items) < limit {
					t.Fatalf("top %d: page of %d items (next %v)", top, len(p.Items), p.NextToken != "")
				}
				for _, it := range p.Items {
					if seen[it.ID] {
						t.Fatalf("item %s twice in one round", it.ID)
					}
					seen[it.ID] = true
					if got := ExportItemOf(it); got != want[it.ID] {
						t.Fatalf("delta item %+v\nexport     %+v", got, want[it.ID])
					}
				}
				if p.DeltaToken != "" {
					break
				}
				token = p.NextToken
			}
			if len(seen) != len(want) {
				t.Errorf("top %d: round returned %d items, drive has %d", top, len(seen), len(want))
			}
		}
	}
}

func TestDeltaLatestAndIncremental(t *testing.T) {
	tn := small(3)
	d := tn.Drives()[0]
	p, err := tn.Delta(d.ID, "root", "latest", DeltaOptions{})
	if err != nil || len(p.Items) != 0 || p.DeltaToken == "" || p.NextToken != "" {
		t.Fatalf("latest: %+v, %v", p, err)
	}
	if items, _ := enumerate(t, tn, d.ID, p.DeltaToken, DeltaOptions{}); len(items) != 0 {
		t.Fatalf("no change, yet %d items", len(items))
	}
	res, err := tn.Apply(Change{Op: "create", DriveID: d.ID, Name: "Budget 2027.xlsx", Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	items, next := enumerate(t, tn, d.ID, p.DeltaToken, DeltaOptions{})
	if len(items) != 2 || items[0].ID != res.ItemID || items[1].ID != d.RootID || items[1].ChildCount == 0 {
		t.Fatalf("after a create under the root: %+v", items)
	}
	if items, _ := enumerate(t, tn, d.ID, next, DeltaOptions{}); len(items) != 0 {
		t.Fatalf("the next round repeats %d items", len(items))
	}
	// The old token still works and still reports the change.
	if items, _ := enumerate(t, tn, d.ID, p.DeltaToken, DeltaOptions{}); len(items) != 2 {
		t.Fatalf("replaying the old token: %d items", len(items))
	}
}

func TestResync(t *testing.T) {
	tn := small(4)
	d := tn.Drives()[1]
	_, stored := enumerate(t, tn, d.ID, "", DeltaOptions{})
	half, err := tn.Delta(d.ID, "root", "", DeltaOptions{Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	tn.ApplyRandomChanges(1, 30)
	tn.InvalidateDelta()
	for name, tok := range map[string]string{"deltaLink": stored, "nextLink": half.NextToken} {
		_, err := tn.Delta(d.ID, "root", tok, DeltaOptions{})
		var re *ResyncError
		if !errors.As(err, &re) || re.FreshToken == "" {
			t.Fatalf("%s after invalidation: %v", name, err)
		}
		items, _ := enumerate(t, tn, d.ID, re.FreshToken, DeltaOptions{})
		want := driveItems(export(t, tn), d.ID)
		got := map[string]ExportItem{}
		for _, it := range items {
			got[it.ID] = ExportItemOf(it)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: fresh enumeration has %d items, export %d", name, len(got), len(want))
		}
		for id, w := range want {
			if got[id] != w {
				t.Fatalf("%s: item %s differs:\n%+v\n%+v", name, id, got[id], w)
			}
		}
	}
	// A fresh enumeration started now works at once, and so does "latest".
	if _, err := tn.Delta(d.ID, "root", "", DeltaOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.Delta(d.ID, "root", "latest", DeltaOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Without hierarchical sharing every item reports the widest scope it is
// shared with, its own or inherited.
func TestSharedFacetFlat(t *testing.T) {
	tn := New(Config{Seed: 9, Users: 10, FilesPerUser: 80, ShareRatio: 0.2, Lenient: classic})
	rank := map[string]int{"": 0, "users": 1, "organization": 2, "anonymous": 3}
	for _, d := range tn.Drives() {
		items, _ := enumerate(t, tn, d.ID, "", DeltaOptions{})
		for _, it := range items {
			ps, err := tn.Permissions(d.ID, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			for _, p := range ps {
				s := "users"
				switch {
				case p.Roles[0] == "owner" || p.Roles[0] == LimitedAccessRole || p.Link != nil && p.Link.Scope == ExistingAccessScope:
					continue
				case p.EveryoneExceptExternal:
					s = "organization"
				case p.Link != nil:
					s = p.Link.Scope
				}
				if rank[s] > rank[want] {
					want = s
				}
			}
			got := ""
			if it.Shared != nil {
				got = it.Shared.Scope
				if it.Shared.Empty || it.Shared.Owner == nil || it.Shared.Owner.ID != d.OwnerUserID {
					t.Errorf("item %s facet %+v", it.ID, it.Shared)
				}
			}
			if got != want {
				t.Fatalf("item %s %s: shared scope %q, want %q", it.ID, it.Path, got, want)
			}
		}
	}
}
