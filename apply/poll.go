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
// for the status of every endpoint being waited for, once per interval,
// through the target's client (and so its rate limiter), and looks for the
// endpoints of creates whose outcome was unknown (by VPC and name tag). A
// poll GETs each endpoint when that takes no more requests than listing
// the project would (and always up to fewGets endpoints); otherwise it
// lists the project, 1000 endpoints per page, so a large run polls with a
// few list pages instead of one GET per endpoint, however many endpoints
// it waits for. Looks list the VPCs concerned, or the project when there
// are more than fewGets VPCs.
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

// poller polls the status of the endpoints being waited for in one target.
type poller struct {
	api      API
	interval time.Duration
	bound    int // otc.ListOptions.MaxEndpoints
	settle   time.Duration
	log      *slog.Logger

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
}

// finder is one look for the endpoint carrying set and name tags.
type finder struct {
	set, name string
	ch        chan *vpcep.Endpoint
}

func newPoller(api API, interval time.Duration, bound int, log *slog.Logger) *poller {
	return &poller{api: api, interval: interval, bound: bound, settle: defaultGoneSettle, log: log,
		waiting: map[string][]*waiter{}, finds: map[string][]*finder{}}
}

// run polls until ctx ends.
func (p *poller) run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		ids := make([]string, 0, len(p.waiting))
		confirm := map[string]bool{}
		for id, ws := range p.waiting {
			ids = append(ids, id)
			for _, w := range ws {
				if w.confirmGone {
					confirm[id] = true
				}
			}
		}
		vpcs := make([]string, 0, len(p.finds))
		for vpc := range p.finds {
			vpcs = append(vpcs, vpc)
		}
		p.mu.Unlock()
		if len(ids) == 0 && len(vpcs) == 0 {
			continue
		}
		seen, inVPC, err := p.poll(ctx, ids, confirm, vpcs)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Debug("status poll failed; polling again", "waiting", len(ids), "looking", len(vpcs), "err", err)
			}
			continue
		}
		p.deliver(seen, inVPC)
	}
}

// poll returns the state of each id it learnt something about (the
// endpoint, or nil when GET answered 404 or a list no longer shows a
// deleted one) and the endpoints of each VPC looked in.
func (p *poller) poll(ctx context.Context, ids []string, confirm map[string]bool, vpcs []string) (map[string]*vpcep.Endpoint, map[string][]vpcep.Endpoint, error) {
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
