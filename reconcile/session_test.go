package reconcile

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vpcepctl/vpcepctl/apply"
	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/metrics"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// open serves a simulator and opens a session on it.
func open(t *testing.T) (*Session, *sim.Sim) {
	t.Helper()
	s := sim.New(sim.Options{AcceptAfter: 10 * time.Millisecond})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return openAt(t, srv.URL), s
}

// openAt opens a session on the simulator served at url.
func openAt(t *testing.T, url string) *Session {
	t.Helper()
	sess, err := Open(Config{
		Credentials: otc.Credentials{AuthURL: url + "/v3", Username: sim.Username, Password: sim.Password,
			UserDomainName: sim.DomainName, ProjectID: sim.ProjectID, Region: sim.Region},
		Rate: 100, Burst: 10, MaxRetries: 2, RequestTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

func examples(t *testing.T) []*manifests.Manifest {
	t.Helper()
	ms, err := manifests.Load([]string{filepath.Join("..", "examples", "manifests")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestPlanApplyRecheck walks the engine as the command does: a plan, its
// apply, a plan with nothing to do, and the first plan re-checked, which
// is stale now and refused as input a rerun will not fix.
func TestPlanApplyRecheck(t *testing.T) {
	sess, s := open(t)
	ms := examples(t)
	p, err := sess.Plan(t.Context(), ms, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Create != 7 || p.Summary.Changes() != 7 {
		t.Fatalf("first plan: %+v, want 7 creates", p.Summary)
	}
	rep := sess.Apply(t.Context(), p, apply.Options{Concurrency: 4, Wait: true, WaitTimeout: 10 * time.Second, PollInterval: 20 * time.Millisecond})
	if !rep.OK() || rep.Summary.Succeeded != 6 || rep.Summary.AwaitingApproval != 1 { // ledger's service needs approval
		t.Fatalf("apply: %+v", rep.Summary)
	}
	if n := len(s.Endpoints(sim.ProjectID)); n != 7 {
		t.Errorf("simulator holds %d endpoints, want 7", n)
	}
	again, err := sess.Plan(t.Context(), ms, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Summary.Changes() != 0 || again.Summary.Noop != 7 {
		t.Errorf("second plan: %+v, want 7 unchanged", again.Summary)
	}
	_, err = sess.Recheck(t.Context(), p)
	if !errors.Is(err, plan.ErrStale) || !Invalid(err) {
		t.Errorf("re-checked applied plan: %v, want a stale plan (invalid input)", err)
	}
}

func TestInvalid(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := manifests.Load([]string{bad}, nil)
	tests := []struct {
		err  error
		want bool
	}{
		{err, true},
		{&otc.ConfigError{}, true},
		{plan.ErrScope, true},
		{errors.New("connection refused"), false},
		{&otc.NetError{Op: otc.OpList, Err: errors.New("reset")}, false},
	}
	for _, tt := range tests {
		if got := Invalid(tt.err); got != tt.want {
			t.Errorf("Invalid(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestTargetsAuthenticateConcurrently: 200 projects get their tokens at
// the same time (bounded), once each, not one after another.
func TestTargetsAuthenticateConcurrently(t *testing.T) {
	const n = 200
	s := sim.New(sim.Options{Projects: n, IAMLatency: 20 * time.Millisecond})
	var mu sync.Mutex
	inflight, most, tokens := 0, 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isToken := strings.HasSuffix(r.URL.Path, "/auth/tokens")
		if isToken {
			mu.Lock()
			inflight, tokens = inflight+1, tokens+1
			most = max(most, inflight)
			mu.Unlock()
			defer func() { mu.Lock(); inflight--; mu.Unlock() }()
		}
		s.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	sess := openAt(t, srv.URL)
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\nversion: 1\nset: s\nproject_id: %s\nendpoints: []\n", sim.ExtraProjectID(i))
	}
	path := filepath.Join(t.TempDir(), "many.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ms, err := manifests.Load([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	inputs, err := sess.Observe(t.Context(), ms)
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != n {
		t.Errorf("%d targets observed, want %d", len(inputs), n)
	}
	if tokens != n+1 {
		t.Errorf("%d token requests, want %d (one per project, and the credentials' default, whose region the manifests use)", tokens, n+1)
	}
	if most < maxConnecting/2 || most > maxConnecting {
		t.Errorf("at most %d token requests in flight at once, want up to %d", most, maxConnecting)
	}
}

// TestPlanMetrics: the plan's duplicates and the owned endpoints by
// status reach the metrics.
func TestPlanMetrics(t *testing.T) {
	s := sim.New(sim.Options{})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	m := metrics.New(prometheus.NewRegistry())
	sess, err := Open(Config{Credentials: otc.Credentials{AuthURL: srv.URL + "/v3", Username: sim.Username, Password: sim.Password,
		UserDomainName: sim.DomainName, ProjectID: sim.ProjectID, Region: sim.Region}, Rate: 100, Burst: 10, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	ms := examples(t)
	d := ms[0].Endpoints[0]
	for i, status := range []string{vpcep.StatusAccepted, vpcep.StatusAccepted, vpcep.StatusPendingAcceptance} {
		s.Put(sim.ProjectID, vpcep.Endpoint{EndpointServiceID: d.EndpointServiceID, VPCID: d.VPCID, SubnetID: d.SubnetID, Status: status,
			CreatedAt: vpcep.Time{Time: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)},
			Tags:      []vpcep.Tag{{Key: manifests.TagSet, Value: d.Set}, {Key: manifests.TagName, Value: d.Name}}})
	}
	if _, err := sess.Plan(t.Context(), ms, plan.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.Duplicates); got != 2 {
		t.Errorf("duplicate_endpoints = %v, want 2", got)
	}
	for status, want := range map[string]float64{vpcep.StatusAccepted: 2, vpcep.StatusPendingAcceptance: 1, vpcep.StatusCreating: 0} {
		if got := testutil.ToFloat64(m.OwnedEndpoints.WithLabelValues(status)); got != want {
			t.Errorf("owned_endpoints{status=%q} = %v, want %v", status, got, want)
		}
	}
}
