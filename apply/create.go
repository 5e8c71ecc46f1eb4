package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds the duplicate-proof create. Policy: a create is not
// idempotent, and when its outcome is unknown (a timeout, a reset, a 5xx
// after it was sent, an unusable success answer) the endpoint may exist,
// and the back end may commit it long after the answer was lost. So before
// a create is sent again, apply looks for the endpoint by its name tag in
// its VPC, first after CheckDelay, then with the target's status polls,
// until CommitWindow has passed since the answer, and once more at the
// end. Resends have their own small budget (Resends), apart from the HTTP
// retries. A create is never reported failed while an endpoint with its
// name is known to exist. What a late commit still doubles after all this,
// the end-of-run sweep removes (sweep.go).

// create sends the change's create and reports whether the endpoint
// exists; its id and status are in j.r. looking bounds the look-ups after
// an unknown outcome: the run's dispatch context for a create (a stopped
// run looks once and gives up), the work context for a replace (which
// must go on within Grace).
func (r *run) create(j *job, looking context.Context) bool {
	c, tg := j.c, j.tg
	name := c.Set + "/" + c.Name
	unknown := false // an earlier send's outcome is unknown
	for send := 0; ; send++ {
		var ep *vpcep.Endpoint
		var cerr error
		err := r.step(j, func(ctx context.Context) error {
			var n int
			ep, n, cerr = tg.api.CreateEndpoint(ctx, c.Desired)
			j.r.Attempts += n
			switch {
			case cerr == nil:
				return nil
			case errors.Is(cerr, otc.ErrNotSent):
				return cerr
			case otc.IsQuotaExceeded(cerr):
				r.hitQuota(tg) // the target's changes not yet started do not start
			case otc.IsAmbiguous(cerr) && r.work.Err() != nil:
				return fmt.Errorf("create %s: the grace period ended before the answer came; "+
					"the endpoint may exist (the next run finds it by its tags): %w", name, cerr)
			case otc.IsAmbiguous(cerr):
				return nil // look for it below
			}
			return fmt.Errorf("create %s: %w", name, cerr)
		})
		switch {
		case errors.Is(err, errNotStarted):
			r.notStarted(j)
			return false
		case err != nil && unknown:
			// A resend refused (the port IP or route table in use, the
			// quota): maybe by the endpoint an earlier send made.
			if found, _ := r.lookOnce(j); found != nil {
				j.r.ID, j.r.Status = found.ID, found.Status
				return true
			}
			j.r.Error = err.Error()
			return false
		case err != nil:
			j.r.Error = err.Error()
			return false
		case cerr == nil:
			j.r.ID, j.r.Status = ep.ID, ep.Status
			return true
		}

		// The outcome is unknown.
		unknown = true
		r.noteAmbiguous()
		r.opts.Logger.Info("create outcome unknown, looking for it before sending it again",
			"set", c.Set, "name", c.Name, "attempts", j.r.Attempts, "window", r.opts.CommitWindow, "err", cerr)
		found, err := r.lookFor(j, looking)
		switch {
		case err != nil:
			j.r.Error = fmt.Sprintf("create %s: outcome unknown (%v) and the look for it failed: %v", name, cerr, err)
			return false
		case found != nil:
			j.r.ID, j.r.Status = found.ID, found.Status
			return true
		case looking.Err() != nil:
			j.r.Error = fmt.Sprintf("create %s: outcome unknown (%v), not found, not sent again: %s; "+
				"a late commit is found by the next run by its tags", name, cerr, r.stopped())
			return false
		case send >= r.opts.Resends:
			j.r.Error = fmt.Sprintf("create %s: outcome unknown after %d sends and not found within %s of each: %v",
				name, send+1, r.opts.CommitWindow, cerr)
			return false
		}
		if rec := r.opts.Recorder; rec != nil {
			rec.Retry(otc.OpCreate, "ambiguous")
		}
		r.opts.Logger.Info("create not found within the commit window, sending it again", "set", c.Set, "name", c.Name)
	}
}

// noteAmbiguous records that a create's outcome was unknown now: the
// end-of-run sweep waits CommitWindow after the last one.
func (r *run) noteAmbiguous() {
	r.mu.Lock()
	r.ambiguous = time.Now()
	r.mu.Unlock()
}

// lookFor looks for the change's endpoint (its set and name tags in its
// VPC) until CommitWindow has passed or looking ends: once after
// CheckDelay, then with the target's status polls, then once more. It
// returns the endpoint (the keeper, when several carry the name), or nil.
func (r *run) lookFor(j *job, looking context.Context) (*vpcep.Endpoint, error) {
	c, tg := j.c, j.tg
	deadline := time.Now().Add(r.opts.CommitWindow)
	_ = sleep(looking, r.opts.CheckDelay) // when stopped, look at once
	if e, err := r.lookOnce(j); e != nil || err != nil || looking.Err() != nil {
		return e, err
	}
	wctx, cancel := context.WithDeadline(looking, deadline)
	defer cancel()
	if e := tg.poller.find(wctx, c.Desired.VPCID, c.Set, c.Name); e != nil {
		return e, nil
	}
	return r.lookOnce(j)
}

// lookOnce looks for the change's endpoint once, holding a worker even when
// the run has stopped (the report must name every endpoint that exists).
func (r *run) lookOnce(j *job) (*vpcep.Endpoint, error) {
	var e *vpcep.Endpoint
	var err error
	r.stepAlways(func(ctx context.Context) {
		e, err = findOwned(ctx, j.tg.api, j.c.Desired.VPCID, j.tg.bound, j.c.Set, j.c.Name)
	})
	return e, err
}

// findOwned looks for the endpoint carrying set and name tags in a VPC
// (the keeper, when several do; none that is being deleted).
func findOwned(ctx context.Context, api API, vpcID string, bound int, set, name string) (*vpcep.Endpoint, error) {
	eps, err := api.ListEndpoints(ctx, otc.ListOptions{VPCID: vpcID, MaxEndpoints: bound})
	if err != nil {
		return nil, err
	}
	return keeperOf(eps, set, name), nil
}

// keeperOf returns the endpoint of eps that carries set and name and is
// not being deleted, by the keeper rule (plan.Keeper), or nil.
func keeperOf(eps []vpcep.Endpoint, set, name string) *vpcep.Endpoint {
	var best *vpcep.Endpoint
	for i := range eps {
		e := &eps[i]
		s, _ := e.TagValue(manifests.TagSet)
		n, _ := e.TagValue(manifests.TagName)
		if s == set && n == name && e.Status != vpcep.StatusDeleting && (best == nil || plan.Keeper(e, best) < 0) {
			best = e
		}
	}
	return best
}
