package metrics

import (
	"sync"
	"time"

	"github.com/vpcepctl/vpcepctl/apply"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// Metrics are vpcepctl's metric families (DESIGN.md "Metrics"), all on
// one registry of the caller's. Every known label combination starts at 0,
// so a series exists (and can be subtracted, rated, alerted on) before
// anything happened; no label takes unbounded values (no ids, no names).
//
// The three run families are the exception, registered by Finish: run
// duration and last run when the run ends (a scrape during the run sees
// no "last run" at 0), and last success only when it succeeded, so that a
// failed run neither exposes nor pushes it and a Pushgateway fed with POST
// keeps the previous success.
type Metrics struct {
	Requests        *prometheus.CounterVec
	RequestDuration *prometheus.HistogramVec
	Retries         *prometheus.CounterVec
	Changes         *prometheus.CounterVec
	PlannedChanges  *prometheus.GaugeVec
	Endpoints       *prometheus.GaugeVec
	OwnedEndpoints  *prometheus.GaugeVec
	Duplicates      prometheus.Gauge
	InflightGauge   prometheus.Gauge
	RateLimit       prometheus.Gauge
	RateLimitWait   prometheus.Counter
	RunDuration     prometheus.Gauge
	LastRun         prometheus.Gauge
	LastSuccess     prometheus.Gauge

	reg                  prometheus.Registerer
	finishOnce, succOnce sync.Once
}

// RetryReasons are the reason label values of vpcepctl_api_retries_total.
var RetryReasons = []string{"throttled", "server_error", "network", "ambiguous"}

// EndpointStates are the state label values of vpcepctl_endpoints.
var EndpointStates = []string{"desired", "observed", "owned"}

// OwnedStatuses are the status label values of vpcepctl_owned_endpoints:
// the API's statuses of an endpoint.
var OwnedStatuses = []string{vpcep.StatusCreating, vpcep.StatusAccepted, vpcep.StatusPendingAcceptance,
	vpcep.StatusRejected, vpcep.StatusFailed, vpcep.StatusDeleting}

// New creates the families and registers them with reg (nil: not
// registered, for tests that do not look). Every family but the run
// duration, last run and last success is registered here; see Finish.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcepctl_api_requests_total", Help: "API requests (every attempt), by operation and HTTP status code (or error).",
		}, []string{"operation", "code"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vpcepctl_api_request_duration_seconds", Help: "API request duration (one attempt), by operation.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcepctl_api_retries_total", Help: "API requests sent again, by operation and reason.",
		}, []string{"operation", "reason"}),
		Changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcepctl_changes_total", Help: "Planned changes executed, by action and result.",
		}, []string{"action", "result"}),
		PlannedChanges: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vpcepctl_planned_changes", Help: "Changes in the last plan, by action.",
		}, []string{"action"}),
		Endpoints: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vpcepctl_endpoints", Help: "Endpoints desired (in the manifests), observed (listed) and owned (carrying a declared set's tag).",
		}, []string{"state"}),
		OwnedEndpoints: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vpcepctl_owned_endpoints", Help: "Endpoints carrying a declared set's tag, by status (pendingAcceptance: awaiting the service owner's approval).",
		}, []string{"status"}),
		Duplicates: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpcepctl_duplicate_endpoints", Help: "Endpoints beyond one per set and name, found by the plan (deleted by apply).",
		}),
		InflightGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpcepctl_inflight_requests", Help: "API requests in flight.",
		}),
		RateLimit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpcepctl_rate_limit_rps", Help: "Current request rate allowed by the adaptive (AIMD) limiter, summed over targets.",
		}),
		RateLimitWait: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vpcepctl_rate_limit_wait_seconds_total", Help: "Time requests spent waiting for the rate limiter.",
		}),
		RunDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpcepctl_run_duration_seconds", Help: "Duration of the last run.",
		}),
		LastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpcepctl_last_run_timestamp_seconds", Help: "Unix time the last run finished.",
		}),
		LastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpcepctl_last_success_timestamp_seconds", Help: "Unix time the last successful run finished.",
		}),
	}
	for _, op := range otc.Operations {
		m.RequestDuration.WithLabelValues(op)
		for _, r := range RetryReasons {
			m.Retries.WithLabelValues(op, r)
		}
	}
	for _, a := range plan.Actions {
		m.PlannedChanges.WithLabelValues(string(a))
		if a == plan.Noop {
			continue
		}
		for _, r := range apply.Results {
			m.Changes.WithLabelValues(string(a), r)
		}
	}
	for _, s := range EndpointStates {
		m.Endpoints.WithLabelValues(s)
	}
	for _, s := range OwnedStatuses {
		m.OwnedEndpoints.WithLabelValues(s)
	}
	if reg != nil {
		reg.MustRegister(m.Requests, m.RequestDuration, m.Retries, m.Changes, m.PlannedChanges, m.Endpoints,
			m.OwnedEndpoints, m.Duplicates, m.InflightGauge, m.RateLimit, m.RateLimitWait)
	}
	return m
}

// Finish records the end of a run that started at start and ended at end:
// its duration and end time, and when it succeeded the time of success.
// It registers those families the first time it sets them; calling it
// again only updates the values.
func (m *Metrics) Finish(start, end time.Time, success bool) {
	if m == nil {
		return
	}
	m.RunDuration.Set(end.Sub(start).Seconds())
	m.LastRun.Set(unixSeconds(end))
	m.finishOnce.Do(func() { m.register(m.RunDuration, m.LastRun) })
	if !success {
		return
	}
	m.LastSuccess.Set(unixSeconds(end))
	m.succOnce.Do(func() { m.register(m.LastSuccess) })
}

func (m *Metrics) register(cs ...prometheus.Collector) {
	if m.reg != nil {
		m.reg.MustRegister(cs...)
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// ObservePlan sets the planned-changes gauges and the duplicates the plan
// found.
func (m *Metrics) ObservePlan(p *plan.Plan) {
	if m == nil {
		return
	}
	for _, a := range plan.Actions {
		m.PlannedChanges.WithLabelValues(string(a)).Set(float64(p.Summary.Count(a)))
	}
	m.Duplicates.Set(float64(p.Duplicates))
}

// ObserveOwned sets the owned endpoints by status. Only OwnedStatuses
// are labels: a status the API adds later makes no new series.
func (m *Metrics) ObserveOwned(byStatus map[string]int) {
	if m == nil {
		return
	}
	for _, s := range OwnedStatuses {
		m.OwnedEndpoints.WithLabelValues(s).Set(float64(byStatus[s]))
	}
}

// Request implements otc.Observer.
func (m *Metrics) Request(op, code string, d time.Duration) {
	if m == nil {
		return
	}
	m.Requests.WithLabelValues(op, code).Inc()
	m.RequestDuration.WithLabelValues(op).Observe(d.Seconds())
}

// Retry implements otc.Observer.
func (m *Metrics) Retry(op, reason string) {
	if m == nil {
		return
	}
	m.Retries.WithLabelValues(op, reason).Inc()
}

// Change implements apply.Recorder: one change ended with result.
func (m *Metrics) Change(action, result string) {
	if m == nil {
		return
	}
	m.Changes.WithLabelValues(action, result).Inc()
}

// Inflight implements otc.Observer.
func (m *Metrics) Inflight(delta int) {
	if m == nil {
		return
	}
	m.InflightGauge.Add(float64(delta))
}
