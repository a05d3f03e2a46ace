package tenant

import (
	"net/url"
	"strings"
)

func mimeOf(name string) string {
	if k := strings.LastIndexByte(name, '.'); k >= 0 {
		if m, ok := extMime[strings.ToLower(name[k+1:])]; ok {
			return m
		}
	}
	return "application/octet-stream"
}

// escapePath escapes each segment of an item path for use in a webUrl.
func escapePath(p string) string {
	if p == "/" {
		return ""
	}
	segs := strings.Split(p, "/")
	for k, s := range segs {
		segs[k] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// itemValue builds the full Item for a live item. Caller holds t.mu.
func (t *Tenant) itemValue(d *drive, i int32) Item {
	n := &d.items[i]
	p := d.path(i)
	it := Item{
		ID:                   t.ids.itemID(d.idx, i),
		DriveID:              d.id,
		Name:                 d.name(i),
		Root:                 n.parent < 0,
		Folder:               n.flags&flagFolder != 0,
		Size:                 n.size,
		WebURL:               d.webURL + escapePath(p),
		CreatedDateTime:      fromStamp(n.created),
		LastModifiedDateTime: fromStamp(n.modified),
		CreatedBy:            t.identity(n.createdBy),
		LastModifiedBy:       t.identity(n.modifiedBy),
		Path:                 p,
	}
	if n.parent >= 0 {
		it.ParentID = t.ids.itemID(d.idx, n.parent)
	}
	if it.Folder {
		it.ChildCount = d.childCount(i)
	} else {
		it.MimeType = mimeOf(it.Name)
	}
	return it
}

// tombstoneValue is a deleted item as OneDrive for Business reports it: no
// name, only its id, drive and former parent.
func (t *Tenant) tombstoneValue(d *drive, i int32) Item {
	it := Item{ID: t.ids.itemID(d.idx, i), DriveID: d.id, Deleted: true}
	if p := d.items[i].parent; p >= 0 {
		it.ParentID = t.ids.itemID(d.idx, p)
	}
	return it
}
