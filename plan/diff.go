package plan

// This file holds the phases of a target's diff: resolve the services,
// index what exists, match (match.go), and what is left; the one rule that
// overrides all others: an endpoint that does not carry the tag of a set
// declared for its target is never changed, except by an adopt the user
// asked for.

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// Diff makes the plan. Errors are manifest problems found once the service
// types are known (joined *manifests.Error values, in file order):
// services that do not resolve, fields the service type does not take, a
// name declared twice in a set.
//
// With a shard, Diff still matches every desired endpoint of the target,
// then keeps the changes in the shard: the shards' plans add up to the
// unsharded plan, and no unmanaged endpoint is adopted by two shards.
func Diff(inputs []Input, opts Options) (*Plan, error) {
	if err := opts.Shard.check(); err != nil {
		return nil, err
	}
	merged := mergeInputs(inputs)
	p := &Plan{FormatVersion: FormatVersion, Targets: make([]Target, 0, len(merged)), Changes: []Change{},
		Scope: Scope{Shard: opts.Shard.flag(), Adopt: opts.Adopt, Prune: opts.Prune, AllowReplace: opts.AllowReplace, Approve: opts.Approve, Destroy: opts.Destroy,
			OnlySets: sortedCopy(opts.Sets), OnlyNames: sortedCopy(opts.Names)}}
	var problems []problem
	for i := range merged {
		p.Targets = append(p.Targets, merged[i].Target)
		problems = diffTarget(p, &merged[i], opts, problems)
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b problem) int {
			return cmp.Or(strings.Compare(a.pos.File, b.pos.File), cmp.Compare(a.pos.Line, b.pos.Line), cmp.Compare(a.pos.Col, b.pos.Col))
		})
		errs := make([]error, len(problems))
		for i, pr := range problems {
			errs[i] = pr.err
		}
		return nil, errors.Join(errs...)
	}
	observed := make(map[Target][]vpcep.Endpoint, len(merged))
	for _, in := range merged {
		observed[in.Target] = in.Observed
	}
	p.Fingerprint, p.Observed = Fingerprint(&p.Scope, observed)
	return p, nil
}

// problem is a manifest error and where it sorts.
type problem struct {
	pos manifests.Pos
	err error
}

// mergeInputs merges inputs of the same target and sorts them by target.
func mergeInputs(inputs []Input) []Input {
	out := make([]Input, 0, len(inputs))
	at := make(map[Target]int, len(inputs))
	for _, in := range inputs {
		i, ok := at[in.Target]
		if !ok {
			at[in.Target] = len(out)
			out = append(out, in)
			continue
		}
		m := &out[i]
		m.Desired = append(slices.Clip(m.Desired), in.Desired...)
		m.Sets = append(slices.Clip(m.Sets), in.Sets...)
		m.Observed = append(slices.Clip(m.Observed), in.Observed...)
		svc := maps.Clone(m.Services)
		if svc == nil {
			svc = map[string]*vpcep.Service{}
		}
		maps.Copy(svc, in.Services)
		m.Services = svc
		owned := maps.Clone(m.OwnedServices)
		if owned == nil {
			owned = map[string]bool{}
		}
		maps.Copy(owned, in.OwnedServices)
		m.OwnedServices = owned
		if m.Quota == nil {
			m.Quota = in.Quota
		}
	}
	slices.SortFunc(out, func(a, b Input) int { return compareTargets(a.Target, b.Target) })
	return out
}

// owner is the (set, name) of an owned endpoint.
type owner struct{ set, name string }

// natural is the part of the natural key every service type has; an
// interface endpoint's subnet is compared after the lookup.
type natural struct{ service, vpc string }

func naturalOf(serviceID, vpcID string) natural {
	return natural{strings.ToLower(serviceID), strings.ToLower(vpcID)}
}

func isGateway(s *vpcep.Service) bool { return strings.EqualFold(s.ServiceType, vpcep.ServiceGateway) }

// statusRank orders the unmanaged endpoints that share a natural key, for
// adoption: accepted first, then the other usable statuses, then failed
// and rejected ones (which cannot serve).
func statusRank(s string) int {
	switch s {
	case vpcep.StatusAccepted:
		return 0
	case vpcep.StatusCreating, vpcep.StatusPendingAcceptance:
		return 1
	case vpcep.StatusFailed:
		return 2
	}
	return 3
}

// better sorts the unmanaged endpoint to adopt first: by status rank, then
// oldest, then by id so that the order never depends on the list's.
func better(a, b *vpcep.Endpoint) int {
	if r := cmp.Compare(statusRank(a.Status), statusRank(b.Status)); r != 0 {
		return r
	}
	return Keeper(a, b)
}

// Keeper orders endpoints by the keeper rule (DESIGN.md "Ownership"): of
// the endpoints that carry one set/name, the first is kept: the oldest by
// created_at, then the one with the smallest id. Both are facts that never change, so every run,
// whenever it looks and whatever order the list came in, keeps the same
// one, and runs that overlap converge.
func Keeper(a, b *vpcep.Endpoint) int {
	if r := a.CreatedAt.Compare(b.CreatedAt.Time); r != 0 {
		return r
	}
	return strings.Compare(a.ID, b.ID)
}

// compareChanges orders one target's changes by set and name, a
// duplicate's delete before the change to the endpoint kept.
func compareChanges(a, b Change) int {
	if a.Set != b.Set {
		return strings.Compare(a.Set, b.Set)
	}
	if a.Name != b.Name {
		return strings.Compare(a.Name, b.Name)
	}
	if r := cmp.Compare(a.Action.rank(), b.Action.rank()); r != 0 {
		return r
	}
	return strings.Compare(a.ID, b.ID)
}

// targetDiff is the state of one target's diff.
type targetDiff struct {
	p    *Plan
	in   *Input
	t    Target
	opts Options

	desired  []*manifests.Endpoint // sorted by name, then set
	services []*vpcep.Service      // of desired[i]
	declared map[string]bool       // sets declared for the target

	// What exists, indexed (see index).
	owned     map[owner][]*vpcep.Endpoint   // by set/name, keeper first
	nameless  map[string][]*vpcep.Endpoint  // by set: our set tag, no name tag
	unmanaged map[natural][]*vpcep.Endpoint // no set tag, by natural key
	claims    map[*vpcep.Endpoint][]owner   // unmanaged -> declared endpoints with its key and none of their own
	taken     map[*vpcep.Endpoint]bool      // matched to a desired endpoint

	scope      *TargetScope
	creates    int // in the shard
	createsAll int // in every shard
}

func (x *targetDiff) add(c Change) {
	c.Region, c.ProjectID = x.t.Region, x.t.ProjectID
	(*x.p.Summary.field(c.Action))++
	if c.Action != Noop {
		x.p.Changes = append(x.p.Changes, c)
	} else if c.Current != nil && c.Current.Status == vpcep.StatusPendingAcceptance {
		x.p.AwaitingApproval++
	}
}

// remove plans the delete of an owned endpoint no longer declared, or
// counts it for the --prune line.
func (x *targetDiff) remove(set, name string, e *vpcep.Endpoint, reason string) {
	if !x.opts.Prune {
		x.p.Unpruned++
		return
	}
	x.add(Change{Action: Delete, Set: set, Name: name, ID: e.ID, Reason: reason, Current: e})
}

// inShard reports whether the run acts on set/name: in its shard, and
// taken in by --set and --name.
func (x *targetDiff) inShard(set, name string) bool {
	return x.opts.Shard.Contains(x.t.ProjectID, set, name) && x.opts.Selects(set, name)
}

// diffTarget plans one target in four phases: resolve the services of the
// desired endpoints (and check what depends on their type), index what
// exists, match each desired endpoint, then handle what is owned but no
// longer declared.
func diffTarget(p *Plan, in *Input, opts Options, problems []problem) []problem {
	x := &targetDiff{p: p, in: in, t: in.Target, opts: opts,
		scope: &TargetScope{Region: in.Target.Region, ProjectID: in.Target.ProjectID}}
	start := len(p.Changes)
	if opts.Destroy {
		x.destroy()
	} else {
		n := len(problems)
		if problems = x.resolve(problems); len(problems) > n {
			return problems
		}
		x.index()
		x.match()
	}
	if w := quotaWarning(x.t, x.creates, x.createsAll, opts.Shard, in.Quota); w != "" {
		p.Warnings = append(p.Warnings, w)
	}
	x.scope.Sets = slices.Sorted(maps.Keys(x.declared))
	slices.SortFunc(x.scope.Keys, compareKeys)
	x.scope.Keys = slices.Compact(x.scope.Keys)
	if q := in.Quota; q != nil {
		x.scope.Quota = &Quota{Used: q.Used, Quota: q.Quota}
	}
	p.Scope.Targets = append(p.Scope.Targets, *x.scope)
	slices.SortFunc(p.Changes[start:], compareChanges)
	return problems
}

// match plans the declared endpoints: each takes what carries its name,
// or what of its set lost its name tag; the rest then look at the
// unmanaged endpoints; what is owned and left over is no longer declared.
func (x *targetDiff) match() {
	var free []int
	for i, d := range x.desired {
		if !x.matchOwned(d, x.services[i]) {
			free = append(free, i)
		}
	}
	x.claim(free)
	for _, i := range free {
		x.matchFree(x.desired[i], x.services[i])
	}
	x.leftovers()
}

// destroy plans the delete of every endpoint the declared sets own, in
// the shard and the targeting flags' scope: keepers, duplicates and those
// without a name tag. The services are not resolved: an endpoint whose
// service is gone is deleted like any other, and nothing unmanaged or of
// another set is looked at.
func (x *targetDiff) destroy() {
	x.declare()
	x.index()
	for k, es := range x.owned {
		if x.inShard(k.set, k.name) {
			for _, e := range es {
				x.add(Change{Action: Delete, Set: k.set, Name: k.name, ID: e.ID, Reason: "destroy", Current: e})
			}
		}
	}
	for set, es := range x.nameless {
		if x.inShard(set, "") {
			for _, e := range es {
				x.add(Change{Action: Delete, Set: set, ID: e.ID, Reason: "destroy; owned by the set, without a " + manifests.TagName + " tag", Current: e})
			}
		}
	}
}

// declare sets x.declared: the sets the target's manifests declare, with
// endpoints or without.
func (x *targetDiff) declare() {
	x.declared = make(map[string]bool, len(x.in.Sets)+1)
	for _, s := range x.in.Sets {
		x.declared[s] = true
	}
	for _, d := range x.in.Desired {
		x.declared[d.Set] = true
	}
}

// resolve sorts the desired endpoints, resolves their services and runs
// the type-dependent checks, for every endpoint of the target (not only
// the shard's): every shard reports the same problems, and matching needs
// every service.
func (x *targetDiff) resolve(problems []problem) []problem {
	in, t := x.in, x.t
	// Any fixed order will do (the changes are sorted at the end); name
	// first because names rarely tie.
	x.desired = slices.Clone(in.Desired)
	slices.SortFunc(x.desired, func(a, b *manifests.Endpoint) int {
		if a.Name != b.Name {
			return strings.Compare(a.Name, b.Name)
		}
		return strings.Compare(a.Set, b.Set)
	})
	x.declare()
	x.services = make([]*vpcep.Service, len(x.desired))
	var lastRef string
	var lastSvc *vpcep.Service
	for i, d := range x.desired {
		if i > 0 && x.desired[i-1].Name == d.Name && x.desired[i-1].Set == d.Set {
			first, second := x.desired[i-1], d
			if posBefore(second.Pos, first.Pos) {
				first, second = second, first
			}
			problems = append(problems, problem{second.Pos, &manifests.Error{Pos: second.Pos, Msg: fmt.Sprintf(
				"endpoint %q is declared twice in set %q for %s (first at %s), want each name once", d.Name, d.Set, t, first.Pos)}})
			continue
		}
		ref, field := d.EndpointServiceID, "endpoint_service_id"
		if ref == "" {
			ref, field = d.EndpointServiceName, "endpoint_service_name"
		}
		s := lastSvc
		if ref != lastRef || s == nil {
			s, lastRef, lastSvc = in.Services[ref], ref, in.Services[ref]
		}
		if s == nil {
			pos, ok := d.FieldPos[field]
			if !ok {
				pos = d.Pos
			}
			problems = append(problems, problem{pos, &manifests.Error{Pos: pos, Msg: fmt.Sprintf(
				"%s: no endpoint service %q in region %s, project %s (endpoint %q)", field, ref, t.Region, t.ProjectID, d.Name)}})
			continue
		}
		if err := d.CheckServiceType(s.ServiceType); err != nil {
			problems = append(problems, problem{d.Pos, err})
			continue
		}
		x.services[i] = s
	}
	return problems
}

// index sorts what exists. An endpoint is owned when it carries the tag of
// a set declared for this target (by its name tag, or nameless when that
// tag is gone); unmanaged ones (no set tag) are indexed by natural key for
// adoption. Endpoints of sets not declared here are not looked at: another
// set never changes this set's plan. Deleting endpoints are on their way
// out: neither kept, nor deleted again, nor in the way.
func (x *targetDiff) index() {
	x.owned = make(map[owner][]*vpcep.Endpoint, len(x.in.Observed))
	x.nameless = map[string][]*vpcep.Endpoint{}
	x.unmanaged = map[natural][]*vpcep.Endpoint{}
	x.taken = map[*vpcep.Endpoint]bool{}
	lastSet, lastDeclared := "", false
	for i := range x.in.Observed {
		e := &x.in.Observed[i]
		if e.Status == vpcep.StatusDeleting {
			continue
		}
		set, ok := e.TagValue(manifests.TagSet)
		if ok && set != lastSet {
			lastSet, lastDeclared = set, x.declared[set]
		}
		switch {
		case !ok:
			nk := naturalOf(e.EndpointServiceID, e.VPCID)
			x.unmanaged[nk] = appendNew(x.unmanaged[nk], e)
		case !lastDeclared:
		default:
			if name, _ := e.TagValue(manifests.TagName); name != "" {
				k := owner{set, name}
				x.owned[k] = appendNew(x.owned[k], e)
			} else {
				x.nameless[set] = appendNew(x.nameless[set], e)
			}
		}
	}
	for _, es := range x.owned {
		if len(es) > 1 {
			slices.SortFunc(es, Keeper)
		}
	}
	for _, es := range x.nameless {
		slices.SortFunc(es, Keeper)
	}
	for _, es := range x.unmanaged {
		slices.SortFunc(es, better)
	}
}

// appendNew appends e unless an endpoint with its id is there already
// (listed twice: list pages shift under a concurrent create).
func appendNew(es []*vpcep.Endpoint, e *vpcep.Endpoint) []*vpcep.Endpoint {
	for _, o := range es {
		if o.ID == e.ID {
			return es
		}
	}
	return append(es, e)
}

func posBefore(a, b manifests.Pos) bool {
	return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col)) < 0
}

// sortedCopy is s sorted and without repeats, nil when empty.
func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Compact(slices.Sorted(slices.Values(s)))
}
