package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/vpcepctl/vpcepctl/apply"
)

// runMetrics is the metrics side of one run: our own registry, served
// during the run, pushed and written at its end.
type runMetrics struct {
	a        *app
	reg      *prometheus.Registry
	m        *apply.Metrics
	start    time.Time
	srv      *http.Server
	grouping map[string]string
}

func (a *app) startMetrics() (*runMetrics, error) {
	rm := &runMetrics{a: a, reg: prometheus.NewRegistry(), start: time.Now(), grouping: map[string]string{}}
	rm.m = apply.NewMetrics(rm.reg)
	if a.metricsAdr != "" {
		ln, err := net.Listen("tcp", a.metricsAdr)
		if err != nil {
			return nil, invalid(fmt.Errorf("--metrics-addr %s: %w", a.metricsAdr, err))
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(rm.reg, promhttp.HandlerOpts{Registry: rm.reg}))
		rm.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = rm.srv.Serve(ln) }()
		a.log.Info("serving metrics", "addr", ln.Addr().String())
	}
	return rm, nil
}

// group adds a grouping label for the push (set, shard).
func (rm *runMetrics) group(k, v string) { rm.grouping[k] = v }

// finish records the run, then pushes and writes the metrics. success sets
// vpcepctl_last_success_timestamp_seconds. The error is a push or write
// failure.
func (rm *runMetrics) finish(success bool) error {
	now := time.Now()
	rm.m.RunDuration.Set(now.Sub(rm.start).Seconds())
	rm.m.LastRun.Set(float64(now.UnixNano()) / 1e9)
	if success {
		rm.m.LastSuccess.Set(float64(now.UnixNano()) / 1e9)
		_ = rm.reg.Register(rm.m.LastSuccess)
	}
	var errs []error
	if rm.a.pushURL != "" {
		p := push.New(rm.a.pushURL, "vpcepctl").Gatherer(rm.reg)
		for k, v := range rm.grouping {
			p = p.Grouping(k, v)
		}
		// Add (POST) replaces only the families we send: a failed run,
		// which does not send last_success, keeps the previous one.
		if err := p.Add(); err != nil {
			errs = append(errs, fmt.Errorf("push to %s: %w", rm.a.pushURL, err))
		}
	}
	if rm.a.metricsOut != "" {
		if err := prometheus.WriteToTextfile(rm.a.metricsOut, rm.reg); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-file: %w", err))
		}
	}
	if rm.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = rm.srv.Shutdown(ctx)
		cancel()
	}
	return errors.Join(errs...)
}

// done ends a command: it finishes the metrics and folds a metrics failure
// into the result. A push that fails is logged always and changes the
// exit status only when the run itself succeeded.
func (rm *runMetrics) done(err error, success bool) error {
	if merr := rm.finish(success); merr != nil {
		rm.a.log.Error("metrics", "err", merr)
		if err == nil {
			return &exitError{exitFailure, merr}
		}
	}
	return err
}

func shardLabel(i int) string { return strconv.Itoa(i) }
