package graphsim

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/overshare/overshare/graphsim/tenant"
)

// tombShape is how deleted items are written (docs/graph-behaviour.md,
// "Paging"): by default as OneDrive for Business does, with a file facet
// and size 0 whatever the item was, and without the deleted facet when
// $select leaves it out.
type tombShape struct {
	plain       bool // no file facet, no size (Lenient.PlainTombstones)
	keepDeleted bool // the deleted facet even when not selected (Lenient.SelectKeepsDeleted)
}

func tombShapeOf(l tenant.Lenient) tombShape {
	return tombShape{plain: l.PlainTombstones, keepDeleted: l.SelectKeepsDeleted}
}

// appendItem writes a driveItem exactly as json.Marshal(toItemJSON(it, sel,
// tomb)) would, without reflection: delta pages are the simulator's hot
// path (a million-item sync reads them all).
func appendItem(b []byte, it tenant.Item, sel selection, tomb tombShape) []byte {
	b = append(b, '{')
	if it.SharedChanged {
		b = append(b, `"@microsoft.graph.sharedChanged":"True",`...)
	}
	b = append(b, `"id":`...)
	b = appendString(b, it.ID)
	parent := func(b []byte, withID bool) []byte {
		b = append(b, `,"parentReference":{"driveType":"business"`...)
		if it.DriveID != "" {
			b = append(b, `,"driveId":`...)
			b = appendString(b, it.DriveID)
		}
		if withID && it.ParentID != "" {
			b = append(b, `,"id":`...)
			b = appendString(b, it.ParentID)
		}
		return append(b, '}')
	}
	if it.Deleted {
		if !tomb.plain && sel.has("size") {
			b = append(b, `,"size":0`...)
		}
		b = parent(b, true)
		if !tomb.plain && sel.has("file") {
			b = append(b, `,"file":{}`...)
		}
		if sel.has("deleted") || tomb.keepDeleted {
			b = append(b, `,"deleted":{"state":"deleted"}`...)
		}
		return append(b, '}')
	}
	if sel.has("name") {
		b = append(b, `,"name":`...)
		b = appendString(b, it.Name)
	}
	if sel.has("eTag") {
		b = append(b, `,"eTag":`...)
		b = appendString(b, itemETag(it))
	}
	if sel.has("size") {
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, it.Size, 10)
	}
	if sel.has("webUrl") && it.WebURL != "" {
		b = append(b, `,"webUrl":`...)
		b = appendString(b, it.WebURL)
	}
	if sel.has("createdDateTime") && !it.CreatedDateTime.IsZero() {
		b = append(b, `,"createdDateTime":"`...)
		b = appendTime(b, it.CreatedDateTime)
		b = append(b, '"')
	}
	if sel.has("lastModifiedDateTime") && !it.LastModifiedDateTime.IsZero() {
		b = append(b, `,"lastModifiedDateTime":"`...)
		b = appendTime(b, it.LastModifiedDateTime)
		b = append(b, '"')
	}
	if sel.has("createdBy") {
		b = appendUserSet(b, `,"createdBy":`, it.CreatedBy)
	}
	if sel.has("lastModifiedBy") {
		b = appendUserSet(b, `,"lastModifiedBy":`, it.LastModifiedBy)
	}
	if sel.has("parentReference") {
		b = parent(b, !it.Root)
	}
	if !it.Folder && sel.has("file") {
		b = append(b, `,"file":{`...)
		if it.MimeType != "" {
			b = append(b, `"mimeType":`...)
			b = appendString(b, it.MimeType)
		}
		b = append(b, '}')
	}
	if it.Folder && sel.has("folder") {
		b = append(b, `,"folder":{"childCount":`...)
		b = strconv.AppendInt(b, int64(it.ChildCount), 10)
		b = append(b, '}')
	}
	if it.Root && sel.has("root") {
		b = append(b, `,"root":{}`...)
	}
	if it.Shared != nil && sel.has("shared") {
		b = append(b, `,"shared":{`...)
		if !it.Shared.Empty {
			first := true
			if it.Shared.Owner != nil && (it.Shared.Owner.ID != "" || it.Shared.Owner.DisplayName != "") {
				b = appendUserSet(b, `"owner":`, *it.Shared.Owner)
				first = false
			}
			if it.Shared.Scope != "" {
				if !first {
					b = append(b, ',')
				}
				b = append(b, `"scope":`...)
				b = appendString(b, it.Shared.Scope)
				first = false
			}
			if !it.Shared.SharedDateTime.IsZero() {
				if !first {
					b = append(b, ',')
				}
				b = append(b, `"sharedDateTime":"`...)
				b = appendTime(b, it.Shared.SharedDateTime)
				b = append(b, '"')
			}
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func itemETag(it tenant.Item) string {
	return `"{` + upperASCII(it.ID) + `},` + strconv.FormatInt(it.LastModifiedDateTime.Unix()%1000, 10) + `"`
}

func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// appendUserSet writes {"user":{…}}, or nothing at all when the identity is
// empty (as omitempty on a nil pointer would).
func appendUserSet(b []byte, key string, id tenant.Identity) []byte {
	if id.ID == "" && id.DisplayName == "" {
		return b
	}
	b = append(b, key...)
	b = append(b, `{"user":{`...)
	sep := false
	for _, f := range [...]struct{ k, v string }{{"id", id.ID}, {"displayName", id.DisplayName}, {"email", id.Email}} {
		if f.v == "" {
			continue
		}
		if sep {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, f.k...)
		b = append(b, `":`...)
		b = appendString(b, f.v)
		sep = true
	}
	return append(b, "}}"...)
}

func appendTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does with
// HTML escaping off.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
