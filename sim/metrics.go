package sim

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// metrics live on the simulator's own registry, so a demo can show the
// server's view next to vpcepctl's.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	throttled prometheus.Counter
	lost      prometheus.Counter
}

func newMetrics(s *Sim) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcepctl_sim_requests_total",
			Help: "Requests the simulator answered, by route and HTTP status code (lost: dropped without answer).",
		}, []string{"route", "code"}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vpcepctl_sim_throttled_total",
			Help: "Requests refused by the simulated rate limit (429 or 400 EndPoint.0022).",
		}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vpcepctl_sim_lost_responses_total",
			Help: "Creates and deletes that took effect but whose response was dropped or replaced by 504.",
		}),
	}
	m.reg.MustRegister(m.requests, m.throttled, m.lost, endpointCollector{s: s, desc: prometheus.NewDesc(
		"vpcepctl_sim_endpoints", "Endpoints held by the simulator, by status.", []string{"status"}, nil)})
	return m
}

// endpointCollector counts endpoints by status at scrape time.
type endpointCollector struct {
	s    *Sim
	desc *prometheus.Desc
}

func (c endpointCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c endpointCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[string]int{
		vpcep.StatusCreating: 0, vpcep.StatusAccepted: 0, vpcep.StatusPendingAcceptance: 0,
		vpcep.StatusRejected: 0, vpcep.StatusFailed: 0, vpcep.StatusDeleting: 0,
	}
	c.s.mu.Lock()
	c.s.settle(c.s.now())
	for _, p := range c.s.projects {
		for _, r := range p.byID {
			counts[r.ep.Status]++
		}
	}
	c.s.mu.Unlock()
	for status, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), status)
	}
}
