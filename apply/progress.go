package apply

import (
	"time"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds what a run tells as it goes (Options.Progress): counts
// of the changes by state, and each change as it ends.

// Counts are the changes of a run by state.
type Counts struct {
	Total    int // in the plan, and those the end-of-run sweep added
	Started  int // held a worker at least once: under way or ended
	Waiting  int // waiting for a status (accepted, pendingAcceptance, gone)
	Done     int // ended, whatever the result
	Failed   int // ended failed
	Awaiting int // ended pendingAcceptance (awaiting the service owner's approval)
}

// InFlight is the number of changes under way and not waiting for a
// status: sending requests, or waiting for the rate limiter.
func (c Counts) InFlight() int { return max(c.Started-c.Waiting-c.Done, 0) }

// Event is one change of the counts: Result is set when a change ended
// (Took is how long since it started; 0 when it never did).
type Event struct {
	Counts Counts
	Result *Result
	Took   time.Duration
}

// event changes the counts with f and reports them. Calls are serialised.
func (r *run) event(res *Result, took time.Duration, f func(*Counts)) {
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	f(&r.counts)
	if r.opts.Progress != nil {
		r.opts.Progress(Event{Counts: r.counts, Result: res, Took: took})
	}
}

// started counts j as started, once.
func (r *run) started(j *job) {
	if !j.since.IsZero() {
		return
	}
	j.since = time.Now()
	r.event(nil, 0, func(c *Counts) { c.Started++ })
}

// waiting counts a wait for a status while f runs.
func (r *run) waiting(f func()) {
	r.event(nil, 0, func(c *Counts) { c.Waiting++ })
	defer r.event(nil, 0, func(c *Counts) { c.Waiting-- })
	f()
}

// claim reports whether j may adopt its endpoint: the first adopt of an
// endpoint in a run takes it; another declared endpoint that planned to
// adopt the same one (each set plans alone, whichever other sets are
// passed) is left a conflict, and the next plan creates its own.
func (r *run) claim(j *job) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	by, taken := r.adopted[j.c.ID]
	if !taken {
		r.adopted[j.c.ID] = j.c.Set + "/" + j.c.Name
		return true
	}
	j.r.Error, j.r.skipped, j.r.conflict = "not acted on: adopted by "+by+" in this run; the next plan creates its own", true, true
	return false
}

// resultOf is a change's result: succeeded, or awaiting approval for an
// endpoint that ended in pendingAcceptance.
func resultOf(status string) string {
	if status == vpcep.StatusPendingAcceptance {
		return AwaitingApproval
	}
	return Succeeded
}
