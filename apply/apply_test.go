package apply

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// fastOpts are run options for a simulator that settles in milliseconds.
func fastOpts() Options {
	return Options{Concurrency: 8, Wait: true, WaitTimeout: 20 * time.Second,
		PollInterval: 10 * time.Millisecond, CheckDelay: time.Millisecond, Grace: 10 * time.Second,
		CommitWindow: 200 * time.Millisecond, goneSettle: 100 * time.Millisecond}
}

// TestRunEveryAction applies a plan with each action against endpoints put
// in the simulator, then plans again: nothing may be left to do.
func TestRunEveryAction(t *testing.T) {
	e := newSimEnv(t, sim.Options{AcceptAfter: 30 * time.Millisecond}, clientOpts{})
	const set = "payments"
	desired := endpoints(set, 5, 5)
	byName := map[string]*manifests.Endpoint{}
	for i, name := range []string{"create", "tag", "replace-failed", "replace-drift", "adopt"} {
		desired[i].Name = name
		byName[name] = desired[i]
	}
	byName["replace-drift"].Description = "new"
	put := func(name string, status string, tags ...vpcep.Tag) vpcep.Endpoint {
		d := byName[name]
		return e.put(set, name, d.EndpointServiceID, d.VPCID, d.SubnetID, status, tags...)
	}
	tagged := put("tag", vpcep.StatusAccepted, vpcep.Tag{Key: "team", Value: "old"}, vpcep.Tag{Key: "stale", Value: "x"})
	failed := put("replace-failed", vpcep.StatusFailed)
	drifted := put("replace-drift", vpcep.StatusAccepted, vpcep.Tag{Key: "team", Value: "payments"})
	a := byName["adopt"]
	adopted := e.put("", "", a.EndpointServiceID, a.VPCID, a.SubnetID, vpcep.StatusAccepted, vpcep.Tag{Key: "owner", Value: "ops"})
	pruned := e.put(set, "undeclared", sim.ServiceInterfaceID, uuid(1, 99), uuid(2, 99), vpcep.StatusAccepted)

	p := e.makePlan(t, desired, plan.Options{Adopt: true, Prune: true, AllowReplace: true})
	want := plan.Summary{Create: 1, Tag: 1, Replace: 2, Adopt: 1, Delete: 1}
	if p.Summary != want {
		t.Fatalf("plan summary = %+v, want %+v", p.Summary, want)
	}

	// Dependent steps stay in order: a replace creates only once the old
	// endpoint is gone.
	oldIDs := map[string]string{"replace-failed": failed.ID, "replace-drift": drifted.ID}
	var orderErrs []string
	var mu sync.Mutex
	api := &hookAPI{API: e.client, beforeCreate: func(req *vpcep.CreateEndpointRequest) {
		name := tagValue(req.Tags, manifests.TagName)
		old, ok := oldIDs[name]
		if !ok {
			return
		}
		for _, ep := range e.sim.Endpoints(sim.ProjectID) {
			if ep.ID == old {
				mu.Lock()
				orderErrs = append(orderErrs, fmt.Sprintf("%s: create sent while the old endpoint %s is %s", name, old, ep.Status))
				mu.Unlock()
			}
		}
	}}
	rep := runFor(t, context.Background(), New(map[plan.Target]API{e.target: api}, fastOpts()), p, time.Minute)
	if rep.Summary.Failed != 0 || rep.Summary.Succeeded != 6 {
		t.Fatalf("summary = %+v, failures: %v", rep.Summary, failures(rep))
	}
	for _, msg := range orderErrs {
		t.Error(msg)
	}
	res := map[string]Result{}
	for _, r := range rep.Results {
		res[r.Action+" "+r.Name] = r
	}
	for key, status := range map[string]string{
		"create create": vpcep.StatusAccepted, "tag tag": vpcep.StatusAccepted,
		"replace replace-failed": vpcep.StatusAccepted, "replace replace-drift": vpcep.StatusAccepted,
		"adopt adopt": vpcep.StatusAccepted, "delete undeclared": "deleted",
	} {
		if r, ok := res[key]; !ok || r.Status != status || r.ID == "" || r.Attempts < 1 {
			t.Errorf("result %s = %+v, want status %s, an id and attempts", key, r, status)
		}
	}

	owned := e.owned(set)
	for _, name := range []string{"create", "tag", "replace-failed", "replace-drift", "adopt"} {
		if n := len(owned[name]); n != 1 {
			t.Errorf("%d endpoints named %s, want 1", n, name)
		}
	}
	if got := owned["tag"][0]; got.ID != tagged.ID || tagValue(got.Tags, "team") != "payments" || tagValue(got.Tags, "stale") != "" {
		t.Errorf("tag: endpoint %s tags %v, want id %s with team=payments and no stale", got.ID, got.Tags, tagged.ID)
	}
	for name, old := range oldIDs {
		if got := owned[name][0]; got.ID == old || res["replace "+name].ID != got.ID {
			t.Errorf("replace %s: endpoint %s (report %s), want a new one instead of %s", name, got.ID, res["replace "+name].ID, old)
		}
		if _, err := e.client.GetEndpoint(context.Background(), old); !otc.IsNotFound(err) {
			t.Errorf("replace %s: GET old %s = %v, want 404", name, old, err)
		}
	}
	if got := owned["replace-drift"][0]; got.Description != "new" {
		t.Errorf("replace-drift: description %q, want new", got.Description)
	}
	if got := owned["adopt"][0]; got.ID != adopted.ID || tagValue(got.Tags, "team") != "payments" {
		t.Errorf("adopt: endpoint %s tags %v, want id %s with our tags", got.ID, got.Tags, adopted.ID)
	}
	if _, err := e.client.GetEndpoint(context.Background(), pruned.ID); !otc.IsNotFound(err) {
		t.Errorf("delete: GET %s = %v, want 404", pruned.ID, err)
	}
	if again := e.makePlan(t, desired, plan.Options{Adopt: true, Prune: true, AllowReplace: true}); again.Summary.Changes() != 0 {
		t.Errorf("plan after apply = %+v, want no changes", again.Summary)
	}
}

// TestRunDeleteInTransition deletes endpoints that are being created (the
// API refuses: apply waits, then deletes) and being deleted (done already).
func TestRunDeleteInTransition(t *testing.T) {
	e := newSimEnv(t, sim.Options{AcceptAfter: 100 * time.Millisecond}, clientOpts{})
	creating := e.put("s", "a", sim.ServiceInterfaceID, uuid(1, 1), uuid(2, 1), vpcep.StatusCreating)
	deleting := e.put("s", "b", sim.ServiceInterfaceID, uuid(1, 2), uuid(2, 2), vpcep.StatusDeleting)
	p := e.makePlan(t, nil, plan.Options{})
	if len(p.Changes) != 0 {
		t.Fatalf("plan: %+v", p.Changes)
	}
	p.Changes = []plan.Change{
		{Action: plan.Delete, Set: "s", Name: "a", Region: e.target.Region, ProjectID: e.target.ProjectID, ID: creating.ID},
		{Action: plan.Delete, Set: "s", Name: "b", Region: e.target.Region, ProjectID: e.target.ProjectID, ID: deleting.ID},
	}
	rep := runFor(t, context.Background(), New(e.clients(), fastOpts()), p, time.Minute)
	if rep.Summary.Succeeded != 2 {
		t.Fatalf("summary = %+v, failures: %v", rep.Summary, failures(rep))
	}
	if n := len(e.sim.Endpoints(sim.ProjectID)); n != 0 {
		t.Errorf("%d endpoints left, want 0", n)
	}
}

// invalidCreate is a create the API refuses (EndPoint.2009).
func invalidCreate(e *simEnv, name string) plan.Change {
	d := endpoints("s", 1, 1)[0]
	d.Name = name
	d.SpecificationName = "no-such-spec"
	body := plan.CreateBody(d, &vpcep.Service{ID: d.EndpointServiceID, ServiceType: vpcep.ServiceInterface})
	return plan.Change{Action: plan.Create, Set: "s", Name: name, Region: e.target.Region, ProjectID: e.target.ProjectID, Desired: body}
}

func TestRunFailureDoesNotStopOthers(t *testing.T) {
	e := newSimEnv(t, sim.Options{}, clientOpts{})
	p := e.makePlan(t, endpoints("s", 10, 2), plan.Options{})
	p.Changes = slices.Insert(p.Changes, 3, invalidCreate(e, "bad"))
	rep := runFor(t, context.Background(), New(e.clients(), fastOpts()), p, time.Minute)
	if rep.Summary != (ReportSummary{Succeeded: 10, Failed: 1}) {
		t.Fatalf("summary = %+v, failures: %v", rep.Summary, failures(rep))
	}
	if r := rep.Results[3]; !strings.Contains(r.Error, "EndPoint.2009") {
		t.Errorf("bad create error = %q, want the API's code EndPoint.2009", r.Error)
	}
	if n := len(e.owned("s")); n != 10 {
		t.Errorf("%d endpoints, want 10", n)
	}
}

func TestRunFailFast(t *testing.T) {
	e := newSimEnv(t, sim.Options{}, clientOpts{})
	p := e.makePlan(t, endpoints("s", 10, 2), plan.Options{})
	p.Changes = slices.Insert(p.Changes, 0, invalidCreate(e, "bad"))
	o := fastOpts()
	o.Concurrency, o.FailFast = 1, true
	rep := runFor(t, context.Background(), New(e.clients(), o), p, time.Minute)
	if rep.Summary != (ReportSummary{Failed: 1, Skipped: 10}) {
		t.Fatalf("summary = %+v, failures: %v", rep.Summary, failures(rep))
	}
	for _, r := range rep.Results[1:] {
		if !strings.HasPrefix(r.Error, "not started: --fail-fast") || r.Attempts != 0 {
			t.Errorf("%s: %+v, want not started because of --fail-fast", r.Name, r)
		}
	}
	if rep.Interrupted {
		t.Error("Interrupted = true after --fail-fast, want false")
	}
	if n := e.sim.Requests("create", "POST"); n != 1 {
		t.Errorf("%d creates sent, want 1", n)
	}
}

// TestRunLoadWithFaults applies 2,000 creates through server errors, lost
// responses and server throttling below the client's rate: every name
// must end with exactly one endpoint.
func TestRunLoadWithFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 endpoints")
	}
	const n = 2000
	pacer := &countingPacer{}
	e := newSimEnv(t, sim.Options{
		AcceptAfter: 20 * time.Millisecond, Quota: 3 * n,
		FailRate: 0.2, LostRate: 0.1, ThrottleRPS: 250, Seed: 7,
	}, clientOpts{rate: 1000, burst: 20, maxRetries: 30, pacer: func(a *AIMD) otc.Pacer { pacer.Pacer = a; return pacer }})
	desired := endpoints("load", n, 100)
	p := e.makePlan(t, desired, plan.Options{})
	if p.Summary.Create != n {
		t.Fatalf("plan: %+v", p.Summary)
	}
	o := fastOpts()
	o.Concurrency, o.PollInterval = 32, 50*time.Millisecond
	rec := &recorder{}
	o.Recorder = rec
	rep := runFor(t, context.Background(), New(e.clients(), o), p, 3*time.Minute)
	if rep.Summary.Succeeded != n {
		t.Errorf("summary = %+v, failures: %v", rep.Summary, failures(rep))
	}
	owned := e.owned("load")
	total := 0
	for name, eps := range owned {
		total += len(eps)
		if len(eps) != 1 {
			t.Errorf("%d endpoints named %s, want 1", len(eps), name)
		}
	}
	if total != n || len(owned) != n {
		t.Errorf("%d owned endpoints with %d names, want %d", total, len(owned), n)
	}
	ids := map[string]string{}
	for _, r := range rep.Results {
		ids[r.Name] = r.ID
	}
	for name, eps := range owned {
		if ids[name] != eps[0].ID {
			t.Errorf("report id of %s = %q, want %s", name, ids[name], eps[0].ID)
		}
	}
	ok, throttled := pacer.counts()
	t.Logf("%d creates sent, %d lists, %d gets; %d answers, %d throttled; rate now %.0f/s",
		e.sim.Requests("create", "POST"), e.sim.Requests("list", "GET"), e.sim.Requests("get", "GET"), ok+throttled, throttled, e.pacer.Rate())
	if throttled == 0 {
		t.Error("the server never throttled: the test does not test throttling")
	}
	if n := rec.count("retry create ambiguous"); n == 0 {
		t.Error("no create was sent again after an unknown outcome: the test does not test lost responses")
	}
}

// TestRunQuota hits the quota: the creates that fit succeed, the rest fail
// with the quota reason, and apply stops sending creates.
func TestRunQuota(t *testing.T) {
	e := newSimEnv(t, sim.Options{Quota: 50, Latency: 2 * time.Millisecond}, clientOpts{})
	p := e.makePlan(t, endpoints("q", 60, 6), plan.Options{})
	o := fastOpts()
	rep := runFor(t, context.Background(), New(e.clients(), o), p, time.Minute)
	// Those in flight when the first quota error came fail with it; the
	// rest do not start.
	if s := rep.Summary; s.Succeeded != 50 || s.Failed < 1 || s.Failed+s.Skipped != 10 {
		t.Fatalf("summary = %+v, want 50 succeeded, the other 10 failed (at least one) or not started; failures: %v", rep.Summary, failures(rep))
	}
	for _, r := range rep.Results {
		if r.result() == Failed && !strings.Contains(strings.ToLower(r.Error), "endpoint.1018") {
			t.Errorf("%s: error %q, want the quota reason Endpoint.1018", r.Name, r.Error)
		}
		if r.result() == Skipped && !strings.Contains(r.Error, "not started: the endpoint quota") {
			t.Errorf("%s: skipped with %q, want the quota named", r.Name, r.Error)
		}
	}
	if n, most := e.sim.Requests("create", "POST"), 50+o.Concurrency; n > most {
		t.Errorf("%d creates sent, want at most %d (50 + concurrency)", n, most)
	}
}

// TestRunQuotaReplace: replaces start before creates, so a quota reached
// by the creates stops none of them; the creates after the quota error do
// not start.
func TestRunQuotaReplace(t *testing.T) {
	e := newSimEnv(t, sim.Options{Quota: 3, AcceptAfter: 20 * time.Millisecond}, clientOpts{})
	desired := endpoints("q", 5, 5) // ep-0000..ep-0004
	for i := 0; i < 2; i++ {
		d := desired[i]
		e.put("q", d.Name, d.EndpointServiceID, d.VPCID, d.SubnetID, vpcep.StatusAccepted, vpcep.Tag{Key: "team", Value: "payments"})
	}
	d := desired[4]
	broken := e.put("q", d.Name, d.EndpointServiceID, d.VPCID, d.SubnetID, vpcep.StatusFailed, vpcep.Tag{Key: "team", Value: "payments"})
	p := e.makePlan(t, desired, plan.Options{})
	if p.Summary.Create != 2 || p.Summary.Replace != 1 {
		t.Fatalf("plan %+v", p.Summary)
	}
	o := fastOpts()
	o.Concurrency = 1 // the creates hit the quota before the replace starts
	rep := runFor(t, context.Background(), New(e.clients(), o), p, time.Minute)
	for _, r := range rep.Results {
		switch r.Action {
		case "create":
			if !strings.Contains(r.Error, "Endpoint.1018") {
				t.Errorf("create %s: %+v, want the quota error, or not started after it", r.Name, r)
			}
		case "replace":
			if r.Error != "" || r.ID == "" || r.ID == broken.ID || r.Status != vpcep.StatusAccepted {
				t.Errorf("replace %s: %+v, want a new accepted endpoint", r.Name, r)
			}
		}
	}
}

// TestRunInterrupted cancels a run half-way: dispatching stops, what is in
// flight finishes, the rest is skipped, and the report names every
// endpoint that exists.
func TestRunInterrupted(t *testing.T) {
	e := newSimEnv(t, sim.Options{Latency: 5 * time.Millisecond, AcceptAfter: 20 * time.Millisecond, LostRate: 0.2, Quota: 1000}, clientOpts{})
	p := e.makePlan(t, endpoints("i", 200, 10), plan.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var created atomic.Int64
	api := &hookAPI{API: e.client, afterCreate: func(_ *vpcep.CreateEndpointRequest, _ *vpcep.Endpoint, err error) {
		if err == nil && created.Add(1) == 40 {
			cancel()
		}
	}}
	o := fastOpts()
	o.Concurrency = 4
	rep := runFor(t, ctx, New(map[plan.Target]API{e.target: api}, o), p, time.Minute)
	if !rep.Interrupted {
		t.Error("Interrupted = false, want true")
	}
	if rep.Summary.Skipped == 0 || rep.Summary.Succeeded+rep.Summary.Failed == 0 {
		t.Fatalf("summary = %+v, want some done and some skipped", rep.Summary)
	}
	byName := map[string]Result{}
	for _, r := range rep.Results {
		byName[r.Name] = r
		if r.result() == Skipped && (r.ID != "" || r.Attempts != 0 || r.Error != "not started: interrupted") {
			t.Errorf("skipped %s: %+v", r.Name, r)
		}
	}
	owned := e.owned("i")
	for name, eps := range owned {
		if len(eps) != 1 {
			t.Errorf("%d endpoints named %s, want 1", len(eps), name)
		}
		if r := byName[name]; r.ID != eps[0].ID {
			t.Errorf("endpoint %s (%s) is reported as %+v", name, eps[0].ID, r)
		}
	}
	withID := 0
	for _, r := range rep.Results {
		if r.ID != "" {
			withID++
		}
	}
	if withID != len(owned) {
		t.Errorf("%d results with an id, %d endpoints exist", withID, len(owned))
	}
	// Creates sent after the cancel: at most those already holding a
	// worker, and the resends of lost ones are not made.
	if n := e.sim.Requests("create", "POST"); n > 40+o.Concurrency+int(float64(40)*0.5) {
		t.Errorf("%d creates sent for 40 done, want dispatching to stop", n)
	}
	t.Logf("summary %+v, %d endpoints, %d creates sent", rep.Summary, len(owned), e.sim.Requests("create", "POST"))
}

// TestRunGrace: requests still in flight when the grace period ends are
// cancelled, and Run returns.
func TestRunGrace(t *testing.T) {
	e := newSimEnv(t, sim.Options{}, clientOpts{})
	p := e.makePlan(t, endpoints("g", 20, 2), plan.Options{})
	// Far longer than the grace period (and short, because the simulator
	// only notices a client gone from a POST once its latency is over).
	e.sim.SetOptions(sim.Options{Seed: 1, Latency: 2 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	o := fastOpts()
	o.Concurrency, o.Grace = 4, 50*time.Millisecond
	var sent atomic.Int64
	api := &hookAPI{API: e.client, afterCreate: func(*vpcep.CreateEndpointRequest, *vpcep.Endpoint, error) {}}
	e.onArrive(func(r *http.Request) {
		if route(r) == "create" && sent.Add(1) == 4 {
			cancel()
		}
	})
	rep := runFor(t, ctx, New(map[plan.Target]API{e.target: api}, o), p, 30*time.Second)
	if !rep.Interrupted || rep.Summary.Failed != 4 || rep.Summary.Skipped != 16 {
		t.Errorf("summary = %+v (interrupted %v), want 4 failed in flight and 16 skipped", rep.Summary, rep.Interrupted)
	}
	// Their outcome is unknown: the report must say so.
	for _, r := range rep.Results[:4] {
		if !strings.Contains(r.Error, "grace period ended") || !strings.Contains(r.Error, "may exist") {
			t.Errorf("in flight %s: error %q, want the grace period and that the endpoint may exist", r.Name, r.Error)
		}
	}
}

func TestRunWaitFailedEndpoints(t *testing.T) {
	e := newSimEnv(t, sim.Options{AcceptAfter: 20 * time.Millisecond, FailedRate: 1}, clientOpts{})
	p := e.makePlan(t, endpoints("f", 6, 2), plan.Options{})
	rep := runFor(t, context.Background(), New(e.clients(), fastOpts()), p, time.Minute)
	if rep.Summary.Failed != 6 {
		t.Fatalf("summary = %+v", rep.Summary)
	}
	byID := map[string]vpcep.Endpoint{}
	for _, ep := range e.sim.Endpoints(sim.ProjectID) {
		byID[ep.ID] = ep
	}
	for _, r := range rep.Results {
		ep := byID[r.ID]
		if r.Status != vpcep.StatusFailed || len(ep.Error) == 0 || !strings.Contains(r.Error, ep.Error[0].ErrorCode) {
			t.Errorf("%s: %+v, want status failed and the endpoint's error code (%v)", r.Name, r, ep.Error)
		}
	}
}

func TestRunWaitPendingAcceptance(t *testing.T) {
	e := newSimEnv(t, sim.Options{AcceptAfter: 20 * time.Millisecond}, clientOpts{})
	desired := endpoints("p", 5, 1)
	for _, d := range desired {
		d.EndpointServiceID = sim.ServiceApprovalID
	}
	p := e.makePlan(t, desired, plan.Options{})
	rep := runFor(t, context.Background(), New(e.clients(), fastOpts()), p, time.Minute)
	if rep.Summary.AwaitingApproval != 5 || rep.Summary.Succeeded != 0 {
		t.Fatalf("summary = %+v, failures %v", rep.Summary, failures(rep))
	}
	for _, r := range rep.Results {
		if r.Status != vpcep.StatusPendingAcceptance {
			t.Errorf("%s: status %s, want pendingAcceptance", r.Name, r.Status)
		}
	}
}

func TestRunWaitTimeout(t *testing.T) {
	e := newSimEnv(t, sim.Options{AcceptAfter: time.Hour}, clientOpts{})
	p := e.makePlan(t, endpoints("t", 3, 1), plan.Options{})
	o := fastOpts()
	o.WaitTimeout = 100 * time.Millisecond
	rep := runFor(t, context.Background(), New(e.clients(), o), p, time.Minute)
	if rep.Summary.Failed != 3 {
		t.Fatalf("summary = %+v", rep.Summary)
	}
	for _, r := range rep.Results {
		if r.ID == "" || r.Status != vpcep.StatusCreating || !strings.Contains(r.Error, "timed out after 100ms") {
			t.Errorf("%s: %+v, want a timeout with the endpoint's id and status", r.Name, r)
		}
	}
}

func TestRunNoWait(t *testing.T) {
	e := newSimEnv(t, sim.Options{AcceptAfter: time.Hour}, clientOpts{})
	p := e.makePlan(t, endpoints("n", 3, 1), plan.Options{})
	o := fastOpts()
	o.Wait = false
	rep := runFor(t, context.Background(), New(e.clients(), o), p, time.Minute)
	if rep.Summary.Succeeded != 3 {
		t.Fatalf("summary = %+v, failures %v", rep.Summary, failures(rep))
	}
	for _, r := range rep.Results {
		if r.Status != vpcep.StatusCreating {
			t.Errorf("%s: status %s, want creating", r.Name, r.Status)
		}
	}
	// Two lists: the plan's and the end-of-run sweep's.
	if g, l := e.sim.Requests("get", "GET"), e.sim.Requests("list", "GET"); g != 0 || l > 2 {
		t.Errorf("%d gets and %d lists without --wait, want the plan's and the sweep's lists only", g, l)
	}
}

// TestRunWaitPollsWithLists waits for 2,000 endpoints at once: the polls
// must be list pages, not one GET per endpoint.
func TestRunWaitPollsWithLists(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 endpoints")
	}
	const n = 2000
	e := newSimEnv(t, sim.Options{AcceptAfter: 300 * time.Millisecond, Quota: n}, clientOpts{rate: 5000, burst: 50})
	p := e.makePlan(t, endpoints("w", n, 50), plan.Options{})
	e.sim.ResetRequests()
	o := fastOpts()
	o.Concurrency, o.PollInterval = 32, 100*time.Millisecond
	rep := runFor(t, context.Background(), New(e.clients(), o), p, 2*time.Minute)
	if rep.Summary.Succeeded != n {
		t.Fatalf("summary = %+v, failures %v", rep.Summary, failures(rep))
	}
	gets, lists := e.sim.Requests("get", "GET"), e.sim.Requests("list", "GET")
	t.Logf("%d waits: %d GETs, %d list pages", n, gets, lists)
	// Only the last few endpoints (fewGets) may be polled one by one.
	if gets > 10*fewGets {
		t.Errorf("%d GETs for %d waits, want polls by list pages", gets, n)
	}
	if lists == 0 || lists > n/4 {
		t.Errorf("%d list pages for %d waits", lists, n)
	}
}

// TestRunDeleteWaitsUntilGone deletes with --wait: each result is done
// only once GET answers 404.
func TestRunDeleteWaitsUntilGone(t *testing.T) {
	e := newSimEnv(t, sim.Options{AcceptAfter: 50 * time.Millisecond, LostRate: 0.3}, clientOpts{})
	for i := 0; i < 8; i++ {
		e.put("d", fmt.Sprintf("old-%d", i), sim.ServiceInterfaceID, uuid(1, i), uuid(2, i), vpcep.StatusAccepted)
	}
	p := e.makePlan(t, []*manifests.Endpoint{{Set: "d", Name: "keep", EndpointServiceID: sim.ServiceInterfaceID,
		VPCID: uuid(1, 100), SubnetID: uuid(2, 100), Tags: map[string]string{}}}, plan.Options{Prune: true})
	if p.Summary.Delete != 8 {
		t.Fatalf("plan %+v", p.Summary)
	}
	var progress []int
	var last Counts
	var mu sync.Mutex
	o := fastOpts()
	o.Progress = func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Counts.Waiting < 0 || ev.Counts.InFlight() < 0 || ev.Counts.Done > ev.Counts.Total {
			t.Errorf("counts %+v", ev.Counts)
		}
		if ev.Result != nil && ev.Counts.Total == len(p.Changes) {
			progress = append(progress, ev.Counts.Done)
		}
		last = ev.Counts
	}
	rep := runFor(t, context.Background(), New(e.clients(), o), p, time.Minute)
	if rep.Summary.Failed != 0 {
		t.Fatalf("summary = %+v, failures %v", rep.Summary, failures(rep))
	}
	for _, r := range rep.Results {
		if r.Action != string(plan.Delete) {
			continue
		}
		if _, err := e.client.GetEndpoint(context.Background(), r.ID); !otc.IsNotFound(err) || r.Status != "deleted" {
			t.Errorf("%s: %+v, GET = %v; want deleted and 404", r.Name, r, err)
		}
	}
	slices.Sort(progress)
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(progress, want) {
		t.Errorf("progress calls = %v, want %v", progress, want)
	}
	if want := (Counts{Total: 9, Started: 9, Done: 9}); last != want {
		t.Errorf("last counts %+v, want %+v (8 deletes and a create, all started and ended; none waiting)", last, want)
	}
}

// TestRunNoClient: a change for a target without a client fails alone.
func TestRunNoClient(t *testing.T) {
	p := &plan.Plan{Changes: []plan.Change{
		{Action: plan.Create, Set: "s", Name: "a", Region: "eu-nl", ProjectID: "x", Desired: &vpcep.CreateEndpointRequest{}},
		{Action: plan.Conflict, Set: "s", Name: "b", Reason: "owned by set other"},
	}}
	rec := &recorder{}
	rep := New(nil, Options{Recorder: rec}).Run(context.Background(), p)
	if rep.Summary != (ReportSummary{Failed: 1, Skipped: 1, Conflicts: 1}) {
		t.Errorf("summary = %+v", rep.Summary)
	}
	if got := rec.count("change create " + Failed); got != 1 {
		t.Errorf("recorded create failed %d times, want 1", got)
	}
	if got := rec.count("change conflict " + Skipped); got != 1 {
		t.Errorf("recorded conflict skipped %d times, want 1", got)
	}
	if !strings.Contains(rep.Results[0].Error, "no client") || rep.Results[1].Error != "not acted on: owned by set other" {
		t.Errorf("results = %+v", rep.Results)
	}
}
