package apply

// This file holds the stop policy (DESIGN.md "Apply"). Stop means stop:
// after the caller's context ends (SIGINT, SIGTERM, --timeout), after a
// failure with --fail-fast, or, in one target, after its quota error, no
// change that has not sent its first request sends one: each change's
// requests carry its gate until one may have taken effect (otc.WithGate,
// checked after the rate limiter's wait); requests in flight finish within
// Grace. A replace whose delete was accepted goes on to its create
// regardless (within Grace). An endpoint that exists but whose wait was cut
// short is reported with its last status, never as failed for that reason.

import (
	"context"
	"errors"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
)

// notStarted marks a change skipped because the run (or its target)
// stopped before it sent anything, and says why.
func (r *run) notStarted(j *job) {
	j.r.skipped = true
	r.mu.Lock()
	quota := j.tg.quotaHit
	r.mu.Unlock()
	switch {
	case r.ctx.Err() != nil:
		j.r.Error = "not started: interrupted"
	case quota && r.dispatch.Err() == nil:
		j.r.Error = "not started: the endpoint quota of " + j.tg.t.String() + " is reached (Endpoint.1018)"
	default:
		j.r.Error = "not started: --fail-fast stopped the run after a failure"
	}
}

// stopped describes why the run stopped, for a change already under way.
func (r *run) stopped() string {
	if r.ctx.Err() != nil {
		return "interrupted"
	}
	return "stopped by --fail-fast after another change failed"
}

// hitQuota closes the target's gate after its quota error: the changes of
// the target that have not started do not start.
func (r *run) hitQuota(tg *target) {
	r.mu.Lock()
	tg.quotaHit = true
	r.mu.Unlock()
	tg.closeGate()
}

// errNotStarted is returned by step when the change's first request was
// not sent because the run (or its target) stopped first.
var errNotStarted = errors.New("not started")

// step runs f holding a worker slot. Until the change has sent a request,
// f's context carries the target's gate: a run stopped before the slot was
// free, or while f's first request waited for the rate limiter, sends
// nothing, and step returns errNotStarted. f returns an error only when
// the change has failed (or otc.ErrNotSent); with --fail-fast the run
// stops before the slot is given to another change. Requests use r.work,
// which outlives an interruption by Grace.
func (r *run) step(j *job, f func(ctx context.Context) error) error {
	var err error
	done := make(chan struct{})
	r.workers.Go(func() error {
		defer close(done)
		j.markStarted()
		r.started(j)
		ctx := r.work
		if !j.begun {
			if j.gate.Err() != nil {
				err = errNotStarted
				return nil
			}
			ctx = otc.WithGate(r.work, j.gate)
		}
		err = f(ctx)
		if errors.Is(err, otc.ErrNotSent) && !j.begun {
			err = errNotStarted
			return nil
		}
		j.begun = true
		if err != nil && r.opts.FailFast {
			r.stop()
		}
		return nil
	})
	<-done
	return err
}

// stepAlways runs f holding a worker slot even when the run has stopped:
// for the read-only look-ups that tell whether a create already sent took
// effect (the report must name every endpoint that exists).
func (r *run) stepAlways(f func(ctx context.Context)) {
	done := make(chan struct{})
	r.workers.Go(func() error {
		defer close(done)
		f(r.work)
		return nil
	})
	<-done
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
