package store

import (
	"errors"
	"testing"
	"time"
)

// FuzzCursor: a cursor is whatever a caller sends. Decoding never panics, refuses anything but
// a cursor of the same ordering with ErrBadCursor, and every cursor the store hands out decodes.
func FuzzCursor(f *testing.F) {
	keys := []sortKey{
		{name: "name", expr: "i.name", idExpr: "i.id", kind: keyString},
		{name: "size", expr: "i.size", idExpr: "i.id", kind: keyInt, desc: true},
		{name: "modified", expr: "i.modified", idExpr: "i.id", kind: keyTime, nullable: true},
	}
	for _, k := range keys {
		f.Add(k.encode("x", "id1"))
		f.Add(k.encode(int64(42), "id2"))
		f.Add(k.encode(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "id3"))
		f.Add(k.encode(nil, "id4"))
	}
	f.Add("")
	f.Add("e30")                                        // {}
	f.Add("bnVsbA")                                     // null
	f.Add("W10")                                        // []
	f.Add("eyJvIjoibmFtZTphc2MiLCJrIjp7fSwiaSI6IngifQ") // a key of the wrong type
	f.Fuzz(func(t *testing.T, cursor string) {
		for _, k := range keys {
			cond, args, err := k.after(cursor)
			if err != nil {
				if !errors.Is(err, ErrBadCursor) {
					t.Fatalf("%s: %q: error %v is not ErrBadCursor", k.tag(), cursor, err)
				}
				continue
			}
			if cond == "" || len(args) == 0 {
				t.Fatalf("%s: %q accepted with no condition", k.tag(), cursor)
			}
		}
	})
}

// TestCursorsRoundTrip: the cursors the store writes are read back, for every kind of key.
func TestCursorsRoundTrip(t *testing.T) {
	for _, c := range []struct {
		k     sortKey
		value any
	}{
		{sortKey{name: "name", kind: keyString, expr: "e", idExpr: "i"}, "Ann's \"plan\""},
		{sortKey{name: "size", kind: keyInt, expr: "e", idExpr: "i"}, int64(1) << 40},
		{sortKey{name: "modified", kind: keyTime, expr: "e", idExpr: "i", nullable: true}, time.Now()},
		{sortKey{name: "modified", kind: keyTime, expr: "e", idExpr: "i", nullable: true}, nil},
	} {
		if _, _, err := c.k.after(c.k.encode(c.value, "b!x-01ABC")); err != nil {
			t.Errorf("%s %v: %v", c.k.tag(), c.value, err)
		}
	}
}
