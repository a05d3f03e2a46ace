// Package metrics owns the Prometheus series an operator alerts on, beyond the HTTP and GraphQL
// ones of package server: sync runs by result with their duration, items, permission lists,
// resource units and throttled waits; Graph requests by endpoint and status; and, read from the
// database when scraped, River's jobs by queue and state and each integration's status and
// last successful sync.
//
// Counters and histograms count what this process did, so a sum over replicas is the
// deployment's; the gauges read from the database are the same on every replica (alert on
// their max, not their sum). The alert rules in deploy/prometheus/alerts.yml use both.
package metrics

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
)

// Metrics records syncs and Graph requests; it implements syncer.Observer and msgraph's
// OnRequest hook (GraphRequest).
type Metrics struct {
	runs        *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	items       prometheus.Counter
	permissions prometheus.Counter
	ru          prometheus.Counter
	throttled   prometheus.Counter
	graph       *prometheus.CounterVec
	graphTime   *prometheus.HistogramVec
	webhook     *prometheus.CounterVec
}

// New registers the series with reg. The database gauges are read from st at each scrape.
func New(reg prometheus.Registerer, st *store.Store, log *slog.Logger) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "overshare_sync_runs_total",
			Help: "Sync runs this process finished, by result (succeeded, failed, cancelled).",
		}, []string{"result"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "overshare_sync_run_duration_seconds",
			Help:    "Duration of the sync runs this process finished, by result.",
			Buckets: []float64{1, 5, 15, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600},
		}, []string{"result"}),
		items:       counter("overshare_sync_items_total", "Drive items read by the finished sync runs."),
		permissions: counter("overshare_sync_permission_lists_read_total", "Permission lists read by the finished sync runs."),
		ru: counter("overshare_sync_resource_units_total",
			"SharePoint resource units charged to the finished sync runs, by Microsoft's published costs."),
		throttled: counter("overshare_sync_throttled_waits_total", "Throttled answers (429, 503) the finished sync runs waited out."),
		graph: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "overshare_graph_requests_total",
			Help: "Microsoft Graph requests (and $batch parts) by endpoint and HTTP status; status 0 when no answer arrived.",
		}, []string{"endpoint", "status"}),
		graphTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "overshare_graph_request_duration_seconds",
			Help:    "Duration of Microsoft Graph requests by endpoint ($batch parts are not timed on their own).",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"endpoint"}),
		webhook: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "overshare_webhook_notifications_total",
			Help: "Change notifications received at /webhooks/graph by what became of them (accepted, lifecycle, unknown_subscription, bad_client_state, rate_limited, malformed, validation).",
		}, []string{"result"}),
	}
	// Every result from the start, at 0, so a rule on one never meets an absent series.
	for _, r := range []string{"accepted", "lifecycle", "unknown_subscription", "bad_client_state", "rate_limited", "malformed", "validation"} {
		m.webhook.WithLabelValues(r)
	}
	reg.MustRegister(m.runs, m.runDuration, m.items, m.permissions, m.ru, m.throttled, m.graph, m.graphTime, m.webhook,
		&database{st: st, log: log})
	return m
}

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

// Notification implements watch.Observer.
func (m *Metrics) Notification(result string) { m.webhook.WithLabelValues(result).Inc() }

// SyncFinished implements syncer.Observer.
func (m *Metrics) SyncFinished(run models.SyncRun, took time.Duration) {
	result := string(run.Status)
	m.runs.WithLabelValues(result).Inc()
	m.runDuration.WithLabelValues(result).Observe(took.Seconds())
	m.items.Add(float64(run.ItemsSeen))
	m.permissions.Add(float64(run.PermissionsRead))
	m.ru.Add(float64(run.ResourceUnits))
	m.throttled.Add(float64(run.ThrottledWaits))
}

// GraphRequest is msgraph.Config.OnRequest.
func (m *Metrics) GraphRequest(ri msgraph.RequestInfo) {
	m.graph.WithLabelValues(ri.Endpoint, strconv.Itoa(ri.Status)).Inc()
	if !ri.Batched {
		m.graphTime.WithLabelValues(ri.Endpoint).Observe(ri.Duration.Seconds())
	}
}

// database is the collector of the gauges read from the database when scraped.
type database struct {
	st  *store.Store
	log *slog.Logger
}

var (
	jobsDesc = prometheus.NewDesc("overshare_jobs",
		"River jobs by queue and state (available, running, retryable, scheduled, discarded, ...), from the database.",
		[]string{"queue", "state"}, nil)
	integrationDesc = prometheus.NewDesc("overshare_integration_status",
		"1 for each integration's current status (ACTIVE, SYNCING, ERROR, PAUSED), from the database.",
		[]string{"integration", "status"}, nil)
	lastSyncDesc = prometheus.NewDesc("overshare_integration_last_success_timestamp_seconds",
		"When each integration's last successful sync ended (Unix time), from the database; absent before the first.",
		[]string{"integration"}, nil)
	intervalDesc = prometheus.NewDesc("overshare_integration_sync_interval_seconds",
		"Each integration's sync interval, from the database.",
		[]string{"integration"}, nil)
	watchDesc = prometheus.NewDesc("overshare_integration_notifications",
		"1 when Microsoft Graph sends the integration's change notifications, 0 when only the scheduled sync finds changes (watchReason says why), from the database.",
		[]string{"integration"}, nil)
)

func (d *database) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobsDesc
	ch <- integrationDesc
	ch <- lastSyncDesc
	ch <- intervalDesc
	ch <- watchDesc
}

// Collect reads the database under a short deadline; a failed read leaves its series out of
// this scrape (and is logged) rather than failing the scrape.
func (d *database) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if counts, err := d.st.JobCounts(ctx); err != nil {
		d.log.Warn("metrics: count jobs", "error", err)
	} else {
		for _, c := range counts {
			ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(c.Count), c.Queue, c.State)
		}
	}
	list, err := d.st.Integrations(ctx)
	if err != nil {
		d.log.Warn("metrics: list integrations", "error", err)
		return
	}
	for _, in := range list {
		ch <- prometheus.MustNewConstMetric(integrationDesc, prometheus.GaugeValue, 1, in.ID, string(in.Status))
		ch <- prometheus.MustNewConstMetric(intervalDesc, prometheus.GaugeValue, in.SyncInterval().Seconds(), in.ID)
		watched := 0.0
		if in.WatchMode == models.WatchNotifications {
			watched = 1
		}
		ch <- prometheus.MustNewConstMetric(watchDesc, prometheus.GaugeValue, watched, in.ID)
		if in.LastSyncAt != nil {
			ch <- prometheus.MustNewConstMetric(lastSyncDesc, prometheus.GaugeValue, float64(in.LastSyncAt.Unix()), in.ID)
		}
	}
}
