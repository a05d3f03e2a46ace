// Package events carries sync progress from the sync engine to whoever watches
// it (GraphQL subscriptions, the command line). A Bus is in-process (Local) or
// spans every process that shares a PostgreSQL database (Postgres, through
// LISTEN/NOTIFY).
//
// Progress is state, not a log: a watcher that falls behind skips to the latest
// value instead of queueing, so a slow websocket never slows a sync, and the
// final event (Done) is never lost because it is the last value.
package events

import (
	"context"
	"sync"
	"time"
)

// Progress is one snapshot of a sync run.
type Progress struct {
	RunID           string    `json:"runId"`
	IntegrationID   string    `json:"integrationId"`
	Phase           string    `json:"phase"`
	DrivesDone      int       `json:"drivesDone"`
	DrivesTotal     int       `json:"drivesTotal"`
	DrivesSkipped   int       `json:"drivesSkipped"` // could not be read (locked, closed to the app); counted in DrivesDone
	ItemsSeen       int       `json:"itemsSeen"`
	SharedItems     int       `json:"sharedItems"`
	PermissionsRead int       `json:"permissionsRead"`
	Requests        int       `json:"requests"`
	ResourceUnits   int       `json:"resourceUnits"`
	ThrottledWaits  int       `json:"throttledWaits"`
	ETASeconds      *int      `json:"etaSeconds,omitempty"`
	Done            bool      `json:"done"`
	Error           string    `json:"error,omitempty"`
	At              time.Time `json:"at"`
}

// Bus publishes progress and lets callers watch one integration's runs.
type Bus interface {
	Publish(ctx context.Context, p Progress) error
	// Subscribe returns a channel that always yields the latest progress of
	// the integration's runs, and a function that ends the subscription.
	Subscribe(integrationID string) (<-chan Progress, func())
}

// Local is an in-process Bus.
type Local struct {
	mu   sync.Mutex
	subs map[string]map[*mailbox]struct{}
}

// NewLocal returns an empty in-process bus.
func NewLocal() *Local {
	return &Local{subs: map[string]map[*mailbox]struct{}{}}
}

// Publish delivers p to the integration's watchers without blocking.
func (b *Local) Publish(_ context.Context, p Progress) error {
	b.deliver(p)
	return nil
}

func (b *Local) deliver(p Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for m := range b.subs[p.IntegrationID] {
		m.put(p)
	}
}

// Subscribe implements Bus.
func (b *Local) Subscribe(integrationID string) (<-chan Progress, func()) {
	m := newMailbox()
	b.mu.Lock()
	if b.subs[integrationID] == nil {
		b.subs[integrationID] = map[*mailbox]struct{}{}
	}
	b.subs[integrationID][m] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return m.out, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs[integrationID], m)
			if len(b.subs[integrationID]) == 0 {
				delete(b.subs, integrationID)
			}
			b.mu.Unlock()
			m.close()
		})
	}
}

// mailbox holds at most one pending value; a newer value replaces an unread one.
type mailbox struct {
	mu      sync.Mutex
	pending *Progress
	wake    chan struct{}
	done    chan struct{}
	out     chan Progress
}

func newMailbox() *mailbox {
	m := &mailbox{wake: make(chan struct{}, 1), done: make(chan struct{}), out: make(chan Progress)}
	go m.pump()
	return m
}

func (m *mailbox) put(p Progress) {
	m.mu.Lock()
	m.pending = &p
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *mailbox) pump() {
	defer close(m.out)
	for {
		select {
		case <-m.done:
			return
		case <-m.wake:
		}
		for {
			m.mu.Lock()
			p := m.pending
			m.pending = nil
			m.mu.Unlock()
			if p == nil {
				break
			}
			select {
			case m.out <- *p:
			case <-m.done:
				return
			case <-m.wake:
				// A newer value arrived while we waited: loop and send that one,
				// unless nothing replaced it.
				m.mu.Lock()
				if m.pending == nil {
					m.pending = p
				}
				m.mu.Unlock()
			}
		}
	}
}

func (m *mailbox) close() { close(m.done) }
