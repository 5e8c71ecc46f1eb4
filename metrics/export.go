package metrics

// Export policy: one registry of our own per run (no Go runtime or
// process metrics), served on an address while the run lasts, and at its
// end, whatever the outcome, pushed to a Pushgateway and written in the
// textfile format. vpcepctl_last_success_timestamp_seconds is only ever
// produced by a successful run; a failed one leaves the previous value in
// place: pushed with POST (the Pushgateway replaces only the families
// sent), carried forward from the previous textfile.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vpcepctl/vpcepctl/internal/outfile"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// PushJob is the job label of every push.
const PushJob = "vpcepctl"

// lastSuccessName is the one family a failed run does not produce.
const lastSuccessName = "vpcepctl_last_success_timestamp_seconds"

// shutdownTimeout bounds the end of serving: a stuck scraper must not hold
// up the end of a run.
const shutdownTimeout = 2 * time.Second

// Run is the metrics of one run: the families on a registry of their own,
// served while the run lasts, pushed and written at its end.
type Run struct {
	*Metrics
	Registry *prometheus.Registry
	Start    time.Time

	grouping map[string]string
	srv      *http.Server
}

// NewRun returns the metrics of a run that starts now.
func NewRun() *Run {
	reg := prometheus.NewRegistry()
	return &Run{Metrics: New(reg), Registry: reg, Start: time.Now(), grouping: map[string]string{}}
}

// Group adds a label to the push's grouping key (beyond job).
func (r *Run) Group(k, v string) { r.grouping[k] = v }

// Serve serves /metrics on addr until Close, and returns the address it
// listens on (a port 0 is chosen by the system).
func (r *Run) Serve(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	// No Registry in HandlerOpts: it would add promhttp's own error
	// counter to the registry we push.
	mux.Handle("/metrics", promhttp.HandlerFor(r.Registry, promhttp.HandlerOpts{}))
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return ln.Addr(), nil
}

// Close stops serving.
func (r *Run) Close() {
	if r.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		_ = r.srv.Close()
	}
	r.srv = nil
}

// PushTarget is a Pushgateway: a URL safe to log, and the basic-auth
// credentials that go with it.
type PushTarget struct {
	URL        string // without user info
	User, Pass string
	Auth       bool
}

// ParsePushURL accepts what push.New accepts (a missing scheme means
// http) and takes user:password out of the URL, so that it is sent as basic
// auth and never appears in a log line or an error.
func ParsePushURL(raw string) (*PushTarget, error) {
	s := raw
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("want an http(s) URL such as http://pushgateway:9091, got %q", redactURL(raw))
	}
	pt := &PushTarget{}
	if u.User != nil {
		pt.Auth = true
		pt.User = u.User.Username()
		pt.Pass, _ = u.User.Password()
		u.User = nil
	}
	pt.URL = strings.TrimSuffix(u.String(), "/")
	return pt, nil
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

// sameHostRedirect lets the Pushgateway client follow a redirect only to
// the scheme and host it was sent to: the basic-auth password goes nowhere
// else.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	// 301, 302 and 303 turn the POST into a GET without a body, whose 2xx
	// would pass for a push: only 307 and 308 keep the body.
	if resp := req.Response; resp != nil && resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect {
		return fmt.Errorf("redirect (%d) not followed: it would drop the pushed metrics", resp.StatusCode)
	}
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

// Push pushes the registry to pt with Add (POST), grouped by job and the
// run's grouping labels: the Pushgateway replaces only the families sent,
// so a failed run, which does not send last_success, keeps the previous
// one.
func (r *Run) Push(ctx context.Context, pt *PushTarget) error {
	p := push.New(pt.URL, PushJob).Gatherer(r.Registry).Client(&http.Client{
		CheckRedirect: sameHostRedirect,
		Transport:     capBody{http.DefaultTransport},
	})
	if pt.Auth {
		p = p.BasicAuth(pt.User, pt.Pass)
	}
	keys := make([]string, 0, len(r.grouping))
	for k := range r.grouping {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p = p.Grouping(k, r.grouping[k])
	}
	if err := p.AddContext(ctx); err != nil {
		return fmt.Errorf("push to %s: %s", pt.URL, oneLine(err.Error(), 300))
	}
	return nil
}

// maxPushAnswer bounds what is read of a Pushgateway's answer: its error
// page is quoted in the error, not held in memory whole.
const maxPushAnswer = 4 << 10

// capBody is a RoundTripper that reads at most maxPushAnswer bytes of an
// answer.
type capBody struct{ next http.RoundTripper }

func (c capBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err == nil {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(resp.Body, maxPushAnswer), resp.Body}
	}
	return resp, err
}

// oneLine folds s onto one line of at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// Textfile renders the registry in the text format node_exporter's
// textfile collector reads. A failed run carries the last success of the
// previous file (previous, nil when there is none) forward, so that
// series does not vanish (and alert) because one run failed; the two are
// merged by prometheus.Gatherers. The error says when previous could not
// be read; the text is complete all the same.
func (r *Run) Textfile(previous io.Reader, success bool) ([]byte, error) {
	gs := prometheus.Gatherers{r.Registry}
	var perr error
	if !success && previous != nil {
		old, err := lastSuccess(previous)
		if err != nil {
			perr = fmt.Errorf("the previous file's last success is not carried forward: %w", err)
		}
		if old != nil {
			gs = append(gs, prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return []*dto.MetricFamily{old}, nil }))
		}
	}
	mfs, err := gs.Gather()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			return nil, err
		}
	}
	return []byte(b.String()), perr
}

// lastSuccess returns the last-success family of an earlier textfile: nil
// when there is no such gauge in it.
func lastSuccess(r io.Reader) (*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	mf := mfs[lastSuccessName]
	if mf == nil || mf.GetType() != dto.MetricType_GAUGE || len(mf.GetMetric()) != 1 || len(mf.GetMetric()[0].GetLabel()) != 0 {
		return nil, nil
	}
	return mf, nil
}

// Delivery says where a run's metrics go at its end.
type Delivery struct {
	Push *PushTarget // nil: no push
	// File is the textfile to write (whole, 0644: node_exporter often runs
	// as another user); empty: none.
	File string
	// Timeout bounds the push; default 15s.
	Timeout time.Duration
}

// Deliver pushes and writes the metrics of a run that ended (see Finish),
// whatever its outcome, and stops serving them. A failed run carries the
// previous textfile's last success forward. The error joins the failures;
// warn receives what went wrong but does not fail the delivery.
func (r *Run) Deliver(d Delivery, success bool, warn func(msg string, err error)) error {
	defer r.Close()
	var errs []error
	if d.Push != nil {
		timeout := cmp.Or(d.Timeout, 15*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := r.Push(ctx, d.Push)
		cancel()
		if err != nil {
			errs = append(errs, err)
		}
	}
	if d.File != "" {
		var previous io.Reader
		if fh, err := os.Open(d.File); err == nil && !success {
			defer fh.Close()
			previous = fh
		} else if err == nil {
			fh.Close()
		}
		data, err := r.Textfile(previous, success)
		switch {
		case data == nil:
			errs = append(errs, err)
		case err != nil:
			warn("previous metrics file not read", err)
		}
		if data != nil {
			if err := outfile.Write(d.File, 0o644, data); err != nil {
				errs = append(errs, fmt.Errorf("metrics file %s: %w", d.File, err))
			}
		}
	}
	return errors.Join(errs...)
}
