package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds the steps of the changes other than create: tags,
// deletes, and the waits for an endpoint's status.

// retag makes the endpoint's tags those of the desired body: our own tags
// and the user tags, removing tags no longer declared (as plan compares
// them, so the next plan finds nothing to do). Tags are added before
// others are removed, so a failure half-way never leaves an endpoint
// without its ownership tags; unless adding first would pass the API's
// limit of 20 tags.
func (r *run) retag(ctx context.Context, j *job) error {
	c := j.c
	var cur []vpcep.Tag
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
		tags := make([]vpcep.Tag, len(del))
		for i, k := range del {
			// With the value it has: a delete matches key and value.
			tags[i] = vpcep.Tag{Key: k, Value: have[k]}
		}
		n, err := j.tg.api.TagAction(ctx, c.ID, "delete", tags)
		j.r.Attempts += n
		return tagError(c, "remove tags", err)
	}
	addTags := func() error {
		if len(add) == 0 {
			return nil
		}
		n, err := j.tg.api.TagAction(ctx, c.ID, "create", add)
		j.r.Attempts += n
		return tagError(c, "add tags", err)
	}
	steps := []func() error{addTags, remove}
	if len(cur)+newKeys > maxTags {
		steps = []func() error{remove, addTags}
	}
	for i, s := range steps {
		if err := s(); err != nil {
			return err
		}
		if i == 0 {
			ctx = otc.WithGate(ctx, nil) // the change is under way: its second call goes on
		}
	}
	return nil
}

// tagError wraps a tag call's error; otc.ErrNotSent passes unwrapped for
// step to see.
func tagError(c *plan.Change, what string, err error) error {
	if err == nil || errors.Is(err, otc.ErrNotSent) {
		return err
	}
	return fmt.Errorf("%s %s/%s: %s: %w", c.Action, c.Set, c.Name, what, err)
}

// maxTags is the API's limit of tags per endpoint.
const maxTags = 20

// Error codes delete answers with for endpoints in transition.
const (
	codeBeingDeleted = "EndPoint.2018"
	codeBeingCreated = "EndPoint.2019"
)

// delete deletes the change's endpoint (c.ID). An endpoint already gone
// or being deleted counts as deleted (a resent delete whose first answer
// was lost gets one of those); one still being created is waited for and
// deleted then. It reports whether the delete was accepted.
func (r *run) delete(j *job, prefix string) bool {
	id := j.c.ID
	for try := 0; ; try++ {
		var derr error
		err := r.step(j, func(ctx context.Context) error {
			var n int
			n, derr = j.tg.api.DeleteEndpoint(ctx, id)
			j.r.Attempts += n
			var ae *otc.APIError
			switch {
			case derr == nil, otc.IsNotFound(derr):
				return nil
			case errors.Is(derr, otc.ErrNotSent):
				return derr
			case errors.As(derr, &ae) && (ae.CodeIs(codeBeingDeleted) || ae.CodeIs(codeBeingCreated) && try == 0):
				return nil
			}
			return fmt.Errorf("%sdelete %s: %w", prefix, id, derr)
		})
		var ae *otc.APIError
		errors.As(derr, &ae)
		switch {
		case errors.Is(err, errNotStarted):
			r.notStarted(j)
			return false
		case err != nil:
			j.r.Error = err.Error()
			return false
		case derr == nil, otc.IsNotFound(derr), ae != nil && ae.CodeIs(codeBeingDeleted):
			j.r.Status = vpcep.StatusDeleting
			return true
		}
		// Still being created: wait until it settles, then delete it. Being
		// new, it may be missing from a read that lags: confirmed gone only
		// by a list of its VPC.
		vpc := ""
		if j.c.Current != nil {
			vpc = j.c.Current.VPCID
		}
		ep, ok := r.wait(j, id, vpc, r.dispatch, func(e *vpcep.Endpoint) bool { return e == nil || e.Status != vpcep.StatusCreating }, prefix)
		if !ok {
			if j.r.Error == "" { // the wait was cut short: it was not deleted
				j.r.Error = fmt.Sprintf("%sdelete %s: %s while it was still being created", prefix, id, r.stopped())
			}
			return false
		}
		if ep == nil {
			j.r.Status = vpcep.StatusDeleting
			return true
		}
	}
}

// waitReady waits, with --wait, until the created endpoint j.r.ID settles:
// accepted or pendingAcceptance succeed; failed (with the API's error
// code) and rejected fail. A wait cut short by a stop leaves the last
// status seen and no error: the endpoint exists. An endpoint deleted while
// it is created (the sweep of an overlapping run, which keeps an older
// endpoint of the name) hands over to the name's keeper.
func (r *run) waitReady(j *job, prefix string) {
	settled := func(e *vpcep.Endpoint) bool { return e == nil || e.Status != vpcep.StatusCreating }
	for !(!r.opts.Wait || j.r.Status == vpcep.StatusAccepted || j.r.Status == vpcep.StatusPendingAcceptance) {
		ep, ok := r.wait(j, j.r.ID, j.c.Desired.VPCID, r.dispatch, settled, prefix)
		if !ok {
			return
		}
		switch {
		case ep == nil || ep.Status == vpcep.StatusDeleting:
			keep, err := r.lookOnce(j)
			if err != nil || keep == nil || keep.ID == j.r.ID {
				j.r.Error = prefix + "endpoint deleted while it was being created, and no other endpoint has its name"
				j.r.Status = ""
				if ep != nil {
					j.r.Status = ep.Status
				}
				return
			}
			j.r.ID, j.r.Status = keep.ID, keep.Status
			j.r.Error = keeperError(keep)
			continue // wait for the keeper
		case ep.Status == vpcep.StatusFailed:
			j.r.Error = prefix + "endpoint failed"
			if len(ep.Error) > 0 {
				j.r.Error += ": " + ep.Error[0].ErrorCode + ": " + ep.Error[0].ErrorMessage
			}
		case ep.Status == vpcep.StatusRejected:
			j.r.Error = prefix + "endpoint rejected by the endpoint service"
		}
		j.r.Status = ep.Status
		return
	}
}

// approve accepts the connection of an owned endpoint awaiting the
// approval of a service the same project owns, and (with --wait) waits
// until it is accepted.
func (r *run) approve(j *job) {
	c := j.c
	if c.Current == nil {
		j.r.Error = "approve: no current endpoint in the plan"
		return
	}
	r.accept(j, c.Current.EndpointServiceID, c.ID, "approve: ")
}

// approveCreated handles a created endpoint that ended awaiting the
// approval of a service the same project owns: with --approve its
// connection is accepted (and waited for) in this run; without, the
// result says --approve would (the next plan shows it as a conflict that
// names the flag, and the run exits 4 as it would then). Whether the
// project owns the service is asked once per service, however many jobs
// wait for the answer; when it cannot be told, the endpoint stays
// awaiting approval.
func (r *run) approveCreated(j *job, prefix string) {
	if j.r.Status != vpcep.StatusPendingAcceptance || j.r.Error != "" || j.c.Desired == nil {
		return
	}
	svc := j.c.Desired.EndpointServiceID
	key := j.tg.t.String() + "/" + strings.ToLower(svc)
	r.mu.Lock()
	ask := r.owns[key]
	if ask == nil { // the first job to ask asks for all (one request, not one per worker)
		ask = sync.OnceValues(func() (owned bool, err error) {
			err = r.step(j, func(ctx context.Context) (err error) {
				owned, err = j.tg.api.OwnsService(ctx, svc)
				return err
			})
			return owned, err
		})
		r.owns[key] = ask
	}
	r.mu.Unlock()
	owned, err := ask()
	if err != nil {
		r.opts.Logger.Warn("cannot tell whether this project owns the endpoint service; the endpoint awaits approval",
			"set", j.c.Set, "name", j.c.Name, "service", svc, "err", err)
		return
	}
	switch {
	case !owned:
	case !r.acceptCreated:
		j.r.ownApproval = true
	default:
		r.accept(j, svc, j.r.ID, prefix+"approve: ")
	}
}

// accept accepts the connection of endpoint id to service svc and (with
// --wait) waits until the endpoint is accepted.
func (r *run) accept(j *job, svc, id, prefix string) {
	err := r.step(j, func(ctx context.Context) error {
		n, err := j.tg.api.AcceptConnection(ctx, svc, id)
		j.r.Attempts += n
		if err != nil {
			return fmt.Errorf("%s%w", prefix, err)
		}
		return nil
	})
	switch {
	case errors.Is(err, errNotStarted):
		r.notStarted(j)
		return
	case err != nil:
		j.r.Error = err.Error()
		return
	}
	j.r.Status = vpcep.StatusPendingAcceptance
	if !r.opts.Wait {
		return
	}
	accepted := func(e *vpcep.Endpoint) bool { return e == nil || e.Status != vpcep.StatusPendingAcceptance }
	ep, ok := r.wait(j, id, "", r.dispatch, accepted, prefix)
	switch {
	case !ok:
	case ep == nil:
		j.r.Status, j.r.Error = "", prefix+"the endpoint is gone"
	case ep.Status != vpcep.StatusAccepted:
		j.r.Status, j.r.Error = ep.Status, prefix+"the endpoint is "+ep.Status+", not accepted"
	default:
		j.r.Status = ep.Status
	}
}

// waitGone waits until the endpoint id is gone (the API answers 404), for
// at most WaitTimeout or until waiting ends. A wait cut short leaves the
// status deleting and no error, unless prefix says what it was for (a
// replace, which cannot go on without it).
func (r *run) waitGone(j *job, id string, waiting context.Context, prefix string) bool {
	_, ok := r.wait(j, id, "", waiting, func(e *vpcep.Endpoint) bool { return e == nil }, prefix)
	if !ok {
		if j.r.Error == "" && prefix != "" {
			j.r.Error = fmt.Sprintf("%s%s while waiting for %s to be gone (status %s)", prefix, r.stopped(), id, j.r.Status)
		}
		return false
	}
	j.r.Status = "deleted"
	return true
}

// wait waits, holding no worker, until done is true for the endpoint id
// (nil: gone), for at most WaitTimeout or until waiting ends. With vpc
// given, the endpoint is new and may be missing from a read that lags
// behind: the poller waits for GET to answer 404 twice, a settle window
// apart, and a list of the VPC, which does not lag, must not show it
// either. It returns the endpoint done was true for and true; or false,
// with j.r.Status the last status seen and j.r.Error set when the wait
// timed out (a wait that waiting cut short is no failure: the endpoint
// exists).
func (r *run) wait(j *job, id, vpc string, waiting context.Context, done func(*vpcep.Endpoint) bool, prefix string) (*vpcep.Endpoint, bool) {
	ctx, cancel := context.WithTimeout(waiting, r.opts.WaitTimeout)
	defer cancel()
	for {
		var ep *vpcep.Endpoint
		var err error
		r.waiting(func() { ep, err = j.tg.poller.wait(ctx, id, vpc != "", done) })
		if err == nil && ep == nil && vpc != "" {
			var eps []vpcep.Endpoint
			var lerr error
			r.stepAlways(func(lctx context.Context) {
				eps, lerr = j.tg.api.ListEndpoints(lctx, otc.ListOptions{VPCID: vpc, MaxEndpoints: j.tg.bound})
			})
			if i := slices.IndexFunc(eps, func(e vpcep.Endpoint) bool { return e.ID == id }); lerr == nil && i >= 0 {
				if done(&eps[i]) {
					return &eps[i], true
				}
				j.r.Status = eps[i].Status
				continue // listed: GET lags behind; wait on
			}
		}
		if err == nil {
			return ep, true
		}
		if ep != nil {
			j.r.Status = ep.Status
		}
		if waiting.Err() == nil {
			j.r.Error = fmt.Sprintf("%stimed out after %s waiting for %s (status %s)", prefix, r.opts.WaitTimeout, id, j.r.Status)
		}
		return ep, false
	}
}
