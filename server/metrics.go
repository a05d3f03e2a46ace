package server

import (
	"context"
	"crypto/subtle"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"
)

type metrics struct {
	httpDuration *prometheus.HistogramVec
	gqlDuration  *prometheus.HistogramVec
	gqlErrors    *prometheus.CounterVec
	wsOpen       prometheus.Gauge
	wsClosed     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "overshare_http_request_duration_seconds",
			Help:    "HTTP requests by route, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
		gqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "overshare_graphql_operation_duration_seconds",
			Help:    "GraphQL queries and mutations, from parse to response.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		gqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "overshare_graphql_errors_total",
			Help: "GraphQL errors answered, by extensions.code.",
		}, []string{"code"}),
		wsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "overshare_websocket_connections",
			Help: "Open GraphQL websocket connections.",
		}),
		wsClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "overshare_websocket_closed_total",
			Help: "GraphQL websocket connections closed by the server, by close code.",
		}, []string{"code"}),
	}
	reg.MustRegister(m.httpDuration, m.gqlDuration, m.gqlErrors, m.wsOpen, m.wsClosed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MetricsHandler serves the registry in Prometheus' format, with no check of its own: for an
// address only the operator's network reaches (OVERSHARE_METRICS_ADDR).
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
}

// metricsBehindToken admits requests that carry Config.MetricsToken as a bearer token,
// compared in constant time; the series name integrations and the deployment's load, which
// is nobody else's business.
func (s *Server) metricsBehindToken(next http.Handler) http.Handler {
	want := []byte("Bearer " + s.cfg.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need the bearer token set by OVERSHARE_METRICS_TOKEN", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// countErrors counts each response's errors by code.
func (m *metrics) countErrors(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	for _, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		if code == "" {
			code = "UNKNOWN"
		}
		m.gqlErrors.WithLabelValues(code).Inc()
	}
	return resp
}

// timeOperations observes the latency of queries and mutations (subscriptions are open-ended).
func (m *metrics) timeOperations(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	start := time.Now()
	h := next(ctx)
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil || op.Operation == ast.Subscription {
		return h
	}
	label := string(op.Operation)
	var once sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		once.Do(func() { m.gqlDuration.WithLabelValues(label).Observe(time.Since(start).Seconds()) })
		return resp
	}
}
