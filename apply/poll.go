package apply

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
)

// This file holds the status polling policy: one poller per target asks
// for the status of every endpoint being waited for, once per interval,
// through the target's client (and so its rate limiter). A poll GETs each
// endpoint when that takes no more requests than listing the project would
// (and always up to fewGets endpoints); otherwise it lists the project,
// 1000 endpoints per page, so a large run polls with a few list pages
// instead of one GET per endpoint, however many endpoints it waits for.

// fewGets is the number of waited endpoints up to which a poll always GETs
// each one.
const fewGets = 3

// listPage is the page size of the list call.
const listPage = 1000

// poller polls the status of the endpoints being waited for in one target.
type poller struct {
	api      API
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	waiting map[string][]*waiter
	listed  int // endpoints in the last listing (poll goroutine only)
}

// waiter is one wait for one endpoint.
type waiter struct {
	done func(e *otc.Endpoint) bool // e is nil when the endpoint is gone
	// confirmGone asks for a GET before an endpoint missing from a list is
	// reported gone (a create must not be reported lost on a list that
	// lags behind).
	confirmGone bool
	ch          chan *otc.Endpoint // receives the final endpoint (nil: gone)
	last        *otc.Endpoint      // last seen; guarded by poller.mu
}

func newPoller(api API, interval time.Duration, log *slog.Logger) *poller {
	return &poller{api: api, interval: interval, log: log, waiting: map[string][]*waiter{}}
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
		p.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		seen, err := p.poll(ctx, ids, confirm)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Debug("status poll failed; polling again", "waiting", len(ids), "err", err)
			}
			continue
		}
		p.deliver(seen)
	}
}

// poll returns the state of each id it learnt something about: the
// endpoint, or nil when it is gone.
func (p *poller) poll(ctx context.Context, ids []string, confirm map[string]bool) (map[string]*otc.Endpoint, error) {
	out := make(map[string]*otc.Endpoint, len(ids))
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
	if len(ids) <= max(fewGets, (p.listed+listPage-1)/listPage) {
		for _, id := range ids {
			if err := get(id); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	eps, err := p.api.ListEndpoints(ctx, otc.ListOptions{})
	if err != nil {
		return nil, err
	}
	p.listed = len(eps)
	byID := make(map[string]*otc.Endpoint, len(eps))
	for i := range eps {
		byID[eps[i].ID] = &eps[i]
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
	return out, nil
}

// deliver hands the poll results to the waiters that are done.
func (p *poller) deliver(seen map[string]*otc.Endpoint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, e := range seen {
		ws := p.waiting[id]
		keep := ws[:0]
		for _, w := range ws {
			if e != nil {
				w.last = e
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
}

// wait blocks until done is true for a poll result of id, or ctx ends. It
// returns the endpoint done was true for (nil: gone), or the last one seen
// and ctx's error.
func (p *poller) wait(ctx context.Context, id string, confirmGone bool, done func(e *otc.Endpoint) bool) (*otc.Endpoint, error) {
	w := &waiter{done: done, confirmGone: confirmGone, ch: make(chan *otc.Endpoint, 1)}
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
	ws := p.waiting[id]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(p.waiting, id)
	} else {
		p.waiting[id] = ws
	}
	return w.last, ctx.Err()
}
