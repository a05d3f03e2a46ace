package tenant

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// Identifiers are derived from (seed, drive index, item or permission index)
// instead of being stored: a million items would otherwise need a million
// map entries just to resolve ids. Each id carries its indices masked by a
// keyed hash, plus a tag that is checked on decoding, so ids look opaque,
// are unique, and a made-up or mangled id is rejected.

// mix is splitmix64's finaliser: a cheap, well-distributed 64-bit hash step.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// idCodec holds the per-tenant key used to derive and check identifiers.
type idCodec struct{ key uint64 }

func (c idCodec) tag(kind uint64, d, i int32) (uint64, uint64) {
	h1 := mix(c.key ^ mix(kind<<56^uint64(uint32(d))<<32^uint64(uint32(i))))
	h2 := mix(h1 ^ c.key ^ kind)
	return h1, h2
}

func (c idCodec) mask(h1 uint64, h2lo uint32) uint64 {
	return mix(h1 ^ uint64(h2lo)<<17 ^ c.key ^ 0x5bd1e9955bd1e995)
}

const kindItem = 1

// itemID formats like OneDrive for Business ids: "01" + 32 base32 characters.
func (c idCodec) itemID(d, i int32) string {
	h1, h2 := c.tag(kindItem, d, i)
	var raw [20]byte
	lo := uint32(h2 >> 32)
	binary.BigEndian.PutUint64(raw[0:], (uint64(uint32(d))<<32|uint64(uint32(i)))^c.mask(h1, lo))
	binary.BigEndian.PutUint64(raw[8:], h1)
	binary.BigEndian.PutUint32(raw[16:], lo)
	var out [34]byte
	out[0], out[1] = '0', '1'
	base32.StdEncoding.Encode(out[2:], raw[:])
	return string(out[:])
}

func (c idCodec) parseItemID(s string) (d, i int32, ok bool) {
	if len(s) != 34 || s[0] != '0' || s[1] != '1' {
		return 0, 0, false
	}
	var raw [20]byte
	n, err := base32.StdEncoding.Decode(raw[:], []byte(s[2:]))
	if err != nil || n != 20 {
		return 0, 0, false
	}
	h1 := binary.BigEndian.Uint64(raw[8:])
	lo := binary.BigEndian.Uint32(raw[16:])
	v := binary.BigEndian.Uint64(raw[0:]) ^ c.mask(h1, lo)
	d, i = int32(uint32(v>>32)), int32(uint32(v))
	e1, e2 := c.tag(kindItem, d, i)
	if e1 != h1 || uint32(e2>>32) != lo {
		return 0, 0, false
	}
	return d, i, true
}

// Permission ids follow SharePoint: a grant to a principal (user, group,
// claims principal, application) is named by the principal's claims login in
// base64, so a user has the same permission id on every item of the drive; a
// link is a GUID; an existingAccess link is all zeros.

const (
	kindLink         = 11
	existingAccessID = "00000000-0000-0000-0000-000000000000"
)

// principalID is the permission id of the principal with this claims login.
func principalID(login string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(login))
}

// linkID is the GUID of the link created as perm origin of drive d.
func (c idCodec) linkID(d, origin int32) string {
	return c.guid(kindLink, uint64(uint32(d))<<32|uint64(uint32(origin)))
}

// guid returns a deterministic version-4-shaped GUID for (kind, n).
func (c idCodec) guid(kind, n uint64) string {
	a := mix(c.key ^ mix(kind<<40^n))
	b := mix(a ^ 0x243f6a8885a308d3)
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[0:], a)
	binary.BigEndian.PutUint64(raw[8:], b)
	raw[6] = raw[6]&0x0f | 0x40
	raw[8] = raw[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", raw[0:4], raw[4:6], raw[6:8], raw[8:10], raw[10:16])
}

// driveID is "b!" followed by 64 URL-safe base64 characters (48 bytes).
func (c idCodec) driveID(d int32) string {
	var raw [48]byte
	x := mix(c.key ^ 0x6a09e667f3bcc908 ^ uint64(uint32(d)))
	for k := 0; k < 48; k += 8 {
		x = mix(x)
		binary.BigEndian.PutUint64(raw[k:], x)
	}
	return "b!" + base64.RawURLEncoding.EncodeToString(raw[:])
}

// opaque returns n URL-safe characters derived from (kind, a, b), for link
// tokens and similar strings that need no decoding.
func (c idCodec) opaque(kind uint64, a, b int32, n int) string {
	raw := make([]byte, (n*3+3)/4+3)
	x := mix(c.key ^ kind<<48 ^ uint64(uint32(a))<<24 ^ uint64(uint32(b)))
	for k := 0; k < len(raw); k++ {
		if k%8 == 0 {
			x = mix(x)
		}
		raw[k] = byte(x >> (8 * (k % 8)))
	}
	return base64.RawURLEncoding.EncodeToString(raw)[:n]
}
