package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/overshare/overshare/internal/apiseed"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/store"
)

// FuzzItemFilter: whatever a caller puts in a filter (search text with LIKE's wildcards and
// escapes, unknown link types, any owner or drive, any mix of conditions), the
// store answers exactly the items the plain-Go reading of the filter selects (apiseed.Match),
// its count agrees, and nothing errors.
func FuzzItemFilter(f *testing.F) {
	ctx := context.Background()
	st := testdb.Open(f, testdb.SQLiteConfig(f))
	d := apiseed.Build("it1", 4, 40)
	if err := apiseed.Write(ctx, st, d); err != nil {
		f.Fatal(err)
	}
	scopes := []string{"anonymous", "organization", "users"} // the API's enum: nothing else reaches the store
	f.Add("budget", "edit", uint8(0), uint16(0))
	f.Add(`100%`, "view", uint8(1), uint16(0x1ff))
	f.Add(`n_b\`, "", uint8(2), uint16(0x0f0))
	f.Add("", "blocksDownload", uint8(5), uint16(0xffff))
	f.Fuzz(func(t *testing.T, search, linkType string, scope uint8, bits uint16) {
		bit := func(i int) bool { return bits&(1<<i) != 0 }
		tri := func(i int) *bool { // unset, true or false
			if !bit(i) {
				return nil
			}
			v := bit(i + 1)
			return &v
		}
		flt := store.ItemFilter{Search: search, External: tri(0), HasExpiry: tri(2), HasPassword: tri(4),
			Expired: bit(6), SharedOnly: bit(7)}
		if bit(8) {
			flt.Scopes = []string{scopes[int(scope)%len(scopes)]}
		}
		if bit(9) {
			flt.LinkTypes = []string{linkType}
		}
		if bit(10) {
			flt.OwnerUserID = d.Drives[int(scope)%len(d.Drives)].OwnerUserID
		}
		if bit(11) {
			flt.DriveID = d.Drives[int(scope)%len(d.Drives)].ID
		}
		var got []string
		after := ""
		for range 100 {
			p, err := st.ListDriveItems(ctx, "it1", flt, store.ItemOrder{Field: store.ItemOrderName}, store.PageRequest{First: 50, After: after})
			if err != nil {
				t.Fatalf("%+v: %v", flt, err)
			}
			for _, it := range p.Rows {
				got = append(got, it.ID)
			}
			if !p.HasNext {
				break
			}
			after = p.EndCursor()
		}
		slices.Sort(got)
		want := d.Match(flt)
		if !slices.Equal(got, want) {
			t.Fatalf("%+v: the store selects %d items, the filter's meaning %d", flt, len(got), len(want))
		}
		n, err := st.CountDriveItems(ctx, "it1", flt)
		if err != nil || n != len(want) {
			t.Fatalf("%+v: count %d (%v), want %d", flt, n, err, len(want))
		}
	})
}
