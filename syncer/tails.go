package syncer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/overshare/overshare/msgraph"
)

// tails reads the last candidates of drives whose rounds have ended, drives
// together: a drive's candidates fill whole $batch requests of their own,
// but what is left at its end (fewer than 20) would cost one partial batch
// per drive, which is most of the permission requests of a tenant with few
// shared items per drive and of every incremental sync. A round whose
// remainder is parked here frees its worker for the next drive; it is
// committed by whoever sends the batch that completes it, and the run waits
// for every parked round before it ends.
type tails struct {
	r *run // the run whose Graph client and store the rounds use

	mu     sync.Mutex
	parked []*parkedRound // in the order they were parked
	n      int            // candidates of parked rounds not yet sent
	held   int            // items of parked rounds waiting in memory

	wg sync.WaitGroup // rounds parked and not yet finished
}

// parkedRound is an ended round waiting for the permissions of its last
// candidates (rd.pending); done reports its end to the drive's worker.
type parkedRound struct {
	rd   *round
	left int   // candidates sent or to send whose answers have not come back
	err  error // the first failed batch it was part of
	done func(changed bool, err error)
}

// share is what one batch asks for a parked round.
type share struct {
	pr  *parkedRound
	ids []string
}

// park hands an ended round with fewer than a batch of candidates left over
// to the shared batches, sending every whole batch it completes.
func (t *tails) park(ctx context.Context, rd *round, done func(bool, error)) {
	t.wg.Add(1)
	t.mu.Lock()
	pr := &parkedRound{rd: rd, left: len(rd.pending), done: done}
	t.parked = append(t.parked, pr)
	t.n += len(rd.pending)
	t.held += rd.held
	// Parked rounds hold their uncommitted pages: past maxHeldItems they
	// are read at once, full batch or not, so memory stays bounded.
	take := t.takeLocked(t.held >= maxHeldItems)
	t.mu.Unlock()
	t.send(ctx, take)
}

// flush sends whatever is parked (the run has no more drives to add) and
// waits until every parked round has finished.
func (t *tails) flush(ctx context.Context) {
	t.mu.Lock()
	take := t.takeLocked(true)
	t.mu.Unlock()
	t.send(ctx, take)
	t.wg.Wait()
}

// takeLocked takes the parked candidates that fill whole batches (all of
// them when all is set), oldest first, and removes them from the rounds'
// pending lists.
func (t *tails) takeLocked(all bool) []share {
	want := t.n / batchSize * batchSize
	if all {
		want = t.n
	}
	var take []share
	for want > 0 && len(t.parked) > 0 {
		pr := t.parked[0]
		k := min(want, len(pr.rd.pending))
		take = append(take, share{pr: pr, ids: pr.rd.pending[:k]})
		pr.rd.pending = pr.rd.pending[k:]
		want -= k
		t.n -= k
		if len(pr.rd.pending) == 0 {
			t.parked = t.parked[1:]
			t.held -= pr.rd.held
		}
	}
	return take
}

// send reads the permissions of the shares' candidates and finishes the
// rounds that were waiting for nothing else.
func (t *tails) send(ctx context.Context, take []share) {
	if len(take) == 0 {
		return
	}
	var refs []msgraph.ItemRef
	for _, s := range take {
		for _, id := range s.ids {
			refs = append(refs, msgraph.ItemRef{DriveID: s.pr.rd.driveID, ItemID: id})
		}
	}
	t0 := time.Now()
	listed, err := t.r.gc.ListPermissionsOf(ctx, refs)
	t.r.graphNanos.Add(int64(time.Since(t0)))
	var ready []*parkedRound
	t.mu.Lock()
	for _, s := range take {
		for _, id := range s.ids {
			// An item gone since delta listed it (404) has nothing to
			// store; the next round reports its deletion.
			s.pr.rd.read[id] = listed[msgraph.ItemRef{DriveID: s.pr.rd.driveID, ItemID: id}]
		}
		if err != nil && s.pr.err == nil {
			s.pr.err = err
		}
		s.pr.left -= len(s.ids)
		if s.pr.left == 0 {
			ready = append(ready, s.pr)
		}
	}
	t.mu.Unlock()
	for _, pr := range ready {
		t.finish(ctx, pr)
	}
}

// finish commits a parked round's last pages, now that all their
// candidates were read.
func (t *tails) finish(ctx context.Context, pr *parkedRound) {
	defer t.wg.Done()
	rd := pr.rd
	if pr.err != nil {
		t.r.driveFailed(ctx, rd.driveID, pr.err)
		pr.done(false, fmt.Errorf("sync drive %s: %w", rd.driveID, pr.err))
		return
	}
	ended, err := rd.commitReady(ctx)
	if err == nil && !ended {
		// An ended round whose candidates were all read commits up to its
		// last page; anything else is a bug here, not in the tenant.
		err = errors.New("round left pages uncommitted after its last permissions were read")
	}
	if err != nil {
		pr.done(false, fmt.Errorf("sync drive %s: %w", rd.driveID, err))
		return
	}
	pr.done(rd.cur.changed, nil)
}
