package model

import (
	"slices"
	"testing"
	"unicode/utf8"
)

// FuzzGlobalID: any key round-trips through its global ID, and any string a caller sends as
// an ID is either a key this API could have issued or an error that echoes at most 80 bytes
// of it; nothing panics.
func FuzzGlobalID(f *testing.F) {
	f.Add("DriveItem", "it1", "01ABC:DEF%3A", "")
	f.Add("Permission", "it1", "item", "aTowIy5mfG1lbWJlcnNoaXB8")
	f.Add("Integration", "0b9c…", "", "")
	f.Add(EncodeID(TypeUser, "i", "u:1"), "", "", "")
	f.Add("RHJpdmVJdGVtOml0MTo", "x", "y", "z")
	types := []string{TypeIntegration, TypeUser, TypeDrive, TypeDriveItem, TypePermission, TypeSyncRun, TypeAuditEvent}
	f.Fuzz(func(t *testing.T, s, a, b, c string) {
		// s as a caller's ID.
		typ, parts, err := DecodeAnyID(s)
		if err != nil {
			if msg := err.Error(); len(msg) > 80+len("\"…\" is not an ID issued by this API")+8 {
				t.Fatalf("error echoes %d bytes: %q", len(msg), msg)
			}
		} else if again, err := DecodeID(EncodeID(typ, parts...), typ); err != nil || !slices.Equal(again, parts) {
			t.Fatalf("%q decoded to %s %q, which does not round-trip: %q %v", s, typ, parts, again, err)
		}
		// s, a, b, c as a type and a key.
		for _, typ := range types {
			key := []string{a, b, c}[:idParts[typ]]
			if slices.Contains(key, "") {
				continue // no row has an empty key part
			}
			got, err := DecodeID(EncodeID(typ, key...), typ)
			if err != nil || !slices.Equal(got, key) {
				t.Fatalf("%s %q: decoded %q, %v", typ, key, got, err)
			}
			if !utf8.ValidString(EncodeID(typ, key...)) {
				t.Fatal("an ID that is not text")
			}
		}
	})
}
