package syncer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/overshare/overshare/msgraph"
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
