package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vpcepctl/vpcepctl/apply"
	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/metrics"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/reconcile"
	"github.com/vpcepctl/vpcepctl/sim"
)

// applyRun is one apply of n creates through a session configured as the
// command line configures it by default, but for rate.
type applyRun struct {
	n         int
	rate      float64
	sim       sim.Options
	wall      time.Duration // of the apply
	answered  int64         // VPCEP answers that were not throttled, during the apply
	minRate   float64
	succeeded int
}

func (r *applyRun) run() {
	s := sim.New(r.sim)
	var answered atomic.Int64
	counting := atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		s.Handler().ServeHTTP(rec, req)
		if counting.Load() && strings.HasPrefix(req.URL.Path, "/v1/") && rec.status < 400 {
			answered.Add(1)
		}
	}))
	defer srv.Close()
	m := metrics.New(prometheus.NewRegistry())
	sess, err := reconcile.Open(reconcile.Config{Credentials: simCreds(srv.URL), Rate: r.rate, Burst: 5,
		MaxRetries: 8, RequestTimeout: 30 * time.Second, Metrics: m})
	if err != nil {
		panic(err)
	}
	ms := bulkManifest(r.n)
	p, err := sess.Plan(context.Background(), ms, plan.Options{})
	if err != nil {
		panic(err)
	}
	stop := make(chan struct{})
	minRate := r.rate
	var wg sync.WaitGroup
	wg.Go(func() { minRate = watchMin(m.RateLimit, stop) })
	counting.Store(true)
	start := time.Now()
	rep := sess.Apply(context.Background(), p, apply.Options{Concurrency: 16, Wait: true})
	r.wall = time.Since(start)
	counting.Store(false)
	close(stop)
	wg.Wait()
	r.answered, r.minRate, r.succeeded = answered.Load(), minRate, rep.Summary.Succeeded
}

// watchMin samples gauge every 10ms until stop and returns its lowest value.
func watchMin(g prometheus.Gauge, stop <-chan struct{}) float64 {
	lowest := -1.0
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		var m dto.Metric
		if err := g.Write(&m); err == nil {
			if v := m.GetGauge().GetValue(); lowest < 0 || v < lowest {
				lowest = v
			}
		}
		select {
		case <-stop:
			return lowest
		case <-t.C:
		}
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// defaultsRow: the default --rate 10 against a server that allows 5/s,
// 300 creates: the answers come at 0.9 of 5/s or more, and the rate never
// drops below 2/s.
func defaultsRow() row {
	r := &applyRun{n: 300, rate: 10, sim: sim.Options{ThrottleRPS: 5, Latency: latency, AcceptAfter: 300 * time.Millisecond, Quota: 1000, Seed: 1}}
	r.run()
	achieved := float64(r.answered) / r.wall.Seconds() / 5
	return row{
		scenario: "defaults (--rate 10), server 5/s, 300 creates",
		figure:   fmt.Sprintf("answers/s over 5: %.3f; lowest rate %.2f/s; %d created", achieved, r.minRate, r.succeeded),
		goal:     ">= 0.90; >= 2/s",
		ok:       achieved >= 0.9 && r.minRate >= 2 && r.succeeded == r.n,
	}
}

// wallRow: 200 creates at --rate 100, accepted after 300ms, 20ms latency:
// the apply takes at most 1.3 times the 2s the rate needs plus the 0.3s of
// the last acceptance.
func wallRow() row {
	r := &applyRun{n: 200, rate: 100, sim: sim.Options{Latency: latency, AcceptAfter: 300 * time.Millisecond, Quota: 1000, Seed: 1}}
	r.run()
	ideal := 200.0/100 + 0.3
	ratio := r.wall.Seconds() / ideal
	return row{
		scenario: "200 creates, --rate 100, accept 300ms, latency 20ms",
		figure:   fmt.Sprintf("wall/(2s+0.3s) %.2f (%.2fs); %d created", ratio, r.wall.Seconds(), r.succeeded),
		goal:     "<= 1.3",
		ok:       ratio <= 1.3 && r.succeeded == r.n,
	}
}

// bulkManifest is one set of n interface endpoints, loaded as the command
// line loads it.
func bulkManifest(n int) []*manifests.Manifest {
	var b strings.Builder
	b.WriteString("version: 1\nset: bench\ndefaults:\n  endpoint_service_id: 2da0fe8f-5cb7-4d93-bb35-dc05334da1be\nendpoints:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: ep-%04d\n    vpc_id: %08x-0000-4000-8000-000000000001\n    subnet_id: %08x-0000-4000-8000-000000000002\n", i, i, i)
	}
	return load(b.String())
}

// load loads a manifest document from a temporary file.
func load(doc string) []*manifests.Manifest {
	dir, err := os.MkdirTemp("", "vpcepctl-bench-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		panic(err)
	}
	ms, err := manifests.Load([]string{path}, nil)
	if err != nil {
		panic(err)
	}
	return ms
}
