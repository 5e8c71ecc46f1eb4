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
	"github.com/vpcepctl/vpcepctl/otc"
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
	p := &Plan{FormatVersion: FormatVersion, Targets: make([]Target, 0, len(merged)), Changes: []Change{}}
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
	p.Fingerprint = Fingerprint(inputs, opts.Shard)
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
			svc = map[string]*otc.Service{}
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

func isGateway(s *otc.Service) bool { return strings.EqualFold(s.ServiceType, otc.ServiceGateway) }

// statusRank orders the endpoints that share an owned name, and the
// unmanaged ones that share a natural key: accepted first, then the other
// usable statuses, then failed and rejected ones (which cannot serve).
func statusRank(s string) int {
	switch s {
	case otc.StatusAccepted:
		return 0
	case otc.StatusCreating, otc.StatusPendingAcceptance:
		return 1
	case otc.StatusFailed:
		return 2
	}
	return 3
}

// better sorts the endpoint to keep first: by status rank, then oldest,
// then by id so that the order never depends on the list's.
func better(a, b *otc.Endpoint) int {
	if r := cmp.Compare(statusRank(a.Status), statusRank(b.Status)); r != 0 {
		return r
	}
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
	p       *Plan
	t       Target
	opts    Options
	creates int // in the shard
}

func (x *targetDiff) add(c Change) {
	c.Region, c.ProjectID = x.t.Region, x.t.ProjectID
	(*x.p.Summary.field(c.Action))++
	if c.Action != Noop {
		x.p.Changes = append(x.p.Changes, c)
	}
}

// remove plans the delete of an owned endpoint, or counts it for the
// --prune line.
func (x *targetDiff) remove(set, name string, e *otc.Endpoint, reason string) {
	if !x.opts.Prune {
		x.p.Unpruned++
		return
	}
	x.add(Change{Action: Delete, Set: set, Name: name, ID: e.ID, Reason: reason, Current: e})
}

func diffTarget(p *Plan, in *Input, opts Options, problems []problem) []problem {
	x := &targetDiff{p: p, t: in.Target, opts: opts}
	t := in.Target
	start := len(p.Changes)

	// Any fixed order will do (the changes are sorted at the end); name
	// first because names rarely tie.
	desired := slices.Clone(in.Desired)
	slices.SortFunc(desired, func(a, b *manifests.Endpoint) int {
		if a.Name != b.Name {
			return strings.Compare(a.Name, b.Name)
		}
		return strings.Compare(a.Set, b.Set)
	})
	declared := make(map[string]bool, len(in.Sets)+1)
	for _, s := range in.Sets {
		declared[s] = true
	}

	// Resolve services and run the type-dependent checks, for every
	// endpoint of the target (not only the shard's): every shard reports
	// the same problems, and the natural keys below need every service.
	nproblems := len(problems)
	services := make([]*otc.Service, len(desired))
	var lastSet, lastRef string
	var lastSvc *otc.Service
	for i, d := range desired {
		if i == 0 || d.Set != lastSet {
			declared[d.Set] = true
			lastSet = d.Set
		}
		if i > 0 && desired[i-1].Name == d.Name && desired[i-1].Set == d.Set {
			first, second := desired[i-1], d
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
		services[i] = s
	}
	if len(problems) > nproblems {
		return problems
	}

	// Index what exists. An endpoint is owned when it carries the tag of
	// a set declared for this target; the others are indexed by natural
	// key: unmanaged ones (no set tag) can be adopted, those of another
	// set only explain a conflict.
	owned := make(map[owner]*otc.Endpoint, len(in.Observed))
	var extra map[owner][]*otc.Endpoint // owned names listed more than once
	unmanaged := map[natural][]*otc.Endpoint{}
	foreign := map[natural][]*otc.Endpoint{}
	lastSet, lastDeclared := "", false
	for i := range in.Observed {
		e := &in.Observed[i]
		if e.Status == otc.StatusDeleting {
			continue // on its way out: neither kept, nor deleted again, nor in the way
		}
		set, ok := e.TagValue(manifests.TagSet)
		if ok && set != lastSet {
			lastSet, lastDeclared = set, declared[set]
		}
		switch {
		case !ok:
			nk := naturalOf(e.EndpointServiceID, e.VPCID)
			unmanaged[nk] = appendNew(unmanaged[nk], e)
		case lastDeclared:
			name, _ := e.TagValue(manifests.TagName)
			k := owner{set, name}
			first, dup := owned[k]
			switch {
			case !dup:
				owned[k] = e
			case first.ID != e.ID:
				if extra == nil {
					extra = map[owner][]*otc.Endpoint{}
				}
				extra[k] = appendNew(extra[k], e)
			}
		default:
			nk := naturalOf(e.EndpointServiceID, e.VPCID)
			foreign[nk] = appendNew(foreign[nk], e)
		}
	}
	for _, es := range unmanaged {
		slices.SortFunc(es, better)
	}
	taken := map[*otc.Endpoint]bool{}

	createsAll := 0
	for i, d := range desired {
		s := services[i]
		inShard := opts.Shard.Contains(t.ProjectID, d.Set, d.Name)
		k := owner{d.Set, d.Name}

		if first, ok := owned[k]; ok {
			delete(owned, k)
			keep := first
			if dups := extra[k]; len(dups) > 0 {
				delete(extra, k)
				all := append([]*otc.Endpoint{first}, dups...)
				slices.SortFunc(all, better)
				keep = all[0]
				if inShard {
					for _, dup := range all[1:] {
						x.remove(d.Set, d.Name, dup, "duplicate of "+keep.ID+", which is kept")
					}
				}
			}
			if inShard {
				x.add(compare(d, s, keep, opts))
			}
			continue
		}

		// Nothing owned: an endpoint with the natural key may be there.
		nk := naturalOf(s.ID, d.VPCID)
		gw := isGateway(s)
		var match *otc.Endpoint
		for _, e := range unmanaged[nk] {
			if !taken[e] && (gw || strings.EqualFold(e.SubnetID, d.SubnetID)) {
				match = e
				break
			}
		}
		if match != nil {
			taken[match] = true
			if inShard {
				x.add(adopt(d, s, match, opts))
			}
			continue
		}
		var other *otc.Endpoint
		for _, e := range foreign[nk] {
			if gw || strings.EqualFold(e.SubnetID, d.SubnetID) {
				other = e
				break
			}
		}
		if other != nil {
			if inShard {
				set, _ := other.TagValue(manifests.TagSet)
				name, _ := other.TagValue(manifests.TagName)
				x.add(Change{Action: Conflict, Set: d.Set, Name: d.Name, ID: other.ID, Desired: CreateBody(d, s), Current: other,
					Reason: "same " + naturalKeyWords(gw) + " as " + set + "/" + name + ", which another set owns"})
			}
			continue
		}
		createsAll++
		if inShard {
			x.creates++
			x.add(Change{Action: Create, Set: d.Set, Name: d.Name, Desired: CreateBody(d, s), Reason: createReason(d, s, gw)})
		}
	}

	// What is left is owned by a declared set but no longer declared.
	for k, e := range owned {
		if !opts.Shard.Contains(t.ProjectID, k.set, k.name) {
			continue
		}
		reason := "no longer declared"
		if _, ok := e.TagValue(manifests.TagName); !ok {
			reason = "owned by the set but without a " + manifests.TagName + " tag"
		}
		x.remove(k.set, k.name, e, reason)
		for _, dup := range extra[k] {
			x.remove(k.set, k.name, dup, reason)
		}
	}

	if w := quotaWarning(t, x.creates, createsAll, opts.Shard, in.Quota); w != "" {
		p.Warnings = append(p.Warnings, w)
	}

	slices.SortFunc(p.Changes[start:], compareChanges)
	return problems
}

// appendNew appends e unless an endpoint with its id is there already
// (listed twice: list pages shift under a concurrent create).
func appendNew(es []*otc.Endpoint, e *otc.Endpoint) []*otc.Endpoint {
	for _, o := range es {
		if o.ID == e.ID {
			return es
		}
	}
	return append(es, e)
}

// quotaWarning says so when creates (all: in every shard) do not fit in
// the quota q; "" when they fit or q is unknown.
func quotaWarning(t Target, creates, all int, shard Shard, q *otc.Quota) string {
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
func (p *Plan) QuotaWarnings(quotas map[Target]*otc.Quota) []string {
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

func createReason(d *manifests.Endpoint, s *otc.Service, gateway bool) string {
	svc := cmp.Or(s.ServiceName, s.ID)
	if gateway {
		return svc + ", vpc " + d.VPCID
	}
	return svc + ", vpc " + d.VPCID + ", subnet " + d.SubnetID
}

// compare decides noop, tag, replace or conflict for the owned endpoint
// kept for d.
func compare(d *manifests.Endpoint, s *otc.Service, cur *otc.Endpoint, opts Options) Change {
	c := Change{Set: d.Set, Name: d.Name, ID: cur.ID, Current: cur}
	switch cur.Status {
	case otc.StatusFailed:
		c.Action, c.Desired, c.Reason = Replace, CreateBody(d, s), "status failed"
		if len(cur.Error) > 0 {
			c.Reason += ": " + strings.TrimSpace(cur.Error[0].ErrorCode+" "+cur.Error[0].ErrorMessage)
		}
		return c
	case otc.StatusRejected:
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
func adopt(d *manifests.Endpoint, s *otc.Service, e *otc.Endpoint, opts Options) Change {
	c := Change{Set: d.Set, Name: d.Name, ID: e.ID, Desired: CreateBody(d, s), Current: e}
	c.Reason = "unmanaged endpoint with the same " + naturalKeyWords(isGateway(s))
	if !opts.Adopt {
		c.Action, c.Reason = Conflict, c.Reason+"; --adopt takes it over"
		return c
	}
	c.Action = Adopt
	switch e.Status {
	case otc.StatusFailed:
		c.Reason += "; status failed: once adopted, it is replaced"
	case otc.StatusRejected:
		c.Reason += "; status rejected: once adopted, it is a conflict"
	case otc.StatusAccepted:
	default:
		c.Reason += "; status " + e.Status
	}
	// Our own two tags are what adopting means; say what else changes.
	add, del := TagDiff(c.Desired.Tags, e.Tags)
	add = slices.DeleteFunc(add, func(t otc.Tag) bool { return IsOwnTag(t.Key) })
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
func tagsMatch(d *manifests.Endpoint, cur *otc.Endpoint) bool {
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

func tagReason(add []otc.Tag, del []string, have []otc.Tag) string {
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
func TagDiff(want, have []otc.Tag) (add []otc.Tag, del []string) {
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
