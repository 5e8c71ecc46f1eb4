package main

// Tests of the metrics and logs of a run, through run() against the
// simulator, and against the real Prometheus tools: prometheus-pushgateway
// (push and read back) and promtool (check metrics). Without those tools
// the tests that need them skip, and fail under CI=true.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vpcepctl/vpcepctl/apply"
	"github.com/vpcepctl/vpcepctl/internal/testkit"
	"github.com/vpcepctl/vpcepctl/metrics"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/sim"
)

// designFamilies are the metric names of DESIGN.md "Metrics".
var designFamilies = []string{
	"vpcepctl_api_requests_total",
	"vpcepctl_api_request_duration_seconds",
	"vpcepctl_api_retries_total",
	"vpcepctl_changes_total",
	"vpcepctl_planned_changes",
	"vpcepctl_endpoints",
	"vpcepctl_inflight_requests",
	"vpcepctl_rate_limit_rps",
	"vpcepctl_rate_limit_wait_seconds_total",
	"vpcepctl_run_duration_seconds",
	"vpcepctl_last_run_timestamp_seconds",
	"vpcepctl_last_success_timestamp_seconds",
}

const (
	lastRun     = "vpcepctl_last_run_timestamp_seconds"
	lastSuccess = "vpcepctl_last_success_timestamp_seconds"
	// paymentsService is the simulator's seeded interface service.
	paymentsService = "2da0fe8f-5cb7-4d93-bb35-dc05334da1be"
)

// startPushgateway runs the real prometheus-pushgateway on a free loopback
// port, without persistence, until the test ends; it returns its base URL.
func startPushgateway(t *testing.T) string {
	t.Helper()
	bin := testkit.RequireTool(t, "prometheus-pushgateway")
	addr := testkit.ClosedAddr(t)
	var logs syncBuffer
	cmd := exec.CommandContext(t.Context(), bin, "--web.listen-address="+addr, "--persistence.file=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Wait() // killed when t.Context() is cancelled, before cleanups
		if t.Failed() && logs.String() != "" {
			t.Logf("pushgateway log:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pushgateway on %s not ready after 10s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scrape reads url (a /metrics page) in the text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := tryScrape(url)
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func tryScrape(url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

func parseTextfile(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(fh)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return mfs
}

// checkMetrics runs promtool check metrics on text (an exposition).
func checkMetrics(t *testing.T, text []byte) {
	t.Helper()
	bin := testkit.RequireTool(t, "promtool")
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\nexposition:\n%s", err, out, text)
	}
}

// sample returns the value of the series of family name whose labels
// include the pairs k1, v1, k2, v2, ...: a gauge's or counter's value, a
// histogram's count. ok is false when there is no such series.
func sample(mfs map[string]*dto.MetricFamily, name string, pairs ...string) (v float64, ok bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, pairs...) {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// count is the number of series of family name whose labels include pairs.
func count(mfs map[string]*dto.MetricFamily, name string, pairs ...string) int {
	n := 0
	for _, m := range mfs[name].GetMetric() {
		if hasLabels(m, pairs...) {
			n++
		}
	}
	return n
}

// boundedLabels are the label values our families may carry; code is an
// HTTP status or "error". The Pushgateway adds job, instance and the
// grouping labels.
var boundedLabels = func() map[string]map[string]bool {
	set := func(vs ...string) map[string]bool {
		m := map[string]bool{}
		for _, v := range vs {
			m[v] = true
		}
		return m
	}
	actions := set()
	for _, a := range plan.Actions {
		actions[string(a)] = true
	}
	return map[string]map[string]bool{
		"operation": set(otc.Operations...),
		"reason":    set(metrics.RetryReasons...),
		"action":    actions,
		"result":    set(apply.Results...),
		"status":    set(metrics.OwnedStatuses...),
		"state":     set(metrics.EndpointStates...),
	}
}()

var statusCode = regexp.MustCompile(`^([1-5][0-9][0-9]|error)$`)

// checkBounded fails on a label of ours that is not one of the known
// values: no ids, names or free text in labels.
func checkBounded(t *testing.T, mfs map[string]*dto.MetricFamily, extra ...string) {
	t.Helper()
	for name, mf := range mfs {
		if !strings.HasPrefix(name, "vpcepctl_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				k, v := l.GetName(), l.GetValue()
				switch {
				case k == "le" || slices.Contains(extra, k):
				case k == "code":
					if !statusCode.MatchString(v) {
						t.Errorf("%s{code=%q}: not an HTTP status or \"error\"", name, v)
					}
				case boundedLabels[k] == nil:
					t.Errorf("%s: unexpected label %s=%q", name, k, v)
				case !boundedLabels[k][v]:
					t.Errorf("%s{%s=%q}: not a known value", name, k, v)
				}
			}
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and readers in parallel.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSim serves a simulator with o through httptest and returns it with
// the OS_* variables (password authentication) that reach it.
func startSim(t *testing.T, o sim.Options) (*sim.Sim, []string) {
	t.Helper()
	s := sim.New(o)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, sim.Env(srv.URL)
}

// cliRun is one run() of the CLI in the background.
type cliRun struct {
	stdout, stderr syncBuffer
	done           chan struct{}
	code           int
}

// startCLI runs the CLI with args and the environment env until ctx ends.
func startCLI(ctx context.Context, env []string, args ...string) *cliRun {
	r := &cliRun{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.code = run(ctx, args, strings.NewReader(""), &r.stdout, &r.stderr, envMap(env))
	}()
	return r
}

// wait returns the exit code once the run ends, failing after a minute.
func (r *cliRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(time.Minute):
		t.Fatalf("run did not end within a minute\nstderr:\n%s", r.stderr.String())
		return -1
	}
}

// runCLI runs the CLI to its end.
func runCLI(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	r := startCLI(t.Context(), env, args...)
	code = r.wait(t)
	return r.stdout.String(), r.stderr.String(), code
}

// writeManifest writes a manifest of set with one interface endpoint to
// the simulator's payments service per name, and returns its path.
func writeManifest(t *testing.T, dir, set string, names ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nset: %s\ndefaults:\n  endpoint_service_id: %s\nendpoints:\n", set, paymentsService)
	for _, n := range names {
		fmt.Fprintf(&b, "  - name: %s\n    vpc_id: %s\n    subnet_id: %s\n", n, vpcFor(set, n), testSubnet)
	}
	path := filepath.Join(dir, set+".yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// testSubnet is the subnet of every endpoint writeManifest declares.
const testSubnet = "68bfbcc1-dff2-47e4-a9d4-332b9bc1b8de"

// vpcFor is the VPC writeManifest gives set/name: a VPC of its own per set
// and name, so that no two endpoints of any manifest share a natural key.
func vpcFor(set, name string) string {
	h := fnv.New64a()
	h.Write([]byte(set + "/" + name))
	return fmt.Sprintf("84758cf5-9c62-43ae-a778-%012x", h.Sum64()&0xffffffffffff)
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// jsonLogAddr waits for the "serving metrics" line of a JSON log and
// returns its addr.
func jsonLogAddr(t *testing.T, r *cliRun) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(r.stderr.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving metrics" {
				return rec.Addr
			}
		}
		select {
		case <-r.done:
			t.Fatalf("run ended (exit %d) before serving metrics\nstderr:\n%s", r.code, r.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no \"serving metrics\" log line\nstderr:\n%s", r.stderr.String())
	return ""
}

// TestMetricsPromtool checks our exposition with promtool check metrics:
// a registry with every family, label combination and last success, and
// the metrics file of a real apply.
func TestMetricsPromtool(t *testing.T) {
	testkit.RequireTool(t, "promtool")
	t.Run("registry", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		m := metrics.New(reg)
		m.Request(otc.OpCreate, "200", 20*time.Millisecond)
		m.Request(otc.OpList, "error", time.Second)
		m.Finish(time.Now().Add(-time.Minute), time.Now(), true)
		var buf bytes.Buffer
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
				t.Fatal(err)
			}
		}
		checkMetrics(t, buf.Bytes())
	})
	t.Run("metrics file of an apply", func(t *testing.T) {
		_, env := startSim(t, sim.Options{AcceptAfter: 50 * time.Millisecond})
		dir := t.TempDir()
		mf := writeManifest(t, dir, "lint", names("ep", 5)...)
		out := filepath.Join(dir, "vpcepctl.prom")
		_, stderr, code := runCLI(t, env, "apply", "-f", mf, "--yes", "--poll-interval", "20ms", "--metrics-file", out)
		if code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, stderr)
		}
		text, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		checkMetrics(t, text)
	})
}

// TestMetricsServedDuringRun scrapes --metrics-addr while an apply runs
// against a slow simulator, and checks the server is gone at exit.
func TestMetricsServedDuringRun(t *testing.T) {
	_, env := startSim(t, sim.Options{Latency: 50 * time.Millisecond, AcceptAfter: 1500 * time.Millisecond})
	mf := writeManifest(t, t.TempDir(), "served", names("ep", 4)...)
	r := startCLI(t.Context(), env, "apply", "-f", mf, "--yes", "--poll-interval", "50ms",
		"--metrics-addr", "127.0.0.1:0", "--log-format", "json")
	addr := jsonLogAddr(t, r)
	url := "http://" + addr + "/metrics"

	// Scrape until the creates show, while the run waits for them.
	var mfs map[string]*dto.MetricFamily
	for {
		got, err := tryScrape(url)
		select {
		case <-r.done:
			t.Fatalf("run ended (exit %d) before a scrape saw the creates; last scrape error %v\nstderr:\n%s", r.code, err, r.stderr.String())
		default:
		}
		if err == nil {
			if n, _ := sample(got, "vpcepctl_api_requests_total", "operation", "create"); n > 0 {
				mfs = got
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range []struct {
		name  string
		pairs []string
		want  float64
	}{
		{"vpcepctl_planned_changes", []string{"action", "create"}, 4},
		{"vpcepctl_planned_changes", []string{"action", "delete"}, 0},
		{"vpcepctl_endpoints", []string{"state", "desired"}, 4},
		{"vpcepctl_endpoints", []string{"state", "owned"}, 0},
		{"vpcepctl_rate_limit_rps", nil, 10},
		{"vpcepctl_changes_total", []string{"action", "create", "result", "failed"}, 0},
	} {
		if got, ok := sample(mfs, c.name, c.pairs...); !ok || got != c.want {
			t.Errorf("during the run: %s%v = %v (found %v), want %v", c.name, c.pairs, got, ok, c.want)
		}
	}
	if _, ok := mfs[lastRun]; ok {
		// Set at the end of the run: a scrape during it must not see a
		// stale or zero "last run".
		t.Errorf("during the run: %s is served; it is set only when the run ends", lastRun)
	}
	for name := range mfs {
		if !strings.HasPrefix(name, "vpcepctl_") {
			t.Errorf("during the run: %s served; only our own families belong on the registry", name)
		}
	}
	if code := r.wait(t); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, r.stderr.String())
	}
	if _, err := tryScrape(url); err == nil {
		t.Errorf("after the run: %s still answers; the server must be shut down at exit", url)
	}
}

// TestPushgateway is the end-to-end test of --pushgateway against the
// real Pushgateway: an apply pushes every family; a plan (the drift
// monitor) pushes zero changes into its own group and leaves the apply's
// alone; a failed apply moves the last run and keeps the last success.
func TestPushgateway(t *testing.T) {
	pg := startPushgateway(t)
	s, env := startSim(t, sim.Options{AcceptAfter: 50 * time.Millisecond})
	mf := writeManifest(t, t.TempDir(), "payments", names("ep", 3)...)
	group := []string{"job", "vpcepctl", "set", "payments", "command", "apply"}
	planGroup := []string{"job", "vpcepctl", "set", "payments", "command", "plan"}

	// 1. A successful apply: every family, in the group job + set + command.
	_, stderr, code := runCLI(t, env, "apply", "-f", mf, "--yes", "--poll-interval", "20ms", "--pushgateway", pg)
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	mfs := scrape(t, pg+"/metrics")
	for _, name := range designFamilies {
		if count(mfs, name, group...) == 0 {
			t.Errorf("after apply: no %s in group %v of the Pushgateway", name, group)
		}
	}
	if n := count(mfs, "push_time_seconds", group...); n != 1 {
		t.Errorf("push_time_seconds of group %v: %d series, want 1 (one group)", group, n)
	}
	if got, _ := sample(mfs, "vpcepctl_changes_total", append(group, "action", "create", "result", "succeeded")...); got != 3 {
		t.Errorf("after apply: changes_total{create,succeeded} = %v, want 3", got)
	}
	if got, _ := sample(mfs, "vpcepctl_api_requests_total", append(group, "operation", "create", "code", "200")...); got < 3 {
		t.Errorf("after apply: api_requests_total{create,200} = %v, want >= 3", got)
	}
	if got, _ := sample(mfs, "vpcepctl_inflight_requests", group...); got != 0 {
		t.Errorf("after apply: inflight_requests = %v, want 0", got)
	}
	success1, ok1 := sample(mfs, lastSuccess, group...)
	run1, _ := sample(mfs, lastRun, group...)
	if !ok1 || success1 != run1 || success1 < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Fatalf("after apply: last success %v (found %v), last run %v; want both now", success1, ok1, run1)
	}

	// 2. A plan (no changes): its own group, changes_total at 0 in every
	// known combination (so a drift alert can subtract); the apply's
	// group is untouched.
	_, stderr, code = runCLI(t, env, "plan", "-f", mf, "--detailed-exitcode", "--pushgateway", pg)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, stderr)
	}
	mfs = scrape(t, pg+"/metrics")
	if n := count(mfs, "vpcepctl_changes_total", planGroup...); n != 21 {
		t.Errorf("after plan: %d changes_total series in the plan's group, want 21 (7 actions x 3 results)", n)
	}
	for _, m := range mfs["vpcepctl_changes_total"].GetMetric() {
		if !hasLabels(m, planGroup...) {
			continue
		}
		if v := m.GetCounter().GetValue(); v != 0 {
			t.Errorf("after plan: changes_total%v = %v, want 0", m.GetLabel(), v)
		}
	}
	if got, _ := sample(mfs, "vpcepctl_changes_total", append(group, "action", "create", "result", "succeeded")...); got != 3 {
		t.Errorf("after plan: the apply's changes_total{create,succeeded} = %v, want still 3", got)
	}
	if got, ok := sample(mfs, "vpcepctl_planned_changes", append(planGroup, "action", "noop")...); !ok || got != 3 {
		t.Errorf("after plan: planned_changes{noop} = %v (found %v), want 3", got, ok)
	}
	if got, _ := sample(mfs, lastSuccess, group...); got != success1 {
		t.Errorf("after plan: the apply's last success %v, want still %v", got, success1)
	}

	// 3. A failed apply: the API answers 500 to everything.
	s.SetOptions(sim.Options{AcceptAfter: 50 * time.Millisecond, FailRate: 1})
	_, stderr, code = runCLI(t, env, "apply", "-f", mf, "--yes", "--max-retries", "0", "--pushgateway", pg)
	if code != exitFailure {
		t.Fatalf("apply against a failing API: exit %d, want 1\n%s", code, stderr)
	}
	mfs = scrape(t, pg+"/metrics")
	success3, ok3 := sample(mfs, lastSuccess, group...)
	run3, _ := sample(mfs, lastRun, group...)
	if !ok3 || success3 != success1 {
		t.Errorf("after a failed run: last success %v (found %v), want the earlier %v", success3, ok3, success1)
	}
	if run3 <= success1 {
		t.Errorf("after a failed run: last run %v, want later than the last success %v", run3, success1)
	}
	if got, _ := sample(mfs, "vpcepctl_api_requests_total", append(group, "code", "500")...); got == 0 {
		t.Errorf("after a failed run: no api_requests_total{code=500}; the failed run's families were not pushed")
	}
	checkBounded(t, mfs, "job", "instance", "set", "command")
}

// hasLabels reports whether m carries every name/value pair.
func hasLabels(m *dto.Metric, pairs ...string) bool {
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if labels[pairs[i]] != pairs[i+1] {
			return false
		}
	}
	return true
}

// TestPushOnSignal interrupts an apply (as SIGTERM does) while it waits,
// and checks it still pushes, with the shard in the grouping key and no
// last success.
func TestPushOnSignal(t *testing.T) {
	pg := startPushgateway(t)
	_, env := startSim(t, sim.Options{AcceptAfter: time.Hour})
	// Names in shard 0 of 2, so the shard plans them.
	var inShard []string
	for i := 0; len(inShard) < 3; i++ {
		n := fmt.Sprintf("ep-%d", i)
		if (plan.Shard{I: 0, N: 2}).Contains(sim.ProjectID, "signalled", n) {
			inShard = append(inShard, n)
		}
	}
	mf := writeManifest(t, t.TempDir(), "signalled", inShard...)
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	r := startCLI(ctx, env, "apply", "-f", mf, "--yes", "--poll-interval", "20ms", "--shard", "0/2",
		"--pushgateway", pg, "--metrics-addr", "127.0.0.1:0", "--log-format", "json")
	url := "http://" + jsonLogAddr(t, r) + "/metrics"
	for {
		if mfs, err := tryScrape(url); err == nil {
			if n, _ := sample(mfs, "vpcepctl_changes_total", "action", "create", "result", "succeeded"); n > 0 {
				t.Fatal("a create finished its wait although the simulator accepts after an hour")
			}
			if n, _ := sample(mfs, "vpcepctl_api_requests_total", "operation", "create"); n == 3 {
				break // all three sent; the run now waits
			}
		}
		select {
		case <-r.done:
			t.Fatalf("run ended (exit %d) before the creates were sent\n%s", r.code, r.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel(signalError{syscall.SIGTERM})
	if code := r.wait(t); code != 143 {
		t.Fatalf("interrupted apply: exit %d, want 143\n%s", code, r.stderr.String())
	}
	group := []string{"job", "vpcepctl", "set", "signalled", "shard", "0", "command", "apply"}
	mfs := scrape(t, pg+"/metrics")
	if _, ok := sample(mfs, lastRun, group...); !ok {
		t.Fatalf("interrupted apply pushed no %s in group %v\n%s", lastRun, group, r.stderr.String())
	}
	if _, ok := sample(mfs, lastSuccess, group...); ok {
		t.Errorf("interrupted apply pushed %s; only a success may", lastSuccess)
	}
	// The three creates were made; their waits were cut short, which is no
	// failure (DESIGN.md "Apply": reported with their last status).
	if v, _ := sample(mfs, "vpcepctl_changes_total", append(group, "action", "create", "result", apply.Succeeded)...); v != 3 {
		t.Errorf("interrupted apply: changes_total{create,succeeded} = %v, want 3", v)
	}
	if v, _ := sample(mfs, "vpcepctl_changes_total", append(group, "action", "create", "result", apply.Failed)...); v != 0 {
		t.Errorf("interrupted apply: changes_total{create,failed} = %v, want 0", v)
	}
}

// TestPushUnreachable pushes to a closed loopback port: the failure is
// logged always, and turns the exit status into 1 only when the run
// itself succeeded with 0.
func TestPushUnreachable(t *testing.T) {
	_, env := startSim(t, sim.Options{AcceptAfter: 20 * time.Millisecond})
	dir := t.TempDir()
	good := writeManifest(t, dir, "good", "ep-0")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.ReplaceAll(readFile(t, good), paymentsService, "00000000-0000-4000-8000-000000000000")), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := testkit.ClosedAddr(t)
	// The password in the URL is sent as basic auth and never shown.
	pushURL := "http://metrics:pushsecret@" + addr
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"plan with changes, detailed exit code", []string{"plan", "-f", good, "--detailed-exitcode"}, exitChanges},
		{"invalid manifest (unknown service)", []string{"plan", "-f", bad}, exitInvalid},
		{"apply succeeds", []string{"apply", "-f", good, "--yes", "--poll-interval", "10ms"}, exitFailure},
		{"plan succeeds, no changes", []string{"plan", "-f", good}, exitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, env, append(tt.args, "--pushgateway", pushURL)...)
			if code != tt.want {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, tt.want, stderr)
			}
			if !strings.Contains(stderr, `msg="metrics not delivered"`) || !strings.Contains(stderr, "push to http://"+addr) {
				t.Errorf("push failure not logged with the URL:\n%s", stderr)
			}
			if strings.Contains(stdout+stderr, "pushsecret") {
				t.Errorf("the Pushgateway password appears in the output:\n%s", stderr)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMetricsTextfile checks --metrics-file: textfile format, written by
// rename (a reader of the old file keeps the old content), mode 0644, no
// temporary files left, and the last success carried forward by a failed
// run.
func TestMetricsTextfile(t *testing.T) {
	s, env := startSim(t, sim.Options{AcceptAfter: 20 * time.Millisecond})
	dir := t.TempDir()
	mf := writeManifest(t, dir, "textfile", names("ep", 2)...)
	outDir := filepath.Join(dir, "textfile-collector")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(outDir, "vpcepctl.prom")

	_, stderr, code := runCLI(t, env, "apply", "-f", mf, "--yes", "--poll-interval", "10ms", "--metrics-file", out)
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	mfs := parseTextfile(t, out)
	for _, name := range designFamilies {
		if _, ok := mfs[name]; !ok {
			t.Errorf("metrics file: no %s", name)
		}
	}
	success1, _ := sample(mfs, lastSuccess)
	run1, _ := sample(mfs, lastRun)
	if success1 == 0 || success1 != run1 {
		t.Fatalf("metrics file: last success %v, last run %v; want both set and equal", success1, run1)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("metrics file mode %v, want 0644 (the collector may run as another user)", fi.Mode().Perm())
	}
	old, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldText := readFile(t, out)

	// A failed run: the old last success stays, the last run moves.
	s.SetOptions(sim.Options{FailRate: 1})
	_, stderr, code = runCLI(t, env, "apply", "-f", mf, "--yes", "--max-retries", "0", "--metrics-file", out)
	if code != exitFailure {
		t.Fatalf("apply against a failing API: exit %d, want 1\n%s", code, stderr)
	}
	mfs = parseTextfile(t, out)
	if got, ok := sample(mfs, lastSuccess); !ok || got != success1 {
		t.Errorf("after a failed run: last success %v (found %v), want the earlier %v", got, ok, success1)
	}
	if got, _ := sample(mfs, lastRun); got <= run1 {
		t.Errorf("after a failed run: last run %v, want later than %v", got, run1)
	}
	if got, _ := sample(mfs, "vpcepctl_api_requests_total", "code", "500"); got == 0 {
		t.Errorf("after a failed run: no api_requests_total{code=500} in the file")
	}
	// The file was replaced, not rewritten in place.
	if b, err := io.ReadAll(old); err != nil || string(b) != oldText {
		t.Errorf("the open old file changed (err %v): the metrics file must be replaced by rename, not rewritten", err)
	}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var ns []string
		for _, e := range entries {
			ns = append(ns, e.Name())
		}
		t.Errorf("collector directory holds %v, want only vpcepctl.prom (no temporary files)", ns)
	}

	// An unreadable previous file: warned about, not carried, not fatal.
	if err := os.WriteFile(out, []byte("garbage{\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runCLI(t, env, "apply", "-f", mf, "--yes", "--max-retries", "0", "--metrics-file", out)
	if code != exitFailure {
		t.Fatalf("apply: exit %d, want 1\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "last success is not carried forward") {
		t.Errorf("no warning about the unreadable previous file:\n%s", stderr)
	}
	if mfs := parseTextfile(t, out); mfs[lastSuccess] != nil {
		t.Errorf("last success appeared out of a garbage file")
	}

	// A directory that does not exist is invalid input, found before any
	// API call.
	_, stderr, code = runCLI(t, env, "plan", "-f", mf, "--metrics-file", filepath.Join(dir, "nope", "x.prom"))
	if code != exitInvalid || !strings.Contains(stderr, "--metrics-file") {
		t.Errorf("metrics file in a missing directory: exit %d, want 3\n%s", code, stderr)
	}
}

// TestMetricsThrottled runs an apply into a throttling API: retries are
// counted with reason throttled, and the limiter families move.
func TestMetricsThrottled(t *testing.T) {
	_, env := startSim(t, sim.Options{AcceptAfter: 20 * time.Millisecond, ThrottleRPS: 20})
	dir := t.TempDir()
	mf := writeManifest(t, dir, "throttled", names("ep", 8)...)
	out := filepath.Join(dir, "m.prom")
	_, stderr, code := runCLI(t, env, "apply", "-f", mf, "--yes", "--poll-interval", "10ms", "--rate", "50", "--burst", "10",
		"--metrics-file", out)
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	mfs := parseTextfile(t, out)
	var throttled float64
	for _, op := range otc.Operations {
		v, _ := sample(mfs, "vpcepctl_api_retries_total", "operation", op, "reason", "throttled")
		throttled += v
	}
	if throttled == 0 {
		t.Errorf("no throttled retries counted against a 20 rps API at 50 rps")
	}
	if got, _ := sample(mfs, "vpcepctl_rate_limit_rps"); got <= 0 || got >= 50 {
		t.Errorf("rate_limit_rps = %v after throttling, want below the ceiling 50", got)
	}
	if got, _ := sample(mfs, "vpcepctl_rate_limit_wait_seconds_total"); got <= 0 {
		t.Errorf("rate_limit_wait_seconds_total = %v, want > 0", got)
	}
	checkBounded(t, mfs)
}

var lowerSnake = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestLogsJSON checks an apply's JSON log: every line parses, every key is
// constant lower_snake, one line per change carries set, name and action,
// and at debug one line per request carries its operation.
func TestLogsJSON(t *testing.T) {
	_, env := startSim(t, sim.Options{AcceptAfter: 20 * time.Millisecond})
	mf := writeManifest(t, t.TempDir(), "logs", names("ep", 3)...)
	_, stderr, code := runCLI(t, env, "apply", "-f", mf, "--yes", "--poll-interval", "10ms", "--log-format", "json", "--log-level", "debug")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	msgs := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		line := sc.Text()
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %v\n%s", err, line)
			continue
		}
		for k := range rec {
			if !lowerSnake.MatchString(k) {
				t.Errorf("log key %q is not lower_snake: %s", k, line)
			}
		}
		msg, _ := rec["msg"].(string)
		msgs[msg]++
		need := map[string][]string{
			"created":        {"set", "name", "action", "status", "attempts", "after"},
			"request":        {"op", "method", "path"},
			"apply finished": {"succeeded", "failed", "skipped", "awaiting_approval", "conflicts"},
		}[msg]
		for _, k := range need {
			if _, ok := rec[k]; !ok {
				t.Errorf("%q line without %q: %s", msg, k, line)
			}
		}
		if msg == "created" && (rec["set"] != "logs" || rec["action"] != "create") {
			t.Errorf("change line: set %v action %v, want logs create", rec["set"], rec["action"])
		}
	}
	if msgs["created"] != 3 || msgs["apply finished"] != 1 {
		t.Errorf("%d \"created\" lines, %d \"apply finished\"; want 3 (one per change) and 1\n%s", msgs["created"], msgs["apply finished"], stderr)
	}
	if msgs["request"] < 5 {
		t.Errorf("%d \"request\" lines at debug, want one per request (>= 5)", msgs["request"])
	}
}

// TestLogsFlags checks --log-format text and --log-level.
func TestLogsFlags(t *testing.T) {
	_, env := startSim(t, sim.Options{AcceptAfter: 20 * time.Millisecond})
	mf := writeManifest(t, t.TempDir(), "flags", "ep-0", "ep-1")
	_, stderr, code := runCLI(t, env, "apply", "-f", mf, "--yes", "--poll-interval", "10ms", "--log-format", "text")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	if !regexp.MustCompile(`(?m)^time=\S+ level=INFO msg=created action=create set=flags name=ep-\d `).MatchString(stderr) {
		t.Errorf("no text \"created\" line with action, set and name:\n%s", stderr)
	}
	if strings.Contains(stderr, "level=DEBUG") {
		t.Errorf("debug lines at the default level info:\n%s", stderr)
	}

	// Quiet: a plan at warn logs nothing for a healthy run.
	_, stderr, code = runCLI(t, env, "plan", "-f", mf, "--log-level", "warn")
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "level=") {
		t.Errorf("log lines below warn at --log-level warn:\n%s", stderr)
	}
	for _, bad := range [][]string{{"--log-format", "xml"}, {"--log-level", "chatty"}} {
		_, stderr, code = runCLI(t, env, append([]string{"plan", "-f", mf}, bad...)...)
		if code != exitInvalid || !strings.Contains(stderr, bad[0]) {
			t.Errorf("%v: exit %d, want 3 naming the flag\n%s", bad, code, stderr)
		}
	}
}

// TestLogsNoSecrets runs at debug, in both formats and with password and
// AK/SK credentials, and looks for the secrets in everything printed.
func TestLogsNoSecrets(t *testing.T) {
	s := sim.New(sim.Options{AcceptAfter: 20 * time.Millisecond})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	akskEnv := []string{
		"OS_ACCESS_KEY=" + sim.AccessKey, "OS_SECRET_KEY=" + sim.SecretKey,
		"OS_PROJECT_ID=" + sim.ProjectID, "OS_REGION_NAME=" + sim.Region,
		"VPCEPCTL_ENDPOINT=" + srv.URL,
	}
	dir := t.TempDir()
	secrets := []string{
		sim.Password,
		sim.SecretKey,
		"MIIDkgYJKoZIhvcNAQcC", // every simulator token starts so
	}
	tests := []struct {
		name string
		env  []string
		set  string
	}{
		{"password text", sim.Env(srv.URL), "pwtext"},
		{"password json", append(sim.Env(srv.URL), "VPCEPCTL_LOG_FORMAT=json"), "pwjson"},
		{"aksk text", akskEnv, "akskt"},
		{"aksk json", append(akskEnv, "VPCEPCTL_LOG_FORMAT=json"), "akskj"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mf := writeManifest(t, dir, tt.set, fmt.Sprintf("ep-%d", i))
			stdout, stderr, code := runCLI(t, tt.env, "apply", "-f", mf, "--yes", "--poll-interval", "10ms", "--log-level", "debug", "-o", "json")
			if code != 0 {
				t.Fatalf("apply: exit %d\n%s", code, stderr)
			}
			if !strings.Contains(stderr, "op=create") && !strings.Contains(stderr, `"op":"create"`) {
				t.Fatalf("no create request logged at debug: the test proves little\n%s", stderr)
			}
			for _, sec := range secrets {
				if strings.Contains(stdout, sec) || strings.Contains(stderr, sec) {
					t.Errorf("secret %q printed:\nstdout:\n%s\nstderr:\n%s", sec, stdout, stderr)
				}
			}
		})
	}
	// A failing authentication is where a secret would most likely leak.
	env := append(sim.Env(srv.URL), "OS_PASSWORD=wrong-"+sim.Password)
	stdout, stderr, code := runCLI(t, env, "plan", "-f", writeManifest(t, dir, "authfail", "ep-0"), "--log-level", "debug")
	if code == 0 {
		t.Fatalf("plan with a wrong password: exit 0\n%s", stderr)
	}
	if strings.Contains(stdout+stderr, sim.Password) {
		t.Errorf("wrong password printed:\n%s", stderr)
	}
}
