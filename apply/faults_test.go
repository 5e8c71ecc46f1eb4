package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
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

// checkOnePerName fails the test unless every name of set has exactly one
// endpoint (none being deleted), n names in all, and the report names it.
func checkOnePerName(t *testing.T, e *simEnv, set string, n int, rep *Report) {
	t.Helper()
	ids := map[string]string{}
	if rep != nil {
		for _, r := range rep.Results {
			if r.Action == string(plan.Create) || r.Action == string(plan.Replace) {
				ids[r.Name] = r.ID
			}
		}
	}
	live := 0
	for name, eps := range e.owned(set) {
		var kept []vpcep.Endpoint
		for _, ep := range eps {
			if ep.Status != vpcep.StatusDeleting {
				kept = append(kept, ep)
			}
		}
		if len(kept) == 0 {
			continue
		}
		live++
		if len(kept) != 1 {
			t.Errorf("%d endpoints named %s, want 1", len(kept), name)
			continue
		}
		if rep != nil && ids[name] != kept[0].ID {
			t.Errorf("report says %s is %q, the endpoint is %s", name, ids[name], kept[0].ID)
		}
	}
	if live != n {
		t.Errorf("%d names with an endpoint, want %d", live, n)
	}
}

// TestRunLateCommit: every create's answer is lost and the back end
// commits it seconds later. apply looks for it through the commit window
// instead of sending it again: one endpoint per name, no create sent
// twice, every create reported with its id.
func TestRunLateCommit(t *testing.T) {
	const n = 20
	e := newSimEnv(t, sim.Options{LostRate: 1, CommitDelay: 1500 * time.Millisecond, AcceptAfter: 50 * time.Millisecond, Quota: 100}, clientOpts{})
	p := e.makePlan(t, endpoints("late", n, 4), plan.Options{})
	o := fastOpts()
	o.CommitWindow = 3 * time.Second
	rep := runFor(t, context.Background(), New(e.clients(), o), p, time.Minute)
	if rep.Summary.Succeeded != n {
		t.Fatalf("summary = %+v, failures %v", rep.Summary, failures(rep))
	}
	checkOnePerName(t, e, "late", n, rep)
	if sent := e.sim.Requests("create", "POST"); sent != n {
		t.Errorf("%d creates sent for %d names: sent again before the late commit", sent, n)
	}
}

// TestRunLateCommitBeyondWindow: a create commits later than the commit
// window (the first answer lost, the resend answered), so the name has two
// endpoints for a while. The end-of-run sweep, after the window, deletes
// the younger by the keeper rule, reports what it removed, and the create
// reports the endpoint kept.
func TestRunLateCommitBeyondWindow(t *testing.T) {
	const n = 6
	e := newSimEnv(t, sim.Options{LostRate: 1, CommitDelay: 1200 * time.Millisecond, AcceptAfter: 900 * time.Millisecond, Quota: 100}, clientOpts{})
	p := e.makePlan(t, endpoints("beyond", n, 2), plan.Options{})
	first := 0
	e.onArrive(func(r *http.Request) {
		if route(r) == "create" {
			if first++; first == n { // the next creates (the resends) are answered
				e.sim.SetOptions(sim.Options{AcceptAfter: 900 * time.Millisecond, Quota: 100})
			}
		}
	})
	o := fastOpts()
	o.Concurrency = 1 // the first n creates go out before any resend
	o.CommitWindow = 300 * time.Millisecond
	rep := runFor(t, context.Background(), New(e.clients(), o), p, time.Minute)
	if rep.Summary.Failed != 0 {
		t.Fatalf("summary = %+v, failures %v", rep.Summary, failures(rep))
	}
	checkOnePerName(t, e, "beyond", n, rep)
	swept := 0
	for _, r := range rep.Results[len(p.Changes):] {
		if r.Action != "delete" || !strings.Contains(r.Reason, "duplicate of") || r.ID == "" {
			t.Errorf("sweep result %+v, want a delete of a duplicate", r)
		}
		swept++
	}
	if swept == 0 {
		t.Error("no duplicate swept: the late commits did not land before the sweep, the test does not test it")
	}
	t.Logf("%d creates sent, %d duplicates swept", e.sim.Requests("create", "POST"), swept)
}

// TestRunOverlapping: two runs of one plan at once against one API. Both
// succeed; their sweeps agree on the keeper, so one endpoint per name is
// left.
func TestRunOverlapping(t *testing.T) {
	const n = 60
	e := newSimEnv(t, sim.Options{AcceptAfter: 100 * time.Millisecond, Latency: 2 * time.Millisecond, Quota: 1000, TieOrder: sim.TieRandom}, clientOpts{rate: 300})
	p := e.makePlan(t, endpoints("twice", n, 5), plan.Options{})
	e2 := e.secondClient(t, clientOpts{rate: 300})
	reps := make(chan *Report, 2)
	for _, api := range []API{e.client, e2} {
		go func() {
			reps <- New(map[plan.Target]API{e.target: api}, fastOpts()).Run(context.Background(), p)
		}()
	}
	for range 2 {
		select {
		case rep := <-reps:
			if rep.Summary.Failed != 0 {
				t.Errorf("summary = %+v, failures %v", rep.Summary, failures(rep))
			}
		case <-time.After(time.Minute):
			t.Fatal("the runs did not end")
		}
	}
	checkOnePerName(t, e, "twice", n, nil)
	if again := e.makePlan(t, endpoints("twice", n, 5), plan.Options{}); again.Summary.Changes() != 0 {
		t.Errorf("plan after both runs: %+v, want no changes", again.Summary)
	}
}

// TestRunCreateAnsweredEmpty: a create committed and answered with an
// empty 200 is an unknown outcome: found by its tags, never reported
// gone or failed, never sent twice.
func TestRunCreateAnsweredEmpty(t *testing.T) {
	e := newSimEnv(t, sim.Options{Quota: 100}, clientOpts{handler: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if route(r) != "create" {
				h.ServeHTTP(w, r)
				return
			}
			h.ServeHTTP(httptest.NewRecorder(), r) // committed; the answer is lost on the way
			w.WriteHeader(http.StatusOK)
		})
	}})
	p := e.makePlan(t, endpoints("empty", 5, 1), plan.Options{})
	rep := runFor(t, context.Background(), New(e.clients(), fastOpts()), p, time.Minute)
	if rep.Summary.Succeeded != 5 {
		t.Fatalf("summary = %+v, failures %v", rep.Summary, failures(rep))
	}
	checkOnePerName(t, e, "empty", 5, rep)
	if sent := e.sim.Requests("create", "POST"); sent != 5 {
		t.Errorf("%d creates sent, want 5", sent)
	}
}

// TestRunLaggingGet: GET answers 404 for a moment after a create (a read
// replica behind): the endpoint is not reported gone.
func TestRunLaggingGet(t *testing.T) {
	e := newSimEnv(t, sim.Options{GetLag: 400 * time.Millisecond, AcceptAfter: 600 * time.Millisecond}, clientOpts{})
	p := e.makePlan(t, endpoints("lag", 2, 1), plan.Options{})
	o := fastOpts()
	o.goneSettle = 2 * time.Second
	rep := runFor(t, context.Background(), New(e.clients(), o), p, time.Minute)
	if rep.Summary.Succeeded != 2 {
		t.Fatalf("summary = %+v, failures %v", rep.Summary, failures(rep))
	}
	for _, r := range rep.Results {
		if r.Status != vpcep.StatusAccepted || r.ID == "" {
			t.Errorf("%s: %+v, want accepted with its id", r.Name, r)
		}
	}
}

// TestRunWaitCutShort: a run stopped while it waits for created endpoints
// reports them with their id and last status, not as failed.
func TestRunWaitCutShort(t *testing.T) {
	e := newSimEnv(t, sim.Options{AcceptAfter: time.Hour}, clientOpts{})
	p := e.makePlan(t, endpoints("cut", 3, 1), plan.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	created := 0
	e.onArrive(func(r *http.Request) {
		if route(r) == "get" || route(r) == "list" {
			if created++; created == 3 { // the waits are polling
				cancel()
			}
		}
	})
	rep := runFor(t, ctx, New(e.clients(), fastOpts()), p, time.Minute)
	if rep.Summary.Failed != 0 || !rep.Interrupted {
		t.Fatalf("summary = %+v (interrupted %v), failures %v", rep.Summary, rep.Interrupted, failures(rep))
	}
	for _, r := range rep.Results {
		if r.Status != vpcep.StatusCreating || r.ID == "" || r.Error != "" {
			t.Errorf("%s: %+v, want status creating, its id and no error", r.Name, r)
		}
	}
}

// TestRunReplaceNeverHalfDone: a replace whose delete was accepted goes on
// to its create when the run stops meanwhile (--fail-fast after another
// change failed, or a signal); and when the old endpoint does not go away
// within --wait-timeout, the report says "deleted, not recreated".
func TestRunReplaceNeverHalfDone(t *testing.T) {
	for _, stop := range []string{"fail-fast", "signal", "wait-timeout"} {
		t.Run(stop, func(t *testing.T) {
			e := newSimEnv(t, sim.Options{AcceptAfter: 300 * time.Millisecond}, clientOpts{})
			desired := endpoints("r", 2, 2)
			d := desired[0]
			old := e.put("r", d.Name, d.EndpointServiceID, d.VPCID, d.SubnetID, vpcep.StatusFailed, vpcep.Tag{Key: "team", Value: "payments"})
			p := e.makePlan(t, desired[:1], plan.Options{})
			bad := invalidCreate(e, "broken")
			p.Changes = append(p.Changes, bad)
			p.Summary.Create++
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o := fastOpts()
			o.Concurrency = 2
			switch stop {
			case "fail-fast":
				o.FailFast = true
			case "signal":
				e.onArrive(func(r *http.Request) {
					if route(r) == "delete" {
						cancel()
					}
				})
			case "wait-timeout":
				o.WaitTimeout = 100 * time.Millisecond
			}
			rep := runFor(t, ctx, New(e.clients(), o), p, time.Minute)
			r := rep.Results[0]
			if r.Action != "replace" {
				t.Fatalf("first result %+v, want the replace", r)
			}
			owned := e.owned("r")[d.Name]
			switch {
			case stop == "wait-timeout":
				if !strings.Contains(r.Error, "deleted, not recreated") || r.result() != Failed {
					t.Errorf("replace result %+v, want failed: deleted, not recreated", r)
				}
			case r.Error != "" || r.ID == old.ID || len(owned) != 1 || owned[0].ID != r.ID:
				t.Errorf("replace result %+v, endpoints %+v: want a new endpoint in place of %s", r, owned, old.ID)
			}
		})
	}
}

// gatedPacer lets requests through only as the test releases them, so a
// test can stop a run at a moment when no request is between the rate
// limiter and the server.
type gatedPacer struct {
	otc.Pacer
	tokens chan struct{}
	open   chan struct{} // closed: unlimited
}

func newGatedPacer(p otc.Pacer) *gatedPacer {
	return &gatedPacer{Pacer: p, tokens: make(chan struct{}, 1<<16), open: make(chan struct{})}
}

func (g *gatedPacer) Wait(ctx context.Context) (otc.Ticket, error) {
	select {
	case <-g.tokens:
	case <-g.open:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return g.Pacer.Wait(ctx)
}

func (g *gatedPacer) release(n int) {
	for range n {
		g.tokens <- struct{}{}
	}
}

// arrivals records, at the server, the order in which each change sent
// its first request: creates by name, deletes and tags by id.
type arrivals struct {
	mu    sync.Mutex
	n     int
	first map[string]int
}

func (a *arrivals) record(r *http.Request) {
	key := ""
	switch route(r) {
	case "create":
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req vpcep.CreateEndpointRequest
		json.Unmarshal(body, &req)
		key = "create " + tagValue(req.Tags, manifests.TagName)
	case "delete", "tags":
		parts := strings.Split(r.URL.Path, "/")
		key = route(r) + " " + parts[4]
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	if _, ok := a.first[key]; key != "" && !ok {
		a.first[key] = a.n
	}
}

func (a *arrivals) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// notify is a slog handler that calls f with each record's message.
type notify struct{ f func(msg string) }

func (n notify) Enabled(context.Context, slog.Level) bool      { return true }
func (n notify) Handle(_ context.Context, r slog.Record) error { n.f(r.Message); return nil }
func (n notify) WithAttrs([]slog.Attr) slog.Handler            { return n }
func (n notify) WithGroup(string) slog.Handler                 { return n }

// TestRunStopMeansStop interrupts 20 runs at random moments: by a signal
// (the caller's context), by --fail-fast after an injected failure, by the
// quota. The test lets requests through the rate limiter one at a time
// and stops the run only while none is between the limiter and the
// server, so the check is exact: the server sees no first request of a
// change after the stop. A replace whose delete went out is never left
// half done, and a rerun converges.
func TestRunStopMeansStop(t *testing.T) {
	kinds := []string{"signal", "fail-fast", "quota", "signal"}
	for seed := range 20 {
		kind := kinds[seed%len(kinds)]
		t.Run(fmt.Sprintf("%d %s", seed, kind), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(seed), 11))
			const n = 24
			quota := 1000
			if kind == "quota" {
				quota = 10 + 3 + rng.IntN(8) // 10 existing, a few creates fit
			}
			var gp *gatedPacer
			e := newSimEnv(t, sim.Options{AcceptAfter: 60 * time.Millisecond, Quota: quota, LostRate: 0.15, Seed: int64(seed + 1)},
				clientOpts{pacer: func(a *AIMD) otc.Pacer { gp = newGatedPacer(a); return gp }})
			gp.release(1 << 12) // the set-up and the plan go through
			desired := endpoints("s", n, 4)
			for i, d := range desired[:7] {
				status := vpcep.StatusFailed // replaced
				if i >= 4 {
					status = vpcep.StatusAccepted // tagged
				}
				e.put("s", d.Name, d.EndpointServiceID, d.VPCID, d.SubnetID, status, vpcep.Tag{Key: "team", Value: "old"})
			}
			for k := range 3 {
				e.put("s", fmt.Sprintf("gone-%d", k), sim.ServiceInterfaceID, uuid(1, 90+k), uuid(2, 90+k), vpcep.StatusAccepted)
			}
			p := e.makePlan(t, desired, plan.Options{Prune: true})
			if kind == "fail-fast" {
				at := 10 + rng.IntN(len(p.Changes)-10)
				p.Changes = append(p.Changes[:at], append([]plan.Change{invalidCreate(e, "zz-broken")}, p.Changes[at:]...)...)
				p.Summary.Create++
			}
			replaced := map[string]string{} // old id -> name
			for _, c := range p.Changes {
				if c.Action == plan.Replace {
					replaced[c.ID] = c.Name
				}
			}
			for len(gp.tokens) > 0 { // take back what the set-up left
				<-gp.tokens
			}

			arr := &arrivals{first: map[string]int{}}
			e.onArrive(arr.record)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stopOnce sync.Once
			stopped := make(chan struct{})
			o := fastOpts()
			o.Concurrency, o.FailFast = 4, kind == "fail-fast"
			o.Logger = slog.New(notify{func(msg string) {
				if msg == "change failed" && kind != "signal" {
					stopOnce.Do(func() { close(stopped) })
				}
			}})
			reps := make(chan *Report, 1)
			go func() { reps <- New(e.clients(), o).Run(ctx, p) }()

			stopAfter := 3 + rng.IntN(40)
			stopIndex := -1
			for released := 0; stopIndex < 0; {
				gp.release(1)
				released++
				deadline := time.Now().Add(20 * time.Second)
				for arr.count() < released {
					if time.Now().After(deadline) {
						t.Fatalf("request %d did not arrive", released)
					}
					select {
					case rep := <-reps: // the run ended before the stop came
						reps <- rep
						stopIndex = arr.count()
					case <-time.After(time.Millisecond):
					}
					if stopIndex >= 0 {
						break
					}
				}
				// No request is between the limiter and the server now.
				switch {
				case stopIndex >= 0:
				case kind == "signal" && released >= stopAfter:
					cancel()
					stopIndex = arr.count()
				case kind != "signal":
					time.Sleep(5 * time.Millisecond) // let the client read the answer
					select {
					case <-stopped:
						stopIndex = arr.count()
					default:
					}
				}
			}
			close(gp.open)
			var rep *Report
			select {
			case rep = <-reps:
			case <-time.After(time.Minute):
				t.Fatal("the run did not end after the stop")
			}

			arr.mu.Lock()
			for key, at := range arr.first {
				name := strings.TrimPrefix(key, "create ")
				isReplaceCreate := false
				for _, rn := range replaced {
					isReplaceCreate = isReplaceCreate || strings.HasPrefix(key, "create ") && rn == name
				}
				if at > stopIndex && !isReplaceCreate {
					t.Errorf("%s: first request arrived as request %d, after the stop at %d", key, at, stopIndex)
				}
			}
			for old, name := range replaced {
				if _, deleted := arr.first["delete "+old]; !deleted {
					continue
				}
				var res Result
				for _, r := range rep.Results {
					if r.Action == "replace" && r.Name == name {
						res = r
					}
				}
				eps := e.owned("s")[name]
				recreated := false
				for _, ep := range eps {
					recreated = recreated || ep.ID != old && ep.Status != vpcep.StatusDeleting
				}
				if !recreated && !strings.Contains(res.Error, "deleted, not recreated") {
					t.Errorf("replace %s: deleted, not recreated, and the report says %+v", name, res)
				}
			}
			arr.mu.Unlock()
			t.Logf("stopped at request %d of %d; summary %+v", stopIndex, arr.count(), rep.Summary)

			// A rerun, with room in the quota, converges.
			e.sim.SetOptions(sim.Options{AcceptAfter: 60 * time.Millisecond, Quota: 1000, Seed: int64(seed + 1)})
			again := e.makePlan(t, desired, plan.Options{Prune: true})
			rep2 := runFor(t, context.Background(), New(e.clients(), fastOpts()), again, time.Minute)
			if rep2.Summary.Failed != 0 {
				t.Fatalf("rerun: %+v, failures %v", rep2.Summary, failures(rep2))
			}
			checkOnePerName(t, e, "s", n, nil)
			if last := e.makePlan(t, desired, plan.Options{Prune: true}); last.Summary.Changes() != 0 {
				t.Errorf("after the rerun: %+v, want no changes", last.Summary)
			}
		})
	}
}
