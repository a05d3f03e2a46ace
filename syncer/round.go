package syncer

import (
	"context"
	"slices"
	"time"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
)

// push queues a fetched page. Graph may send an item several times in one
// round (ancestors of changed items again, items changed while the round
// is paged later again), and the last occurrence is the truth: an item
// still queued from an earlier page is taken out of that page, so each id
// is queued once and commits in its last state. A candidate stays one:
// its permissions already read serve the later occurrence, unless that
// occurrence is a candidate itself (its sharing changed again), which
// reads them again.
func (rd *round) push(p *page) {
	if rd.queued == nil {
		rd.queued = map[string]*page{}
	}
	own := make(map[string]bool, len(p.cands))
	for _, id := range p.cands {
		own[id] = true
	}
	var unread []string // earlier candidates to read no more
	for i := range p.items {
		it := &p.items[i]
		if old, ok := rd.queued[it.ID]; ok && old != p {
			wasCand := old.drop(it.ID)
			rd.held--
			_, read := rd.read[it.ID]
			switch {
			case !wasCand:
			case it.Deleted || own[it.ID] && read:
				delete(rd.read, it.ID)
				unread = append(unread, it.ID)
			case !own[it.ID]:
				p.cands = append(p.cands, it.ID) // read or pending already
			default:
				own[it.ID] = false // pending already: read once
			}
		}
		rd.queued[it.ID] = p
	}
	if len(unread) > 0 {
		rd.pending = slices.DeleteFunc(rd.pending, func(id string) bool { return slices.Contains(unread, id) })
	}
	for _, id := range p.cands {
		if own[id] {
			rd.pending = append(rd.pending, id)
		}
	}
	rd.queue = append(rd.queue, p)
	rd.held += len(p.items)
	if p.delta != "" {
		rd.ended = true
	} else {
		rd.cur.link = p.next
	}
}

// drop takes an item out of a queued page and reports whether it was one
// of the page's candidates.
func (p *page) drop(id string) bool {
	p.items = slices.DeleteFunc(p.items, func(it msgraph.DriveItem) bool { return it.ID == id })
	n := len(p.cands)
	p.cands = slices.DeleteFunc(p.cands, func(c string) bool { return c == id })
	return len(p.cands) != n
}

// readPermissions reads whole batches of pending candidates, or all of them
// when too many items are held before the round's end. What an ended round
// has left over goes to the shared tail batches.
func (rd *round) readPermissions(ctx context.Context) error {
	n := len(rd.pending) / batchSize * batchSize
	if !rd.ended && rd.held >= maxHeldItems {
		n = len(rd.pending)
	}
	if n == 0 {
		return nil
	}
	t0 := time.Now()
	listed, err := rd.r.gc.ListPermissions(ctx, rd.driveID, rd.pending[:n])
	rd.r.graphNanos.Add(int64(time.Since(t0)))
	if err != nil {
		return err
	}
	for _, id := range rd.pending[:n] {
		// An item gone since delta listed it (404) has nothing to store;
		// the next round reports its deletion.
		rd.read[id] = listed[id]
	}
	rd.pending = rd.pending[n:]
	return nil
}

// commitReady commits, in order, the queued pages whose candidates were all
// read. It reports whether the round's last page was committed.
func (rd *round) commitReady(ctx context.Context) (bool, error) {
	var byID map[string]*msgraph.DriveItem
	for len(rd.queue) > 0 {
		p := rd.queue[0]
		for _, id := range p.cands {
			if _, ok := rd.read[id]; !ok {
				return false, nil
			}
		}
		var perms map[string][]models.Permission
		if len(p.cands) > 0 {
			if byID == nil {
				byID = map[string]*msgraph.DriveItem{}
				for _, q := range rd.queue {
					for i := range q.items {
						byID[q.items[i].ID] = &q.items[i]
					}
				}
			}
			perms = rd.r.classify(rd.driveID, byID, p.cands, rd.read)
		}
		t0 := time.Now()
		err := rd.r.commit(ctx, rd.driveID, &rd.cur, p, perms)
		rd.r.dbNanos.Add(int64(time.Since(t0)))
		if err != nil {
			return false, err
		}
		read := int64(0)
		for _, id := range p.cands {
			if rd.read[id] != nil {
				read++
			}
			delete(rd.read, id)
		}
		for i := range p.items {
			if rd.queued[p.items[i].ID] == p {
				delete(rd.queued, p.items[i].ID)
			}
		}
		rd.queue = rd.queue[1:]
		rd.held -= len(p.items)
		last := p.delta != ""
		rd.r.add(ctx, counts{items: int64(len(p.items)), shared: p.shared, permissions: read, drivesDone: b2i(last)})
		if last {
			return true, nil
		}
	}
	return false, nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
