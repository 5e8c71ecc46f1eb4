package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file observes the targets: what a plan is made from. Policy: every
// target the manifests name is observed concurrently; in each, the quota
// is read first (it bounds the listing), then the endpoints are listed
// while the endpoint services are resolved, once each. A service that
// does not resolve is the manifest's problem (plan.Diff reports it with
// its position); any other failure is the run's.

// Plan observes the targets of ms and makes the plan (plan.Diff), setting
// the plan and endpoint gauges of the session's metrics.
func (s *Session) Plan(ctx context.Context, ms []*manifests.Manifest, opts plan.Options) (*plan.Plan, error) {
	inputs, err := s.Observe(ctx, ms)
	if err != nil {
		return nil, err
	}
	p, err := plan.Diff(inputs, opts)
	if err != nil {
		return nil, err
	}
	sets := map[string]bool{}
	for _, m := range ms {
		sets[m.Set] = true
	}
	s.count(inputs, sets, p)
	if m := s.cfg.Metrics; m != nil {
		m.Endpoints.WithLabelValues("desired").Set(float64(manifests.Count(ms)))
	}
	return p, nil
}

// Status observes the targets of ms and returns the status rows of the
// endpoints the options take in (plan.Status) and the plan they come
// from.
func (s *Session) Status(ctx context.Context, ms []*manifests.Manifest, opts plan.Options) ([]plan.Row, *plan.Plan, error) {
	inputs, err := s.Observe(ctx, ms)
	if err != nil {
		return nil, nil, err
	}
	p, err := plan.Diff(inputs, opts)
	if err != nil {
		return nil, nil, err
	}
	return plan.Status(inputs, p, opts), p, nil
}

// Observe lists, resolves services and reads the quota of every target
// the manifests name, concurrently, and returns plan.Diff's inputs.
func (s *Session) Observe(ctx context.Context, ms []*manifests.Manifest) ([]plan.Input, error) {
	byRaw := map[plan.Target][]*manifests.Endpoint{}
	setsByRaw := map[plan.Target][]string{} // sets declared, even with no endpoints (prune)
	for _, m := range ms {
		raw := plan.Target{Region: m.Region, ProjectID: m.ProjectID}
		byRaw[raw] = append(byRaw[raw], m.Endpoints...)
		setsByRaw[raw] = append(setsByRaw[raw], m.Set)
	}
	raws := slices.SortedFunc(maps.Keys(byRaw), func(a, b plan.Target) int { return strings.Compare(a.String(), b.String()) })
	// Resolve targets first (one token each), then merge raw targets that
	// resolve to the same (region, project).
	resolved, err := s.connectAll(ctx, raws)
	if err != nil {
		return nil, err
	}
	inputs := map[plan.Target]*plan.Input{}
	var order []plan.Target
	for i, raw := range raws {
		t := resolved[i]
		in, ok := inputs[t]
		if !ok {
			in = &plan.Input{Target: t}
			inputs[t] = in
			order = append(order, t)
		}
		in.Desired = append(in.Desired, byRaw[raw]...)
		in.Sets = append(in.Sets, setsByRaw[raw]...)
	}
	// The same set declared twice for one target, now that the defaults
	// (region and project of the credentials) are known.
	if slices.ContainsFunc(ms, func(m *manifests.Manifest) bool { return m.Region == "" || m.ProjectID == "" }) {
		_, def, err := s.client(ctx, plan.Target{})
		if err != nil {
			return nil, err
		}
		if err := manifests.CheckSets(ms, def.Region, def.ProjectID); err != nil {
			return nil, err
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxObserving)
	for _, t := range order {
		in := inputs[t]
		s.mu.Lock()
		c := s.clients[t]
		s.mu.Unlock()
		g.Go(func() error { return s.observe(gctx, c, in) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]plan.Input, 0, len(order))
	for _, t := range order {
		out = append(out, *inputs[t])
	}
	return out, nil
}

// maxObserving bounds the targets observed at once.
const maxObserving = 32

// observe fills in one target's observation.
func (s *Session) observe(ctx context.Context, c *otc.Client, in *plan.Input) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		q, err := c.EndpointQuota(gctx)
		switch {
		case err != nil && gctx.Err() != nil:
			return nil // another call failed first; that error is reported
		case unreachable(err):
			return fmt.Errorf("%s: %w", in.Target, err) // the listing would fail the same way
		case err != nil:
			s.log.Warn("quota not read; the plan cannot check it", "target", in.Target.String(), "err", err)
		default:
			in.Quota = q
		}
		eps, err := list(gctx, c, q)
		if err != nil {
			return fmt.Errorf("%s: %w", in.Target, err)
		}
		in.Observed = eps
		in.OwnedServices, err = ownedServices(gctx, c, in)
		if err != nil {
			return fmt.Errorf("%s: %w", in.Target, err)
		}
		return nil
	})
	refs := map[[2]string]bool{}
	for _, d := range in.Desired {
		refs[[2]string{d.EndpointServiceID, d.EndpointServiceName}] = true
	}
	var mu sync.Mutex
	in.Services = map[string]*vpcep.Service{}
	for ref := range refs {
		g.Go(func() error {
			svc, err := c.DescribeService(gctx, ref[0], ref[1])
			if noSuchService(err) {
				return nil // reported by plan.Diff with the manifest position
			}
			if otc.IsAuth(err) || unreachable(err) { // the target's problem, not the service's
				return fmt.Errorf("%s: %w", in.Target, err)
			}
			if err != nil {
				return fmt.Errorf("%s: endpoint service %s: %w", in.Target, strings.Trim(ref[0]+ref[1], " "), err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, k := range ref {
				if k != "" {
					in.Services[k] = svc
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// ownedServices asks, for the services of the target's owned endpoints
// awaiting approval, whether the target's project owns them (so that
// --approve may accept them), once each.
func ownedServices(ctx context.Context, c *otc.Client, in *plan.Input) (map[string]bool, error) {
	declared := map[string]bool{}
	for _, s := range in.Sets {
		declared[s] = true
	}
	for _, d := range in.Desired {
		declared[d.Set] = true
	}
	out := map[string]bool{}
	for i := range in.Observed {
		e := &in.Observed[i]
		set, _ := e.TagValue(manifests.TagSet)
		id := strings.ToLower(e.EndpointServiceID)
		if _, asked := out[id]; asked || e.Status != vpcep.StatusPendingAcceptance || !declared[set] {
			continue
		}
		owned, err := c.OwnsService(ctx, e.EndpointServiceID)
		if err != nil {
			return nil, fmt.Errorf("endpoint service %s: %w", e.EndpointServiceID, err)
		}
		out[id] = owned
	}
	return out, nil
}

// list lists a target's endpoints, bounded by its quota where known (a
// server whose pages do not end cannot hold the run).
func list(ctx context.Context, c *otc.Client, q *vpcep.Quota) ([]vpcep.Endpoint, error) {
	bound := 0
	if q != nil {
		bound = otc.ListBound(q.Quota)
	}
	return c.ListEndpoints(ctx, otc.ListOptions{MaxEndpoints: bound})
}

// unreachable reports whether err says the target's server cannot be
// reached at all (no such host, nothing listening).
func unreachable(err error) bool { return errors.As(err, new(*otc.HostError)) }

// noSuchService reports whether a service lookup's error says the manifest
// names no service: a 404, or a 400 refusing the id or name, with the
// API's own error document (an error code). Anything else (a proxy's page,
// an empty body) is the server's problem, not the manifest's.
func noSuchService(err error) bool {
	var ae *otc.APIError
	return errors.As(err, &ae) && ae.Code != "" &&
		(ae.Status == http.StatusNotFound || ae.Status == http.StatusBadRequest && !ae.CodeIs(vpcep.CodeThrottled))
}

// Recheck lists a saved plan's targets again and checks the plan against
// what exists now, before anything is sent: its fingerprint (stale: the
// refusal names what changed), each change's ownership (an edited file),
// and its creates against the quota read now (p.Warnings).
func (s *Session) Recheck(ctx context.Context, p *plan.Plan) (*plan.Plan, error) {
	observed := map[plan.Target][]vpcep.Endpoint{}
	quotas := map[plan.Target]*vpcep.Quota{}
	inputs := make([]plan.Input, len(p.Targets))
	if _, err := s.connectAll(ctx, p.Targets); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxObserving)
	for i, t := range p.Targets {
		g.Go(func() error {
			c, rt, err := s.client(gctx, t)
			if err != nil {
				return err
			}
			q, err := c.EndpointQuota(gctx)
			if err != nil && gctx.Err() == nil {
				s.log.Warn("quota not read; the plan's creates cannot be checked against it", "target", rt.String(), "err", err)
			}
			eps, lerr := list(gctx, c, q)
			if lerr != nil {
				return fmt.Errorf("%s: %w", rt, lerr)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				quotas[rt] = q
			}
			observed[rt] = eps
			inputs[i] = plan.Input{Target: rt, Observed: eps}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := p.CheckFresh(observed); err != nil {
		return nil, err
	}
	if err := p.CheckChanges(observed); err != nil {
		return nil, err
	}
	p.Warnings = p.QuotaWarnings(quotas)
	sets := map[string]bool{}
	for _, ts := range p.Scope.Targets {
		for _, set := range ts.Sets {
			sets[set] = true
		}
	}
	s.count(inputs, sets, p)
	return p, nil
}

// count sets the planned changes and the observed and owned endpoint
// gauges (owned: carrying the tag of one of sets).
func (s *Session) count(inputs []plan.Input, sets map[string]bool, p *plan.Plan) {
	m := s.cfg.Metrics
	if m == nil {
		return
	}
	m.ObservePlan(p)
	var observed, owned int
	byStatus := map[string]int{}
	for _, in := range inputs {
		observed += len(in.Observed)
		for i := range in.Observed {
			if set, ok := in.Observed[i].TagValue(manifests.TagSet); ok && sets[set] {
				owned++
				byStatus[in.Observed[i].Status]++
			}
		}
	}
	m.ObserveOwned(byStatus)
	m.Endpoints.WithLabelValues("observed").Set(float64(observed))
	m.Endpoints.WithLabelValues("owned").Set(float64(owned))
}
