package graphsim_test

import (
	"testing"

	"github.com/overshare/overshare/graphsim"
)

// Property, through the SDK: after any sequence of random changes, a local
// copy kept up to date from stored deltaLinks (last occurrence wins, deleted
// facets remove) equals the export, drive by drive, and so does a fresh full
// enumeration.
func TestDeltaReplicaEqualsExport(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	ex := s.export(t).readable()

	type replica struct {
		items     map[string]string // id → name
		deltaLink string
	}
	replicas := map[string]*replica{}
	for _, d := range ex.drives {
		r := followDelta(t, client, d.ID, "", deltaConfig(50, allPrefer))
		rep := &replica{items: map[string]string{}, deltaLink: r.deltaLink}
		for id, it := range r.items {
			if it.GetDeleted() == nil {
				rep.items[id] = *it.GetName()
			}
		}
		replicas[d.ID] = rep
	}
	check := func(round int) {
		t.Helper()
		want := map[string]map[string]string{}
		for _, it := range s.export(t).items {
			if want[it.DriveID] == nil {
				want[it.DriveID] = map[string]string{}
			}
			want[it.DriveID][it.ID] = it.Name
		}
		for driveID, rep := range replicas {
			w := want[driveID]
			if len(rep.items) != len(w) {
				t.Fatalf("round %d, drive %s: replica has %d items, export %d", round, driveID, len(rep.items), len(w))
			}
			for id, name := range w {
				got, ok := rep.items[id]
				if !ok || (got != name && name != "root" && got != "root") {
					t.Fatalf("round %d, drive %s: item %s is %q in the replica, %q in the export", round, driveID, id, got, name)
				}
			}
		}
	}
	check(0)
	resyncs := 0
	for round := 1; round <= 6; round++ {
		var out struct {
			Applied int `json:"applied"`
		}
		if st := s.control(t, "POST", "/changes", map[string]any{"seed": round * 31, "count": 15 * round}, &out); st != 200 {
			t.Fatalf("changes: %d", st)
		}
		for driveID, rep := range replicas {
			r := followDelta(t, client, driveID, rep.deltaLink, deltaConfig(7, allPrefer))
			if r.resyncs > 0 {
				rep.items = map[string]string{} // a fresh enumeration: mark and sweep
				resyncs++
			}
			for id, it := range r.items {
				if it.GetDeleted() != nil {
					if it.GetName() != nil {
						t.Fatalf("deleted item %s carries a name; OneDrive for Business drops it", id)
					}
					delete(rep.items, id)
					continue
				}
				rep.items[id] = *it.GetName()
			}
			rep.deltaLink = r.deltaLink
		}
		check(round)
	}
	if resyncs == 0 {
		t.Fatal("no folder sharing change answered 410; the property ran without resyncs")
	}
	// A fresh enumeration agrees too.
	for driveID, rep := range replicas {
		r := followDelta(t, client, driveID, "", deltaConfig(1000))
		live := 0
		for _, it := range r.items {
			if it.GetDeleted() == nil {
				live++
			}
		}
		if live != len(rep.items) {
			t.Fatalf("drive %s: fresh enumeration has %d items, replica %d", driveID, live, len(rep.items))
		}
	}
}
