package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
)

// maxResyncs bounds consecutive 410s on one drive in one run.
const maxResyncs = 3

// cursor is where a drive's round stands.
type cursor struct {
	link      string // "" = a fresh enumeration
	roundFull bool   // the round enumerates everything and ends with a sweep
	needStart bool   // store.StartFullRound before the next commit
	itemsSeen int64
	changed   bool // the round returned at least one change
	// repath: some item's path could not be derived when it was written,
	// or a stored item was renamed or moved, so the round must end with a
	// recompute of the drive's paths.
	repath bool
	// restarted is set by fetch when a 410 restarted the round.
	restarted bool
	resyncs   int
}

// page is one fetched delta page; cands are its items whose permissions
// must be read before it is committed.
type page struct {
	items       []msgraph.DriveItem // deduplicated, last occurrence wins
	next, delta string
	cands       []string
	shared      int64
}

// prefetched is the first page of the first drive, with the permissions of
// its first candidates, read before any write.
type prefetched struct {
	driveID string
	cur     cursor
	page    *page
	read    map[string][]msgraph.Permission // the page's first len(read) candidates
}

// plan decides where a drive's round starts (see the package doc).
func (r *run) plan(ctx context.Context, driveID string) (cursor, error) {
	st, err := r.st.DriveSyncState(ctx, r.integ.ID, driveID)
	if err != nil {
		return cursor{}, err
	}
	// A drive whose scheduled sweep is due is enumerated as a full run would.
	full := r.full || st.DeltaLink != nil && r.due(st.SweptAt, st.LastSyncedAt, r.s.cfg.SweepInterval, driveID)
	switch {
	case st.NextLink != nil && *st.NextLink != "" && (st.RoundFull || !full):
		// Pages committed before the interruption may have changed items.
		return cursor{link: *st.NextLink, roundFull: st.RoundFull, itemsSeen: st.ItemsSeen, changed: true, repath: true}, nil
	case full || st.DeltaLink == nil || *st.DeltaLink == "" || st.RoundFull:
		return cursor{roundFull: true, needStart: true}, nil
	default:
		return cursor{link: *st.DeltaLink}, nil
	}
}

// prefetch plans the drive and fetches its first page: the preflight that
// proves delta and permission reads work before anything is written.
func (r *run) prefetch(ctx context.Context, driveID string) (*prefetched, error) {
	cur, err := r.plan(ctx, driveID)
	if err != nil {
		return nil, err
	}
	p, err := r.fetch(ctx, driveID, &cur)
	if err != nil {
		return nil, err
	}
	cur.restarted = false // nothing was held before this page
	pre := &prefetched{driveID: driveID, cur: cur, page: p, read: map[string][]msgraph.Permission{}}
	// One batch at most (a full one when the page has enough candidates),
	// so the check costs no request the sync would not make anyway.
	if n := min(len(p.cands), batchSize); n > 0 {
		listed, err := r.gc.ListPermissions(ctx, driveID, p.cands[:n])
		if err != nil {
			return nil, err
		}
		for _, id := range p.cands[:n] {
			pre.read[id] = listed[id]
		}
	}
	return pre, nil
}

// items runs every drive's round, Concurrency at a time. A drive that fails
// does not stop the others unless the failure concerns them all (sign-in,
// permissions, network, cancellation).
func (r *run) items(ctx context.Context, drives []driveRef, pre *prefetched) error {
	r.setPhase(ctx, PhaseItems, int64(len(drives)+r.unknownDrives))
	if r.unknownDrives > 0 {
		r.add(ctx, counts{drivesDone: int64(r.unknownDrives), drivesSkipped: int64(r.unknownDrives)})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu       sync.Mutex
		firstErr error
		failed   int
		changed  []string // owners of drives whose round returned changes
	)
	finish := func(d driveRef, ch bool, err error) {
		if msgraph.KindOf(err).DriveInaccessible() {
			r.driveSkipped(ctx, d, err)
			return
		}
		if err == nil && d.marked {
			if cerr := r.st.ClearDriveAccess(ctx, r.integ.ID, d.id); cerr != nil {
				err = cerr
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			if fatal(err) {
				cancel()
			}
		} else if ch && !r.full {
			changed = append(changed, d.owner)
		}
	}
	tl := &tails{r: r}
	var g errgroup.Group
	g.SetLimit(r.s.cfg.Concurrency)
	for _, d := range drives {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			var p *prefetched
			mu.Lock()
			if pre != nil && pre.driveID == d.id {
				p, pre = pre, nil
			}
			mu.Unlock()
			ch, rest, err := r.syncDrive(ctx, d, p)
			if rest != nil {
				tl.park(ctx, rest, func(ch bool, err error) { finish(d, ch, err) })
				return nil
			}
			finish(d, ch, err)
			return nil // failures are finish's to count; the other drives go on
		})
	}
	_ = g.Wait()
	tl.flush(ctx)
	if firstErr != nil {
		if failed > 1 && !fatal(firstErr) {
			return fmt.Errorf("%d drives failed to sync; the first: %w", failed, firstErr)
		}
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.refreshRoots(ctx, drives); err != nil {
		return err
	}
	// Changes move the quota; a full run read every drive already.
	return r.rereadDrives(ctx, changed)
}

// fatal reports errors that would fail every drive alike.
func fatal(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	k := msgraph.KindOf(err)
	return k.Credential() || k == msgraph.MissingPermission || k == msgraph.Network
}

// Pages are held until their candidates fill whole $batch requests, so a
// drive costs ceil(candidates/20) permission batches rather than one
// partial batch per page; at most maxHeldItems items wait in memory.
const (
	batchSize    = 20
	maxHeldItems = 5000
)

// round is one drive's delta round in progress.
type round struct {
	r       *run
	driveID string
	cur     cursor
	queue   []*page                         // fetched, not committed, in order
	held    int                             // items in queue
	pending []string                        // candidates of queued pages not read yet
	read    map[string][]msgraph.Permission // read, not committed
	queued  map[string]*page                // the queued page holding each id
	ended   bool                            // the page with the delta link is queued
}

// syncDrive runs one drive's round to its end and reports whether it
// returned any change, or, when the round ended with fewer than a batch of
// candidates left to read, returns the round for the shared tail batches
// (see tails) instead of reading them in a partial batch of its own.
func (r *run) syncDrive(ctx context.Context, d driveRef, pre *prefetched) (changed bool, rest *round, err error) {
	rd := &round{r: r, driveID: d.id, read: map[string][]msgraph.Permission{}}
	if pre != nil {
		rd.cur = pre.cur
		rd.push(pre.page)
		for id, perms := range pre.read {
			rd.read[id] = perms
		}
		rd.pending = rd.pending[len(pre.read):]
	} else {
		var err error
		if rd.cur, err = r.plan(ctx, d.id); err != nil {
			return false, nil, err
		}
	}
	// The next delta page is fetched while the database commits the
	// previous ones (one page ahead at most), so a drive waits for Graph and
	// for the database at the same time rather than in turn.
	type fetched struct {
		p   *page
		cur cursor // the cursor as fetch left it; only a restart is taken from it
		err error
	}
	var ahead chan fetched
	fetchAhead := func() {
		c := rd.cur
		ch := make(chan fetched, 1)
		go func() {
			t0 := time.Now()
			p, err := r.fetch(ctx, d.id, &c)
			r.graphNanos.Add(int64(time.Since(t0)))
			ch <- fetched{p: p, cur: c, err: err}
		}()
		ahead = ch
	}
	for {
		if !rd.ended && len(rd.queue) == 0 || !rd.ended && rd.held < maxHeldItems && len(rd.pending) < batchSize {
			if ahead == nil {
				fetchAhead()
			}
			f := <-ahead
			ahead = nil
			if msgraph.KindOf(f.err) == msgraph.NotFound {
				// The drive is gone from the tenant: so is its copy here.
				r.log.Info("drive no longer exists, removing it", "drive", d.id)
				if err := r.st.SyncDeleteDrive(ctx, r.integ.ID, d.id); err != nil {
					return false, nil, fmt.Errorf("sync drive %s: %w", d.id, err)
				}
				r.add(ctx, counts{drivesDone: 1})
				return false, nil, nil
			}
			if msgraph.KindOf(f.err).DriveInaccessible() {
				return false, nil, f.err // skipped by the caller, tried again next run
			}
			if f.err != nil {
				r.driveFailed(ctx, d.id, f.err)
				return false, nil, fmt.Errorf("sync drive %s: %w", d.id, f.err)
			}
			if f.cur.restarted {
				// A 410: the pages held from the expired round are void;
				// pages of it already committed are swept by the new round.
				rd.queue, rd.held, rd.pending, rd.read, rd.queued = nil, 0, nil, map[string][]msgraph.Permission{}, nil
				rd.cur = f.cur
				rd.cur.restarted = false
			}
			rd.push(f.p)
			continue
		}
		if !rd.ended && ahead == nil {
			fetchAhead()
		}
		if err := rd.readPermissions(ctx); err != nil {
			if msgraph.KindOf(err).DriveInaccessible() {
				return false, nil, err // pages committed so far stay; the round resumes next run
			}
			r.driveFailed(ctx, d.id, err)
			return false, nil, fmt.Errorf("sync drive %s: %w", d.id, err)
		}
		done, err := rd.commitReady(ctx)
		if err != nil {
			return false, nil, fmt.Errorf("sync drive %s: %w", d.id, err)
		}
		if done {
			return rd.cur.changed, nil, nil
		}
		if rd.ended {
			if len(rd.pending) == 0 {
				// Every candidate is read, yet a page waits: a bug here,
				// reported rather than parked for ever.
				return false, nil, fmt.Errorf("sync drive %s: round left pages uncommitted with no permissions to read", d.id)
			}
			return false, rd, nil // whole batches read: the rest is fewer than one
		}
	}
}

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

// driveSkipped records a drive that answered locked or closed to the app:
// its state and reason in words on the drive, and one skipped drive in the
// run. The run goes on; the next run tries the drive again.
func (r *run) driveSkipped(ctx context.Context, d driveRef, err error) {
	r.log.Info("drive not readable, skipped", "drive", d.id, "reason", Message(err))
	if ctx.Err() == nil {
		if serr := r.st.SetDriveAccess(context.WithoutCancel(ctx), r.integ.ID, d.id, driveAccess(err), Message(err)); serr != nil {
			r.log.Warn("record drive access", "drive", d.id, "err", serr)
		}
	}
	r.add(ctx, counts{drivesDone: 1, drivesSkipped: 1})
}

func (r *run) driveFailed(ctx context.Context, driveID string, err error) {
	if ctx.Err() != nil {
		return
	}
	if serr := r.st.SetDriveSyncError(context.WithoutCancel(ctx), r.integ.ID, driveID, Message(err)); serr != nil {
		r.log.Warn("record drive error", "drive", driveID, "err", serr)
	}
}

// fetch reads the next delta page of the drive and picks its candidates.
// A 410 turns the round into a full enumeration from the Location Graph
// gave (cur.restarted tells the caller).
func (r *run) fetch(ctx context.Context, driveID string, cur *cursor) (*page, error) {
	var dp *msgraph.DeltaPage
	for {
		var err error
		dp, err = r.gc.DeltaPage(ctx, driveID, cur.link)
		var ge *msgraph.Error
		if errors.As(err, &ge) && ge.Kind == msgraph.ResyncRequired && cur.resyncs < maxResyncs {
			r.log.Info("delta link expired, enumerating the drive again", "drive", driveID)
			*cur = cursor{link: ge.Location, roundFull: true, needStart: true, resyncs: cur.resyncs + 1,
				changed: true, repath: true, restarted: true}
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	p := &page{items: dedupe(dp.Items), next: dp.NextLink, delta: dp.DeltaLink}
	var changedFacet map[string]bool
	if !cur.roundFull {
		var err error
		if changedFacet, err = r.facetsChanged(ctx, driveID, p.items); err != nil {
			return nil, err
		}
	}
	for i := range p.items {
		it := &p.items[i]
		if it.Deleted {
			continue
		}
		if it.Shared != nil && !it.Shared.Empty {
			p.shared++
		}
		if cur.roundFull && it.Shared != nil || !cur.roundFull && (it.SharedChanged || changedFacet[it.ID]) {
			p.cands = append(p.cands, it.ID)
		}
	}
	return p, nil
}

// facetsChanged returns the items of an incremental page, not marked
// sharedChanged, whose shared facet differs from the stored one: Graph
// never marks folders sharedChanged, even when their own sharing changed
// (docs/graph-behaviour.md), but a folder that became, or stopped being, a
// shared hierarchy root, or changed scope, shows it in its facet. A new item
// counts as stored without a facet.
func (r *run) facetsChanged(ctx context.Context, driveID string, items []msgraph.DriveItem) (map[string]bool, error) {
	var ids []string
	for i := range items {
		if !items[i].Deleted && !items[i].SharedChanged && !items[i].IsRoot {
			ids = append(ids, items[i].ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	stored, err := r.st.SyncSharedScopes(ctx, r.integ.ID, driveID, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for i := range items {
		it := &items[i]
		if it.Deleted || it.SharedChanged || it.IsRoot {
			continue
		}
		was := stored[it.ID]
		if (it.Shared == nil) != (was == nil) || it.Shared != nil && it.Shared.Scope != *was {
			out[it.ID] = true
		}
	}
	return out, nil
}

// commit writes the page and the drive's new position in one transaction.
func (r *run) commit(ctx context.Context, driveID string, cur *cursor, p *page, perms map[string][]models.Permission) error {
	if cur.needStart {
		if _, err := r.st.StartFullRound(ctx, r.integ.ID, driveID); err != nil {
			return err
		}
		cur.needStart = false
	}
	w := store.SyncPage{NextLink: p.next, DeltaLink: p.delta, Permissions: perms}
	for i := range p.items {
		it := &p.items[i]
		if it.Deleted {
			w.DeletedIDs = append(w.DeletedIDs, it.ID)
		} else {
			w.Items = append(w.Items, itemModel(r.integ.ID, driveID, it))
		}
	}
	cur.itemsSeen += int64(len(p.items))
	if len(p.items) > 0 {
		cur.changed = true
	}
	w.ItemsSeen = cur.itemsSeen
	if len(w.Items) > 0 {
		if err := r.derivePaths(ctx, driveID, cur, w.Items); err != nil {
			return err
		}
	}
	if p.delta != "" {
		w.Sweep = cur.roundFull
		w.RecomputePaths = cur.repath
		if w.Sweep {
			w.SweptAt = r.s.cfg.Now()
		}
	}
	t0 := time.Now()
	err := r.st.CommitSyncPage(ctx, r.integ.ID, driveID, w)
	if err == nil && w.Sweep {
		r.add(ctx, counts{drivesSwept: 1})
	}
	r.log.Debug("page committed", "drive", driveID, "items", len(w.Items), "deleted", len(w.DeletedIDs),
		"permissions", len(w.Permissions), "last", p.delta != "", "took", time.Since(t0))
	return err
}

// derivePaths sets the path of the page's items from their parents' (in
// the page or stored), so that a first sync writes each row once instead of
// rewriting every row in a recompute at the end. Whenever that cannot be
// done exactly (a parent not known yet, a stored item renamed or moved,
// whose descendants' paths change too) the round is marked for a recompute.
func (r *run) derivePaths(ctx context.Context, driveID string, cur *cursor, items []models.DriveItem) error {
	inPage := make(map[string]int, len(items))
	for i := range items {
		inPage[items[i].ID] = i
	}
	ask := make([]string, 0, len(items))
	for i := range items {
		ask = append(ask, items[i].ID)
		if _, ok := inPage[items[i].ParentID]; !ok && items[i].ParentID != "" {
			ask = append(ask, items[i].ParentID)
		}
	}
	stored, err := r.st.SyncItemPaths(ctx, r.integ.ID, driveID, ask)
	if err != nil {
		return err
	}
	const resolving = "\x00"
	var pathOf func(i, depth int) string
	pathOf = func(i, depth int) string {
		it := &items[i]
		if it.IsRoot {
			return "/"
		}
		if it.Path != "" || depth > maxDepth {
			return it.Path
		}
		it.Path = resolving // a parent cycle inside the page resolves to ""
		parent := ""
		if j, ok := inPage[it.ParentID]; ok {
			parent = pathOf(j, depth+1)
		} else if s, ok := stored[it.ParentID]; ok {
			parent = s.Path
		}
		switch parent {
		case "", resolving:
			it.Path = ""
		case "/":
			it.Path = "/" + it.Name
		default:
			it.Path = parent + "/" + it.Name
		}
		return it.Path
	}
	for i := range items {
		pathOf(i, 0)
	}
	for i := range items {
		it := &items[i]
		old, existed := stored[it.ID]
		switch {
		case it.Path == "":
			cur.repath = true
		case existed && old.Path != it.Path:
			// Upserts keep the stored path; the recompute moves the item
			// and everything below it.
			cur.repath = true
		}
	}
	return nil
}

// dedupe keeps the last occurrence of each id, in first-seen order (Graph:
// the same item may appear more than once in a round; the last one counts).
func dedupe(in []msgraph.DriveItem) []msgraph.DriveItem {
	pos := make(map[string]int, len(in))
	out := make([]msgraph.DriveItem, 0, len(in))
	for _, it := range in {
		if i, ok := pos[it.ID]; ok {
			out[i] = it
			continue
		}
		pos[it.ID] = len(out)
		out = append(out, it)
	}
	return out
}
