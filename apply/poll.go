package apply

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds the status polling policy: one poller per target asks
// for the status of the endpoints being waited for, through the target's
// client (and so its rate limiter), and looks for the
// endpoints of creates whose outcome was unknown (by VPC and name tag). A
// poll GETs each endpoint when that takes no more requests than listing
// the project would (and always up to fewGets endpoints); otherwise it
// lists the project, 1000 endpoints per page, so a large run polls with a
// few list pages instead of one GET per endpoint, however many endpoints
// it waits for. Looks list the VPCs concerned, or the project when there
// are more than fewGets VPCs.
//
// Policy on timing: polls start soon and back off. Each wait or look is
// first due firstPoll after it began, then after gaps that double up to
// the poll interval (--poll-interval). A poll covers what is due, and
// everything else a listing happens to show; polls of a target are at
// least minGap apart, so that a stream of new waits does not turn into a
// stream of polls.
//
// Policy on "gone": an endpoint just created may be missing from a read
// that lags behind the write (GET answers 404 for a moment). So a created
// endpoint counts as gone only when GET answers 404 again after goneSettle
// has passed since the first 404; a list that does not show it only makes
// the poller GET it.

// fewGets is the number of waited endpoints up to which a poll always GETs
// each one (and of VPCs a look lists one by one).
const fewGets = 3

// listPage is the page size of the list call.
const listPage = 1000

// defaultGoneSettle is how long GET must keep answering 404 for a created
// endpoint before it counts as gone.
const defaultGoneSettle = 15 * time.Second

// firstPoll is when a wait's first poll is due.
const firstPoll = time.Second

// schedule is when a wait or a look is next due, and the gap after that.
type schedule struct {
	due time.Time
	gap time.Duration
}

// poller polls the status of the endpoints being waited for in one target.
type poller struct {
	api      API
	interval time.Duration // the longest gap between two polls of one wait
	first    time.Duration // a wait's first poll is due this long after it began
	minGap   time.Duration // between two polls of the target
	bound    int           // otc.ListOptions.MaxEndpoints
	settle   time.Duration
	log      *slog.Logger
	wake     chan struct{} // a wait or look began

	mu      sync.Mutex
	waiting map[string][]*waiter
	finds   map[string][]*finder // by VPC id, lower case
	listed  int                  // endpoints in the last listing (poll goroutine only)
}

// waiter is one wait for one endpoint.
type waiter struct {
	done func(e *vpcep.Endpoint) bool // e is nil when the endpoint is gone
	// confirmGone asks for GET to answer 404 twice, goneSettle apart,
	// before the endpoint counts as gone (a create must not be reported
	// lost on a read that lags behind).
	confirmGone bool
	ch          chan *vpcep.Endpoint // receives the final endpoint (nil: gone)
	last        *vpcep.Endpoint      // last seen; guarded by poller.mu
	missing     time.Time            // first 404 of a confirmGone wait; guarded by poller.mu
	schedule                         // guarded by poller.mu
}

// finder is one look for the endpoint carrying set and name tags.
type finder struct {
	set, name string
	ch        chan *vpcep.Endpoint
	schedule  // guarded by poller.mu
}

// newPoller returns the poller of a target whose requests go at rate
// (requests/s) at most: polls are at least 10/rate apart (polls take at
// most a tenth of the target's requests), between half a second and two,
// and never further apart than interval.
func newPoller(api API, interval time.Duration, rate float64, bound int, log *slog.Logger) *poller {
	minGap := time.Second
	if rate > 0 {
		minGap = min(max(time.Duration(10/rate*float64(time.Second)), 500*time.Millisecond), 2*time.Second)
	}
	return &poller{api: api, interval: interval, first: min(firstPoll, interval), minGap: min(minGap, interval),
		bound: bound, settle: defaultGoneSettle, log: log, wake: make(chan struct{}, 1),
		waiting: map[string][]*waiter{}, finds: map[string][]*finder{}}
}

// begin schedules a new wait or look and wakes the poll loop. Callers hold
// mu.
func (p *poller) begin(s *schedule) {
	s.gap = p.first
	s.due = time.Now().Add(s.gap)
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// dueBy reports whether s is due by t, and if so schedules its next poll
// after now. Callers hold mu.
func (p *poller) dueBy(s *schedule, t, now time.Time) bool {
	if s.due.After(t) {
		return false
	}
	s.gap = min(2*s.gap, p.interval)
	s.due = now.Add(s.gap)
	return true
}

// run polls until ctx ends.
func (p *poller) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var last time.Time
	for {
		next := p.next()
		var wait <-chan time.Time
		if !next.IsZero() {
			timer.Reset(max(time.Until(next), time.Until(last.Add(p.minGap)), 0))
			wait = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
			timer.Stop()
			continue // a new wait: it may be due earlier
		case <-wait:
		}
		last = time.Now()
		ids, others, confirm, vpcs := p.collect(last)
		if len(ids) == 0 && len(vpcs) == 0 {
			continue
		}
		seen, inVPC, err := p.poll(ctx, ids, others, confirm, vpcs)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Debug("status poll failed; polling again", "waiting", len(ids), "looking", len(vpcs), "err", err)
			}
			continue
		}
		p.deliver(seen, inVPC)
	}
}

// next returns when the next wait or look is due (zero: none).
func (p *poller) next() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var next time.Time
	for _, ws := range p.waiting {
		for _, w := range ws {
			if next.IsZero() || w.due.Before(next) {
				next = w.due
			}
		}
	}
	for _, fs := range p.finds {
		for _, f := range fs {
			if next.IsZero() || f.due.Before(next) {
				next = f.due
			}
		}
	}
	return next
}

// collect returns what a poll at now covers: the ids due within half a
// minimum gap (whose next polls it schedules), the ids of the other waits
// (a listing delivers them too), the ids whose absence must be confirmed,
// and the VPCs to look in (all of them once one is due).
func (p *poller) collect(now time.Time) (ids, others []string, confirm map[string]bool, vpcs []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	by := now.Add(p.minGap / 2)
	confirm = map[string]bool{}
	for id, ws := range p.waiting {
		due := false
		for _, w := range ws {
			due = p.dueBy(&w.schedule, by, now) || due
			if w.confirmGone {
				confirm[id] = true
			}
		}
		if due {
			ids = append(ids, id)
		} else {
			others = append(others, id)
		}
	}
	anyDue := false
	for _, fs := range p.finds {
		for _, f := range fs {
			anyDue = p.dueBy(&f.schedule, by, now) || anyDue
		}
	}
	if anyDue {
		for vpc := range p.finds {
			vpcs = append(vpcs, vpc)
		}
	}
	return ids, others, confirm, vpcs
}

// poll returns the state of each id it learnt something about (the
// endpoint, or nil when GET answered 404 or a list no longer shows a
// deleted one) and the endpoints of each VPC looked in. others are only
// reported when a listing shows them.
func (p *poller) poll(ctx context.Context, ids, others []string, confirm map[string]bool, vpcs []string) (map[string]*vpcep.Endpoint, map[string][]vpcep.Endpoint, error) {
	out := make(map[string]*vpcep.Endpoint, len(ids))
	inVPC := make(map[string][]vpcep.Endpoint, len(vpcs))
	get := func(id string) error {
		e, err := p.api.GetEndpoint(ctx, id)
		switch {
		case otc.IsNotFound(err):
			out[id] = nil
		case err != nil:
			return err
		default:
			out[id] = e
		}
		return nil
	}
	if len(ids) <= max(fewGets, (p.listed+listPage-1)/listPage) && len(vpcs) <= fewGets {
		for _, vpc := range vpcs {
			eps, err := p.api.ListEndpoints(ctx, otc.ListOptions{VPCID: vpc, MaxEndpoints: p.bound})
			if err != nil {
				return nil, nil, err
			}
			inVPC[vpc] = eps
		}
		for _, id := range ids {
			if err := get(id); err != nil {
				return nil, nil, err
			}
		}
		return out, inVPC, nil
	}
	eps, err := p.api.ListEndpoints(ctx, otc.ListOptions{MaxEndpoints: p.bound})
	if err != nil {
		return nil, nil, err
	}
	p.listed = len(eps)
	byID := make(map[string]*vpcep.Endpoint, len(eps))
	for i := range eps {
		byID[eps[i].ID] = &eps[i]
		if vpc := strings.ToLower(eps[i].VPCID); len(vpcs) > 0 {
			inVPC[vpc] = append(inVPC[vpc], eps[i])
		}
	}
	for _, vpc := range vpcs {
		if inVPC[vpc] == nil {
			inVPC[vpc] = []vpcep.Endpoint{}
		}
	}
	for _, id := range others {
		if e, ok := byID[id]; ok {
			out[id] = e
		}
	}
	var missing []string
	for _, id := range ids {
		if e, ok := byID[id]; ok {
			out[id] = e
		} else if confirm[id] {
			missing = append(missing, id)
		} else {
			out[id] = nil
		}
	}
	// A few at a time: a list that lags behind must not turn into a storm
	// of GETs; the others are looked for again at the next poll.
	for _, id := range missing[:min(len(missing), fewGets)] {
		if err := get(id); err != nil {
			p.log.Debug("status poll: GET of an endpoint missing from the list failed", "id", id, "err", err)
		}
	}
	return out, inVPC, nil
}

// deliver hands the poll results to the waiters that are done and the
// finders whose endpoint appeared.
func (p *poller) deliver(seen map[string]*vpcep.Endpoint, inVPC map[string][]vpcep.Endpoint) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, e := range seen {
		ws := p.waiting[id]
		keep := ws[:0]
		for _, w := range ws {
			if e != nil {
				w.last, w.missing = e, time.Time{}
			} else if w.confirmGone {
				if w.missing.IsZero() {
					w.missing = now
				}
				if now.Sub(w.missing) < p.settle {
					keep = append(keep, w)
					continue
				}
			}
			if w.done(e) {
				w.ch <- e
				continue
			}
			keep = append(keep, w)
		}
		if len(keep) == 0 {
			delete(p.waiting, id)
		} else {
			p.waiting[id] = keep
		}
	}
	for vpc, eps := range inVPC {
		fs := p.finds[vpc]
		keep := fs[:0]
		for _, f := range fs {
			if e := keeperOf(eps, f.set, f.name); e != nil {
				f.ch <- e
				continue
			}
			keep = append(keep, f)
		}
		if len(keep) == 0 {
			delete(p.finds, vpc)
		} else {
			p.finds[vpc] = keep
		}
	}
}

// wait blocks until done is true for a poll result of id, or ctx ends. It
// returns the endpoint done was true for (nil: gone), or the last one seen
// and ctx's error.
func (p *poller) wait(ctx context.Context, id string, confirmGone bool, done func(e *vpcep.Endpoint) bool) (*vpcep.Endpoint, error) {
	w := &waiter{done: done, confirmGone: confirmGone, ch: make(chan *vpcep.Endpoint, 1)}
	p.mu.Lock()
	p.waiting[id] = append(p.waiting[id], w)
	p.begin(&w.schedule)
	p.mu.Unlock()
	select {
	case e := <-w.ch:
		return e, nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case e := <-w.ch: // delivered meanwhile
		return e, nil
	default:
	}
	p.waiting[id] = remove(p.waiting[id], w)
	if len(p.waiting[id]) == 0 {
		delete(p.waiting, id)
	}
	return w.last, ctx.Err()
}

// find blocks until a poll finds the endpoint carrying set and name in the
// VPC (by the keeper rule), or ctx ends (nil).
func (p *poller) find(ctx context.Context, vpc, set, name string) *vpcep.Endpoint {
	vpc = strings.ToLower(vpc)
	f := &finder{set: set, name: name, ch: make(chan *vpcep.Endpoint, 1)}
	p.mu.Lock()
	p.finds[vpc] = append(p.finds[vpc], f)
	p.begin(&f.schedule)
	p.mu.Unlock()
	select {
	case e := <-f.ch:
		return e
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case e := <-f.ch:
		return e
	default:
	}
	p.finds[vpc] = remove(p.finds[vpc], f)
	if len(p.finds[vpc]) == 0 {
		delete(p.finds, vpc)
	}
	return nil
}

// remove returns s without x (a new slice: delivery may hold the old one).
func remove[T comparable](s []T, x T) []T {
	out := make([]T, 0, len(s))
	for _, v := range s {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}
