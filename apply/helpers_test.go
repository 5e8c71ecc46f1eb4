package apply

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// simEnv is a simulator served over HTTP and the real client for its
// first project, paced by an AIMD limiter.
type simEnv struct {
	sim    *sim.Sim
	url    string
	client *otc.Client
	pacer  *AIMD
	target plan.Target

	mu      sync.Mutex
	arrived func(r *http.Request) // called as each request arrives at the server
}

// onArrive sets the hook the server calls as each request arrives, before
// it is handled.
func (e *simEnv) onArrive(f func(r *http.Request)) {
	e.mu.Lock()
	e.arrived = f
	e.mu.Unlock()
}

// route names a VPCEP request as the simulator counts it (create, delete,
// list, get, tags, ...).
func route(r *http.Request) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 3 && parts[2] == "vpc-endpoints" && r.Method == http.MethodPost:
		return "create"
	case len(parts) == 3 && parts[2] == "vpc-endpoints":
		return "list"
	case len(parts) == 4 && parts[2] == "vpc-endpoints" && r.Method == http.MethodDelete:
		return "delete"
	case len(parts) == 4 && parts[2] == "vpc-endpoints":
		return "get"
	case len(parts) == 6 && parts[4] == "tags":
		return "tags"
	}
	return "other"
}

// clientOpts shape the client of a simEnv.
type clientOpts struct {
	rate       float64       // requests per second; default 1000
	burst      int           // default 5
	maxRetries int           // default 8
	retryMin   time.Duration // default 1ms
	retryMax   time.Duration // default 20ms
	observer   otc.Observer
	pacer      func(*AIMD) otc.Pacer // wraps the pacer (counting)
	// handler wraps the simulator's handler (a server-side hook).
	handler func(http.Handler) http.Handler
}

func newSimEnv(t testing.TB, so sim.Options, co clientOpts) *simEnv {
	t.Helper()
	if so.Seed == 0 {
		so.Seed = 1
	}
	s := sim.New(so)
	e := &simEnv{sim: s}
	var h http.Handler = s.Handler()
	if co.handler != nil {
		h = co.handler(h)
	}
	inner := h
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		f := e.arrived
		e.mu.Unlock()
		if f != nil {
			f(r)
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, pacer := newClient(t, srv.URL, co)
	e.url, e.client, e.pacer = srv.URL, c, pacer
	e.target = plan.Target{Region: c.Region(), ProjectID: c.ProjectID()}
	return e
}

// secondClient is another client of the same simulator (a second process:
// its own token, connections and limiter).
func (e *simEnv) secondClient(t testing.TB, co clientOpts) *otc.Client {
	t.Helper()
	c, _ := newClient(t, e.url, co)
	return c
}

// newClient returns a client for the simulator at url, and its limiter.
func newClient(t testing.TB, url string, co clientOpts) (*otc.Client, *AIMD) {
	t.Helper()
	if co.rate == 0 {
		co.rate = 1000
	}
	if co.burst == 0 {
		co.burst = 5
	}
	if co.maxRetries == 0 {
		co.maxRetries = 8
	}
	if co.retryMin == 0 {
		co.retryMin = time.Millisecond
	}
	if co.retryMax == 0 {
		co.retryMax = 20 * time.Millisecond
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	t.Cleanup(tr.CloseIdleConnections)
	prov, err := otc.NewProvider(otc.Options{
		Credentials: otc.Credentials{
			AuthURL: url + "/v3", Username: sim.Username, Password: sim.Password,
			UserDomainName: sim.DomainName, ProjectID: sim.ProjectID, Region: sim.Region,
		},
		MaxRetries:     co.maxRetries,
		RequestTimeout: 20 * time.Second,
		RetryWaitMin:   co.retryMin,
		RetryWaitMax:   co.retryMax,
		HTTPClient:     &http.Client{Transport: tr},
		Observer:       co.observer,
	})
	if err != nil {
		t.Fatal(err)
	}
	pacer := NewAIMD(co.rate, co.burst)
	var p otc.Pacer = pacer
	if co.pacer != nil {
		p = co.pacer(pacer)
	}
	c, err := prov.Client(context.Background(), sim.Region, sim.ProjectID, p)
	if err != nil {
		t.Fatal(err)
	}
	return c, pacer
}

func (e *simEnv) clients() map[plan.Target]API { return map[plan.Target]API{e.target: e.client} }

// uuid makes a valid UUID from a kind (0-15) and a number.
func uuid(kind, n int) string { return fmt.Sprintf("%08x-0000-4000-8%03x-%012x", n, kind, n) }

// endpoints returns n desired interface endpoints of set, spread over vpcs
// VPCs, each in a subnet of its own.
func endpoints(set string, n, vpcs int) []*manifests.Endpoint {
	out := make([]*manifests.Endpoint, n)
	for i := range out {
		out[i] = &manifests.Endpoint{
			Set: set, Name: fmt.Sprintf("ep-%04d", i),
			EndpointServiceID: sim.ServiceInterfaceID,
			VPCID:             uuid(1, i%vpcs), SubnetID: uuid(2, i),
			Tags: map[string]string{"team": "payments"},
		}
	}
	return out
}

// makePlan plans desired against what the simulator holds, as the CLI
// does: list, resolve services, diff.
func (e *simEnv) makePlan(t testing.TB, desired []*manifests.Endpoint, opts plan.Options) *plan.Plan {
	t.Helper()
	ctx := context.Background()
	observed, err := e.client.ListEndpoints(ctx, otc.ListOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	services := map[string]*vpcep.Service{}
	for _, d := range desired {
		if _, ok := services[d.EndpointServiceID]; ok {
			continue
		}
		s, err := e.client.DescribeService(ctx, d.EndpointServiceID, "")
		if err != nil {
			t.Fatalf("describe %s: %v", d.EndpointServiceID, err)
		}
		services[d.EndpointServiceID] = s
	}
	q, err := e.client.EndpointQuota(ctx)
	if err != nil {
		t.Fatalf("quota: %v", err)
	}
	p, err := plan.Diff([]plan.Input{{Target: e.target, Desired: desired, Observed: observed, Services: services, Quota: q}}, opts)
	if err != nil {
		t.Fatalf("plan.Diff: %v", err)
	}
	return p
}

// owned returns the simulator's endpoints carrying the set tag, by name.
func (e *simEnv) owned(set string) map[string][]vpcep.Endpoint {
	out := map[string][]vpcep.Endpoint{}
	for _, ep := range e.sim.Endpoints(sim.ProjectID) {
		if s, _ := ep.TagValue(manifests.TagSet); s == set {
			n, _ := ep.TagValue(manifests.TagName)
			out[n] = append(out[n], ep)
		}
	}
	return out
}

// put stores an endpoint of set/name (no tags when set is "").
func (e *simEnv) put(set, name, service, vpc, subnet, status string, tags ...vpcep.Tag) vpcep.Endpoint {
	ep := vpcep.Endpoint{ID: newTestID(), EndpointServiceID: service, VPCID: vpc, SubnetID: subnet, Status: status, Tags: tags}
	if set != "" {
		ep.Tags = append(ep.Tags, vpcep.Tag{Key: manifests.TagSet, Value: set}, vpcep.Tag{Key: manifests.TagName, Value: name})
	}
	e.sim.Put(sim.ProjectID, ep)
	return ep
}

var (
	testIDMu sync.Mutex
	testIDN  int
)

func newTestID() string {
	testIDMu.Lock()
	defer testIDMu.Unlock()
	testIDN++
	return uuid(9, testIDN)
}

// runFor applies p and fails the test if Run does not return within limit
// (a bound so that a hang fails fast, not a performance assertion).
func runFor(t testing.TB, ctx context.Context, a *Applier, p *plan.Plan, limit time.Duration) *Report {
	t.Helper()
	ch := make(chan *Report, 1)
	go func() { ch <- a.Run(ctx, p) }()
	select {
	case rep := <-ch:
		return rep
	case <-time.After(limit):
		t.Fatalf("Run did not return within %s", limit)
		return nil
	}
}

// failures lists the failed results (for messages).
func failures(rep *Report) []string {
	var out []string
	for _, r := range rep.Results {
		if r.result() == Failed {
			out = append(out, fmt.Sprintf("%s %s: %s", r.Action, r.Name, r.Error))
		}
	}
	sort.Strings(out)
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("... and %d more", len(out)-10))
	}
	return out
}

// countingPacer wraps a pacer and counts the answers it observes.
type countingPacer struct {
	otc.Pacer
	mu        sync.Mutex
	ok        int
	throttled int
}

func (c *countingPacer) Observe(t otc.Ticket, throttled bool) {
	c.mu.Lock()
	if throttled {
		c.throttled++
	} else {
		c.ok++
	}
	c.mu.Unlock()
	c.Pacer.Observe(t, throttled)
}

func (c *countingPacer) counts() (ok, throttled int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ok, c.throttled
}

// hookAPI wraps an API and calls hooks before and after its calls.
type hookAPI struct {
	API
	beforeCreate func(req *vpcep.CreateEndpointRequest)
	afterCreate  func(req *vpcep.CreateEndpointRequest, e *vpcep.Endpoint, err error)
	beforeDelete func(id string)
}

func (h *hookAPI) CreateEndpoint(ctx context.Context, req *vpcep.CreateEndpointRequest) (*vpcep.Endpoint, int, error) {
	if h.beforeCreate != nil {
		h.beforeCreate(req)
	}
	e, n, err := h.API.CreateEndpoint(ctx, req)
	if h.afterCreate != nil {
		h.afterCreate(req, e, err)
	}
	return e, n, err
}

func (h *hookAPI) DeleteEndpoint(ctx context.Context, id string) (int, error) {
	if h.beforeDelete != nil {
		h.beforeDelete(id)
	}
	return h.API.DeleteEndpoint(ctx, id)
}

func tagValue(tags []vpcep.Tag, key string) string {
	v, _ := (&vpcep.Endpoint{Tags: tags}).TagValue(key)
	return v
}

// recorder counts what a run records (apply.Recorder).
type recorder struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *recorder) add(k string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[k]++
}

func (r *recorder) Change(action, result string) { r.add("change " + action + " " + result) }
func (r *recorder) Retry(op, reason string)      { r.add("retry " + op + " " + reason) }

func (r *recorder) count(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[k]
}
