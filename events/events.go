// Package events carries sync progress from the sync engine, and word that an
// integration's sharing history grew, to whoever watches them (GraphQL
// subscriptions, the command line). A Bus is in-process (Local) or spans every
// process that shares a PostgreSQL database (Postgres, through LISTEN/NOTIFY).
//
// Both are state, not a log: a watcher that falls behind skips to the latest
// value instead of queueing, so a slow websocket never slows a sync, and the
// final event (Done) is never lost because it is the last value. The sharing
// history is a log, but it lives in the database: a SharingChange only says
// that it grew, and a watcher reads every event after the last one it saw.
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

// SharingChange says that an integration's sharing history (the store's sharing_events)
// grew at At; a watcher reads the events after the last one it saw.
type SharingChange struct {
	IntegrationID string    `json:"integrationId"`
	At            time.Time `json:"at"`
}

// Bus publishes progress and sharing changes and lets callers watch one integration's.
type Bus interface {
	Publish(ctx context.Context, p Progress) error
	// Subscribe returns a channel that always yields the latest progress of
	// the integration's runs, and a function that ends the subscription.
	Subscribe(integrationID string) (<-chan Progress, func())
	PublishSharing(ctx context.Context, c SharingChange) error
	// SubscribeSharing returns a channel that yields the latest change of the integration's
	// sharing history, and a function that ends the subscription.
	SubscribeSharing(integrationID string) (<-chan SharingChange, func())
}

// Local is an in-process Bus.
type Local struct {
	progress topic[Progress]
	sharing  topic[SharingChange]
}

// NewLocal returns an empty in-process bus.
func NewLocal() *Local {
	return &Local{progress: newTopic[Progress](), sharing: newTopic[SharingChange]()}
}

// Publish delivers p to the integration's watchers without blocking.
func (b *Local) Publish(_ context.Context, p Progress) error {
	b.progress.deliver(p.IntegrationID, p)
	return nil
}

// Subscribe implements Bus.
func (b *Local) Subscribe(integrationID string) (<-chan Progress, func()) {
	return b.progress.subscribe(integrationID)
}

// PublishSharing delivers c to the integration's watchers without blocking.
func (b *Local) PublishSharing(_ context.Context, c SharingChange) error {
	b.sharing.deliver(c.IntegrationID, c)
	return nil
}

// SubscribeSharing implements Bus.
func (b *Local) SubscribeSharing(integrationID string) (<-chan SharingChange, func()) {
	return b.sharing.subscribe(integrationID)
}

// topic holds the watchers of one kind of value, by integration.
type topic[T any] struct {
	mu   *sync.Mutex
	subs map[string]map[*mailbox[T]]struct{}
}

func newTopic[T any]() topic[T] {
	return topic[T]{mu: &sync.Mutex{}, subs: map[string]map[*mailbox[T]]struct{}{}}
}

func (tp topic[T]) deliver(integrationID string, v T) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for m := range tp.subs[integrationID] {
		m.put(v)
	}
}

func (tp topic[T]) subscribe(integrationID string) (<-chan T, func()) {
	m := newMailbox[T]()
	tp.mu.Lock()
	if tp.subs[integrationID] == nil {
		tp.subs[integrationID] = map[*mailbox[T]]struct{}{}
	}
	tp.subs[integrationID][m] = struct{}{}
	tp.mu.Unlock()
	var once sync.Once
	return m.out, func() {
		once.Do(func() {
			tp.mu.Lock()
			delete(tp.subs[integrationID], m)
			if len(tp.subs[integrationID]) == 0 {
				delete(tp.subs, integrationID)
			}
			tp.mu.Unlock()
			m.close()
		})
	}
}

// mailbox holds at most one pending value; a newer value replaces an unread one.
type mailbox[T any] struct {
	mu      sync.Mutex
	pending *T
	wake    chan struct{}
	done    chan struct{}
	out     chan T
}

func newMailbox[T any]() *mailbox[T] {
	m := &mailbox[T]{wake: make(chan struct{}, 1), done: make(chan struct{}), out: make(chan T)}
	go m.pump()
	return m
}

func (m *mailbox[T]) put(p T) {
	m.mu.Lock()
	m.pending = &p
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *mailbox[T]) pump() {
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

func (m *mailbox[T]) close() { close(m.done) }
