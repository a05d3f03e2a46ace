package sharing

import (
	"context"
	"sync"

	"github.com/overshare/overshare/store"
)

// itemLocks serialises changes to one item's sharing within this process: a call holds the
// item's lock from reading its permissions in the database to writing the last audit event,
// so a second call on the same item sees what the first did (rows gone, the removal in the
// audit log) instead of sending the same DELETEs again. A lock exists while someone holds or
// waits for it (refs), so the map holds only items being worked on.
//
// Across processes nothing is locked: two servers may both send a DELETE; the second is
// answered 404 and recorded as already removed, which is true (see the package doc).
type itemLocks struct {
	mu   sync.Mutex
	held map[store.RowKey]*itemLock
}

type itemLock struct {
	token chan struct{} // holds one value while the item is locked
	refs  int           // holders and waiters; guarded by itemLocks.mu
}

// lock waits until the item is free, or ctx ends, and returns the function that frees it.
func (l *itemLocks) lock(ctx context.Context, k store.RowKey) (unlock func(), err error) {
	l.mu.Lock()
	e := l.held[k]
	if e == nil {
		e = &itemLock{token: make(chan struct{}, 1)}
		l.held[k] = e
	}
	e.refs++
	l.mu.Unlock()
	select {
	case e.token <- struct{}{}:
		return func() {
			<-e.token
			l.release(k, e)
		}, nil
	case <-ctx.Done():
		l.release(k, e)
		return nil, ctx.Err()
	}
}

func (l *itemLocks) release(k store.RowKey, e *itemLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.refs--
	if e.refs == 0 {
		delete(l.held, k)
	}
}

// lockedItems is the number of items locked or waited for (for tests).
func (s *Service) lockedItems() int {
	s.locks.mu.Lock()
	defer s.locks.mu.Unlock()
	return len(s.locks.held)
}
