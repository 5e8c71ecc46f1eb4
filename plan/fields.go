package plan

// This file says what is compared: a field counts only where the desired
// endpoint sets it and the service type uses it. A gateway ignores
// enable_dns; an unset routetables or policy_statement means the default
// the API fills in; a port IP or list the API has not filled in yet (the
// endpoint is still creating) is not a difference.

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// CreateBody is the API create body for a desired endpoint of service s:
// only the fields the service type uses, user tags sorted, then ours.
func CreateBody(d *manifests.Endpoint, s *vpcep.Service) *vpcep.CreateEndpointRequest {
	b := &vpcep.CreateEndpointRequest{
		EndpointServiceID: s.ID,
		VPCID:             d.VPCID,
		Description:       d.Description,
		SpecificationName: d.SpecificationName,
	}
	if isGateway(s) {
		b.RouteTables = d.RouteTables
		for _, ps := range d.PolicyStatement {
			b.PolicyStatement = append(b.PolicyStatement, vpcep.PolicyStatement{Effect: ps.Effect, Action: ps.Action, Resource: ps.Resource})
		}
	} else {
		b.SubnetID, b.PortIP, b.EnableDNS = d.SubnetID, d.PortIP, d.EnableDNS
		b.Whitelist, b.EnableWhitelist = d.Whitelist, d.EnableWhitelist
	}
	b.Tags = make([]vpcep.Tag, 0, len(d.Tags)+2)
	for _, k := range slices.Sorted(maps.Keys(d.Tags)) {
		b.Tags = append(b.Tags, vpcep.Tag{Key: k, Value: d.Tags[k]})
	}
	b.Tags = append(b.Tags, vpcep.Tag{Key: manifests.TagSet, Value: d.Set}, vpcep.Tag{Key: manifests.TagName, Value: d.Name})
	return b
}

// fieldDiff is one immutable field in which an endpoint differs; have and
// want are as they read in a reason (quoted where needed, lists bracketed).
type fieldDiff struct{ field, have, want string }

func (f fieldDiff) String() string { return f.field + " " + f.have + " -> " + f.want }

func joinDiffs(ds []fieldDiff) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// fieldDiffs appends the differences to dst. It allocates only for a
// difference it reports.
func fieldDiffs(d *manifests.Endpoint, s *vpcep.Service, cur *vpcep.Endpoint, dst []fieldDiff) []fieldDiff {
	id := func(field, have, want string) {
		if !strings.EqualFold(have, want) {
			dst = append(dst, fieldDiff{field, quote(have), quote(want)})
		}
	}
	str := func(field, have, want string) {
		if have != want {
			dst = append(dst, fieldDiff{field, quote(have), quote(want)})
		}
	}
	boolean := func(field string, have bool, want *bool) {
		if want != nil && have != *want {
			dst = append(dst, fieldDiff{field, strconv.FormatBool(have), strconv.FormatBool(*want)})
		}
	}
	// A list still empty while the endpoint is creating is not known yet.
	pending := cur.Status == vpcep.StatusCreating
	list := func(field string, have, want []string, fold bool) {
		if want == nil || pending && len(have) == 0 || sameSet(have, want, fold) {
			return
		}
		dst = append(dst, fieldDiff{field, setString(have), setString(want)})
	}

	id("endpoint_service_id", cur.EndpointServiceID, s.ID)
	id("vpc_id", cur.VPCID, d.VPCID)
	if isGateway(s) {
		if len(d.RouteTables) > 0 { // none: the VPC's default route table
			list("routetables", cur.RouteTables, d.RouteTables, true)
		}
		if len(d.PolicyStatement) > 0 && !(pending && len(cur.PolicyStatement) == 0) && !samePolicy(cur.PolicyStatement, d.PolicyStatement) {
			dst = append(dst, fieldDiff{"policy_statement", policyString(cur.PolicyStatement), policyString(toOTC(d.PolicyStatement))})
		}
	} else {
		id("subnet_id", cur.SubnetID, d.SubnetID)
		if d.PortIP != "" && cur.IP != "" { // the IP is assigned asynchronously
			str("port_ip", cur.IP, d.PortIP)
		}
		boolean("enable_dns", bool(cur.EnableDNS), d.EnableDNS)
		list("whitelist", cur.Whitelist, d.Whitelist, false)
		boolean("enable_whitelist", bool(cur.EnableWhitelist), d.EnableWhitelist)
	}
	if d.Description != "" {
		str("description", cur.Description, d.Description)
	}
	if d.SpecificationName != "" && cur.SpecificationName != "" {
		str("specification_name", cur.SpecificationName, d.SpecificationName)
	}
	return dst
}

func toOTC(ps []manifests.PolicyStatement) []vpcep.PolicyStatement {
	out := make([]vpcep.PolicyStatement, len(ps))
	for i, p := range ps {
		out[i] = vpcep.PolicyStatement{Effect: p.Effect, Action: p.Action, Resource: p.Resource}
	}
	return out
}

// sameSet reports whether a and b hold the same strings, in any order
// (lists of at most a few dozen entries: quadratic, no allocation).
func sameSet(a, b []string, fold bool) bool {
	eq := func(x, y string) bool { return x == y || fold && strings.EqualFold(x, y) }
	contains := func(l []string, s string) bool {
		for _, v := range l {
			if eq(v, s) {
				return true
			}
		}
		return false
	}
	for _, s := range a {
		if !contains(b, s) {
			return false
		}
	}
	for _, s := range b {
		if !contains(a, s) {
			return false
		}
	}
	return true
}

func samePolicy(have []vpcep.PolicyStatement, want []manifests.PolicyStatement) bool {
	same := func(h vpcep.PolicyStatement, w manifests.PolicyStatement) bool {
		return h.Effect == w.Effect && sameSet(h.Action, w.Action, false) && sameSet(h.Resource, w.Resource, false)
	}
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h vpcep.PolicyStatement) bool { return same(h, w) }) {
			return false
		}
	}
	for _, h := range have {
		if !slices.ContainsFunc(want, func(w manifests.PolicyStatement) bool { return same(h, w) }) {
			return false
		}
	}
	return true
}

func setString(ss []string) string {
	c := slices.Clone(ss)
	slices.Sort(c)
	for i, v := range c {
		c[i] = quote(v)
	}
	return "[" + strings.Join(c, ", ") + "]"
}

func policyString(ps []vpcep.PolicyStatement) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, "{"+quote(p.Effect)+" "+setString(p.Action)+" "+setString(p.Resource)+"}")
	}
	slices.Sort(parts)
	return "[" + strings.Join(parts, ", ") + "]"
}
