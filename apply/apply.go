package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds the run: the options, the dispatch of the changes to the
// worker pool, and the execution of each change's steps; stop.go holds the
// stop policy.

// API is what apply needs of one target's client; *otc.Client satisfies
// it. The client paces and retries each call itself (throttling, transient
// errors), except one case:
//
// CreateEndpoint must not be retried blindly: when its error is ambiguous
// (otc.IsAmbiguous) the endpoint may exist, now or later. apply then looks
// for it by its name tag for a while (Options.CommitWindow) before it sends
// the create again.
type API interface {
	CreateEndpoint(ctx context.Context, req *vpcep.CreateEndpointRequest) (*vpcep.Endpoint, int, error)
	DeleteEndpoint(ctx context.Context, id string) (attempts int, err error)
	GetEndpoint(ctx context.Context, id string) (*vpcep.Endpoint, error)
	ListEndpoints(ctx context.Context, opts otc.ListOptions) ([]vpcep.Endpoint, error)
	TagAction(ctx context.Context, id, action string, tags []vpcep.Tag) (attempts int, err error)
	AcceptConnection(ctx context.Context, serviceID, endpointID string) (attempts int, err error)
	// OwnsService reports whether the project owns the endpoint service
	// (asked when a created endpoint ends awaiting approval).
	OwnsService(ctx context.Context, serviceID string) (bool, error)
}

// Options configure a run.
type Options struct {
	Concurrency int // requests in flight at once (workers); default 16
	// Resends bounds how often a create whose outcome was unknown, and
	// that was not found within CommitWindow, is sent again; 0 means the
	// default, 8, and a negative value none.
	// It is counted apart from the HTTP retries of the client (a create
	// whose outcome is unknown is never retried there).
	Resends int
	// CommitWindow is how long after an unknown outcome a create may
	// still appear (a back end that commits after the answer was lost):
	// apply looks for the endpoint that long before it sends the create
	// again, and the end-of-run sweep waits that long after the last
	// unknown outcome; default 60s.
	CommitWindow time.Duration
	Wait         bool          // wait for creates (accepted/pendingAcceptance) and deletes (gone)
	WaitTimeout  time.Duration // per wait; default 10m
	// PollInterval is the longest gap between two status polls of one
	// wait (they start a second after the wait and back off); default 10s.
	PollInterval time.Duration
	// Rate is the targets' request rate (requests/s, the limiter's
	// ceiling): status polls take at most a tenth of it. 0: unknown.
	Rate float64
	// CheckDelay is how long apply lets the API settle after a create with
	// an unknown outcome before its first look for the endpoint; default 1s.
	CheckDelay time.Duration
	FailFast   bool          // stop dispatching (and waiting) after the first failure
	Grace      time.Duration // after ctx is cancelled, requests in flight get this long; default 30s
	Logger     *slog.Logger
	Recorder   Recorder // nil: none
	Now        func() time.Time
	// Progress, when set, is called whenever the counts change (a change
	// sent, waiting, ended), one call at a time.
	Progress func(Event)

	// goneSettle overrides defaultGoneSettle (tests).
	goneSettle time.Duration
}

// Recorder receives what a run does (metrics.Metrics implements it). Its
// methods must be safe for concurrent use.
type Recorder interface {
	// Change is called once per change as it ends, with its result:
	// Succeeded, Failed or Skipped.
	Change(action, result string)
	// Retry is called when a create whose outcome was unknown is sent
	// again (reason "ambiguous").
	Retry(op, reason string)
}

// Results of a change.
const (
	Succeeded = "succeeded"
	Failed    = "failed"
	Skipped   = "skipped"
	// AwaitingApproval is a change whose endpoint ended in
	// pendingAcceptance: in place, but the service owner has not approved
	// it yet; not a plain success.
	AwaitingApproval = "awaiting_approval"
)

// Results lists the results a Recorder is told (metrics initialise their
// labels from it): a change awaiting approval is recorded as succeeded,
// the change was made (vpcepctl_owned_endpoints{status} counts the
// endpoints awaiting approval).
var Results = []string{Succeeded, Failed, Skipped}

// Applier runs plans against a set of targets.
type Applier struct {
	clients map[plan.Target]API
	opts    Options
}

// New returns an Applier with one API per target.
func New(clients map[plan.Target]API, opts Options) *Applier {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	switch {
	case opts.Resends < 0:
		opts.Resends = 0
	case opts.Resends == 0:
		opts.Resends = 8
	}
	if opts.CommitWindow <= 0 {
		opts.CommitWindow = time.Minute
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = 10 * time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 10 * time.Second
	}
	if opts.CheckDelay <= 0 {
		opts.CheckDelay = time.Second
	}
	if opts.Grace <= 0 {
		opts.Grace = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Applier{clients: clients, opts: opts}
}

// target is the per-run state of one target.
type target struct {
	t      plan.Target
	api    API
	poller *poller
	// gate is open while changes may start in this target: it closes when
	// the run stops, or when the target's quota is reached.
	gate      context.Context
	closeGate context.CancelFunc
	quotaHit  bool // guarded by run.mu
	// bound bounds the target's listings (otc.ListOptions.MaxEndpoints),
	// from the quota the plan read; 0: the default.
	bound int
}

// run is the state of one Run.
//
// Policy: a worker slot (the errgroup's limit, --concurrency) is held only
// while a change sends requests, never while it waits for a status, so a
// run of thousands of endpoints keeps its workers busy and the waits pile
// up in the pollers (which poll with list pages). Each change runs its
// steps in order in a goroutine of its own; the dispatcher starts them one
// at a time as workers free up, in dispatchOrder.
type run struct {
	opts     Options
	ctx      context.Context // the caller's: cancelled means interrupted
	work     context.Context // requests: outlives ctx by Grace
	dispatch context.Context // dispatching and waiting: ends with ctx or --fail-fast
	stop     context.CancelFunc
	workers  errgroup.Group
	pending  sync.WaitGroup
	rep      *Report
	targets  map[plan.Target]*target

	mu        sync.Mutex
	ambiguous time.Time // wall clock of the last unknown create outcome

	progressMu sync.Mutex // Progress calls one at a time, in order
	counts     Counts
	adopted    map[string]string // endpoint id -> set/name that adopted it in this run

	// acceptCreated is the plan's --approve; owns holds, by target and
	// service id, the one OwnsService question every job asks (guarded by
	// mu).
	acceptCreated bool
	owns          map[string]func() (bool, error)
}

// job is one change being executed.
type job struct {
	i       int
	c       *plan.Change
	tg      *target
	r       Result
	started chan struct{} // closed once the first step holds a worker, or the job ended
	once    sync.Once
	begun   bool // its first request was sent: the change is under way
	since   time.Time
	// gate is open while the change may start: the target's (closed by a
	// stop or the target's quota), or the run's for the sweep's deletes,
	// which make room.
	gate context.Context
}

func (j *job) markStarted() { j.once.Do(func() { close(j.started) }) }

// Run executes the plan's changes and returns the report. It never
// returns early: when ctx is cancelled it stops dispatching and waiting,
// lets the requests in flight finish (bounded by Grace), and reports the
// changes not started as skipped. Before it returns (when not stopped) it
// sweeps the duplicates of the names it created (see sweep.go).
func (a *Applier) Run(ctx context.Context, p *plan.Plan) *Report {
	o := a.opts
	rep := &Report{FormatVersion: ReportFormatVersion, StartedAt: o.Now().UTC(), Results: make([]Result, len(p.Changes))}

	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var graceMu sync.Mutex
	var graceTimer *time.Timer
	stopAfter := context.AfterFunc(ctx, func() {
		graceMu.Lock()
		graceTimer = time.AfterFunc(o.Grace, cancelWork)
		graceMu.Unlock()
	})
	defer func() {
		stopAfter()
		graceMu.Lock()
		if graceTimer != nil {
			graceTimer.Stop()
		}
		graceMu.Unlock()
	}()
	dispatch, stop := context.WithCancel(ctx)
	defer stop()
	r := &run{opts: o, ctx: ctx, work: work, dispatch: dispatch, stop: stop, rep: rep, targets: map[plan.Target]*target{},
		adopted: map[string]string{}, counts: Counts{Total: len(p.Changes)}, acceptCreated: p.Scope.Approve, owns: map[string]func() (bool, error){}}
	r.workers.SetLimit(o.Concurrency)

	var pollWG sync.WaitGroup
	pollCtx, stopPolls := context.WithCancel(work)
	defer stopPolls()
	bounds := map[plan.Target]int{}
	for _, ts := range p.Scope.Targets {
		if ts.Quota != nil {
			bounds[plan.Target{Region: ts.Region, ProjectID: ts.ProjectID}] = otc.ListBound(ts.Quota.Quota)
		}
	}
	for t, api := range a.clients {
		tg := &target{t: t, api: api, bound: bounds[t], poller: newPoller(api, o.PollInterval, o.Rate, bounds[t], o.Logger)}
		if o.goneSettle > 0 {
			tg.poller.settle = o.goneSettle
		}
		tg.gate, tg.closeGate = context.WithCancel(dispatch)
		defer tg.closeGate()
		r.targets[t] = tg
		pollWG.Add(1)
		go func() { defer pollWG.Done(); tg.poller.run(pollCtx) }()
	}

	for _, i := range dispatchOrder(p) {
		r.start(&p.Changes[i], i, nil)
	}
	r.pending.Wait()
	r.sweep(p)
	_ = r.workers.Wait()
	stopPolls()
	pollWG.Wait()

	rep.FinishedAt = o.Now().UTC()
	rep.count()
	rep.Interrupted = ctx.Err() != nil
	return rep
}

// dispatchOrder returns the indexes of the plan's changes in the order
// they start: deletes first, then replaces (each makes room before it
// takes it), then the rest, each in plan order; so that a quota reached by
// the creates stops nothing that would have made room.
func dispatchOrder(p *plan.Plan) []int {
	order := make([]int, len(p.Changes))
	for i := range order {
		order[i] = i
	}
	rank := func(a plan.Action) int {
		switch a {
		case plan.Delete:
			return 0
		case plan.Replace:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(rank(p.Changes[a].Action), rank(p.Changes[b].Action))
	})
	return order
}

// start dispatches one change and waits until it holds a worker (or has
// ended), so that changes start in order. gate is the job's (nil: the
// target's).
func (r *run) start(c *plan.Change, i int, gate context.Context) {
	j := &job{i: i, c: c, tg: r.targets[c.Target()], started: make(chan struct{}), gate: gate,
		r: Result{Action: string(c.Action), Set: c.Set, Name: c.Name, ProjectID: c.ProjectID, ID: c.ID, Reason: c.Reason}}
	if j.gate == nil && j.tg != nil {
		j.gate = j.tg.gate
	}
	if c.Current != nil {
		j.r.Status = c.Current.Status
	}
	switch {
	case c.Action == plan.Conflict || c.Action == plan.Noop:
		j.r.Error, j.r.skipped, j.r.conflict = "not acted on: "+c.Reason, true, c.Action == plan.Conflict
		r.finish(j)
		return
	case j.tg == nil:
		j.r.Error = "no client for target " + c.Target().String()
		r.finish(j)
		return
	case j.gate.Err() != nil:
		r.notStarted(j)
		r.finish(j)
		return
	}
	r.pending.Add(1)
	go func() {
		defer r.pending.Done()
		r.execute(j)
		r.finish(j)
	}()
	<-j.started
}

// finish records a job's result.
func (r *run) finish(j *job) {
	j.markStarted()
	res := j.r
	r.rep.Results[j.i] = res
	if rec := r.opts.Recorder; rec != nil {
		result := res.result()
		if result == AwaitingApproval {
			result = Succeeded
		}
		rec.Change(res.Action, result)
	}
	if res.result() == Failed && r.opts.FailFast {
		r.stop()
	}
	r.event(&res, time.Since(j.since), func(c *Counts) {
		c.Done++
		switch res.result() {
		case Failed:
			c.Failed++
		case AwaitingApproval:
			c.Awaiting++
		}
	})
}

// execute runs one change's steps in order.
func (r *run) execute(j *job) {
	c := j.c
	switch c.Action {
	case plan.Create:
		if r.create(j, r.dispatch) {
			r.waitReady(j, "")
			r.approveCreated(j, "")
		}
	case plan.Tag, plan.Adopt:
		if c.Action == plan.Adopt && !r.claim(j) {
			return
		}
		err := r.step(j, func(ctx context.Context) error { return r.retag(ctx, j) })
		switch {
		case errors.Is(err, errNotStarted):
			r.notStarted(j)
		case err != nil:
			j.r.Error = err.Error()
		}
	case plan.Approve:
		r.approve(j)
	case plan.Delete:
		if r.delete(j, "") && r.opts.Wait {
			r.waitGone(j, c.ID, r.dispatch, "")
		}
	case plan.Replace:
		r.replace(j)
	default:
		j.r.Error = fmt.Sprintf("unknown action %q", c.Action)
	}
}

// replace deletes the old endpoint, waits until it is gone (the new one
// may take its port IP or route tables, whatever --wait says), and creates
// the new one. Once the delete was accepted, the rest goes on whatever
// stops the run (within Grace): a replace is never left half done without
// saying so.
func (r *run) replace(j *job) {
	const notRecreated = "replace: deleted, not recreated: "
	if !r.delete(j, "replace: ") {
		return
	}
	if !r.waitGone(j, j.c.ID, r.work, notRecreated) {
		return
	}
	if !r.create(j, r.work) {
		j.r.Error = notRecreated + j.r.Error
		return
	}
	r.waitReady(j, "replace: ")
	r.approveCreated(j, "replace: ")
}
