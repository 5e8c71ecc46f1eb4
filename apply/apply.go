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
	DeleteEndpoint(ctx context.Context, id string) error
	GetEndpoint(ctx context.Context, id string) (*otc.Endpoint, error)
	ListEndpoints(ctx context.Context, opts otc.ListOptions) ([]otc.Endpoint, error)
	TagAction(ctx context.Context, id, action string, tags []otc.Tag) error
}

// Options configure a run.
type Options struct {
	Concurrency  int           // workers; default 16
	MaxRetries   int           // resends of a create after an ambiguous answer; default 8
	Wait         bool          // wait for creates (accepted/pendingAcceptance) and deletes (gone)
	WaitTimeout  time.Duration // per change; default 10m
	PollInterval time.Duration // status polls; default 5s
	FailFast     bool          // stop dispatching after the first failure
	Grace        time.Duration // after ctx is cancelled, requests in flight get this long; default 30s
	Logger       *slog.Logger
	Metrics      *Metrics
	Now          func() time.Time
	// Progress, when set, is called after each change with the counts so far.
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

// Run executes the plan's changes and returns the report. It never
// returns early: when ctx is cancelled it stops dispatching, lets what is
// in flight finish (bounded by Grace), and reports the rest as skipped.
func (a *Applier) Run(ctx context.Context, p *plan.Plan) *Report {
	o := a.opts
	rep := &Report{FormatVersion: ReportFormatVersion, StartedAt: o.Now().UTC(), Results: make([]Result, len(p.Changes))}

	// Requests run on work, which outlives ctx by Grace; dispatching and
	// waiting stop with dispatch.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var graceTimer *time.Timer
	var graceMu sync.Mutex
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
	dispatch, cancelDispatch := context.WithCancel(ctx)
	defer cancelDispatch()

	targets := map[plan.Target]*target{}
	var pollWG sync.WaitGroup
	pollCtx, stopPolls := context.WithCancel(work)
	for t, api := range a.clients {
		tg := &target{api: api, poller: newPoller(api, o.PollInterval, o.Logger)}
		targets[t] = tg
		pollWG.Add(1)
		go func() { defer pollWG.Done(); tg.poller.run(pollCtx) }()
	}

	var g errgroup.Group
	g.SetLimit(o.Concurrency)
	var done atomic.Int64
	total := len(p.Changes)
	finish := func(i int, r Result) {
		rep.Results[i] = r
		if o.Metrics != nil {
			o.Metrics.Changes.WithLabelValues(r.Action, r.result()).Inc()
		}
		n := done.Add(1)
		if o.Progress != nil {
			o.Progress(int(n), total)
		}
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		base := Result{Action: string(c.Action), Set: c.Set, Name: c.Name, ProjectID: c.ProjectID, ID: c.ID}
		if c.Current != nil {
			base.Status = c.Current.Status
		}
		tg := targets[c.Target()]
		switch {
		case c.Action == plan.Conflict || c.Action == plan.Noop:
			base.Error, base.skipped = "not acted on: "+c.Reason, true
			finish(i, base)
			continue
		case tg == nil:
			base.Error = "no client for target " + c.Target().String()
			finish(i, base)
			continue
		case dispatch.Err() != nil:
			base.Error, base.skipped = a.stopReason(ctx), true
			finish(i, base)
			continue
		}
		g.Go(func() error {
			if dispatch.Err() != nil {
				base.Error, base.skipped = a.stopReason(ctx), true
				finish(i, base)
				return nil
			}
			r := a.execute(work, dispatch, tg, c, base)
			a.logResult(r)
			finish(i, r)
			if r.Error != "" && !r.skipped && o.FailFast {
				cancelDispatch()
			}
			return nil
		})
	}
	_ = g.Wait()
	stopPolls()
	pollWG.Wait()
	rep.FinishedAt = o.Now().UTC()
	for _, r := range rep.Results {
		switch r.result() {
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

func (a *Applier) stopReason(ctx context.Context) string {
	if ctx.Err() != nil {
		return "not started: interrupted"
	}
	return "not started: --fail-fast stopped the run after a failure"
}

func (a *Applier) logResult(r Result) {
	attrs := []any{"action", r.Action, "set", r.Set, "name", r.Name, "id", r.ID, "status", r.Status, "attempts", r.Attempts}
	if r.Error != "" {
		a.opts.Logger.Warn("change failed", append(attrs, "err", r.Error)...)
		return
	}
	a.opts.Logger.Info("change done", attrs...)
}

// execute runs one change's steps in order. Requests use work; waits use
// wait (cancelled at once on interruption or fail-fast).
func (a *Applier) execute(work, wait context.Context, tg *target, c *plan.Change, r Result) Result {
	fail := func(err error) Result {
		r.Error = err.Error()
		return r
	}
	switch c.Action {
	case plan.Create:
		ep, n, err := a.create(work, tg, c)
		r.Attempts += n
		if err != nil {
			return fail(err)
		}
		r.ID, r.Status = ep.ID, ep.Status
		return a.waitReady(wait, tg, r)
	case plan.Tag, plan.Adopt:
		n, err := a.retag(work, tg, c)
		r.Attempts += n
		if err != nil {
			return fail(err)
		}
		return r
	case plan.Delete:
		r.Attempts++
		if err := tg.api.DeleteEndpoint(work, c.ID); err != nil && !otc.IsNotFound(err) {
			return fail(fmt.Errorf("delete %s: %w", c.ID, err))
		}
		r.Status = otc.StatusDeleting
		if a.opts.Wait {
			return a.waitGone(wait, tg, r, c.ID)
		}
		return r
	case plan.Replace:
		r.Attempts++
		if err := tg.api.DeleteEndpoint(work, c.ID); err != nil && !otc.IsNotFound(err) {
			return fail(fmt.Errorf("replace: delete %s: %w", c.ID, err))
		}
		// The new endpoint may take the old one's place (port IP, route
		// tables): wait until the old one is gone, whatever --wait says.
		if r = a.waitGone(wait, tg, r, c.ID); r.Error != "" {
			r.Error = "replace: " + r.Error
			return r
		}
		ep, n, err := a.create(work, tg, c)
		r.Attempts += n
		if err != nil {
			return fail(fmt.Errorf("replace: %w", err))
		}
		r.ID, r.Status = ep.ID, ep.Status
		return a.waitReady(wait, tg, r)
	}
	return fail(fmt.Errorf("unknown action %q", c.Action))
}

// ErrQuota is the reason of creates not sent after the quota was hit.
var ErrQuota = errors.New("endpoint quota exceeded (Endpoint.1018); not sent")

// create sends the create, and after an ambiguous answer looks for the
// endpoint by its name tag in the VPC before sending it again: no run can
// leave two endpoints for one name.
func (a *Applier) create(ctx context.Context, tg *target, c *plan.Change) (*otc.Endpoint, int, error) {
	attempts := 0
	for resend := 0; ; resend++ {
		if tg.quotaHit.Load() {
			return nil, attempts, fmt.Errorf("create %s/%s: %w", c.Set, c.Name, ErrQuota)
		}
		ep, n, err := tg.api.CreateEndpoint(ctx, c.Desired)
		attempts += n
		if err == nil {
			return ep, attempts, nil
		}
		if otc.IsQuotaExceeded(err) {
			tg.quotaHit.Store(true)
			return nil, attempts, fmt.Errorf("create %s/%s: %w", c.Set, c.Name, err)
		}
		if !otc.IsAmbiguous(err) || ctx.Err() != nil {
			return nil, attempts, fmt.Errorf("create %s/%s: %w", c.Set, c.Name, err)
		}
		a.opts.Logger.Info("create outcome unknown, looking for it before sending again",
			"set", c.Set, "name", c.Name, "attempt", attempts, "err", err)
		found, lerr := findOwned(ctx, tg.api, c.Desired.VPCID, c.Set, c.Name)
		if lerr != nil {
			return nil, attempts, fmt.Errorf("create %s/%s: outcome unknown (%v) and the check failed: %w", c.Set, c.Name, err, lerr)
		}
		if found != nil {
			return found, attempts, nil
		}
		if resend >= a.opts.MaxRetries {
			return nil, attempts, fmt.Errorf("create %s/%s: giving up after %d attempts: %w", c.Set, c.Name, attempts, err)
		}
		if a.opts.Metrics != nil {
			a.opts.Metrics.Retry(otc.OpCreate, "ambiguous")
		}
	}
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
// and the user tags, removing user tags no longer declared.
func (a *Applier) retag(ctx context.Context, tg *target, c *plan.Change) (int, error) {
	var cur []otc.Tag
	if c.Current != nil {
		cur = c.Current.Tags
	}
	add, del := plan.TagDiff(c.Desired.Tags, cur)
	n := 0
	if len(del) > 0 {
		tags := make([]otc.Tag, len(del))
		for i, k := range del {
			tags[i] = otc.Tag{Key: k}
		}
		n++
		if err := tg.api.TagAction(ctx, c.ID, "delete", tags); err != nil {
			return n, fmt.Errorf("%s %s/%s: remove tags: %w", c.Action, c.Set, c.Name, err)
		}
	}
	if len(add) > 0 {
		n++
		if err := tg.api.TagAction(ctx, c.ID, "create", add); err != nil {
			return n, fmt.Errorf("%s %s/%s: add tags: %w", c.Action, c.Set, c.Name, err)
		}
	}
	return n, nil
}

func (a *Applier) waitReady(ctx context.Context, tg *target, r Result) Result {
	if !a.opts.Wait || r.Status == otc.StatusAccepted || r.Status == otc.StatusPendingAcceptance {
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.WaitTimeout)
	defer cancel()
	ep, err := tg.poller.wait(ctx, r.ID, func(e *otc.Endpoint, gone bool) bool {
		return gone || e.Status != otc.StatusCreating
	})
	if ep != nil {
		r.Status = ep.Status
	}
	switch {
	case err != nil:
		r.Error = waitError(err, a.opts.WaitTimeout, r.Status)
	case ep == nil:
		r.Error, r.Status = "endpoint disappeared while it was being created", ""
	case ep.Status == otc.StatusFailed:
		r.Error = "endpoint failed"
		if len(ep.Error) > 0 {
			r.Error += ": " + ep.Error[0].ErrorCode + ": " + ep.Error[0].ErrorMessage
		}
	case ep.Status == otc.StatusRejected:
		r.Error = "endpoint rejected by the endpoint service"
	}
	return r
}

func (a *Applier) waitGone(ctx context.Context, tg *target, r Result, id string) Result {
	ctx, cancel := context.WithTimeout(ctx, a.opts.WaitTimeout)
	defer cancel()
	ep, err := tg.poller.wait(ctx, id, func(e *otc.Endpoint, gone bool) bool { return gone })
	if err != nil {
		if ep != nil {
			r.Status = ep.Status
		}
		r.Error = waitError(err, a.opts.WaitTimeout, r.Status)
		return r
	}
	r.Status = "deleted"
	return r
}

func waitError(err error, timeout time.Duration, status string) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("timed out after %s waiting (status %s)", timeout, status)
	}
	return fmt.Sprintf("stopped waiting (status %s): %v", status, err)
}
