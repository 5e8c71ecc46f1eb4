package plan

// This file decides what to do with an endpoint matched to a desired one:
// nothing, tag it, replace it, adopt it, or a conflict; and how a reason
// says why.

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

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
func compare(d *manifests.Endpoint, s *vpcep.Service, cur *vpcep.Endpoint, owned bool, opts Options) Change {
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
	if cur.Status == vpcep.StatusPendingAcceptance {
		approval(&c, d, s, owned, opts)
	}
	return c
}

// approval plans an unchanged endpoint awaiting the service owner's
// approval: where the same project owns the service, an approve with
// --approve (a conflict naming the flag without it); where another
// project does, nothing without --approve (it awaits them), and a
// conflict that says who must approve with it.
func approval(c *Change, d *manifests.Endpoint, s *vpcep.Service, owned bool, opts Options) {
	name := cmp.Or(s.ServiceName, s.ID)
	switch {
	case owned && opts.Approve:
		c.Action, c.Reason = Approve, "awaiting approval; this project owns service "+name+": accept the connection"
	case owned:
		c.Action, c.Desired = Conflict, CreateBody(d, s)
		c.Reason = "awaiting approval; this project owns service " + name + ": --approve accepts it"
	case opts.Approve:
		c.Action, c.Desired = Conflict, CreateBody(d, s)
		c.Reason = "awaiting approval by the owner of service " + name + ", which this project does not own: ask them to accept endpoint " +
			c.ID + " (--approve accepts only services the same project owns)"
	}
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
