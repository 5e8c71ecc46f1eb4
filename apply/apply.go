package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
)

// API is what apply needs of one target's client; *otc.Client satisfies
// it. The client paces and retries each call itself (throttling, transient
// errors), except one case:
//
// CreateEndpoint must not be retried blindly: when its error is ambiguous
// (otc.IsAmbiguous) the endpoint may exist. apply then lists the VPC's
// endpoints and looks for the name tag before it sends the create again.
type API interface {
	CreateEndpoint(ctx context.Context, req *otc.CreateEndpointRequest) (*otc.Endpoint, int, error)
	DeleteEndpointN(ctx context.Context, id string) (attempts int, err error)
	GetEndpoint(ctx context.Context, id string) (*otc.Endpoint, error)
	ListEndpoints(ctx context.Context, opts otc.ListOptions) ([]otc.Endpoint, error)
	TagActionN(ctx context.Context, id, action string, tags []otc.Tag) (attempts int, err error)
}

// Options configure a run.
type Options struct {
	Concurrency  int           // requests in flight at once (workers); default 16
	MaxRetries   int           // resends of a create after an ambiguous answer; default 8
	Wait         bool          // wait for creates (accepted/pendingAcceptance) and deletes (gone)
	WaitTimeout  time.Duration // per wait; default 10m
	PollInterval time.Duration // status polls; default 5s
	// CheckDelay is how long apply lets the API settle after a create with
	// an unknown outcome before it looks for the endpoint; default 1s.
	CheckDelay time.Duration
	FailFast   bool          // stop dispatching (and waiting) after the first failure
	Grace      time.Duration // after ctx is cancelled, requests in flight get this long; default 30s
	Logger     *slog.Logger
	Metrics    *Metrics
	Now        func() time.Time
	// Progress, when set, is called after each change with the counts so
	// far, one call at a time.
	Progress func(done, total int)
}

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
	if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = 10 * time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 5 * time.Second
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
	api      API
	poller   *poller
	quotaHit atomic.Bool
}

// run is the state of one Run.
//
// Policy: a worker slot (the errgroup's limit, --concurrency) is held only
// while a change sends requests, never while it waits for a status, so a
// run of thousands of endpoints keeps its workers busy and the waits pile
// up in the pollers (which poll with list pages). Each change runs its
// steps in order in a goroutine of its own; the dispatcher starts them in
// plan order, one at a time as workers free up.
type run struct {
	opts     Options
	ctx      context.Context // the caller's: cancelled means interrupted
	work     context.Context // requests: outlives ctx by Grace
	dispatch context.Context // dispatching and waiting: ends with ctx or --fail-fast
	stop     context.CancelFunc
	workers  errgroup.Group
	pending  sync.WaitGroup
	rep      *Report

	progressMu sync.Mutex // Progress calls one at a time, in order
	done       int
}

// job is one change being executed.
type job struct {
	i       int
	c       *plan.Change
	tg      *target
	r       Result
	started chan struct{} // closed once the first step holds a worker, or the job ended
	once    sync.Once
	begun   bool // a step ran: the change is no longer "not started"
}

func (j *job) markStarted() { j.once.Do(func() { close(j.started) }) }

// Run executes the plan's changes and returns the report. It never
// returns early: when ctx is cancelled it stops dispatching and waiting,
// lets the requests in flight finish (bounded by Grace), and reports the
// changes not started as skipped.
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
	r := &run{opts: o, ctx: ctx, work: work, dispatch: dispatch, stop: stop, rep: rep}
	r.workers.SetLimit(o.Concurrency)

	targets := map[plan.Target]*target{}
	var pollWG sync.WaitGroup
	pollCtx, stopPolls := context.WithCancel(work)
	defer stopPolls()
	for t, api := range a.clients {
		tg := &target{api: api, poller: newPoller(api, o.PollInterval, o.Logger)}
		targets[t] = tg
		pollWG.Add(1)
		go func() { defer pollWG.Done(); tg.poller.run(pollCtx) }()
	}

	for i := range p.Changes {
		c := &p.Changes[i]
		j := &job{i: i, c: c, tg: targets[c.Target()], started: make(chan struct{}),
			r: Result{Action: string(c.Action), Set: c.Set, Name: c.Name, ProjectID: c.ProjectID, ID: c.ID}}
		if c.Current != nil {
			j.r.Status = c.Current.Status
		}
		switch {
		case c.Action == plan.Conflict || c.Action == plan.Noop:
			j.r.Error, j.r.skipped = "not acted on: "+c.Reason, true
			r.finish(j)
			continue
		case j.tg == nil:
			j.r.Error = "no client for target " + c.Target().String()
			r.finish(j)
			continue
		case dispatch.Err() != nil:
			j.r.Error, j.r.skipped = r.notStarted(), true
			r.finish(j)
			continue
		}
		r.pending.Add(1)
		go func() {
			defer r.pending.Done()
			r.execute(j)
			r.finish(j)
		}()
		<-j.started
	}
	r.pending.Wait()
	_ = r.workers.Wait()
	stopPolls()
	pollWG.Wait()

	rep.FinishedAt = o.Now().UTC()
	for _, res := range rep.Results {
		switch res.result() {
		case Succeeded:
			rep.Summary.Succeeded++
		case Failed:
			rep.Summary.Failed++
		default:
			rep.Summary.Skipped++
		}
	}
	rep.Interrupted = ctx.Err() != nil
	return rep
}

// finish records a job's result.
func (r *run) finish(j *job) {
	j.markStarted()
	res := j.r
	r.rep.Results[j.i] = res
	if m := r.opts.Metrics; m != nil {
		m.Changes.WithLabelValues(res.Action, res.result()).Inc()
	}
	if res.Action != string(plan.Conflict) {
		attrs := []any{"action", res.Action, "set", res.Set, "name", res.Name, "id", res.ID, "status", res.Status, "attempts", res.Attempts}
		switch res.result() {
		case Failed:
			r.opts.Logger.Warn("change failed", append(attrs, "err", res.Error)...)
		case Succeeded:
			r.opts.Logger.Info("change done", attrs...)
		}
	}
	if res.result() == Failed && r.opts.FailFast {
		r.stop()
	}
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	r.done++
	if r.opts.Progress != nil {
		r.opts.Progress(r.done, len(r.rep.Results))
	}
}

func (r *run) notStarted() string {
	if r.ctx.Err() != nil {
		return "not started: interrupted"
	}
	return "not started: --fail-fast stopped the run after a failure"
}

// stopped describes why dispatching stopped, for a change already begun.
func (r *run) stopped() string {
	if r.ctx.Err() != nil {
		return "interrupted"
	}
	return "stopped by --fail-fast after another change failed"
}

// errStopped is returned by step when the run stopped before the step
// could begin.
var errStopped = errors.New("run stopped")

// step runs f holding a worker slot, unless the run stopped (interrupted
// or --fail-fast) before a slot was free: then it returns errStopped
// without calling f. f returns an error only when the change has failed;
// with --fail-fast the run stops before the slot is given to another
// change. Requests made by f use r.work, which outlives an interruption by
// Grace.
func (r *run) step(j *job, f func() error) error {
	var err error
	done := make(chan struct{})
	r.workers.Go(func() error {
		defer close(done)
		j.markStarted()
		if r.dispatch.Err() != nil {
			err = errStopped
			return nil
		}
		j.begun = true
		if err = f(); err != nil && r.opts.FailFast {
			r.stop()
		}
		return nil
	})
	<-done
	return err
}

// sleep waits d unless the run stops first.
func (r *run) sleep(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-r.dispatch.Done():
		return errStopped
	}
}

// execute runs one change's steps in order.
func (r *run) execute(j *job) {
	c := j.c
	switch c.Action {
	case plan.Create:
		if !r.create(j, "") {
			return
		}
		r.waitReady(j, "")
	case plan.Tag, plan.Adopt:
		err := r.step(j, func() error { return r.retag(j) })
		switch {
		case errors.Is(err, errStopped):
			j.r.Error, j.r.skipped = r.notStarted(), true
		case err != nil:
			j.r.Error = err.Error()
		}
	case plan.Delete:
		if !r.delete(j, "") {
			return
		}
		if r.opts.Wait {
			r.waitGone(j, c.ID, "")
		}
	case plan.Replace:
		// The new endpoint may take the old one's place (port IP, route
		// tables): wait until the old one is gone, whatever --wait says.
		if !r.delete(j, "replace: ") || !r.waitGone(j, c.ID, "replace: ") {
			return
		}
		if !r.create(j, "replace: ") {
			return
		}
		r.waitReady(j, "replace: ")
	default:
		j.r.Error = fmt.Sprintf("unknown action %q", c.Action)
	}
}

// ErrQuota is the reason of creates not sent after the quota was hit.
var ErrQuota = errors.New("endpoint quota exceeded (Endpoint.1018); not sent")

// create sends the create. After an answer that leaves the outcome
// unknown it looks for the endpoint by its name tag in the VPC before it
// sends the create again, so no run can leave two endpoints for one name.
// It reports whether the endpoint exists.
func (r *run) create(j *job, prefix string) bool {
	c, tg := j.c, j.tg
	name := c.Set + "/" + c.Name
	fail := func(err error) bool {
		j.r.Error = prefix + err.Error()
		return false
	}
	for resend := 0; ; resend++ {
		var ep *otc.Endpoint
		var cerr error
		err := r.step(j, func() error {
			// A replace sends its create even so: its delete made room.
			if tg.quotaHit.Load() && c.Action == plan.Create {
				return fmt.Errorf("create %s: %w", name, ErrQuota)
			}
			var n int
			ep, n, cerr = tg.api.CreateEndpoint(r.work, c.Desired)
			j.r.Attempts += n
			switch {
			case cerr == nil:
				return nil
			case otc.IsQuotaExceeded(cerr):
				// Permanent for this target: the creates after this one
				// are not sent.
				tg.quotaHit.Store(true)
			case r.work.Err() != nil && otc.IsAmbiguous(cerr):
				return fmt.Errorf("create %s: the grace period ended before the answer came; "+
					"the endpoint may exist (the next run finds it by its tags): %w", name, cerr)
			case r.work.Err() != nil:
				return fmt.Errorf("create %s: the grace period ended before it was sent: %w", name, cerr)
			case otc.IsAmbiguous(cerr):
				return nil // look for it below
			}
			return fmt.Errorf("create %s: %w", name, cerr)
		})
		switch {
		case errors.Is(err, errStopped) && !j.begun:
			j.r.Error, j.r.skipped = r.notStarted(), true
			return false
		case errors.Is(err, errStopped):
			return fail(fmt.Errorf("create %s: %s before it was sent", name, r.stopped()))
		case err != nil:
			return fail(err)
		case cerr == nil:
			j.r.ID, j.r.Status = ep.ID, ep.Status
			return true
		}

		r.opts.Logger.Info("create outcome unknown, looking for it before sending it again",
			"set", c.Set, "name", c.Name, "attempts", j.r.Attempts, "err", cerr)
		_ = r.sleep(r.opts.CheckDelay) // when stopped, look at once
		var found *otc.Endpoint
		r.stepAlways(func() { found, err = findOwned(r.work, tg.api, c.Desired.VPCID, c.Set, c.Name) })
		switch {
		case err != nil:
			return fail(fmt.Errorf("create %s: outcome unknown (%v) and the check failed: %w", name, cerr, err))
		case found != nil:
			j.r.ID, j.r.Status = found.ID, found.Status
			return true
		case r.dispatch.Err() != nil:
			return fail(fmt.Errorf("create %s: outcome unknown (%v), not found, not sent again: %s", name, cerr, r.stopped()))
		case resend >= r.opts.MaxRetries:
			return fail(fmt.Errorf("create %s: giving up after %d attempts: %w", name, j.r.Attempts, cerr))
		}
		if m := r.opts.Metrics; m != nil {
			m.Retry(otc.OpCreate, "ambiguous")
		}
	}
}

// stepAlways runs f holding a worker slot even when the run has stopped:
// for the read-only look-up that tells whether a create already sent took
// effect (the report must name every endpoint that exists).
func (r *run) stepAlways(f func()) {
	done := make(chan struct{})
	r.workers.Go(func() error {
		defer close(done)
		f()
		return nil
	})
	<-done
}

// findOwned looks for the endpoint carrying set and name tags in a VPC.
func findOwned(ctx context.Context, api API, vpcID, set, name string) (*otc.Endpoint, error) {
	eps, err := api.ListEndpoints(ctx, otc.ListOptions{VPCID: vpcID})
	if err != nil {
		return nil, err
	}
	var best *otc.Endpoint
	for i := range eps {
		e := &eps[i]
		s, _ := e.TagValue(manifests.TagSet)
		n, _ := e.TagValue(manifests.TagName)
		if s == set && n == name && e.Status != otc.StatusDeleting && (best == nil || e.CreatedAt.Before(best.CreatedAt.Time)) {
			best = e
		}
	}
	return best, nil
}

// retag makes the endpoint's tags those of the desired body: our own tags
// and the user tags, removing tags no longer declared (as plan compares
// them, so the next plan finds nothing to do). Tags are added before
// others are removed, so a failure half-way never leaves an endpoint
// without its ownership tags; unless adding first would pass the API's
// limit of 20 tags.
func (r *run) retag(j *job) error {
	c := j.c
	var cur []otc.Tag
	if c.Current != nil {
		cur = c.Current.Tags
	}
	add, del := plan.TagDiff(c.Desired.Tags, cur)
	have := make(map[string]string, len(cur))
	for _, t := range cur {
		have[t.Key] = t.Value
	}
	newKeys := 0
	for _, t := range add {
		if _, ok := have[t.Key]; !ok {
			newKeys++
		}
	}
	remove := func() error {
		if len(del) == 0 {
			return nil
		}
		tags := make([]otc.Tag, len(del))
		for i, k := range del {
			// With the value it has: a delete matches key and value.
			tags[i] = otc.Tag{Key: k, Value: have[k]}
		}
		n, err := j.tg.api.TagActionN(r.work, c.ID, "delete", tags)
		j.r.Attempts += n
		if err != nil {
			return fmt.Errorf("%s %s/%s: remove tags: %w", c.Action, c.Set, c.Name, err)
		}
		return nil
	}
	addTags := func() error {
		if len(add) == 0 {
			return nil
		}
		n, err := j.tg.api.TagActionN(r.work, c.ID, "create", add)
		j.r.Attempts += n
		if err != nil {
			return fmt.Errorf("%s %s/%s: add tags: %w", c.Action, c.Set, c.Name, err)
		}
		return nil
	}
	steps := []func() error{addTags, remove}
	if len(cur)+newKeys > maxTags {
		steps = []func() error{remove, addTags}
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// maxTags is the API's limit of tags per endpoint.
const maxTags = 20

// delete deletes the change's endpoint (c.ID). An endpoint already gone
// or being deleted counts as deleted (a resent delete whose first answer
// was lost gets one of those); one still being created is waited for and
// deleted then. It reports whether the delete was accepted.
func (r *run) delete(j *job, prefix string) bool {
	id := j.c.ID
	for try := 0; ; try++ {
		var derr error
		err := r.step(j, func() error {
			var n int
			n, derr = j.tg.api.DeleteEndpointN(r.work, id)
			j.r.Attempts += n
			var ae *otc.APIError
			switch {
			case derr == nil, otc.IsNotFound(derr):
				return nil
			case errors.As(derr, &ae) && (ae.CodeIs(codeBeingDeleted) || ae.CodeIs(codeBeingCreated) && try == 0):
				return nil
			}
			return fmt.Errorf("%sdelete %s: %w", prefix, id, derr)
		})
		var ae *otc.APIError
		errors.As(derr, &ae)
		switch {
		case errors.Is(err, errStopped) && !j.begun:
			j.r.Error, j.r.skipped = r.notStarted(), true
			return false
		case errors.Is(err, errStopped):
			j.r.Error = fmt.Sprintf("%sdelete %s: %s before it was sent", prefix, id, r.stopped())
			return false
		case err != nil:
			j.r.Error = err.Error()
			return false
		case derr == nil, otc.IsNotFound(derr), ae != nil && ae.CodeIs(codeBeingDeleted):
			j.r.Status = otc.StatusDeleting
			return true
		case ae != nil && ae.CodeIs(codeBeingCreated) && try == 0:
			// Wait until it settles, then delete it.
			ep, ok := r.wait(j, id, false, func(e *otc.Endpoint) bool { return e == nil || e.Status != otc.StatusCreating }, prefix)
			if !ok {
				return false
			}
			if ep == nil {
				j.r.Status = otc.StatusDeleting
				return true
			}
			continue
		}
	}
}

// Error codes delete answers with for endpoints in transition.
const (
	codeBeingDeleted = "EndPoint.2018"
	codeBeingCreated = "EndPoint.2019"
)

// waitReady waits, with --wait, until the created endpoint j.r.ID settles:
// accepted or pendingAcceptance succeed; failed (with the API's error
// code) and rejected fail.
func (r *run) waitReady(j *job, prefix string) {
	if !r.opts.Wait || j.r.Status == otc.StatusAccepted || j.r.Status == otc.StatusPendingAcceptance {
		return
	}
	ep, ok := r.wait(j, j.r.ID, true, func(e *otc.Endpoint) bool { return e == nil || e.Status != otc.StatusCreating }, prefix)
	if !ok {
		return
	}
	switch {
	case ep == nil:
		j.r.Error, j.r.Status = prefix+"endpoint disappeared while it was being created", ""
		return
	case ep.Status == otc.StatusFailed:
		j.r.Error = prefix + "endpoint failed"
		if len(ep.Error) > 0 {
			j.r.Error += ": " + ep.Error[0].ErrorCode + ": " + ep.Error[0].ErrorMessage
		}
	case ep.Status == otc.StatusRejected:
		j.r.Error = prefix + "endpoint rejected by the endpoint service"
	}
	j.r.Status = ep.Status
}

// waitGone waits until the endpoint id is gone (the API answers 404).
func (r *run) waitGone(j *job, id, prefix string) bool {
	if _, ok := r.wait(j, id, false, func(e *otc.Endpoint) bool { return e == nil }, prefix); !ok {
		return false
	}
	j.r.Status = "deleted"
	return true
}

// wait waits, holding no worker, until done is true for the endpoint id
// (nil: gone), for at most WaitTimeout. When it ends otherwise it records
// the error in j and returns false.
func (r *run) wait(j *job, id string, confirmGone bool, done func(*otc.Endpoint) bool, prefix string) (*otc.Endpoint, bool) {
	ctx, cancel := context.WithTimeout(r.dispatch, r.opts.WaitTimeout)
	defer cancel()
	ep, err := j.tg.poller.wait(ctx, id, confirmGone, done)
	if err == nil {
		return ep, true
	}
	status := j.r.Status
	if ep != nil {
		status = ep.Status
		j.r.Status = ep.Status
	}
	if r.dispatch.Err() != nil {
		j.r.Error = fmt.Sprintf("%s%s while waiting for %s (status %s)", prefix, r.stopped(), id, status)
	} else {
		j.r.Error = fmt.Sprintf("%stimed out after %s waiting for %s (status %s)", prefix, r.opts.WaitTimeout, id, status)
	}
	return ep, false
}
