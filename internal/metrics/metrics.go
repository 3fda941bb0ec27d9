// Package metrics owns the Prometheus registry and the collectors the server
// records into: HTTP requests by route, store commands, accepted submissions,
// the build, and the Go runtime and process. The API and the store record
// through it without knowing of each other.
package metrics

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one registry and the server's collectors in it. Its methods are
// safe for concurrent use.
type Metrics struct {
	registry        *prometheus.Registry
	handler         http.Handler
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	storeDuration   *prometheus.HistogramVec
	submissions     *prometheus.CounterVec
}

// New makes a registry of its own (never the global default one) holding the
// server's collectors and the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sct_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sct_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sct_store_command_duration_seconds",
			Help: "Time of a store (MongoDB) command as the driver saw it, successful or not, by command name.",
			// Lower than the HTTP buckets: most store commands take a
			// millisecond or two, and a slow one is what this is for.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"command"}),
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sct_submissions_total",
			Help: "Responses stored (new or revised; an unchanged resend is not counted), by form, form version and status.",
		}, []string{"form", "version", "status"}),
	}
	version, revision := build()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "sct_build_info",
		Help:        "The running build: always 1, with the version, VCS revision and Go version as labels.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()},
	})
	info.Set(1)
	m.registry.MustRegister(
		m.requests, m.requestDuration, m.storeDuration, m.submissions, info,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Echo compresses the answer; compressing here too would send it twice
	// gzipped.
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{DisableCompression: true})
	return m
}

// build reads the main module's version and VCS revision from the binary.
func build() (version, revision string) {
	version, revision = "unknown", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, revision
	}
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			revision = s.Value
		}
	}
	return version, revision
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// ObserveRequest records one answered HTTP request. route must be the
// route's pattern (as /api/v1/responses/:id), never the URL asked for, so
// that identifiers never become label values.
func (m *Metrics) ObserveRequest(route, method string, code int, took time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.requestDuration.WithLabelValues(route, method).Observe(took.Seconds())
}

// CountSubmission records one stored response: a new one or a revision.
func (m *Metrics) CountSubmission(form, version, status string) {
	m.submissions.WithLabelValues(form, version, status).Inc()
}

// ObserveCommand records how long one store command took, by its name.
func (m *Metrics) ObserveCommand(name string, d time.Duration) {
	m.storeDuration.WithLabelValues(name).Observe(d.Seconds())
}
