package graphsim

import (
	"maps"
	"strconv"
	"sync"
)

// Stats count Graph requests (sign-in and the control API are not counted).
// Requests inside a $batch are counted one by one, each under its own
// endpoint; the envelope counts once as "POST /$batch". Requests is the sum
// of ByEndpoint.
type Stats struct {
	Requests        int64            `json:"requests"`
	ByEndpoint      map[string]int64 `json:"byEndpoint"`
	ByStatus        map[string]int64 `json:"byStatus"`
	Throttled       int64            `json:"throttled"` // 429s from the RU budget (not injected faults)
	RU              int64            `json:"ru"`        // resource units charged, throttled requests included
	BatchedRequests int64            `json:"batchedRequests"`
	// Change notifications: delivered (acknowledged with a 2xx) and dropped (retries ran
	// out, or the subscription waited for reauthorization).
	NotificationsDelivered int64 `json:"notificationsDelivered"`
	NotificationsDropped   int64 `json:"notificationsDropped"`
}

type statsRecorder struct {
	mu sync.Mutex
	s  Stats
}

func newStatsRecorder() *statsRecorder {
	r := &statsRecorder{}
	r.reset()
	return r
}

func (r *statsRecorder) reset() {
	r.mu.Lock()
	r.s = Stats{ByEndpoint: map[string]int64{}, ByStatus: map[string]int64{}}
	r.mu.Unlock()
}

func (r *statsRecorder) request(endpoint string, status int, batched bool) {
	r.mu.Lock()
	r.s.Requests++
	r.s.ByEndpoint[endpoint]++
	r.s.ByStatus[strconv.Itoa(status)]++
	if batched {
		r.s.BatchedRequests++
	}
	r.mu.Unlock()
}

func (r *statsRecorder) charged(ru int, throttled bool) {
	r.mu.Lock()
	r.s.RU += int64(ru)
	if throttled {
		r.s.Throttled++
	}
	r.mu.Unlock()
}

func (r *statsRecorder) notificationDelivered() {
	r.mu.Lock()
	r.s.NotificationsDelivered++
	r.mu.Unlock()
}

func (r *statsRecorder) notificationDropped() {
	r.mu.Lock()
	r.s.NotificationsDropped++
	r.mu.Unlock()
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.s
	s.ByEndpoint = maps.Clone(r.s.ByEndpoint)
	s.ByStatus = maps.Clone(r.s.ByStatus)
	return s
}
