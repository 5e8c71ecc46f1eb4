package apply

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
)

// fewGets is the number of waited endpoints up to which a poll GETs each
// one; above it, a poll lists the project's endpoints (1000 per page), so a
// large run polls with a few list pages instead of one GET per endpoint.
const fewGets = 3

// poller polls the status of the endpoints being waited for in one target,
// through the target's client (and so its rate limiter).
type poller struct {
	api      API
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	waiting map[string]int           // id -> waiters
	snap    map[string]*otc.Endpoint // last seen; nil value = gone
	gen     chan struct{}            // closed when snap changes
}

func newPoller(api API, interval time.Duration, log *slog.Logger) *poller {
	return &poller{api: api, interval: interval, log: log, waiting: map[string]int{}, snap: map[string]*otc.Endpoint{}, gen: make(chan struct{})}
}

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
		for id := range p.waiting {
			ids = append(ids, id)
		}
		p.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		snap, err := p.poll(ctx, ids)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("status poll failed", "err", err)
			}
			continue
		}
		p.mu.Lock()
		for id, e := range snap {
			p.snap[id] = e
		}
		close(p.gen)
		p.gen = make(chan struct{})
		p.mu.Unlock()
	}
}

func (p *poller) poll(ctx context.Context, ids []string) (map[string]*otc.Endpoint, error) {
	out := make(map[string]*otc.Endpoint, len(ids))
	if len(ids) <= fewGets {
		for _, id := range ids {
			e, err := p.api.GetEndpoint(ctx, id)
			switch {
			case otc.IsNotFound(err):
				out[id] = nil
			case err != nil:
				return nil, err
			default:
				out[id] = e
			}
		}
		return out, nil
	}
	eps, err := p.api.ListEndpoints(ctx, otc.ListOptions{})
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*otc.Endpoint, len(eps))
	for i := range eps {
		byID[eps[i].ID] = &eps[i]
	}
	for _, id := range ids {
		out[id] = byID[id] // nil: gone
	}
	return out, nil
}

// wait blocks until done(endpoint, gone) is true for a poll result, or ctx
// ends. It returns the last endpoint seen (nil when gone).
func (p *poller) wait(ctx context.Context, id string, done func(e *otc.Endpoint, gone bool) bool) (*otc.Endpoint, error) {
	p.mu.Lock()
	p.waiting[id]++
	delete(p.snap, id)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		if p.waiting[id]--; p.waiting[id] <= 0 {
			delete(p.waiting, id)
		}
		p.mu.Unlock()
	}()
	var last *otc.Endpoint
	for {
		p.mu.Lock()
		ch := p.gen
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-ch:
		}
		p.mu.Lock()
		e, seen := p.snap[id]
		p.mu.Unlock()
		if !seen {
			continue
		}
		if e != nil {
			last = e
		}
		if done(e, e == nil) {
			return e, nil
		}
	}
}
