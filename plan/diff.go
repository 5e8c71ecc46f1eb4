package plan

// This file holds the matching policy: which observed endpoint a desired
// one is, and what may be done to it. The one rule that overrides all
// others: an endpoint that does not carry the tag of a set declared for
// its target is never changed, except by an adopt the user asked for.

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
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
		Scope: Scope{Shard: opts.Shard.flag(), Adopt: opts.Adopt, Prune: opts.Prune, AllowReplace: opts.AllowReplace}}
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

func (x *targetDiff) inShard(set, name string) bool {
	return x.opts.Shard.Contains(x.t.ProjectID, set, name)
}

// diffTarget plans one target in four phases: resolve the services of the
// desired endpoints (and check what depends on their type), index what
// exists, match each desired endpoint, then handle what is owned but no
// longer declared.
func diffTarget(p *Plan, in *Input, opts Options, problems []problem) []problem {
	x := &targetDiff{p: p, in: in, t: in.Target, opts: opts,
		scope: &TargetScope{Region: in.Target.Region, ProjectID: in.Target.ProjectID}}
	start := len(p.Changes)
	n := len(problems)
	if problems = x.resolve(problems); len(problems) > n {
		return problems
	}
	x.index()
	// Each desired endpoint takes what carries its name, or what of its set
	// lost its name tag; the rest then look at the unmanaged endpoints.
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
	x.declared = make(map[string]bool, len(in.Sets)+1)
	for _, s := range in.Sets {
		x.declared[s] = true
	}
	x.services = make([]*vpcep.Service, len(x.desired))
	var lastSet, lastRef string
	var lastSvc *vpcep.Service
	for i, d := range x.desired {
		if i == 0 || d.Set != lastSet {
			x.declared[d.Set] = true
			lastSet = d.Set
		}
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
		x.add(compare(d, s, keep, x.opts))
		return true
	}
	gw := isGateway(s)
	x.scope.Keys = append(x.scope.Keys, keyOf(s, d, gw))
	if e := x.pick(x.nameless[d.Set], d, s); e != nil {
		x.taken[e] = true
		if inShard {
			x.add(renamed(compare(d, s, e, x.opts), gw))
		}
		return true
	}
	return false
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

// quotaWarning says so when creates (all: in every shard) do not fit in
// the quota q; "" when they fit or q is unknown.
func quotaWarning(t Target, creates, all int, shard Shard, q *vpcep.Quota) string {
	if q == nil || q.Quota <= 0 {
		return ""
	}
	room := max(q.Quota-q.Used, 0)
	switch {
	case shard.N > 1 && all > room:
		return fmt.Sprintf("%s: %s to create in all shards (%d in shard %s), but only %d more fit in the quota (%d of %d used); creates beyond it fail with Endpoint.1018",
			t, endpoints(all), creates, shard, room, q.Used, q.Quota)
	case creates > room:
		return fmt.Sprintf("%s: %s to create, but only %d more fit in the quota (%d of %d used); creates beyond it fail with Endpoint.1018",
			t, endpoints(creates), room, q.Used, q.Quota)
	}
	return ""
}

// QuotaWarnings checks the plan's creates against quotas read now (a plan
// read from a file has no warnings of its own: the quota may have changed
// since it was made).
func (p *Plan) QuotaWarnings(quotas map[Target]*vpcep.Quota) []string {
	creates := map[Target]int{}
	for i := range p.Changes {
		if p.Changes[i].Action == Create {
			creates[p.Changes[i].Target()]++
		}
	}
	var out []string
	for _, t := range p.Targets {
		if w := quotaWarning(t, creates[t], creates[t], Shard{}, quotas[t]); w != "" {
			out = append(out, w)
		}
	}
	return out
}

func endpoints(n int) string {
	if n == 1 {
		return "1 endpoint"
	}
	return strconv.Itoa(n) + " endpoints"
}

func posBefore(a, b manifests.Pos) bool {
	return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col)) < 0
}

func naturalKeyWords(gateway bool) string {
	if gateway {
		return "service and VPC"
	}
	return "service, VPC and subnet"
}

func createReason(d *manifests.Endpoint, s *vpcep.Service, gateway bool) string {
	svc := cmp.Or(s.ServiceName, s.ID)
	if gateway {
		return svc + ", vpc " + d.VPCID
	}
	return svc + ", vpc " + d.VPCID + ", subnet " + d.SubnetID
}

// compare decides noop, tag, replace or conflict for the owned endpoint
// kept for d.
func compare(d *manifests.Endpoint, s *vpcep.Service, cur *vpcep.Endpoint, opts Options) Change {
	c := Change{Set: d.Set, Name: d.Name, ID: cur.ID, Current: cur}
	switch cur.Status {
	case vpcep.StatusFailed:
		c.Action, c.Desired, c.Reason = Replace, CreateBody(d, s), "status failed"
		if len(cur.Error) > 0 {
			c.Reason += ": " + strings.TrimSpace(cur.Error[0].ErrorCode+" "+cur.Error[0].ErrorMessage)
		}
		return c
	case vpcep.StatusRejected:
		c.Action, c.Desired = Conflict, CreateBody(d, s)
		c.Reason = "status rejected: the endpoint service's owner rejected it; ask them to accept it, or delete it and plan again"
		return c
	}
	if diffs := fieldDiffs(d, s, cur, nil); len(diffs) > 0 {
		c.Desired, c.Reason = CreateBody(d, s), "forces replacement: "+joinDiffs(diffs)
		if opts.AllowReplace {
			c.Action = Replace
		} else {
			c.Action, c.Reason = Conflict, c.Reason+"; --allow-replace replaces it"
		}
		return c
	}
	if !tagsMatch(d, cur) {
		body := CreateBody(d, s)
		if add, del := TagDiff(body.Tags, cur.Tags); len(add)+len(del) > 0 {
			c.Action, c.Desired, c.Reason = Tag, body, tagReason(add, del, cur.Tags)
			return c
		}
	}
	c.Action = Noop
	return c
}

// adopt decides adopt or conflict for an unmanaged endpoint with d's
// natural key.
func adopt(d *manifests.Endpoint, s *vpcep.Service, e *vpcep.Endpoint, opts Options) Change {
	c := Change{Set: d.Set, Name: d.Name, ID: e.ID, Desired: CreateBody(d, s), Current: e}
	c.Reason = "unmanaged endpoint with the same " + naturalKeyWords(isGateway(s))
	if !opts.Adopt {
		c.Action, c.Reason = Conflict, c.Reason+"; --adopt takes it over"
		return c
	}
	c.Action = Adopt
	switch e.Status {
	case vpcep.StatusFailed:
		c.Reason += "; status failed: once adopted, it is replaced"
	case vpcep.StatusRejected:
		c.Reason += "; status rejected: once adopted, it is a conflict"
	case vpcep.StatusAccepted:
	default:
		c.Reason += "; status " + e.Status
	}
	// Our own two tags are what adopting means; say what else changes.
	add, del := TagDiff(c.Desired.Tags, e.Tags)
	add = slices.DeleteFunc(add, func(t vpcep.Tag) bool { return IsOwnTag(t.Key) })
	if len(add)+len(del) > 0 {
		c.Reason += "; " + tagReason(add, del, e.Tags)
	}
	if diffs := fieldDiffs(d, s, e, nil); len(diffs) > 0 {
		c.Reason += "; once adopted, forces replacement: " + joinDiffs(diffs)
	}
	return c
}

// tagsMatch reports whether cur carries exactly d's user tags and our two,
// without allocating.
func tagsMatch(d *manifests.Endpoint, cur *vpcep.Endpoint) bool {
	if len(cur.Tags) != len(d.Tags)+2 {
		return false
	}
	for _, t := range cur.Tags {
		switch t.Key {
		case manifests.TagSet:
			if t.Value != d.Set {
				return false
			}
		case manifests.TagName:
			if t.Value != d.Name {
				return false
			}
		default:
			if v, ok := d.Tags[t.Key]; !ok || v != t.Value {
				return false
			}
		}
	}
	// Every tag of cur is wanted and the counts agree; a key listed twice
	// would hide a missing one, so look for each wanted key too.
	for k := range d.Tags {
		if _, ok := cur.TagValue(k); !ok {
			return false
		}
	}
	_, okSet := cur.TagValue(manifests.TagSet)
	_, okName := cur.TagValue(manifests.TagName)
	return okSet && okName
}

func tagReason(add []vpcep.Tag, del []string, have []vpcep.Tag) string {
	var b strings.Builder
	b.WriteString("tags: ")
	sep := func() {
		if b.Len() > len("tags: ") {
			b.WriteString(", ")
		}
	}
	for _, t := range add {
		sep()
		old, ok := "", false
		for _, h := range have {
			if h.Key == t.Key {
				old, ok = h.Value, true
				break
			}
		}
		if ok {
			b.WriteString(t.Key + " " + quote(old) + " -> " + quote(t.Value))
		} else {
			b.WriteString("+" + t.Key + "=" + quote(t.Value))
		}
	}
	for _, k := range del {
		sep()
		b.WriteString("-" + k)
	}
	return b.String()
}

// IsOwnTag reports whether a tag key is one of vpcepctl's own.
func IsOwnTag(k string) bool { return strings.HasPrefix(k, manifests.ReservedPrefix) }

// TagDiff returns the tags to add or update and the keys to remove so that
// the endpoint's tags become want (our own tags included). add keeps the
// order of want; del is sorted.
func TagDiff(want, have []vpcep.Tag) (add []vpcep.Tag, del []string) {
	h := make(map[string]string, len(have))
	for _, t := range have {
		h[t.Key] = t.Value
	}
	w := make(map[string]bool, len(want))
	for _, t := range want {
		w[t.Key] = true
		if v, ok := h[t.Key]; !ok || v != t.Value {
			add = append(add, t)
		}
	}
	for _, t := range have {
		if !w[t.Key] && !slices.Contains(del, t.Key) {
			del = append(del, t.Key)
		}
	}
	slices.Sort(del)
	return add, del
}

// quote returns s as it reads in a reason: bare, or Go-quoted when empty
// or holding spaces, quotes or commas.
func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\",=") {
		return strconv.Quote(s)
	}
	return s
}
