package otc_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// simClient serves s and returns a password client for sim.ProjectID,
// with the credentials read the way the CLI reads them (sim.Env).
func simClient(t testing.TB, s *sim.Sim, mod ...func(*otc.Options)) *otc.Client {
	t.Helper()
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	env := map[string]string{}
	for _, kv := range sim.Env(srv.URL) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	creds, err := otc.CredentialsFromEnv(func(k string) string { return env[k] }, "")
	if err != nil {
		t.Fatal(err)
	}
	opts := fastOptions(creds, "")
	opts.MaxRetries = 10
	opts.RetryWaitMax = 20 * time.Millisecond
	for _, m := range mod {
		m(&opts)
	}
	return newClient(t, opts)
}

// bulkCreatedAt is the created_at of the i-th endpoint of a bulk create an
// hour ago at 16 per second (the API's rate limits allow no more): every
// second is shared by 16 endpoints.
func bulkCreatedAt(i int) vpcep.Time {
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	return vpcep.Time{Time: start.Add(time.Duration(i/16) * time.Second)}
}

const (
	simVPC    = "84758cf5-9c62-43ae-a778-3dbd8370c0a4"
	simSubnet = "68bfbcc1-dff2-47e4-a9d4-332b9bc1b8de"
)

// TestSimulatorAllFaults drives every call against the simulator with every
// fault on: latency, throttling (429 and 400 EndPoint.0022), 500s without
// effect, lost create and delete answers, endpoints that end failed.
func TestSimulatorAllFaults(t *testing.T) {
	s := sim.New(sim.Options{
		Latency: time.Millisecond, AcceptAfter: 20 * time.Millisecond, Quota: 100000,
		ThrottleRPS: 100, FailRate: 0.15, LostRate: 0.25, FailedRate: 0.3, Seed: 42,
	})
	for i := range 2200 {
		s.Put(sim.ProjectID, vpcep.Endpoint{EndpointServiceID: sim.ServiceInterfaceID, VPCID: simVPC, SubnetID: simSubnet,
			Tags: []vpcep.Tag{{Key: "seed", Value: fmt.Sprint(i)}}, CreatedAt: bulkCreatedAt(i)})
	}
	rec := newRecorder()
	c := simClient(t, s, func(o *otc.Options) { o.Observer = rec })
	ctx := t.Context()

	eps, err := c.ListEndpoints(ctx, otc.ListOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if got, want := ids(eps), ids(s.Endpoints(sim.ProjectID)); !slices.Equal(got, want) {
		t.Fatalf("list returned %d endpoints, the simulator holds %d", len(got), len(want))
	}

	// Creates: the client never sends one create twice, so no name ever
	// has two endpoints; a create that fails ambiguously may have made one.
	const creates = 40
	var ambiguous, created int
	for i := range creates {
		before := s.Requests("create", "POST")
		e, attempts, err := c.CreateEndpoint(ctx, &vpcep.CreateEndpointRequest{
			EndpointServiceID: sim.ServiceInterfaceID, VPCID: simVPC, SubnetID: simSubnet,
			Tags: []vpcep.Tag{{Key: "vpcepctl-set", Value: "e2e"}, {Key: "vpcepctl-name", Value: fmt.Sprint("n", i)}},
		})
		if sent := s.Requests("create", "POST") - before; sent != attempts {
			t.Errorf("create %d: the simulator saw %d requests, the client reports %d attempts", i, sent, attempts)
		}
		switch {
		case err == nil:
			created++
			want(t, "status of a new endpoint", e.Status, vpcep.StatusCreating)
		case otc.IsAmbiguous(err):
			ambiguous++
		default:
			t.Errorf("create %d: %v", i, err)
		}
	}
	t.Logf("creates: %d succeeded, %d ambiguous", created, ambiguous)
	if ambiguous == 0 {
		t.Error("no create was ambiguous: LostRate and FailRate had no effect")
	}
	time.Sleep(30 * time.Millisecond) // let the creates settle

	eps, err = c.ListEndpoints(ctx, otc.ListOptions{VPCID: simVPC})
	if err != nil {
		t.Fatalf("list by VPC: %v", err)
	}
	byName := map[string][]vpcep.Endpoint{}
	for _, e := range eps {
		if n, ok := e.TagValue("vpcepctl-name"); ok {
			byName[n] = append(byName[n], e)
		}
	}
	failed := 0
	for n, es := range byName {
		if len(es) > 1 {
			t.Errorf("name %s has %d endpoints", n, len(es))
		}
		if es[0].Status == vpcep.StatusFailed {
			failed++
			if len(es[0].Error) == 0 {
				t.Errorf("failed endpoint %s has no error entry", es[0].ID)
			}
		}
	}
	if len(byName) < created {
		t.Errorf("%d named endpoints, fewer than the %d creates that succeeded", len(byName), created)
	}
	t.Logf("%d endpoints created (%d failed)", len(byName), failed)

	// Get, tag, filter, describe, quota, delete.
	var mine []string
	for _, es := range byName {
		mine = append(mine, es[0].ID)
	}
	slices.Sort(mine)
	for _, id := range mine {
		e, err := c.GetEndpoint(ctx, id)
		if err != nil {
			t.Fatalf("get %s: %v", id, err)
		}
		if _, err := c.TagAction(ctx, id, "create", []vpcep.Tag{{Key: "team", Value: "payments"}}); err != nil {
			t.Fatalf("tag %s: %v", id, err)
		}
		if e.ID != id {
			t.Errorf("get %s returned %s", id, e.ID)
		}
	}
	for _, q := range [][2]string{{sim.ServiceOBSID, ""}, {"", sim.ServiceApprovalName}} {
		svc, err := c.DescribeService(ctx, q[0], q[1])
		if err != nil {
			t.Fatalf("describe %v: %v", q, err)
		}
		if svc.ID != q[0] && svc.ServiceName != q[1] {
			t.Errorf("describe %v = %+v", q, svc)
		}
	}
	if _, err := c.DescribeService(ctx, "00000000-0000-4000-8000-000000000000", ""); !otc.IsNotFound(err) {
		t.Errorf("describe unknown service: %v, want not found", err)
	}
	quota, err := c.EndpointQuota(ctx)
	if err != nil {
		t.Fatalf("quota: %v", err)
	}
	want(t, "quota used", quota.Used, len(s.Endpoints(sim.ProjectID)))
	for _, id := range mine {
		_, err := c.DeleteEndpoint(ctx, id)
		var ae *otc.APIError
		// A delete whose answer was lost is resent and then finds the
		// endpoint gone or being deleted, as apply expects.
		if err != nil && !otc.IsNotFound(err) && !(errors.As(err, &ae) && ae.CodeIs("EndPoint.2018")) {
			t.Errorf("delete %s: %v", id, err)
		}
	}
	time.Sleep(30 * time.Millisecond)
	eps, err = c.ListEndpoints(ctx, otc.ListOptions{})
	if err != nil {
		t.Fatalf("final list: %v", err)
	}
	want(t, "endpoints left", len(eps), 2200)

	// Which call meets which fault depends on timing (throttling follows the
	// wall clock); every kind of retry must have happened somewhere.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	kinds := map[string]int{}
	for k, n := range rec.retries {
		_, reason, _ := strings.Cut(k, " ")
		kinds[reason] += n
	}
	for _, reason := range []string{"throttled", "server_error", "network"} {
		if kinds[reason] == 0 {
			t.Errorf("no %s retry happened: %v", reason, rec.retries)
		}
	}
	t.Logf("retries: %v", rec.retries)
}

// TestSimulatorListUnderChange lists while endpoints are created and
// deleted in the simulator.
func TestSimulatorListUnderChange(t *testing.T) {
	s := sim.New(sim.Options{Latency: 2 * time.Millisecond, PlainShapes: true, TieOrder: sim.TieRandom})
	for i := range 5000 {
		s.Put(sim.ProjectID, vpcep.Endpoint{EndpointServiceID: sim.ServiceOBSID, VPCID: simVPC, CreatedAt: bulkCreatedAt(i)})
	}
	start := ids(s.Endpoints(sim.ProjectID))
	c := simClient(t, s)
	var (
		mu      sync.Mutex
		deleted = map[string]bool{}
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stop:
				return
			default:
			}
			live := s.Endpoints(sim.ProjectID)
			id := live[rng.IntN(len(live))].ID
			if err := s.SetStatus(sim.ProjectID, id, vpcep.StatusDeleting); err == nil {
				mu.Lock()
				deleted[id] = true
				mu.Unlock()
			}
			s.Put(sim.ProjectID, vpcep.Endpoint{EndpointServiceID: sim.ServiceOBSID, VPCID: simVPC})
			time.Sleep(200 * time.Microsecond)
		}
	})
	for range 5 {
		eps, err := c.ListEndpoints(t.Context(), otc.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range eps {
			if seen[e.ID] {
				t.Errorf("endpoint %s listed twice", e.ID)
			}
			seen[e.ID] = true
		}
		mu.Lock()
		for _, id := range start {
			if !deleted[id] && !seen[id] {
				t.Errorf("endpoint %s existed throughout but was not listed", id)
			}
		}
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
	t.Logf("%d endpoints deleted during the listings", len(deleted))
}

func ids(eps []vpcep.Endpoint) []string {
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.ID
	}
	return out
}

// BenchmarkList100k lists 100,000 endpoints from an in-process simulator
// through the client (HTTP over loopback, JSON, every page).
//
//	go test -run '^$' -bench BenchmarkList100k -benchtime 3x ./otc/
func BenchmarkList100k(b *testing.B) {
	const n = 100000
	s := sim.New(sim.Options{})
	for i := range n {
		s.Put(sim.ProjectID, vpcep.Endpoint{EndpointServiceID: sim.ServiceInterfaceID, VPCID: simVPC, SubnetID: simSubnet,
			Tags: []vpcep.Tag{{Key: "vpcepctl-set", Value: "bench"}, {Key: "vpcepctl-name", Value: fmt.Sprint("ep-", i)}}})
	}
	c := simClient(b, s)
	s.ResetRequests()
	b.ResetTimer()
	for b.Loop() {
		eps, err := c.ListEndpoints(b.Context(), otc.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(eps) != n {
			b.Fatalf("listed %d endpoints, want %d", len(eps), n)
		}
	}
	b.ReportMetric(float64(s.Requests("list", "GET"))/float64(b.N), "list-requests/op")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
}

// TestAcceptConnectionLostAnswer: the provider commits an accept and its
// answer is lost (a dropped connection or the gateway's 504); the client
// sends it again, is told the endpoint is connected already
// (EndPoint.2014), and takes that for success.
func TestAcceptConnectionLostAnswer(t *testing.T) {
	s := sim.New(sim.Options{LostRate: 1, Seed: 3})
	s.Put(sim.ProjectID, vpcep.Endpoint{EndpointServiceID: sim.ServiceOwnApprovalID, VPCID: simVPC, SubnetID: simSubnet,
		Status: vpcep.StatusPendingAcceptance})
	ep := s.Endpoints(sim.ProjectID)[0]
	c := simClient(t, s)
	n, err := c.AcceptConnection(t.Context(), sim.ServiceOwnApprovalID, ep.ID)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	if sent := s.Requests("connection_action", "POST"); n < 2 || sent != n {
		t.Errorf("%d attempts, %d accepts at the server; want the lost one sent again", n, sent)
	}
	got, err := c.GetEndpoint(t.Context(), ep.ID)
	if err != nil || got.Status != vpcep.StatusAccepted {
		t.Errorf("endpoint after the accept: %+v, %v; want accepted", got, err)
	}
}
