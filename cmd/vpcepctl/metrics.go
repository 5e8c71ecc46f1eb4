package main

// Metrics policy: one registry of our own per run (no Go runtime or
// process metrics), served on --metrics-addr while the run lasts, and at
// its end, whatever the outcome, pushed to --pushgateway and written to
// --metrics-file. vpcepctl_last_success_timestamp_seconds is only ever
// produced by a successful run; a failed one leaves the previous value in
// place (POST to the Pushgateway; carried forward in the metrics file).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vpcepctl/vpcepctl/apply"
)

// pushJob is the job label of every push.
const pushJob = "vpcepctl"

// lastSuccessName is the one family a failed run does not produce.
const lastSuccessName = "vpcepctl_last_success_timestamp_seconds"

// Time limits of the work done at exit: a dead Pushgateway or a stuck
// scraper must not hold up the end of a run.
const (
	pushTimeout     = 15 * time.Second
	shutdownTimeout = 2 * time.Second
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
	push     *pushTarget // nil: no --pushgateway
}

// pushTarget is --pushgateway split into a URL that is safe to log and
// the basic-auth credentials it may have carried.
type pushTarget struct {
	url        string // without user info
	user, pass string
	auth       bool
}

// parsePushURL accepts what push.New accepts (a missing scheme means
// http) and takes user:password out of the URL, so it is sent as basic
// auth and never appears in a log line or an error.
func parsePushURL(raw string) (*pushTarget, error) {
	s := raw
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--pushgateway: want an http(s) URL such as http://pushgateway:9091, got %q", redactURL(raw))
	}
	pt := &pushTarget{}
	if u.User != nil {
		pt.auth = true
		pt.user = u.User.Username()
		pt.pass, _ = u.User.Password()
		u.User = nil
	}
	pt.url = strings.TrimSuffix(u.String(), "/")
	return pt, nil
}

// pushTarget parses --pushgateway and reads --pushgateway-password-file.
// The password becomes one of the run's secrets; one given on the command
// line is warned about (every user of the machine can read it).
func (a *app) pushTarget() (*pushTarget, error) {
	pt, err := parsePushURL(a.pushURL)
	if err != nil {
		return nil, err
	}
	if pt.pass != "" && a.pushFromArgv {
		a.log.Warn("the --pushgateway URL on the command line carries a password, which other users of this machine can read; " +
			"set VPCEPCTL_PUSHGATEWAY or --pushgateway-password-file instead")
	}
	if a.pushPassF != "" {
		if pt.pass != "" {
			return nil, errors.New("--pushgateway carries a password and --pushgateway-password-file gives one: give one of them")
		}
		b, err := os.ReadFile(a.pushPassF)
		if err != nil {
			return nil, fmt.Errorf("--pushgateway-password-file %s: %w", a.pushPassF, cleanPathError(err))
		}
		pt.pass = strings.TrimRight(string(b), "\r\n")
		if pt.pass == "" {
			return nil, fmt.Errorf("--pushgateway-password-file %s: the file is empty", a.pushPassF)
		}
		pt.auth = true
	}
	a.redactor.Add(pt.pass)
	return pt, nil
}

// sameHostRedirect lets the Pushgateway client follow a redirect only to
// the scheme and host it was sent to: the basic-auth password goes nowhere
// else.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return fmt.Errorf("redirect to %s://%s not followed (the Pushgateway's credentials stay with %s://%s)",
			req.URL.Scheme, req.URL.Host, first.Scheme, first.Host)
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// redactURL hides the password of a URL that may not even parse.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		return "xxxxx" + raw[at:]
	}
	return raw
}

func (a *app) startMetrics() (*runMetrics, error) {
	rm := &runMetrics{a: a, reg: prometheus.NewRegistry(), start: time.Now(), grouping: map[string]string{}}
	rm.m = apply.NewMetrics(rm.reg)
	if a.pushURL != "" {
		pt, err := a.pushTarget()
		if err != nil {
			return nil, invalid(err)
		}
		rm.push = pt
	} else if a.pushPassF != "" {
		return nil, invalid(errors.New("--pushgateway-password-file needs --pushgateway"))
	}
	if err := a.checkOutput("--metrics-file", a.metricsOut); err != nil {
		return nil, err
	}
	if a.metricsAdr != "" {
		ln, err := net.Listen("tcp", a.metricsAdr)
		if err != nil {
			return nil, invalid(fmt.Errorf("--metrics-addr %s: %w", a.metricsAdr, err))
		}
		mux := http.NewServeMux()
		// No Registry in HandlerOpts: it would add promhttp's own error
		// counter to the registry we push.
		mux.Handle("/metrics", promhttp.HandlerFor(rm.reg, promhttp.HandlerOpts{}))
		rm.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = rm.srv.Serve(ln) }()
		a.log.Info("serving metrics", "addr", ln.Addr().String())
	}
	return rm, nil
}

// group adds a grouping label for the push (set, shard).
func (rm *runMetrics) group(k, v string) { rm.grouping[k] = v }

// finish records the run, then pushes and writes the metrics and stops
// serving them. success sets vpcepctl_last_success_timestamp_seconds. The
// error is a push or write failure.
func (rm *runMetrics) finish(success bool) error {
	rm.m.Finish(rm.start, time.Now(), success)
	var errs []error
	if rm.push != nil {
		if err := rm.pushMetrics(); err != nil {
			errs = append(errs, err)
		}
	}
	if rm.a.metricsOut != "" {
		if err := rm.writeFile(rm.a.metricsOut, success); err != nil {
			errs = append(errs, err)
		}
	}
	if rm.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if err := rm.srv.Shutdown(ctx); err != nil {
			_ = rm.srv.Close()
		}
		cancel()
	}
	return errors.Join(errs...)
}

// pushMetrics pushes with Add (POST): the Pushgateway replaces only the
// families we send, so a failed run, which does not send last_success,
// keeps the previous one. It runs on its own context: a run stopped by a
// signal still pushes.
func (rm *runMetrics) pushMetrics() error {
	p := push.New(rm.push.url, pushJob).Gatherer(rm.reg).Client(&http.Client{CheckRedirect: sameHostRedirect})
	if rm.push.auth {
		p = p.BasicAuth(rm.push.user, rm.push.pass)
	}
	keys := make([]string, 0, len(rm.grouping))
	for k := range rm.grouping {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	attrs := []any{"url", rm.push.url, "job", pushJob}
	for _, k := range keys {
		p = p.Grouping(k, rm.grouping[k])
		attrs = append(attrs, k, rm.grouping[k])
	}
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	if err := p.AddContext(ctx); err != nil {
		return fmt.Errorf("push to %s: %w", rm.push.url, err)
	}
	rm.a.log.Debug("metrics pushed", attrs...)
	return nil
}

// writeFile writes the registry in the text format node_exporter's
// textfile collector reads, through a temporary file in the same
// directory and a rename (writeOutput), so the collector never reads half
// a file. The temporary name starts with a dot and does not end in .prom:
// the collector ignores it. A failed run carries the previous file's
// vpcepctl_last_success_timestamp_seconds forward, so that series does
// not vanish (and alert) because one run failed.
func (rm *runMetrics) writeFile(path string, success bool) error {
	mfs, err := rm.reg.Gather()
	if err != nil {
		return err
	}
	if !success {
		old, err := readLastSuccess(path)
		if err != nil {
			rm.a.log.Warn("previous metrics file not read; last success not carried forward", "path", path, "err", err)
		}
		if old != nil {
			mfs = append(mfs, old)
			slices.SortFunc(mfs, func(x, y *dto.MetricFamily) int { return strings.Compare(x.GetName(), y.GetName()) })
		}
	}
	return rm.a.writeOutput("--metrics-file", path, publicMode, func(w io.Writer) error {
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
				return err
			}
		}
		return nil
	})
}

// readLastSuccess returns the last-success family of an earlier metrics
// file: nil when there is no file or no such gauge in it.
func readLastSuccess(path string) (*dto.MetricFamily, error) {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(fh)
	if err != nil {
		return nil, err
	}
	mf := mfs[lastSuccessName]
	if mf == nil || mf.GetType() != dto.MetricType_GAUGE || len(mf.GetMetric()) != 1 || len(mf.GetMetric()[0].GetLabel()) != 0 {
		return nil, nil
	}
	return mf, nil
}

// done ends a command: it finishes the metrics and folds a metrics failure
// into the result. A push or write that fails is always logged, and
// changes the exit status only when the run itself succeeded with 0; any
// other outcome (a failure, an interruption, plan --detailed-exitcode's 2)
// keeps its own status, which already says more.
func (rm *runMetrics) done(err error, success bool) error {
	merr := rm.finish(success)
	if merr == nil {
		return err
	}
	rm.a.log.Error("metrics not delivered", "err", merr)
	if err == nil && success {
		return &exitError{exitFailure, merr}
	}
	return err
}

func shardLabel(i int) string { return strconv.Itoa(i) }
