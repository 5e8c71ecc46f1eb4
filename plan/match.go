package plan

// This file matches each desired endpoint to what exists: what carries
// its name (the keeper rule picks one, the others are duplicates), what
// of its set lost its name tag, an unmanaged endpoint with its natural
// key, or nothing (a create); and what is left over.

import (
	"slices"
	"strings"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// matchOwned plans one desired endpoint against the endpoints that carry
// its name (the keeper and its duplicates), else one of its set that lost
// its name tag, and reports whether it found one.
func (x *targetDiff) matchOwned(d *manifests.Endpoint, s *vpcep.Service) bool {
	inShard := x.inShard(d.Set, d.Name)
	k := owner{d.Set, d.Name}
	if es, ok := x.owned[k]; ok {
		delete(x.owned, k)
		if !inShard {
			return true
		}
		keep := es[0]
		for _, dup := range es[1:] {
			x.p.Duplicates++
			x.add(Change{Action: Delete, Set: d.Set, Name: d.Name, ID: dup.ID, Current: dup, KeptID: keep.ID,
				Reason: "duplicate of " + keep.ID + ", the oldest, which is kept"})
		}
		x.add(compare(d, s, keep, x.ownsService(s), x.opts))
		return true
	}
	gw := isGateway(s)
	x.scope.Keys = append(x.scope.Keys, keyOf(s, d, gw))
	if e := x.pick(x.nameless[d.Set], d, s); e != nil {
		x.taken[e] = true
		if x.p.named[x.t] == nil {
			if x.p.named == nil {
				x.p.named = map[Target]map[string]owner{}
			}
			x.p.named[x.t] = map[string]owner{}
		}
		x.p.named[x.t][e.ID] = owner{d.Set, d.Name}
		if inShard {
			x.add(renamed(compare(d, s, e, x.ownsService(s), x.opts), gw))
		}
		return true
	}
	return false
}

// ownsService reports whether the target's project owns s.
func (x *targetDiff) ownsService(s *vpcep.Service) bool {
	return x.in.OwnedServices[strings.ToLower(s.ID)]
}

// matchFree plans a desired endpoint that has none of its own: the
// adoption of an unmanaged endpoint with its natural key, or a conflict
// where other sets declare that key too, or a create.
func (x *targetDiff) matchFree(d *manifests.Endpoint, s *vpcep.Service) {
	inShard := x.inShard(d.Set, d.Name)
	gw := isGateway(s)
	if e := x.pick(x.unmanaged[naturalOf(s.ID, d.VPCID)], d, s); e != nil {
		others := slices.DeleteFunc(slices.Clone(x.claims[e]), func(o owner) bool { return o.set == d.Set })
		if len(others) > 0 {
			// Claimed by other sets as well: never adopted by one set on
			// the strength of which manifests were passed, never doubled
			// by a create beside it.
			if inShard {
				x.add(Change{Action: Conflict, Set: d.Set, Name: d.Name, ID: e.ID, Current: e, Desired: CreateBody(d, s),
					Reason: "unmanaged endpoint with the same " + naturalKeyWords(gw) + ", which " + owners(others) +
						" also declare; adopt it in one set (plan that set alone with --adopt), or delete it"})
			}
			return
		}
		x.taken[e] = true
		if inShard {
			x.add(adopt(d, s, e, x.opts))
		}
		return
	}
	x.createsAll++
	if inShard {
		x.creates++
		x.add(Change{Action: Create, Set: d.Set, Name: d.Name, Desired: CreateBody(d, s), Reason: createReason(d, s, gw)})
	}
}

// pick returns the endpoint of es (in their order of preference) that d
// may take: not taken, with d's natural key, and of those one whose
// fields match d's if there is one (two names of one subnet that differ
// by port IP each get their own).
func (x *targetDiff) pick(es []*vpcep.Endpoint, d *manifests.Endpoint, s *vpcep.Service) *vpcep.Endpoint {
	var first *vpcep.Endpoint
	for _, e := range es {
		if x.taken[e] || !fits(e, d, s) {
			continue
		}
		if len(fieldDiffs(d, s, e, nil)) == 0 {
			return e
		}
		if first == nil {
			first = e
		}
	}
	return first
}

// fits reports whether e has d's natural key: service and VPC, and the
// subnet for interface services.
func fits(e *vpcep.Endpoint, d *manifests.Endpoint, s *vpcep.Service) bool {
	return naturalOf(e.EndpointServiceID, e.VPCID) == naturalOf(s.ID, d.VPCID) &&
		(isGateway(s) || strings.EqualFold(e.SubnetID, d.SubnetID))
}

// claim notes, for each unmanaged endpoint, the declared endpoints (of any
// set) whose natural key it has and that have no endpoint of their own
// (free: indexes into x.desired).
func (x *targetDiff) claim(free []int) {
	x.claims = map[*vpcep.Endpoint][]owner{}
	for _, i := range free {
		d, s := x.desired[i], x.services[i]
		for _, e := range x.unmanaged[naturalOf(s.ID, d.VPCID)] {
			if fits(e, d, s) && !slices.Contains(x.claims[e], owner{d.Set, d.Name}) {
				x.claims[e] = append(x.claims[e], owner{d.Set, d.Name})
			}
		}
	}
}

// owners names claimants for a reason: "set b (b/w)" or "sets b, c (b/w, c/v)".
func owners(os []owner) string {
	var sets, names []string
	for _, o := range os {
		if !slices.Contains(sets, o.set) {
			sets = append(sets, o.set)
		}
		names = append(names, o.set+"/"+o.name)
	}
	if len(sets) == 1 {
		return "set " + sets[0] + " (" + strings.Join(names, ", ") + ")"
	}
	return "sets " + strings.Join(sets, ", ") + " (" + strings.Join(names, ", ") + ")"
}

// renamed explains the change for an endpoint of the set that lost its
// name tag: compare makes it a tag (the name tag is missing), or a
// replace or conflict where more than tags differ.
func renamed(c Change, gateway bool) Change {
	c.Reason = "lost its " + manifests.TagName + " tag; the same " + naturalKeyWords(gateway) + "; " + c.Reason
	return c
}

// leftovers plans the endpoints owned by a declared set but no longer
// declared (with --prune), their duplicates with them, and those of the
// set without a name tag that no declared endpoint matched.
func (x *targetDiff) leftovers() {
	for k, es := range x.owned {
		if !x.inShard(k.set, k.name) {
			continue
		}
		for _, e := range es {
			x.remove(k.set, k.name, e, "no longer declared")
		}
	}
	for set, es := range x.nameless {
		for _, e := range es {
			if !x.taken[e] && x.inShard(set, "") {
				x.remove(set, "", e, "owned by the set but without a "+manifests.TagName+" tag, and no declared endpoint has its "+
					naturalKeyWords(strings.EqualFold(e.ServiceType, vpcep.ServiceGateway)))
			}
		}
	}
}
