package metrics

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/apply"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// designTable is the table of DESIGN.md "Metrics": name, type, labels.
var designTable = []struct {
	name   string
	typ    dto.MetricType
	labels []string
}{
	{"vpcepctl_api_requests_total", dto.MetricType_COUNTER, []string{"code", "operation"}},
	{"vpcepctl_api_request_duration_seconds", dto.MetricType_HISTOGRAM, []string{"operation"}},
	{"vpcepctl_api_retries_total", dto.MetricType_COUNTER, []string{"operation", "reason"}},
	{"vpcepctl_changes_total", dto.MetricType_COUNTER, []string{"action", "result"}},
	{"vpcepctl_planned_changes", dto.MetricType_GAUGE, []string{"action"}},
	{"vpcepctl_endpoints", dto.MetricType_GAUGE, []string{"state"}},
	{"vpcepctl_owned_endpoints", dto.MetricType_GAUGE, []string{"status"}},
	{"vpcepctl_duplicate_endpoints", dto.MetricType_GAUGE, nil},
	{"vpcepctl_inflight_requests", dto.MetricType_GAUGE, nil},
	{"vpcepctl_rate_limit_rps", dto.MetricType_GAUGE, nil},
	{"vpcepctl_rate_limit_wait_seconds_total", dto.MetricType_COUNTER, nil},
	{"vpcepctl_run_duration_seconds", dto.MetricType_GAUGE, nil},
	{"vpcepctl_last_run_timestamp_seconds", dto.MetricType_GAUGE, nil},
	{"vpcepctl_last_success_timestamp_seconds", dto.MetricType_GAUGE, nil},
}

// TestMetricsFamilies checks every family of the DESIGN.md table: name,
// type and label names, once a request was observed (so the one family
// without known label values has a series) and a run finished well.
func TestMetricsFamilies(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.Request(otc.OpList, "200", time.Millisecond)
	m.Finish(time.Now().Add(-time.Second), time.Now(), true)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf
	}
	for _, want := range designTable {
		mf := got[want.name]
		delete(got, want.name)
		if mf == nil {
			t.Errorf("%s: not gathered", want.name)
			continue
		}
		if mf.GetType() != want.typ {
			t.Errorf("%s: type %v, want %v", want.name, mf.GetType(), want.typ)
		}
		if mf.GetHelp() == "" {
			t.Errorf("%s: no help", want.name)
		}
		for _, metric := range mf.GetMetric() {
			var names []string
			for _, l := range metric.GetLabel() {
				names = append(names, l.GetName())
			}
			if strings.Join(names, ",") != strings.Join(want.labels, ",") {
				t.Errorf("%s: labels %v, want %v", want.name, names, want.labels)
				break
			}
		}
	}
	for name := range got {
		t.Errorf("%s: gathered, but not in DESIGN.md", name)
	}
}

// TestMetricsInitialised checks that every known label combination
// exists at 0 on a fresh registry, and that last success does not exist.
func TestMetricsInitialised(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	acted := len(plan.Actions) - 1 // noop is never executed
	tests := []struct {
		name string
		c    prometheus.Collector
		want int
	}{
		{"requests (codes are not known in advance)", m.Requests, 0},
		{"request duration", m.RequestDuration, len(otc.Operations)},
		{"retries", m.Retries, len(otc.Operations) * len(RetryReasons)},
		{"changes", m.Changes, acted * len(apply.Results)},
		{"planned changes", m.PlannedChanges, len(plan.Actions)},
		{"endpoints", m.Endpoints, len(EndpointStates)},
		{"owned endpoints", m.OwnedEndpoints, len(OwnedStatuses)},
		{"duplicates", m.Duplicates, 1},
		{"inflight", m.InflightGauge, 1},
		{"rate limit", m.RateLimit, 1},
		{"rate limit wait", m.RateLimitWait, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testutil.CollectAndCount(tt.c); got != tt.want {
				t.Errorf("CollectAndCount = %d, want %d", got, tt.want)
			}
		})
	}
	for _, a := range plan.Actions {
		if a == plan.Noop {
			continue
		}
		for _, r := range apply.Results {
			if v := testutil.ToFloat64(m.Changes.WithLabelValues(string(a), r)); v != 0 {
				t.Errorf("changes_total{action=%q,result=%q} = %v, want 0", a, r, v)
			}
		}
	}
	// The run families exist once the run ends (Finish).
	for _, name := range []string{"vpcepctl_run_duration_seconds", "vpcepctl_last_run_timestamp_seconds", "vpcepctl_last_success_timestamp_seconds"} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n != 0 {
			t.Errorf("%s on a fresh registry: %d series (%v), want none before Finish", name, n, err)
		}
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 87 {
		// 9 durations + 36 retries + 21 changes + 8 planned + 3 endpoints +
		// 6 owned by status + 4 plain gauges and counters. A change here
		// changes what every run pushes: look at the exposition before
		// updating.
		t.Errorf("fresh registry: %d series (%v), want 9+36+21+8+3+6+4 = 87", n, err)
	}
}

func TestMetricsFinish(t *testing.T) {
	start := time.Unix(1700000000, 0)
	end := start.Add(1500 * time.Millisecond)
	tests := []struct {
		name    string
		success bool
		want    string
	}{
		{"success", true, `
# HELP vpcepctl_last_run_timestamp_seconds Unix time the last run finished.
# TYPE vpcepctl_last_run_timestamp_seconds gauge
vpcepctl_last_run_timestamp_seconds 1.7000000015e+09
# HELP vpcepctl_last_success_timestamp_seconds Unix time the last successful run finished.
# TYPE vpcepctl_last_success_timestamp_seconds gauge
vpcepctl_last_success_timestamp_seconds 1.7000000015e+09
# HELP vpcepctl_run_duration_seconds Duration of the last run.
# TYPE vpcepctl_run_duration_seconds gauge
vpcepctl_run_duration_seconds 1.5
`},
		{"failure", false, `
# HELP vpcepctl_last_run_timestamp_seconds Unix time the last run finished.
# TYPE vpcepctl_last_run_timestamp_seconds gauge
vpcepctl_last_run_timestamp_seconds 1.7000000015e+09
# HELP vpcepctl_run_duration_seconds Duration of the last run.
# TYPE vpcepctl_run_duration_seconds gauge
vpcepctl_run_duration_seconds 1.5
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m := New(reg)
			m.Finish(start, end, tt.success)
			err := testutil.GatherAndCompare(reg, strings.NewReader(tt.want),
				"vpcepctl_run_duration_seconds", "vpcepctl_last_run_timestamp_seconds", "vpcepctl_last_success_timestamp_seconds")
			if err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("twice", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		m := New(reg)
		m.Finish(start, end, true)
		m.Finish(start, end.Add(time.Second), true) // must not panic on the second registration
		if got := testutil.ToFloat64(m.LastSuccess); got != 1700000002.5 {
			t.Errorf("last success = %v, want 1700000002.5", got)
		}
	})
	t.Run("no registry", func(t *testing.T) {
		m := New(nil)
		m.Finish(start, end, true)
		if got := testutil.ToFloat64(m.LastRun); got != 1700000001.5 {
			t.Errorf("last run = %v, want 1700000001.5", got)
		}
	})
}

func TestMetricsObservePlan(t *testing.T) {
	m := New(prometheus.NewRegistry())
	m.ObservePlan(&plan.Plan{Summary: plan.Summary{Create: 3, Tag: 1, Conflict: 2, Noop: 40}})
	want := map[plan.Action]float64{plan.Create: 3, plan.Tag: 1, plan.Replace: 0, plan.Adopt: 0, plan.Delete: 0, plan.Conflict: 2, plan.Noop: 40}
	for a, w := range want {
		if got := testutil.ToFloat64(m.PlannedChanges.WithLabelValues(string(a))); got != w {
			t.Errorf("planned_changes{action=%q} = %v, want %v", a, got, w)
		}
	}
	// A later plan (apply re-plans) replaces the values.
	m.ObservePlan(&plan.Plan{})
	if got := testutil.ToFloat64(m.PlannedChanges.WithLabelValues(string(plan.Create))); got != 0 {
		t.Errorf("planned_changes{action=create} after an empty plan = %v, want 0", got)
	}
}

// TestMetricsObserver checks the otc.Observer side: requests, durations,
// retries and requests in flight.
func TestMetricsObserver(t *testing.T) {
	var _ otc.Observer = (*Metrics)(nil)
	reg := prometheus.NewRegistry()
	m := New(reg)
	// Durations that are exact in binary, so the sum compares exactly.
	m.Request(otc.OpCreate, "200", 31250*time.Microsecond)
	m.Request(otc.OpCreate, "200", 3*time.Second)
	m.Request(otc.OpCreate, "error", 7812500*time.Nanosecond)
	m.Retry(otc.OpCreate, "throttled")
	m.Retry(otc.OpList, "server_error")
	m.Retry(otc.OpList, "server_error")
	m.Inflight(1)
	m.Inflight(1)
	m.Inflight(-1)

	if got := testutil.ToFloat64(m.Requests.WithLabelValues(otc.OpCreate, "200")); got != 2 {
		t.Errorf("requests{create,200} = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.Requests.WithLabelValues(otc.OpCreate, "error")); got != 1 {
		t.Errorf("requests{create,error} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.Retries.WithLabelValues(otc.OpList, "server_error")); got != 2 {
		t.Errorf("retries{list,server_error} = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.Retries.WithLabelValues(otc.OpCreate, "throttled")); got != 1 {
		t.Errorf("retries{create,throttled} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.InflightGauge); got != 1 {
		t.Errorf("inflight = %v, want 1", got)
	}
	if got := testutil.CollectAndCount(m.Requests); got != 2 {
		t.Errorf("requests series = %d, want 2", got)
	}
	const hist = `
# HELP vpcepctl_api_request_duration_seconds API request duration (one attempt), by operation.
# TYPE vpcepctl_api_request_duration_seconds histogram
vpcepctl_api_request_duration_seconds_bucket{operation="create",le="0.01"} 1
vpcepctl_api_request_duration_seconds_bucket{operation="create",le="0.025"} 1
vpcepctl_api_request_duration_seconds_bucket{operation="create",le="0.05"} 2
vpcepctl_api_request_duration_seconds_bucket{operation="create",le="0.1"} 2
vpcepctl_api_request_duration_seconds_bucket{operation="create",le="0.25"} 2
vpcepctl_api_request_duration_seconds_bucket{operation="create",le="0.5"} 2
vpcepctl_api_request_duration_seconds_bucket{operation="create",le="1"} 2
vpcepctl_api_request_duration_seconds_bucket{operation="create",le="2.5"} 2
vpcepctl_api_request_duration_seconds_bucket{operation="create",le="5"} 3
vpcepctl_api_request_duration_seconds_bucket{operation="create",le="10"} 3
vpcepctl_api_request_duration_seconds_bucket{operation="create",le="30"} 3
vpcepctl_api_request_duration_seconds_bucket{operation="create",le="+Inf"} 3
vpcepctl_api_request_duration_seconds_sum{operation="create"} 3.0390625
vpcepctl_api_request_duration_seconds_count{operation="create"} 3
`
	// Compare only the create series: filter the others out.
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := reg.Gather()
		for _, mf := range mfs {
			var keep []*dto.Metric
			for _, metric := range mf.GetMetric() {
				for _, l := range metric.GetLabel() {
					if l.GetName() == "operation" && l.GetValue() == otc.OpCreate {
						keep = append(keep, metric)
					}
				}
			}
			mf.Metric = keep
		}
		return mfs, err
	})
	if err := testutil.GatherAndCompare(g, strings.NewReader(hist), "vpcepctl_api_request_duration_seconds"); err != nil {
		t.Error(err)
	}
}

// TestMetricsNil checks that a nil *Metrics (no metrics wanted) is safe.
func TestMetricsNil(t *testing.T) {
	var m *Metrics
	m.Request(otc.OpList, "200", time.Millisecond)
	m.Retry(otc.OpList, "throttled")
	m.Inflight(1)
	m.ObservePlan(&plan.Plan{})
	m.Finish(time.Now(), time.Now(), true)
}

// instantAPI answers creates and deletes at once; deletes of "bad" fail.
type instantAPI struct{}

func (instantAPI) CreateEndpoint(_ context.Context, req *vpcep.CreateEndpointRequest) (*vpcep.Endpoint, int, error) {
	return &vpcep.Endpoint{ID: "ep-" + req.VPCID, Status: vpcep.StatusAccepted}, 1, nil
}

func (instantAPI) DeleteEndpoint(_ context.Context, id string) (int, error) {
	if id == "bad" {
		return 1, &otc.APIError{Op: otc.OpDelete, Status: http.StatusBadRequest, Code: "EndPoint.0005", Message: "invalid"}
	}
	return 1, nil
}

func (instantAPI) GetEndpoint(context.Context, string) (*vpcep.Endpoint, error) {
	return nil, errors.New("not used")
}
func (instantAPI) ListEndpoints(context.Context, otc.ListOptions) ([]vpcep.Endpoint, error) {
	return nil, nil
}
func (instantAPI) TagAction(context.Context, string, string, []vpcep.Tag) (int, error) {
	return 1, nil
}

func (instantAPI) AcceptConnection(context.Context, string, string) (int, error) { return 1, nil }
func (instantAPI) OwnsService(context.Context, string) (bool, error)             { return false, nil }

// TestMetricsChanges checks vpcepctl_changes_total as a run counts it:
// one series per action and result, conflicts skipped.
func TestMetricsChanges(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	tgt := plan.Target{Region: "eu-de", ProjectID: "p"}
	ch := func(a plan.Action, name, id string) plan.Change {
		return plan.Change{Action: a, Set: "s", Name: name, Region: tgt.Region, ProjectID: tgt.ProjectID, ID: id,
			Desired: &vpcep.CreateEndpointRequest{VPCID: name}}
	}
	p := &plan.Plan{Changes: []plan.Change{
		ch(plan.Create, "a", ""), ch(plan.Create, "b", ""),
		ch(plan.Delete, "c", "good"), ch(plan.Delete, "d", "bad"),
		ch(plan.Conflict, "e", ""),
	}}
	rep := apply.New(map[plan.Target]apply.API{tgt: instantAPI{}}, apply.Options{Recorder: m}).Run(t.Context(), p)
	if rep.Summary.Succeeded != 3 || rep.Summary.Failed != 1 || rep.Summary.Skipped != 1 {
		t.Fatalf("summary %+v, want 3 succeeded, 1 failed, 1 skipped", rep.Summary)
	}
	const want = `
# HELP vpcepctl_changes_total Planned changes executed, by action and result.
# TYPE vpcepctl_changes_total counter
vpcepctl_changes_total{action="adopt",result="failed"} 0
vpcepctl_changes_total{action="adopt",result="skipped"} 0
vpcepctl_changes_total{action="adopt",result="succeeded"} 0
vpcepctl_changes_total{action="approve",result="failed"} 0
vpcepctl_changes_total{action="approve",result="skipped"} 0
vpcepctl_changes_total{action="approve",result="succeeded"} 0
vpcepctl_changes_total{action="conflict",result="failed"} 0
vpcepctl_changes_total{action="conflict",result="skipped"} 1
vpcepctl_changes_total{action="conflict",result="succeeded"} 0
vpcepctl_changes_total{action="create",result="failed"} 0
vpcepctl_changes_total{action="create",result="skipped"} 0
vpcepctl_changes_total{action="create",result="succeeded"} 2
vpcepctl_changes_total{action="delete",result="failed"} 1
vpcepctl_changes_total{action="delete",result="skipped"} 0
vpcepctl_changes_total{action="delete",result="succeeded"} 1
vpcepctl_changes_total{action="replace",result="failed"} 0
vpcepctl_changes_total{action="replace",result="skipped"} 0
vpcepctl_changes_total{action="replace",result="succeeded"} 0
vpcepctl_changes_total{action="tag",result="failed"} 0
vpcepctl_changes_total{action="tag",result="skipped"} 0
vpcepctl_changes_total{action="tag",result="succeeded"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "vpcepctl_changes_total"); err != nil {
		t.Error(err)
	}
}

// TestMetricsRateLimit checks the two rate-limit families as the CLI
// feeds them from an AIMD limiter (OnChange, OnWait).
func TestMetricsRateLimit(t *testing.T) {
	m := New(prometheus.NewRegistry())
	lim := apply.NewAIMD(10, 1)
	m.RateLimit.Add(lim.Rate())
	lim.OnChange = func(o, n float64) { m.RateLimit.Add(n - o) }
	lim.OnWait = func(d time.Duration) { m.RateLimitWait.Add(d.Seconds()) }
	if got := testutil.ToFloat64(m.RateLimit); got != 10 {
		t.Errorf("rate_limit_rps = %v, want 10", got)
	}
	lim.Observe(1, true)
	if got := testutil.ToFloat64(m.RateLimit); got >= 10 || got != lim.Rate() {
		t.Errorf("rate_limit_rps after throttling = %v, want the limiter's %v (< 10)", got, lim.Rate())
	}
	ctx := t.Context()
	for range 3 {
		if _, err := lim.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := testutil.ToFloat64(m.RateLimitWait); got <= 0 {
		t.Errorf("rate_limit_wait_seconds_total = %v after waiting on an empty bucket, want > 0", got)
	}
}
